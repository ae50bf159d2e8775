//! Reading a trace: a streaming reader that validates every record as it goes (against the header
//! and the record before it), and `scan`, which reads a whole trace to summarise it. Nothing is held
//! but one record, so a multi-GB trace can be replayed, scanned or converted in constant memory.

use super::format::*;
use crate::units;
use flate2::bufread::ZlibDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// The longest line a text trace may have (a line is read whole).
const MAX_LINE: u64 = 1 << 28;

enum Body {
    Text { r: BufReader<File>, line: u64, buf: String },
    Binary { r: Box<BufReader<ZlibDecoder<BufReader<File>>>>, prev_page: u64 },
}

/// Reads a trace one record at a time, checking each against the header and the one before it.
pub struct Reader {
    file: String,
    pub(crate) header: Header,
    body: Body,
    /// Records and page entries read so far.
    pub(crate) records: u64,
    pub(crate) entries: u64,
    /// End of the last interval, or time of the last write.
    last: u64,
    done: bool,
}

impl Reader {
    /// Open a trace in either form (told apart by its first bytes) and read its header.
    pub fn open(path: &Path) -> Result<Reader, TraceError> {
        let file = path.display().to_string();
        let err = |place, message: String| TraceError { file: file.clone(), place, message };
        let f = File::open(path).map_err(|e| err(Place::File, format!("cannot open the trace: {}", io_reason(&e))))?;
        let mut r = BufReader::with_capacity(1 << 16, f);
        let start = r.fill_buf().map_err(|e| err(Place::File, format!("cannot read: {e}")))?;
        let (header, body) = if start.starts_with(BINARY_MAGIC) {
            let mut fixed = [0u8; 16];
            r.read_exact(&mut fixed).map_err(|_| err(Place::File, "truncated: the file ends inside the binary header".into()))?;
            let version = u32::from_le_bytes(fixed[8..12].try_into().expect("4 bytes"));
            check_version(version).map_err(|m| err(Place::File, m))?;
            let len = u32::from_le_bytes(fixed[12..16].try_into().expect("4 bytes")) as usize;
            if len > 1 << 20 {
                return Err(err(Place::File, format!("corrupt binary header: it claims {len} bytes of header text")));
            }
            let mut text = vec![0u8; len];
            r.read_exact(&mut text).map_err(|_| err(Place::File, "truncated: the file ends inside the binary header".into()))?;
            let text = String::from_utf8(text).map_err(|_| err(Place::File, "corrupt binary header: not UTF-8 text".into()))?;
            let mut p = HeaderParser::default();
            let mut kind = None;
            for l in text.lines().skip(1) {
                if let Some(k) = p.line(l).map_err(|m| err(Place::File, m))? {
                    kind = Some(k);
                    break;
                }
            }
            let kind = kind.ok_or_else(|| err(Place::File, "corrupt binary header: no column line".into()))?;
            let header = p.finish(kind).map_err(|m| err(Place::File, m))?;
            (header, Body::Binary { r: Box::new(BufReader::with_capacity(1 << 16, ZlibDecoder::new(r))), prev_page: 0 })
        } else {
            let mut buf = String::new();
            let mut line = 0u64;
            let next = |r: &mut BufReader<File>, buf: &mut String, line: &mut u64| -> Result<bool, TraceError> {
                buf.clear();
                *line += 1;
                match r.by_ref().take(MAX_LINE).read_line(buf) {
                    Ok(n) => Ok(n > 0),
                    Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                        Err(err(Place::Line(*line), "not text (invalid UTF-8): neither a text nor a binary trace".into()))
                    }
                    Err(e) => Err(err(Place::Line(*line), format!("cannot read: {e}"))),
                }
            };
            if !next(&mut r, &mut buf, &mut line)? {
                return Err(err(Place::File, "the file is empty; a trace starts with `# migsim-trace 1`".into()));
            }
            let version = text_version(&buf).map_err(|m| err(Place::Line(1), m))?;
            check_version(version).map_err(|m| err(Place::Line(1), m))?;
            let mut p = HeaderParser::default();
            let kind = loop {
                if !next(&mut r, &mut buf, &mut line)? {
                    // At the end of the file: point at its last line, not the one after it.
                    return Err(err(
                        Place::Line(line - 1),
                        format!("the header never ends: the column line `{WRITES_COLUMNS}` or `{INTERVALS_COLUMNS}` is missing"),
                    ));
                }
                if let Some(k) = p.line(&buf).map_err(|m| err(Place::Line(line), m))? {
                    break k;
                }
            };
            let header = p.finish(kind).map_err(|m| err(Place::Line(line), m))?;
            (header, Body::Text { r, line, buf })
        };
        Ok(Reader { file, header, body, records: 0, entries: 0, last: 0, done: false })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// The next record, or `None` at the end of the trace.
    pub fn next_record(&mut self) -> Result<Option<Record>, TraceError> {
        if self.done {
            return Ok(None);
        }
        let rec = match &mut self.body {
            Body::Text { .. } => self.next_text()?,
            Body::Binary { .. } => self.next_binary()?,
        };
        let Some(rec) = rec else {
            self.done = true;
            return Ok(None);
        };
        self.records += 1;
        self.check(&rec)?;
        Ok(Some(rec))
    }

