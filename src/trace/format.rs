//! The dirty-page trace format of docs/traces.md: what a trace holds (a header, then interval or
//! write records), its two forms (CSV text and compressed binary), and the pieces both the reader
//! (`reader`) and the writer (`writer`) use: the header's text, the version check, varints.

use crate::units;
use std::fmt;
use std::io::{self, BufRead, Write};
use std::path::Path;

/// The format version this build reads and writes.
pub const VERSION: u32 = 1;
pub(crate) const BINARY_MAGIC: &[u8; 8] = b"MIGTRACE";
pub(crate) const TEXT_MAGIC: &str = "# migsim-trace";
pub const WRITES_COLUMNS: &str = "time_ns,page";
pub const INTERVALS_COLUMNS: &str = "start_ns,length_ns,pages";
/// How a write-record trace without an `interval` is grouped when intervals are needed (the
/// post-copy access stream, `trace stats`).
pub const DEFAULT_GROUP_NS: u64 = 100_000_000;
/// Free-text header keys, in the order the writer puts them.
pub const META_KEYS: [&str; 6] = ["program", "recorder", "date", "host", "sample_time", "note"];
pub(crate) const VALUE_KEYS: [&str; 4] = ["page_size", "memory", "interval", "duration"];

/// Record tags of the binary form.
pub(crate) const TAG_END: u8 = 0;
pub(crate) const TAG_INTERVAL: u8 = 1;
pub(crate) const TAG_WRITE: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One record per page write: (time, page).
    Writes,
    /// One record per interval: (start, length, the set of pages written in it).
    Intervals,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Writes => "writes",
            Kind::Intervals => "intervals",
        }
    }
    pub(crate) fn columns(self) -> &'static str {
        match self {
            Kind::Writes => WRITES_COLUMNS,
            Kind::Intervals => INTERVALS_COLUMNS,
        }
    }
}

/// The most page runs one interval record may hold. A reader holds one record, 16 bytes a run, so
/// this bounds a reader's memory (256 MiB) whatever the file claims; a real recording has far fewer
/// (a 64 GiB guest has 2^24 pages, so at most 2^23 runs).
pub const MAX_RUNS: u64 = 1 << 24;

/// The pages of an interval as maximal runs of consecutive pages: inclusive `(first, last)` pairs,
/// sorted, disjoint and not touching. A range stays a range, so `0-4294967295` is one pair, not
/// 2^32 numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageSet {
    runs: Vec<(u64, u64)>,
}

impl PageSet {
    /// From page numbers in any order, repeats allowed.
    pub fn from_pages(pages: &[u64]) -> Self {
        let mut v = pages.to_vec();
        v.sort_unstable();
        v.dedup();
        PageSet { runs: runs(&v) }
    }

    /// From inclusive ranges in any order, overlapping or touching allowed (`a <= b` each).
    pub fn from_ranges(mut ranges: Vec<(u64, u64)>) -> Self {
        ranges.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            debug_assert!(a <= b);
            match out.last_mut() {
                Some((_, last)) if a <= last.saturating_add(1) => *last = (*last).max(b),
                _ => out.push((a, b)),
            }
        }
        PageSet { runs: out }
    }

    /// Already maximal runs (the binary reader's, which checks them as it decodes).
    pub(crate) fn from_maximal_runs(runs: Vec<(u64, u64)>) -> Self {
        debug_assert!(runs.windows(2).all(|w| w[0].1 + 1 < w[1].0) && runs.iter().all(|r| r.0 <= r.1));
        PageSet { runs }
    }

    pub fn runs(&self) -> &[(u64, u64)] {
        &self.runs
    }

    /// The number of pages.
    pub fn len(&self) -> u64 {
        self.runs.iter().map(|&(a, b)| b - a + 1).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The highest page.
    pub fn last(&self) -> Option<u64> {
        self.runs.last().map(|r| r.1)
    }

    /// Every page, in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.runs.iter().flat_map(|&(a, b)| a..=b)
    }
}

impl From<Vec<u64>> for PageSet {
    fn from(pages: Vec<u64>) -> Self {
        PageSet::from_pages(&pages)
    }
}

impl FromIterator<u64> for PageSet {
    fn from_iter<I: IntoIterator<Item = u64>>(pages: I) -> Self {
        PageSet::from_pages(&pages.into_iter().collect::<Vec<_>>())
    }
}

/// One record. An interval's pages are a [`PageSet`] (sorted and distinct by construction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Write { time_ns: u64, page: u64 },
    Interval { start_ns: u64, length_ns: u64, pages: PageSet },
}

