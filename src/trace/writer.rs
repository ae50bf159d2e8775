//! Writing a trace: records stream to a side file and only a finished trace appears under its final
//! name; and `convert`, which copies a trace into the other form.

use super::format::*;
use super::reader::{Chunks, Reader, Summary};
use crate::files::{partial_path, with_suffix};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

enum Sink {
    Text(BufWriter<File>),
    /// The outer buffer matters: the encoder does a deflate call per write, and records are
    /// written a varint (a byte or two) at a time.
    Binary(BufWriter<ZlibEncoder<BufWriter<File>>>),
}

/// Writes a trace: records stream to a side file, and `finish` puts the header (known only at the
/// end when recording: memory size and duration) in front of them in `NAME.partial`, then renames
/// it to `NAME`. Dropped unfinished, it removes its temporary files.
pub struct Writer {
    kind: Kind,
    path: PathBuf,
    body_path: PathBuf,
    partial_path: PathBuf,
    sink: Option<Sink>,
    records: u64,
    entries: u64,
    last: u64,
    prev_page: u64,
    max_page: Option<u64>,
    text_line: String,
}

impl Writer {
    pub fn create(path: &Path, form: Form, kind: Kind) -> io::Result<Writer> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_dir_all(dir)?;
        }
        let body_path = with_suffix(path, ".partial.body");
        let f = BufWriter::with_capacity(1 << 16, File::create(&body_path)?);
        let sink = match form {
            Form::Text => Sink::Text(f),
            Form::Binary => Sink::Binary(BufWriter::with_capacity(1 << 16, ZlibEncoder::new(f, Compression::default()))),
        };
        Ok(Writer {
            kind,
            path: path.to_path_buf(),
            partial_path: partial_path(path),
            body_path,
            sink: Some(sink),
            records: 0,
            entries: 0,
            last: 0,
            prev_page: 0,
            max_page: None,
            text_line: String::new(),
        })
    }

    /// The highest page written so far.
    pub fn max_page(&self) -> Option<u64> {
        self.max_page
    }

    /// The end of the last record written.
    pub fn end_ns(&self) -> u64 {
        self.last
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    pub fn write(&mut self, rec: &Record) -> io::Result<()> {
        let bad = |m: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, m.to_string()));
        use std::fmt::Write as _;
        let sink = self.sink.as_mut().expect("a writer is usable until finished");
        match rec {
            Record::Write { time_ns, page } => {
                if self.kind != Kind::Writes || *time_ns < self.last {
                    return bad("write records must be in time order, in a writes trace");
                }
                match sink {
                    Sink::Text(w) => writeln!(w, "{time_ns},{page}")?,
                    Sink::Binary(w) => {
                        w.write_all(&[TAG_WRITE])?;
                        write_varint(w, time_ns - self.last)?;
                        write_varint(w, zigzag(page.wrapping_sub(self.prev_page) as i64))?;
                    }
                }
                self.prev_page = *page;
                self.last = *time_ns;
                self.entries += 1;
                self.max_page = self.max_page.max(Some(*page));
            }
            Record::Interval { start_ns, length_ns, pages } => {
                if self.kind != Kind::Intervals || *start_ns < self.last || *length_ns == 0 {
                    return bad("intervals must be non-empty, in time order and not overlap, in an intervals trace");
                }
                let runs = pages.runs();
                match sink {
                    Sink::Text(w) => {
                        self.text_line.clear();
                        let _ = write!(self.text_line, "{start_ns},{length_ns},");
                        for (i, &(a, b)) in runs.iter().enumerate() {
                            let sep = if i > 0 { " " } else { "" };
                            let _ = if a == b { write!(self.text_line, "{sep}{a}") } else { write!(self.text_line, "{sep}{a}-{b}") };
                        }
                        self.text_line.push('\n');
                        w.write_all(self.text_line.as_bytes())?;
                    }
                    Sink::Binary(w) => {
                        w.write_all(&[TAG_INTERVAL])?;
                        write_varint(w, start_ns - self.last)?;
                        write_varint(w, *length_ns)?;
                        write_varint(w, runs.len() as u64)?;
                        let mut next_free = 0;
                        for &(a, b) in runs {
                            write_varint(w, a - next_free)?;
                            write_varint(w, b - a)?;
                            next_free = b + 1;
                        }
                    }
                }
                self.last = start_ns + length_ns;
                self.entries += pages.len();
                self.max_page = self.max_page.max(pages.last());
            }
        }
        self.records += 1;
        Ok(())
    }

    /// Write `header` and the records to `NAME.partial`, then rename it to `NAME`.
    pub fn finish(mut self, header: &Header) -> io::Result<()> {
        if header.kind != self.kind {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "the header's kind differs from the records'"));
        }
        let form = match self.sink.take().expect("finished once") {
            Sink::Text(mut w) => {
                w.flush()?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                Form::Text
            }
            Sink::Binary(mut w) => {
                w.write_all(&[TAG_END])?;
                write_varint(&mut w, self.records)?;
                write_varint(&mut w, self.entries)?;
                let mut f = w.into_inner().map_err(|e| e.into_error())?.finish()?;
                f.flush()?;
                f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                Form::Binary
            }
        };
        let text = header.text();
        let mut out = BufWriter::new(File::create(&self.partial_path)?);
        match form {
            Form::Text => out.write_all(text.as_bytes())?,
            Form::Binary => {
                out.write_all(BINARY_MAGIC)?;
                out.write_all(&VERSION.to_le_bytes())?;
                out.write_all(&(text.len() as u32).to_le_bytes())?;
                out.write_all(text.as_bytes())?;
            }
        }
        io::copy(&mut File::open(&self.body_path)?, &mut out)?;
        out.flush()?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&self.partial_path, &self.path)?;
        let _ = std::fs::remove_file(&self.body_path);
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.body_path);
        let _ = std::fs::remove_file(&self.partial_path);
    }
}

/// Copy `input` to `output` in the given form (the header and every record unchanged).
pub fn convert(input: &Path, output: &Path, form: Form) -> Result<Summary, ConvertError> {
    let mut r = Reader::open(input).map_err(ConvertError::Input)?;
    let out_err = |e: io::Error| ConvertError::Output(format!("{}: cannot write: {e}", output.display()));
    let mut w = Writer::create(output, form, r.header.kind).map_err(out_err)?;
    let mut chunks = Chunks::new(&r.header);
    while let Some(rec) = r.next_record().map_err(ConvertError::Input)? {
        chunks.add(&rec, r.place());
        w.write(&rec).map_err(out_err)?;
    }
    w.finish(&r.header).map_err(out_err)?;
    Ok(chunks.summary(&r))
}

/// A conversion fails on bad input (exit 2) or on a write error (exit 1).
#[derive(Debug)]
pub enum ConvertError {
    Input(TraceError),
    Output(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("migsim-writer-unit-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn a_dropped_writer_leaves_nothing() {
        let p = tmp("dropped.mtrace");
        let mut w = Writer::create(&p, Form::Binary, Kind::Writes).unwrap();
        w.write(&Record::Write { time_ns: 1, page: 1 }).unwrap();
        assert!(w.write(&Record::Write { time_ns: 0, page: 1 }).is_err());
        drop(w);
        assert!(!p.exists() && !with_suffix(&p, ".partial.body").exists());
    }
}