    /// Where the last record read is (its line, or its number in a binary trace).
    pub fn place(&self) -> Place {
        match &self.body {
            Body::Text { line, .. } => Place::Line(*line),
            Body::Binary { .. } => Place::Record(self.records),
        }
    }

    fn error(&self, message: String) -> TraceError {
        TraceError { file: self.file.clone(), place: self.place(), message }
    }

    /// Checks common to both forms: order, page range, declared duration.
    fn check(&mut self, rec: &Record) -> Result<(), TraceError> {
        let pages = self.header.pages();
        let beyond = |p: u64| beyond_memory(&self.header, p);
        match rec {
            Record::Write { time_ns, page } => {
                if *time_ns < self.last {
                    return Err(self.error(format!(
                        "time {time_ns} ns is before the previous write ({} ns): writes must be in time order",
                        self.last
                    )));
                }
                if *page >= pages {
                    return Err(self.error(beyond(*page)));
                }
                self.last = *time_ns;
                self.entries += 1;
            }
            Record::Interval { start_ns, length_ns, pages: set } => {
                if *start_ns < self.last {
                    return Err(self.error(format!(
                        "interval starts at {start_ns} ns, before the previous one ends ({} ns): intervals must be in time order and not overlap",
                        self.last
                    )));
                }
                if *length_ns == 0 {
                    return Err(self.error("an interval must be longer than 0 ns".into()));
                }
                if let Some(p) = set.last().filter(|&p| p >= pages) {
                    return Err(self.error(beyond(p)));
                }
                self.last = start_ns
                    .checked_add(*length_ns)
                    .ok_or_else(|| self.error("the interval ends after the end of time (u64 ns)".into()))?;
                self.entries += set.len();
            }
        }
        if let Some(d) = self.header.duration_ns.filter(|&d| rec.end_ns() > d) {
            return Err(self.error(format!(
                "the record ends at {} ns, after the header's duration ({})",
                rec.end_ns(),
                units::format_duration_exact(d)
            )));
        }
        Ok(())
    }

    fn next_text(&mut self) -> Result<Option<Record>, TraceError> {
        let Body::Text { r, line, buf } = &mut self.body else { unreachable!("text body") };
        loop {
            buf.clear();
            *line += 1;
            // A line is read whole; the cap keeps a file without line breaks from filling memory.
            let n = r.by_ref().take(MAX_LINE).read_line(buf).map_err(|e| TraceError {
                file: self.file.clone(),
                place: Place::Line(*line),
                message: if e.kind() == io::ErrorKind::InvalidData { "not valid UTF-8 text".into() } else { format!("cannot read: {e}") },
            })?;
            if n == 0 {
                return Ok(None);
            }
            if n as u64 == MAX_LINE && !buf.ends_with('\n') {
                return Err(TraceError {
                    file: self.file.clone(),
                    place: Place::Line(*line),
                    message: format!("the line is longer than {} (the most a trace line may hold)", units::format_size_exact(MAX_LINE)),
                });
            }
            let l = buf.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let at = Place::Line(*line);
            return parse_text_record(&self.header, l).map(Some).map_err(|message| TraceError {
                file: self.file.clone(),
                place: at,
                message,
            });
        }
    }