impl Record {
    /// When the record's span ends: the end of the interval, or just after the write.
    pub fn end_ns(&self) -> u64 {
        match self {
            Record::Write { time_ns, .. } => time_ns.saturating_add(1),
            Record::Interval { start_ns, length_ns, .. } => start_ns.saturating_add(*length_ns),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub kind: Kind,
    pub page_size: u64,
    /// Bytes; page numbers run from 0 to memory / page_size - 1.
    pub memory: u64,
    /// The nominal sampling interval (required for interval traces).
    pub interval_ns: Option<u64>,
    /// The trace's length; by default the end of its last record.
    pub duration_ns: Option<u64>,
    /// Free-text metadata (`program`, `recorder`, ...), one entry per line, in file order.
    pub meta: Vec<(String, String)>,
}

impl Header {
    pub fn new(kind: Kind, page_size: u64, memory: u64) -> Self {
        Header { kind, page_size, memory, interval_ns: None, duration_ns: None, meta: Vec::new() }
    }

    pub fn pages(&self) -> u64 {
        self.memory / self.page_size
    }

    /// The first value of a free-text key.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Add a free-text line; line breaks become spaces (a value is one line).
    pub fn push_meta(&mut self, key: &str, value: &str) {
        debug_assert!(META_KEYS.contains(&key), "unknown header key {key}");
        self.meta.push((key.to_string(), value.replace(['\n', '\r'], " ")));
    }

    /// The grouping used where intervals are needed: the header's interval or [`DEFAULT_GROUP_NS`].
    pub fn group_ns(&self) -> u64 {
        self.interval_ns.unwrap_or(DEFAULT_GROUP_NS)
    }

    /// The header as text lines, version line and column line included.
    pub(crate) fn text(&self) -> String {
        let mut s = format!("{TEXT_MAGIC} {VERSION}\n");
        s += &format!("# page_size = {}\n", units::format_size_exact(self.page_size));
        s += &format!("# memory = {}\n", units::format_size_exact(self.memory));
        if let Some(i) = self.interval_ns {
            s += &format!("# interval = {}\n", units::format_duration_exact(i));
        }
        if let Some(d) = self.duration_ns {
            s += &format!("# duration = {}\n", units::format_duration_exact(d));
        }
        for key in META_KEYS {
            for (k, v) in self.meta.iter().filter(|(k, _)| k == key) {
                s += &format!("# {k} = {v}\n");
            }
        }
        s += self.kind.columns();
        s.push('\n');
        s
    }
}

/// Where in a trace file a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    File,
    Line(u64),
    /// Records count from 1.
    Record(u64),
}

/// A trace that cannot be read: the file, where in it, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    pub file: String,
    pub place: Place,
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place {
            Place::File => write!(f, "{}: {}", self.file, self.message),
            Place::Line(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            Place::Record(r) => write!(f, "{}: record {}: {}", self.file, r, self.message),
        }
    }
}

impl std::error::Error for TraceError {}

/// Parses the `# key = value` lines and the column line of a header (shared by both forms).
#[derive(Default)]
pub(crate) struct HeaderParser {
    page_size: Option<u64>,
    memory: Option<u64>,
    interval: Option<u64>,
    duration: Option<u64>,
    meta: Vec<(String, String)>,
}

impl HeaderParser {
    /// One line after the version line. `Ok(Some(kind))` at the column line, which ends the header.
    pub(crate) fn line(&mut self, line: &str) -> Result<Option<Kind>, String> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(None);
        }
        let Some(rest) = line.strip_prefix('#') else {
            return match line.replace(' ', "").as_str() {
                WRITES_COLUMNS => Ok(Some(Kind::Writes)),
                INTERVALS_COLUMNS => Ok(Some(Kind::Intervals)),
                _ => Err(format!(
                    "expected `# key = value` header lines and then the column line `{WRITES_COLUMNS}` or `{INTERVALS_COLUMNS}`, found {line:?}"
                )),
            };
        };
        // `# key = value` with an identifier key is a header field; any other `#` line is a comment.
        let Some((key, value)) = rest.split_once('=') else { return Ok(None) };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Ok(None);
        }
        let value = value.trim();
        let known = VALUE_KEYS.iter().chain(META_KEYS.iter());
        if META_KEYS.contains(&key) {
            self.meta.push((key.to_string(), value.to_string()));
            return Ok(None);
        }
        let slot = match key {
            "page_size" => &mut self.page_size,
            "memory" => &mut self.memory,
            "interval" => &mut self.interval,
            "duration" => &mut self.duration,
            _ => {
                let hint = crate::names::suggest(key, known.copied()).map_or(String::new(), |s| format!("did you mean `{s}`? "));
                let all: Vec<&str> = VALUE_KEYS.iter().chain(META_KEYS.iter()).copied().collect();
                return Err(format!("unknown header key `{key}`; {hint}valid keys: {}", all.join(", ")));
            }
        };
        if slot.is_some() {
            return Err(format!("header key `{key}` is given twice"));
        }
        let parsed = match key {
            "page_size" | "memory" => units::parse_size(value),
            _ => units::parse_duration(value),
        };
        *slot = Some(parsed.map_err(|e| format!("header key `{key}`: {}", e.message))?);
        Ok(None)
    }

    pub(crate) fn finish(self, kind: Kind) -> Result<Header, String> {
        let Some(page_size) = self.page_size else {
            return Err("the header has no page size; add `# page_size = 4 KiB`".into());
        };
        if page_size == 0 || !page_size.is_power_of_two() {
            return Err(format!("page_size {} is not a power of two (e.g. 4 KiB)", units::format_size_exact(page_size)));
        }
        let Some(memory) = self.memory else {
            return Err(
                "the header has no memory size; add e.g. `# memory = 256 MiB` (page numbers must be below memory / page_size)".into()
            );
        };
        if memory == 0 || !memory.is_multiple_of(page_size) {
            return Err(format!(
                "memory {} is not a whole, non-zero number of {} pages",
                units::format_size_exact(memory),
                units::format_size_exact(page_size)
            ));
        }
        match (kind, self.interval) {
            (Kind::Intervals, None) => {
                return Err("an interval trace needs its sampling interval in the header, e.g. `# interval = 100 ms`".into());
            }
            (_, Some(0)) => return Err("header key `interval` must be longer than zero".into()),
            _ => {}
        }
        Ok(Header { kind, page_size, memory, interval_ns: self.interval, duration_ns: self.duration, meta: self.meta })
    }
}

