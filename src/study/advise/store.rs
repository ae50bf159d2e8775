//! The runs advise has done, kept so that an interrupted search loses little: each batch's rows
//! are appended to `runs.csv.partial` (a journal, beside `advise.partial.json`, which names the
//! scenario, overrides, cap and seed it belongs to) as soon as the batch ends; `--resume` reads the
//! journal and a finished `runs.csv` back and hands their figures to the search, which then runs
//! only what is missing. At the end `runs.csv` is written at once (temporary file + rename) with
//! every run of this search in the order it asked for them, so a resumed search leaves the same
//! file as an uninterrupted one.

use super::figures::{COLUMNS, Figures};
use crate::study::sweep::Error;
use crate::study::sweep::common::read_json;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

pub const RUNS: &str = "runs.csv";
const MANIFEST: &str = "advise.partial.json";
/// The manifest of a finished search.
pub const DONE: &str = "advise.json";

/// The journal and what an earlier search left to reuse.
pub struct Store {
    dir: PathBuf,
    journal: std::io::BufWriter<std::fs::File>,
    /// Figures by (candidate key, seed).
    pub cache: HashMap<(String, u64), Figures>,
    /// Runs found by `--resume`.
    pub resumed: usize,
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Other(format!("{}: {e}", p.display()))
}

fn line(cells: &[String]) -> Result<Vec<u8>, Error> {
    Ok(crate::output::advise::csv_line(cells)?)
}

/// A run read back: its candidate's key, its seed and its figures.
type Row = (String, u64, Figures);

/// The complete rows of a runs file whose header is `header`, and the bytes they take with the
/// header; stops at the first cut or malformed row.
fn read(path: &Path, header: &[String]) -> Result<(Vec<Row>, u64), Error> {
    let f = std::fs::File::open(path).map_err(io(path))?;
    let mut r = std::io::BufReader::new(f);
    let mut buf = Vec::new();
    let parse = |l: &[u8]| -> Option<Vec<String>> {
        let mut rd = csv::ReaderBuilder::new().has_headers(false).from_reader(l);
        Some(rd.records().next()?.ok()?.iter().map(String::from).collect())
    };
    let mut good = 0u64;
    let mut rows = Vec::new();
    if r.read_until(b'\n', &mut buf).map_err(io(path))? == 0 || !buf.ends_with(b"\n") || parse(&buf).as_deref() != Some(header) {
        return Ok((rows, 0));
    }
    good += buf.len() as u64;
    let at = |name: &str| header.iter().position(|h| h == name).expect("a column of our header");
    let (seed, sets, first) = (at("seed"), at("sets"), at(COLUMNS[0]));
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf).map_err(io(path))? == 0 || !buf.ends_with(b"\n") {
            break;
        }
        let Some(cells) = parse(&buf).filter(|c| c.len() == header.len()) else { break };
        let (Ok(s), Some(fig)) = (cells[seed].parse::<u64>(), Figures::from_cells(&cells[first..first + COLUMNS.len()])) else { break };
        rows.push((cells[sets].clone(), s, fig));
        good += buf.len() as u64;
    }
    Ok((rows, good))
}

impl Store {
    /// Open the journal in `dir`. With `resume`, read back the runs of an earlier search of the
    /// same fingerprint (an unfinished one's journal, and a finished one's `runs.csv`) and keep
    /// appending to its journal; otherwise start a new journal.
    pub fn open(dir: &Path, header: &[String], fingerprint: &str, resume: bool) -> Result<Store, Error> {
        crate::files::create_dir_all(dir).map_err(|e| Error::Other(format!("{}: cannot create: {e}", dir.display())))?;
        let partial = crate::files::partial_path(&dir.join(RUNS));
        let manifest = dir.join(MANIFEST);
        let mut cache = HashMap::new();
        let mut keep = None;
        if resume {
            let done = dir.join(RUNS);
            let same = |m: &Path| read_json(m).and_then(|j| j["fingerprint"].as_str().map(String::from)).as_deref() == Some(fingerprint);
            if done.is_file() && same(&dir.join(DONE)) {
                for (k, s, f) in read(&done, header)?.0 {
                    cache.insert((k, s), f);
                }
            }
            if partial.is_file() {
                if !same(&manifest) {
                    return Err(Error::Input(format!(
                        "{}: it belongs to another search (the scenario, its --set overrides, --max-time, --seed or migsim changed); run without --resume to start over",
                        partial.display()
                    )));
                }
                let (rows, good) = read(&partial, header)?;
                for (k, s, f) in rows {
                    cache.insert((k, s), f);
                }
                keep = Some(good);
            }
        }
        let resumed = cache.len();
        let file = match keep {
            Some(good) if good > 0 => {
                let f = std::fs::OpenOptions::new().write(true).open(&partial).map_err(io(&partial))?;
                f.set_len(good).map_err(io(&partial))?;
                let mut f = f;
                std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).map_err(io(&partial))?;
                f
            }
            _ => {
                let m = serde_json::json!({ "fingerprint": fingerprint }).to_string();
                crate::files::write_atomic(&manifest, m.as_bytes()).map_err(io(&manifest))?;
                let mut f = std::fs::File::create(&partial).map_err(io(&partial))?;
                f.write_all(&line(header)?).map_err(io(&partial))?;
                f
            }
        };
        Ok(Store { dir: dir.to_path_buf(), journal: std::io::BufWriter::new(file), cache, resumed })
    }

    /// Append rows to the journal and flush them: a batch is on disk once it is recorded.
    pub fn record(&mut self, rows: &[Vec<String>]) -> Result<(), Error> {
        let p = crate::files::partial_path(&self.dir.join(RUNS));
        for r in rows {
            self.journal.write_all(&line(r)?).map_err(io(&p))?;
        }
        self.journal.flush().map_err(io(&p))
    }

    /// Write `runs.csv` (header and rows, in the order given) at once and drop the journal.
    pub fn finish(self, header: &[String], rows: &[Vec<String>]) -> Result<PathBuf, Error> {
        let path = self.dir.join(RUNS);
        let mut data = line(header)?;
        for r in rows {
            data.extend(line(r)?);
        }
        crate::files::write_atomic(&path, &data).map_err(io(&path))?;
        drop(self.journal);
        let _ = std::fs::remove_file(crate::files::partial_path(&path));
        let _ = std::fs::remove_file(self.dir.join(MANIFEST));
        Ok(path)
    }
}