    fn next_binary(&mut self) -> Result<Option<Record>, TraceError> {
        let kind = self.header.kind;
        let n = self.records + 1;
        let file = self.file.clone();
        let last = self.last;
        let Body::Binary { r, prev_page } = &mut self.body else { unreachable!("binary body") };
        let err = |message: String| TraceError { file: file.clone(), place: Place::Record(n), message };
        let io_err = |e: io::Error| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                err("truncated: the file ends before the trace's end marker (was the recording cut short, or the file copied in part?)"
                    .into())
            } else {
                err(format!("corrupt compressed data ({e}): the file is damaged or truncated"))
            }
        };
        let tag = read_byte(r).map_err(io_err)?;
        match tag {
            TAG_END => {
                let records = read_varint(r).map_err(io_err)?;
                let entries = read_varint(r).map_err(io_err)?;
                if records != self.records || entries != self.entries {
                    return Err(err(format!(
                        "corrupt: the end marker counts {records} records and {entries} pages, but {} and {} were read",
                        self.records, self.entries
                    )));
                }
                // The rest of the compressed stream must be empty (reading it also checks zlib's
                // checksum), and nothing may follow it.
                let mut extra = [0u8; 1];
                if !r.buffer().is_empty() || r.read(&mut extra).map_err(io_err)? != 0 {
                    return Err(err("corrupt: data after the end marker".into()));
                }
                if !r.get_mut().get_mut().fill_buf().map_err(io_err)?.is_empty() {
                    return Err(err("trailing bytes after the compressed records".into()));
                }
                Ok(None)
            }
            TAG_INTERVAL if kind == Kind::Intervals => {
                let gap = read_varint(r).map_err(io_err)?;
                let length_ns = read_varint(r).map_err(io_err)?;
                let start_ns = last.checked_add(gap).ok_or_else(|| err("corrupt: time overflows".into()))?;
                let runs = read_varint(r).map_err(io_err)?;
                if runs > MAX_RUNS || runs > self.header.pages() {
                    return Err(err(format!(
                        "corrupt or too fragmented: the interval claims {runs} page runs (at most {MAX_RUNS} and at most one per page)"
                    )));
                }
                let mut pages = Vec::with_capacity(runs.min(1 << 16) as usize);
                let mut next_free = 0u64; // one past the end of the previous run
                for i in 0..runs {
                    let skip = read_varint(r).map_err(io_err)?;
                    let len = read_varint(r).map_err(io_err)?.checked_add(1).ok_or_else(|| err("corrupt: run length".into()))?;
                    let first = next_free.checked_add(skip).filter(|_| i == 0 || skip > 0);
                    let Some(first) = first else { return Err(err("corrupt: page runs overlap".into())) };
                    let end = first.checked_add(len).filter(|&e| e <= self.header.pages());
                    let Some(end) = end else { return Err(err(beyond_memory(&self.header, first.saturating_add(len - 1)))) };
                    pages.push((first, end - 1));
                    next_free = end;
                }
                Ok(Some(Record::Interval { start_ns, length_ns, pages: PageSet::from_maximal_runs(pages) }))
            }
            TAG_WRITE if kind == Kind::Writes => {
                let dt = read_varint(r).map_err(io_err)?;
                let delta = unzigzag(read_varint(r).map_err(io_err)?);
                let time_ns = last.checked_add(dt).ok_or_else(|| err("corrupt: time overflows".into()))?;
                let page = prev_page.wrapping_add(delta as u64);
                *prev_page = page;
                Ok(Some(Record::Write { time_ns, page }))
            }
            t => Err(err(format!("corrupt: unexpected record tag {t} in a {} trace", kind.name()))),
        }
    }
}