/// Parse the version from the first line of the text form.
pub(crate) fn text_version(first: &str) -> Result<u32, String> {
    let Some(rest) = first.trim().strip_prefix(TEXT_MAGIC) else {
        return Err(format!(
            "not a migsim trace: a text trace starts with the line `{TEXT_MAGIC} {VERSION}`, a binary one with the bytes MIGTRACE"
        ));
    };
    rest.trim().parse::<u32>().map_err(|_| format!("bad version line {:?}; expected `{TEXT_MAGIC} {VERSION}`", first.trim()))
}

pub(crate) fn check_version(v: u32) -> Result<(), String> {
    if v == VERSION {
        Ok(())
    } else {
        Err(format!("trace format version {v} is not supported; this migsim reads version {VERSION} (docs/traces.md)"))
    }
}

pub(crate) fn read_byte(r: &mut impl BufRead) -> io::Result<u8> {
    let b = match r.fill_buf()?.first() {
        Some(&b) => b,
        None => return Err(io::ErrorKind::UnexpectedEof.into()),
    };
    r.consume(1);
    Ok(b)
}

pub(crate) fn read_varint(r: &mut impl BufRead) -> io::Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = read_byte(r)?;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(io::Error::new(io::ErrorKind::InvalidData, "a number is longer than 64 bits"))
}

pub(crate) fn write_varint(w: &mut impl Write, mut v: u64) -> io::Result<()> {
    let mut buf = [0u8; 10];
    let mut n = 0;
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            buf[n] = b;
            n += 1;
            break;
        }
        buf[n] = b | 0x80;
        n += 1;
    }
    w.write_all(&buf[..n])
}

pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// The two forms of a trace file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Text,
    Binary,
}

impl Form {
    /// By extension: `.mtrace` is binary, `.csv` and `.txt` are text.
    pub fn from_path(p: &Path) -> Option<Form> {
        match p.extension()?.to_str()? {
            "mtrace" => Some(Form::Binary),
            "csv" | "txt" => Some(Form::Text),
            _ => None,
        }
    }
}

/// Maximal runs of consecutive pages, as inclusive (first, last) pairs.
pub fn runs(pages: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &p in pages {
        match out.last_mut() {
            Some((_, b)) if *b + 1 == p => *b = p,
            _ => out.push((p, p)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sets_keep_ranges_as_ranges() {
        let s = PageSet::from_ranges(vec![(10, 20), (0, 3), (4, 4), (15, 30), (40, u64::MAX - 1)]);
        assert_eq!(s.runs(), &[(0, 4), (10, 30), (40, u64::MAX - 1)]);
        assert_eq!(s.last(), Some(u64::MAX - 1));
        let huge = PageSet::from_ranges(vec![(0, 4_294_967_295)]);
        assert_eq!((huge.runs().len(), huge.len()), (1, 1 << 32));
        let p = PageSet::from_pages(&[5, 3, 4, 3, 9]);
        assert_eq!(p.runs(), &[(3, 5), (9, 9)]);
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![3, 4, 5, 9]);
        assert!(PageSet::default().is_empty() && PageSet::from_pages(&[]).runs().is_empty());
    }

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            let mut b = Vec::new();
            write_varint(&mut b, v).unwrap();
            assert_eq!(read_varint(&mut &b[..]).unwrap(), v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }
}