fn beyond_memory(h: &Header, p: u64) -> String {
    format!(
        "page {p} is beyond the trace's memory: {} of {} pages holds pages 0 to {} (header `memory`)",
        units::format_size_exact(h.memory),
        units::format_size_exact(h.page_size),
        h.pages() - 1
    )
}

/// The reason of an open failure, worded for a person.
fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn parse_u64(field: &str, what: &str) -> Result<u64, String> {
    field.trim().parse::<u64>().map_err(|_| format!("{what} {:?} is not a whole number >= 0", field.trim()))
}

fn parse_text_record(h: &Header, l: &str) -> Result<Record, String> {
    let fields: Vec<&str> = l.split(',').collect();
    match h.kind {
        Kind::Writes => {
            let [t, p] = fields[..] else {
                return Err(format!("expected 2 fields `{WRITES_COLUMNS}`, found {}: {l:?}", fields.len()));
            };
            Ok(Record::Write { time_ns: parse_u64(t, "time_ns")?, page: parse_u64(p, "page")? })
        }
        Kind::Intervals => {
            let [s, len, set] = fields[..] else {
                return Err(format!(
                    "expected 3 fields `{INTERVALS_COLUMNS}` (pages separated by spaces, ranges as a-b), found {}: {l:?}",
                    fields.len()
                ));
            };
            let set = set.trim();
            let set = set.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(set);
            let mut ranges = Vec::new();
            for item in set.split_whitespace() {
                let (a, b) = match item.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (parse_u64(a, "page")?, parse_u64(b, "page")?);
                        if b < a {
                            return Err(format!("page range {item} runs backwards"));
                        }
                        (a, b)
                    }
                    None => {
                        let p = parse_u64(item, "page")?;
                        (p, p)
                    }
                };
                if b >= h.pages() {
                    return Err(beyond_memory(h, b));
                }
                ranges.push((a, b));
            }
            let pages = PageSet::from_ranges(ranges);
            if pages.runs().len() as u64 > MAX_RUNS {
                return Err(format!("the interval has {} page runs; at most {MAX_RUNS} are allowed", pages.runs().len()));
            }
            Ok(Record::Interval { start_ns: parse_u64(s, "start_ns")?, length_ns: parse_u64(len, "length_ns")?, pages })
        }
    }
}

/// What `scan` learns by reading a whole trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub header: Header,
    pub records: u64,
    /// Page writes: write records, or the sum of the interval sets' sizes.
    pub entries: u64,
    /// The trace's length: the header's duration, else the end of its last record.
    pub duration_ns: u64,
    /// The most page writes in one chunk a replay holds at once (an interval, or the write records
    /// of one `group_ns`), and where that chunk is (its last record).
    pub max_chunk: u64,
    pub max_chunk_at: Place,
}

/// Read a whole trace (streaming), validating every record.
pub fn scan(path: &Path) -> Result<Summary, TraceError> {
    let mut r = Reader::open(path)?;
    let mut chunks = Chunks::new(&r.header);
    while let Some(rec) = r.next_record()? {
        chunks.add(&rec, r.place());
    }
    Ok(chunks.summary(&r))
}

/// Follows the records to learn what a [`Summary`] holds beyond the reader's counts: the end of
/// the last record and the largest chunk.
pub(crate) struct Chunks {
    group_ns: u64,
    group: u64,
    in_group: u64,
    end: u64,
    max: u64,
    max_at: Place,
}

impl Chunks {
    pub(crate) fn new(h: &Header) -> Self {
        Chunks { group_ns: h.group_ns(), group: 0, in_group: 0, end: 0, max: 0, max_at: Place::File }
    }

    pub(crate) fn add(&mut self, rec: &Record, at: Place) {
        self.end = rec.end_ns();
        let n = match rec {
            Record::Interval { pages, .. } => pages.len(),
            Record::Write { time_ns, .. } => {
                if time_ns / self.group_ns != self.group {
                    (self.group, self.in_group) = (time_ns / self.group_ns, 0);
                }
                self.in_group += 1;
                self.in_group
            }
        };
        if n > self.max {
            (self.max, self.max_at) = (n, at);
        }
    }

    pub(crate) fn summary(&self, r: &Reader) -> Summary {
        Summary {
            header: r.header.clone(),
            records: r.records,
            entries: r.entries,
            duration_ns: r.header.duration_ns.unwrap_or(self.end),
            max_chunk: self.max,
            max_chunk_at: self.max_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::with_suffix;
    use crate::trace::writer::Writer;
    use std::path::PathBuf;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("migsim-trace-unit-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    fn read_all(p: &Path) -> Result<(Header, Vec<Record>), TraceError> {
        let mut r = Reader::open(p)?;
        let mut v = Vec::new();
        while let Some(rec) = r.next_record()? {
            v.push(rec);
        }
        Ok((r.header.clone(), v))
    }

    fn sample_intervals() -> (Header, Vec<Record>) {
        let mut h = Header::new(Kind::Intervals, 4096, 1 << 20);
        h.interval_ns = Some(100_000_000);
        h.push_meta("program", "unit test, with a comma");
        h.push_meta("note", "first");
        h.push_meta("note", "second");
        let recs = vec![
            Record::Interval { start_ns: 0, length_ns: 100_000_000, pages: vec![0, 1, 2, 3, 10, 255].into() },
            Record::Interval { start_ns: 100_000_000, length_ns: 100_000_007, pages: vec![].into() },
            Record::Interval { start_ns: 300_000_000, length_ns: 5, pages: (100..200).collect() },
        ];
        (h, recs)
    }

    fn write_all(p: &Path, form: Form, h: &Header, recs: &[Record]) {
        let mut w = Writer::create(p, form, h.kind).unwrap();
        for r in recs {
            w.write(r).unwrap();
        }
        w.finish(h).unwrap();
    }

    #[test]
    fn both_forms_round_trip_intervals_and_writes() {
        let (h, recs) = sample_intervals();
        let mut hw = Header::new(Kind::Writes, 2 << 20, 1 << 30);
        hw.duration_ns = Some(10_000);
        let writes =
            vec![Record::Write { time_ns: 0, page: 7 }, Record::Write { time_ns: 0, page: 3 }, Record::Write { time_ns: 9_999, page: 511 }];
        for form in [Form::Text, Form::Binary] {
            let p = tmp(&format!("rt-{form:?}"));
            write_all(&p, form, &h, &recs);
            assert_eq!(read_all(&p).unwrap(), (h.clone(), recs.clone()));
            write_all(&p, form, &hw, &writes);
            assert_eq!(read_all(&p).unwrap(), (hw.clone(), writes.clone()));
            assert!(!with_suffix(&p, ".partial").exists() && !with_suffix(&p, ".partial.body").exists());
        }
    }

    #[test]
    fn text_form_is_readable_and_ranges_expand() {
        let (h, recs) = sample_intervals();
        let p = tmp("text.csv");
        write_all(&p, Form::Text, &h, &recs);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("# migsim-trace 1\n# page_size = 4 KiB\n# memory = 1 MiB\n# interval = 100 ms\n"), "{text}");
        assert!(text.contains("start_ns,length_ns,pages\n0,100000000,0-3 10 255\n100000000,100000007,\n"), "{text}");
    }

    #[test]
    fn hand_written_text_with_comments_unsorted_pages_and_quotes() {
        let p = tmp("hand.csv");
        std::fs::write(
            &p,
            "# migsim-trace 1\n# a comment: anything without a key = value shape\n#\n# page_size = 4 KiB\n# memory = 64 KiB\n\
             # interval = 1 ms\nstart_ns, length_ns, pages\n# a comment in the body\n0,1000000,\"5 3-4 3\"\n\n1000000,1000000,15\n",
        )
        .unwrap();
        let (_, recs) = read_all(&p).unwrap();
        assert_eq!(recs[0], Record::Interval { start_ns: 0, length_ns: 1_000_000, pages: vec![3, 4, 5].into() });
        assert_eq!(recs[1], Record::Interval { start_ns: 1_000_000, length_ns: 1_000_000, pages: vec![15].into() });
    }

    fn text_error(body: &str) -> String {
        let p = tmp("bad.csv");
        std::fs::write(&p, body).unwrap();
        let mut r = match Reader::open(&p) {
            Ok(r) => r,
            Err(e) => return e.to_string(),
        };
        loop {
            match r.next_record() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error in {body:?}"),
                Err(e) => return e.to_string(),
            }
        }
    }

    #[test]
    fn bad_text_traces_name_the_line_and_the_problem() {
        const H: &str = "# migsim-trace 1\n# page_size = 4 KiB\n# memory = 64 KiB\n# interval = 1 ms\nstart_ns,length_ns,pages\n";
        let cases: &[(String, &str)] = &[
            ("# migsim-trace 2\n".into(), ":1: trace format version 2 is not supported"),
            ("hello\n".into(), ":1: not a migsim trace"),
            (String::new(), "the file is empty"),
            ("# migsim-trace 1\n# page_size = 4 KiB\ntime_ns,page\n".into(), "no memory size"),
            (
                "# migsim-trace 1\n# memory = 64 KiB\n# pagesize = 4 KiB\n".into(),
                ":3: unknown header key `pagesize`; did you mean `page_size`?",
            ),
            ("# migsim-trace 1\n# page_size = 3 KiB\n# memory = 64 KiB\ntime_ns,page\n".into(), "not a power of two"),
            ("# migsim-trace 1\n# page_size = 4 KiB\n# memory = 64 KiB\nstart_ns,length_ns,pages\n".into(), "needs its sampling interval"),
            ("# migsim-trace 1\n# page_size = 4 KiB\n# memory = 64 KiB\n".into(), ":3: the header never ends"),
            (format!("{H}0,10,16\n"), ":6: page 16 is beyond the trace's memory: 64 KiB of 4 KiB pages holds pages 0 to 15"),
            (format!("{H}0,10,1\n5,10,2\n"), ":7: interval starts at 5 ns, before the previous one ends (10 ns)"),
            (format!("{H}0,10\n"), ":6: expected 3 fields"),
            (format!("{H}0,0,1\n"), "longer than 0 ns"),
            (format!("{H}0,10,x\n"), "page \"x\" is not a whole number"),
            (format!("{H}0,10,9-3\n"), "runs backwards"),
        ];
        for (body, want) in cases {
            let e = text_error(body);
            assert!(e.contains(want), "{body:?}: got {e:?}, want {want:?}");
        }
    }

    #[test]
    fn truncated_and_damaged_binary_traces_are_errors_not_panics() {
        let (h, recs) = sample_intervals();
        let p = tmp("full.mtrace");
        write_all(&p, Form::Binary, &h, &recs);
        let full = std::fs::read(&p).unwrap();
        let q = tmp("cut.mtrace");
        // Every prefix (and a few bit flips) must give an error, never a panic or a silent success.
        for cut in 0..full.len() {
            std::fs::write(&q, &full[..cut]).unwrap();
            let r = read_all(&q);
            assert!(r.is_err(), "a file cut at {cut} of {} bytes read as complete", full.len());
        }
        for i in (16 + 100..full.len()).step_by(7) {
            let mut bad = full.clone();
            bad[i] ^= 0x55;
            std::fs::write(&q, &bad).unwrap();
            let _ = read_all(&q); // may or may not be detected, but must not panic
        }
        let mut v2 = full.clone();
        v2[8] = 2;
        std::fs::write(&q, &v2).unwrap();
        assert!(read_all(&q).unwrap_err().to_string().contains("version 2 is not supported"));
        std::fs::write(&q, &full[..full.len() - 3]).unwrap();
        let e = read_all(&q).unwrap_err().to_string();
        assert!(e.contains("truncated") || e.contains("corrupt"), "{e}");
        let mut extra = full.clone();
        extra.push(0);
        std::fs::write(&q, &extra).unwrap();
        assert!(read_all(&q).unwrap_err().to_string().contains("trailing bytes"));
    }
}
