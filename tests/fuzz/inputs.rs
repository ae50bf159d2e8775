//! What the fuzzer feeds migsim: scenarios (the shipped scenarios/*.toml and benches/*.toml,
//! mutated line by line: values, units, keys, tables, duplicates, truncation, splices), traces (tiny
//! made-up ones and a shipped one, text and binary, mutated, truncated, bit-flipped) and command
//! lines (`args.rs`). Input `i` of seed `s` is a
//! pure function of `(s, i)`, so one input is reproduced by its number alone.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

pub type Rand = ChaCha8Rng;

/// The generator for input `i` of the run seeded `seed`.
pub fn rng_for(seed: u64, i: u64) -> Rand {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(i);
    r
}

/// One input and what to do with it.
#[derive(Debug, Clone)]
pub enum Input {
    /// Resolve the text as the scenario file `file` with `--set` overrides; `run` also simulates it.
    Scenario { file: PathBuf, text: String, sets: Vec<String>, run: bool },
    /// Write the bytes as a trace file with extension `ext` and read it (`then` says what else).
    Trace { bytes: Vec<u8>, ext: &'static str, then: TraceUse },
    /// A command line (after `migsim`), run in-process; `file` is written first (a scenario, possibly
    /// not UTF-8) at `Corpus::dir/input.toml`.
    Args { argv: Vec<String>, file: Option<Vec<u8>> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceUse {
    Read,
    Stats,
    Convert {
        to_binary: bool,
    },
    /// Replay it in a small scenario with this strategy.
    Replay {
        strategy: &'static str,
    },
}

/// Seeds to mutate, read once from the repository, and the scratch folder inputs are written into.
pub struct Corpus {
    pub dir: PathBuf,
    /// (absolute path, text) of every shipped scenario.
    pub scenarios: Vec<(PathBuf, String)>,
    /// The scenarios split by what resolving them costs: the dear ones (more than 64 VMs or 64 GiB;
    /// up to hundreds of milliseconds) are picked one time in a hundred.
    cheap: Vec<(PathBuf, String)>,
    cheap_commented: Vec<(PathBuf, String)>,
    dear: Vec<(PathBuf, String)>,
    /// Keys (`name = `), table headers and values seen in the scenarios.
    keys: Vec<String>,
    tables: Vec<String>,
    values: Vec<String>,
    /// Traces: (bytes, is_binary).
    pub traces: Vec<(Vec<u8>, bool)>,
    /// Small scenarios the command-line inputs name (cheap to run, sweep, advise, explain).
    pub tiny: PathBuf,
    pub tiny_sweep: PathBuf,
    pub sweep_csv: PathBuf,
    /// `MIGSIM_FUZZ_ONLY=scenarios|runs|traces|commands`: one class of inputs (to profile or to dig).
    pub only: Option<Only>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    Scenarios,
    Runs,
    Traces,
    Commands,
}

/// Values that have broken parsers before, or sit at the edges: numbers at the limits of their
/// types, units of the wrong quantity, empty and exotic strings, the slow links and high write rates
/// that used to hang.
pub const EDGE_VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "0.5",
    "2",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "\"\"",
    "\" \"",
    "true",
    "false",
    "[]",
    "{}",
    "[1, 2]",
    "[\"\"]",
    "{ a = 1 }",
    "1979-05-27T07:32:00Z",
    "\"0 B\"",
    "\"1 B\"",
    "\"4 KiB\"",
    "\"3 KiB\"",
    "\"64 MiB\"",
    "\"16 TiB\"",
    "\"1 EiB\"",
    "\"1073741824\"",
    "\"0 GiB\"",
    "\"-1 GiB\"",
    "\"1.5 GiB\"",
    "\"1 bit/s\"",
    "\"10 Kbit/s\"",
    "\"1 Mbit/s\"",
    "\"1 Tbit/s\"",
    "\"0 bit/s\"",
    "\"nan Gbit/s\"",
    "\"1e9 pages/s\"",
    "\"5e7 pages/s\"",
    "\"5e6 pages/s\"",
    "\"100 GiB/s\"",
    "\"0 pages/s\"",
    "\"1 ns\"",
    "\"0 s\"",
    "\"100000 h\"",
    "\"1 h\"",
    "\"-5 ms\"",
    "\"300 ms\"",
    "\"1e30 s\"",
    "\"5 min\"",
    "\"1 pages\"",
    "\"10 %\"",
    "\"precopy\"",
    "\"postcopy\"",
    "\"hybrid\"",
    "\"cold\"",
    "[\"precopy\", \"postcopy\", \"hybrid\", \"cold\"]",
    "\"qemu\"",
    "\"xen\"",
    "\"hotcold\"",
    "\"uniform\"",
    "\"zipf\"",
    "\"trace\"",
    "\"phases\"",
    "\"mix\"",
    "\"\u{e9}\u{202e}\u{1f600}\"",
    "\"\\u0000\"",
    "'literal'",
    "\"\"\"multi\nline\"\"\"",
];

/// Strings that are not TOML values at all.
const GARBAGE: &[&str] = &["=", "[", "]]", "[[", "\"", "#", "\\", "\t", "= =", "a.b.c = 1", "[a.\"b\".c]", "\u{feff}", "\r"];

impl Corpus {
    pub fn load(repo: &Path, dir: &Path) -> Corpus {
        let mut scenarios = Vec::new();
        for folder in ["scenarios", "benches"] {
            let mut files: Vec<PathBuf> = std::fs::read_dir(repo.join(folder))
                .expect("read the corpus folder")
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            files.sort();
            for p in files {
                let text = std::fs::read_to_string(&p).expect("read a corpus scenario");
                scenarios.push((p, text));
            }
        }
        let (mut keys, mut tables, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for (_, text) in &scenarios {
            for line in text.lines().map(str::trim) {
                if line.starts_with('[') {
                    tables.push(line.to_string());
                } else if let Some((k, v)) = line.split_once('=')
                    && !line.starts_with('#')
                {
                    keys.push(k.trim().to_string());
                    values.push(v.trim().to_string());
                }
            }
        }
        for v in [&mut keys, &mut tables, &mut values] {
            v.sort();
            v.dedup();
        }
        std::fs::create_dir_all(dir).expect("create the scratch folder");
        let traces = seed_traces(repo, dir);
        // Scenarios that replay a shipped trace read a tiny one instead: resolving scans the whole
        // trace, and the shipped ones (1 MB) would make those inputs a thousand times dearer. Traces
        // get their own inputs.
        let tiny_trace = format!("file = {:?}", dir.join("seed-intervals.mtrace").display().to_string());
        for (_, text) in &mut scenarios {
            if text.contains(".mtrace") {
                *text = text
                    .lines()
                    .map(|l| if l.trim_start().starts_with("file") && l.contains(".mtrace") { tiny_trace.clone() } else { l.to_string() })
                    .collect::<Vec<_>>()
                    .join("\n");
            }
        }
        let tiny = dir.join("tiny.toml");
        std::fs::write(&tiny, TINY).expect("write tiny.toml");
        let tiny_sweep = dir.join("tiny-sweep.toml");
        std::fs::write(
            &tiny_sweep,
            format!("{TINY}\n[sweep]\nreplications = 2\n\"workload.write_rate\" = [\"1000 pages/s\", \"4000 pages/s\"]\n"),
        )
        .expect("write tiny-sweep.toml");
        let sweep_csv = dir.join("sweep-out/tiny/sweep.csv");
        let (mut cheap, mut dear) = (Vec::new(), Vec::new());
        // Each scenario twice: as shipped, and without its comment lines (a third of the text or
        // less, so a third of the parsing); the stripped ones are picked nine times in ten.
        let stripped: Vec<(PathBuf, String)> = scenarios
            .iter()
            .map(|(p, t)| (p.clone(), t.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n")))
            .collect();
        let mut cheap_commented = Vec::new();
        for (k, (p, text)) in stripped.iter().chain(&scenarios).enumerate() {
            // By what the scenario holds, not by a clock: input i must be the same on every machine.
            let big = migsim::input::from_str(&p.display().to_string(), "fuzz", text, &[])
                .map_or(true, |sc| sc.vms.len() > 64 || sc.vms.iter().map(|v| v.pages()).sum::<u64>() > 1 << 24);
            let pool = match (!big, k < stripped.len()) {
                (false, _) => &mut dear,
                (true, true) => &mut cheap,
                (true, false) => &mut cheap_commented,
            };
            pool.push((p.clone(), text.clone()));
        }
        if dear.is_empty() {
            dear = cheap.clone();
        }
        let only = match std::env::var("MIGSIM_FUZZ_ONLY").as_deref() {
            Ok("scenarios") => Some(Only::Scenarios),
            Ok("runs") => Some(Only::Runs),
            Ok("traces") => Some(Only::Traces),
            Ok("commands") => Some(Only::Commands),
            Ok(other) => panic!("MIGSIM_FUZZ_ONLY={other}: expected scenarios, runs, traces or commands"),
            Err(_) => None,
        };
        Corpus {
            only,
            cheap,
            cheap_commented,
            dear,
            dir: dir.to_path_buf(),
            scenarios,
            keys,
            tables,
            values,
            traces,
            tiny,
            tiny_sweep,
            sweep_csv,
        }
    }

    pub fn generate(&self, r: &mut Rand) -> Input {
        let class = r.random_range(0..100);
        match self.only {
            Some(Only::Scenarios) => return self.scenario(r),
            Some(Only::Runs) => return self.run(r),
            Some(Only::Traces) => return self.trace(r),
            Some(Only::Commands) => return self.command_line(r),
            None => {}
        }
        // Most inputs are parse-level (tens of microseconds), so that ten million fit in hours; the
        // dearer ones (runs, commands, the 19 KB trace) are a few percent.
        match class {
            0 => self.run(r),
            1..82 => self.scenario(r),
            82..96 => self.trace(r),
            _ => self.command_line(r),
        }
    }

    fn scenario(&self, r: &mut Rand) -> Input {
        let pool = if r.random_bool(0.01) {
            &self.dear
        } else if r.random_bool(0.1) {
            &self.cheap_commented
        } else {
            &self.cheap
        };
        let (file, text) = pool.choose(r).expect("corpus");
        let mut text = text.clone();
        // One mutation most of the time, so that most inputs get past the first check they break.
        for _ in 0..*[1, 1, 1, 1, 1, 1, 2, 2, 3, 4].choose(r).expect("count") {
            text = self.mutate_toml(r, &text);
        }
        let sets = (0..[0, 0, 0, 1, 2].choose(r).copied().unwrap_or(0)).map(|_| self.set_arg(r)).collect();
        // Runs are dearer than parsing: a few percent of inputs, and most of those never resolve.
        Input::Scenario { file: file.clone(), text, sets, run: r.random_bool(0.01) }
    }

    /// A shipped scenario with the settings that used to make runs long or wrong (slow links, high
    /// write rates, huge setup times, odd page sizes), simulated.
    fn run(&self, r: &mut Rand) -> Input {
        let (file, text) = self.cheap.choose(r).expect("corpus");
        let sets = (0..r.random_range(0..=3))
            .map(|_| {
                let (key, values) = RUN_SETTINGS.choose(r).expect("settings");
                format!("{key}={}", values.choose(r).expect("values"))
            })
            .collect();
        Input::Scenario { file: file.clone(), text: text.clone(), sets, run: true }
    }

    /// `KEY=VALUE` for `--set`: a table and key from the corpus, a value from anywhere.
    pub(crate) fn set_arg(&self, r: &mut Rand) -> String {
        let table = self.tables.choose(r).map(|t| t.trim_matches(['[', ']']).to_string()).unwrap_or_default();
        let key = self.keys.choose(r).cloned().unwrap_or_default();
        let path = match r.random_range(0..4) {
            0 => key,
            1 => table,
            _ => format!("{table}.{key}"),
        };
        format!("{path}={}", self.value(r))
    }

    pub(crate) fn value(&self, r: &mut Rand) -> String {
        match r.random_range(0..10) {
            0..4 => EDGE_VALUES.choose(r).expect("values").to_string(),
            4..8 => self.values.choose(r).cloned().unwrap_or_default(),
            8 => GARBAGE.choose(r).expect("garbage").to_string(),
            _ => format!("\"{} {}\"", number(r), UNITS.choose(r).expect("units")),
        }
    }

    /// One mutation of a TOML text.
    pub fn mutate_toml(&self, r: &mut Rand, text: &str) -> String {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        // Lines that set something: most mutations aim at them.
        let settings: Vec<usize> =
            lines.iter().enumerate().filter(|(_, l)| l.contains('=') && !l.trim_start().starts_with('#')).map(|(i, _)| i).collect();
        let pick = |r: &mut Rand, lines: &Vec<String>| {
            if !settings.is_empty() && r.random_bool(0.9) { *settings.choose(r).expect("settings") } else { r.random_range(0..lines.len()) }
        };
        match r.random_range(0..14) {
            // A new value for a key.
            0..4 => {
                let i = pick(r, &lines);
                let key = lines[i].split_once('=').map_or(lines[i].clone(), |(k, _)| k.to_string());
                lines[i] = format!("{} = {}", key.trim_end(), self.value(r));
            }
            // The same number in another unit, or another number in the same unit.
            4 => {
                let i = pick(r, &lines);
                lines[i] = reunit(r, &lines[i]);
            }
            5 => {
                let i = pick(r, &lines);
                lines.remove(i);
            }
            6 => {
                let i = pick(r, &lines);
                let l = lines[i].clone();
                lines.insert(r.random_range(0..=lines.len()), l);
            }
            7 => {
                let k = self.keys.choose(r).cloned().unwrap_or_default();
                let v = self.value(r);
                lines.insert(r.random_range(0..=lines.len()), format!("{k} = {v}"));
            }
            8 => {
                let t = self.tables.choose(r).cloned().unwrap_or_default();
                lines.insert(r.random_range(0..=lines.len()), t);
            }
            // A typo in a key.
            9 => {
                let i = pick(r, &lines);
                if let Some((k, v)) = lines[i].clone().split_once('=') {
                    lines[i] = format!("{}={v}", typo(r, k));
                }
            }
            // Lines from another scenario.
            10 => {
                let (_, other) = self.scenarios.choose(r).expect("corpus");
                let o: Vec<&str> = other.lines().collect();
                let a = r.random_range(0..o.len().max(1));
                let b = (a + r.random_range(1..12)).min(o.len());
                let at = r.random_range(0..=lines.len());
                for (j, l) in o[a.min(b)..b].iter().enumerate() {
                    lines.insert(at + j, l.to_string());
                }
            }
            11 => {
                let i = r.random_range(0..lines.len());
                let g = GARBAGE.choose(r).expect("garbage");
                let at = char_boundary(&lines[i], r.random_range(0..=lines[i].len()));
                lines[i].insert_str(at, g);
            }
            // Cut the file short.
            12 => {
                let keep = r.random_range(0..=text.len());
                return text[..char_boundary(text, keep)].to_string();
            }
            // Make a table an array of tables, or the reverse.
            _ => {
                let i = r.random_range(0..lines.len());
                let l = lines[i].trim().to_string();
                lines[i] = if let Some(inner) = l.strip_prefix("[[").and_then(|s| s.strip_suffix("]]")) {
                    format!("[{inner}]")
                } else if let Some(inner) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                    format!("[[{inner}]]")
                } else {
                    format!("[{l}]")
                };
            }
        }
        let mut s = lines.join("\n");
        s.push('\n');
        s
    }

    fn trace(&self, r: &mut Rand) -> Input {
        // The tiny seeds mostly; gcc-brotli's (19 KB binary, 124 KB text) one input in ten.
        let (seed, binary) = if r.random_bool(0.1) { self.traces.choose(r) } else { self.traces[..4].choose(r) }.expect("traces");
        let mut bytes = seed.clone();
        for _ in 0..r.random_range(1..=3) {
            bytes = if *binary && r.random_bool(0.8) { mutate_bytes(r, &bytes) } else { self.mutate_text_trace(r, &bytes) };
        }
        let ext = *["mtrace", "csv", "txt", "trace"].choose(r).expect("ext");
        let then = match r.random_range(0..20) {
            0..16 => TraceUse::Read,
            16 => TraceUse::Stats,
            17..19 => TraceUse::Convert { to_binary: r.random_bool(0.5) },
            _ => TraceUse::Replay { strategy: ["precopy", "postcopy", "hybrid", "cold"].choose(r).expect("strategy") },
        };
        Input::Trace { bytes, ext, then }
    }

    fn mutate_text_trace(&self, r: &mut Rand, bytes: &[u8]) -> Vec<u8> {
        let Ok(text) = std::str::from_utf8(bytes) else { return mutate_bytes(r, bytes) };
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.is_empty() {
            return mutate_bytes(r, bytes);
        }
        let i = r.random_range(0..lines.len());
        match r.random_range(0..9) {
            0 => {
                let key = ["page_size", "memory", "interval", "duration", "note", "bogus"].choose(r).expect("key");
                let v = self.value(r);
                lines.insert(r.random_range(1..=lines.len()), format!("# {key} = {}", v.trim_matches('"')));
            }
            1 => {
                lines.remove(i);
            }
            2 => {
                let l = lines[i].clone();
                lines.insert(r.random_range(0..=lines.len()), l);
            }
            // A number in a record made extreme.
            3..6 => {
                let l = &lines[i];
                let mut fields: Vec<String> = l.split([',', ' ', '-']).map(str::to_string).collect();
                if !fields.is_empty() {
                    let j = r.random_range(0..fields.len());
                    fields[j] = EDGE_NUMBERS.choose(r).expect("numbers").to_string();
                }
                // Rebuild with the original separators where possible.
                let mut out = String::new();
                let mut it = fields.into_iter();
                for c in l.chars() {
                    if c == ',' || c == ' ' || c == '-' {
                        out += &it.next().unwrap_or_default();
                        out.push(c);
                    }
                }
                out += &it.collect::<Vec<_>>().join("");
                lines[i] = out;
            }
            6 => {
                let at = char_boundary(&lines[i], r.random_range(0..=lines[i].len()));
                lines[i].truncate(at);
            }
            7 => lines[i] = reunit(r, &lines[i]),
            _ => return mutate_bytes(r, bytes),
        }
        let mut s = lines.join("\n");
        if r.random_bool(0.9) {
            s.push('\n');
        }
        s.into_bytes()
    }
}

/// A small scenario every command can afford to run: 64 MiB, 1 Gbit/s, every strategy.
pub const TINY: &str = r#"name = "tiny"
seed = 7
[vm]
memory = "64 MiB"
zero_fraction = 0.2
[network]
bandwidth = "1 Gbit/s"
latency = "0.1 ms"
[workload]
kind = "hotcold"
write_rate = "2000 pages/s"
working_set = "48 MiB"
hot_set = "4 MiB"
hot_share = 0.9
[migration]
strategy = ["precopy", "postcopy", "hybrid", "cold"]
max_time = "20 s"
"#;

/// What runs are fuzzed with: the inputs of issue 18's hangs and overshoots, and their neighbours.
const RUN_SETTINGS: &[(&str, &[&str])] = &[
    ("network.bandwidth", &["\"1 bit/s\"", "\"1 Kbit/s\"", "\"10 Kbit/s\"", "\"1 Mbit/s\"", "\"100 Mbit/s\"", "\"400 Gbit/s\""]),
    (
        "workload.write_rate",
        &["\"0 pages/s\"", "\"5e5 pages/s\"", "\"5e6 pages/s\"", "\"5e7 pages/s\"", "\"1e9 pages/s\"", "\"100 GiB/s\""],
    ),
    ("migration.setup_time", &["\"0 s\"", "\"1 h\"", "\"100000 h\""]),
    ("migration.max_time", &["\"1 ns\"", "\"1 s\"", "\"20 s\""]),
    ("migration.on_max_time", &["\"stop\"", "\"cancel\""]),
    ("migration.strategy", &["\"precopy\"", "\"postcopy\"", "\"hybrid\"", "\"cold\""]),
    ("migration.stop_policy", &["\"qemu\"", "\"xen\"", "\"threshold\"", "\"rounds\"", "\"simgrid\""]),
    ("migration.downtime_limit", &["\"0 s\"", "\"1 ns\"", "\"10 s\""]),
    ("migration.max_bandwidth", &["\"1 bit/s\"", "\"128 MiB/s\""]),
    ("vm.page_size", &["\"512 B\"", "\"64 KiB\"", "\"2 MiB\""]),
    ("vm.memory", &["\"4 KiB\"", "\"1 MiB\"", "\"8 GiB\"", "\"16 GiB\""]),
    ("vm.zero_fraction", &["0", "1"]),
    ("seed", &["0", "18446744073709551615"]),
];

const UNITS: &[&str] = &[
    "B", "KiB", "MiB", "GiB", "TiB", "KB", "GB", "bit/s", "Kbit/s", "Mbit/s", "Gbit/s", "MiB/s", "GiB/s", "pages/s", "pages", "ns", "us",
    "ms", "s", "min", "h", "d", "%", "", "parsecs",
];
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "9999999999999999999999",
    "1e9",
    "x",
    "",
    "0x10",
    "+1",
    "1.5",
];

fn number(r: &mut Rand) -> String {
    match r.random_range(0..6) {
        0 => "0".into(),
        1 => format!("-{}", r.random_range(1..1000)),
        2 => format!("1e{}", r.random_range(-30..310)),
        3 => format!("{}", r.random::<f64>()),
        _ => format!("{}", r.random_range(1u64..100_000)),
    }
}

/// A line's first number and unit replaced: another unit, or another number.
fn reunit(r: &mut Rand, line: &str) -> String {
    let Some(q) = line.find('"') else { return format!("{line} {}", UNITS.choose(r).expect("units")) };
    let rest = &line[q + 1..];
    let end = rest.find('"').unwrap_or(rest.len());
    let inner = &rest[..end];
    let (num, unit) = inner.split_once(' ').unwrap_or((inner, ""));
    let new = if r.random_bool(0.5) { format!("{num} {}", UNITS.choose(r).expect("units")) } else { format!("{} {unit}", number(r)) };
    format!("{}\"{new}{}", &line[..q], &rest[end..])
}

fn typo(r: &mut Rand, key: &str) -> String {
    let mut c: Vec<char> = key.chars().collect();
    if c.is_empty() {
        return "x".into();
    }
    let i = r.random_range(0..c.len());
    match r.random_range(0..4) {
        0 => {
            c.remove(i);
        }
        1 => c.insert(i, (b'a' + r.random_range(0..26)) as char),
        2 => {
            let j = r.random_range(0..c.len());
            c.swap(i, j);
        }
        _ => c[i] = c[i].to_ascii_uppercase(),
    }
    c.into_iter().collect()
}

pub(crate) fn char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i.min(s.len())
}

/// Byte-level damage: bit flips, bytes set, cut, inserted or removed.
pub fn mutate_bytes(r: &mut Rand, b: &[u8]) -> Vec<u8> {
    let mut b = b.to_vec();
    if b.is_empty() {
        b.push(r.random());
        return b;
    }
    for _ in 0..r.random_range(1..=4) {
        let i = r.random_range(0..b.len());
        match r.random_range(0..6) {
            0..2 => b[i] ^= 1 << r.random_range(0..8),
            2 => b[i] = *[0u8, 0xff, 0x7f, 0x80, b'\n', b'-', b','].choose(r).expect("bytes"),
            3 => b.truncate(i.max(1)),
            4 => b.insert(i, r.random()),
            _ => {
                b.remove(i);
                if b.is_empty() {
                    b.push(0);
                }
            }
        }
    }
    b
}

/// The trace seeds: tiny made-up traces of both kinds in both forms, and gcc-brotli.mtrace (19 KB)
/// with its text form.
fn seed_traces(repo: &Path, dir: &Path) -> Vec<(Vec<u8>, bool)> {
    use migsim::trace::{Form, Header, Kind, Record, Writer};
    let mut out = Vec::new();
    let writes = "# migsim-trace 1\n# page_size = 4 KiB\n# memory = 1 MiB\n# note = made up\ntime_ns,page\n0,1\n10,3\n10,255\n2000,0\n";
    let intervals = "# migsim-trace 1\n# page_size = 4 KiB\n# memory = 4 MiB\n# interval = 1 ms\n# duration = 5 ms\nstart_ns,length_ns,pages\n0,1000000,0-3 7 9-12\n1000000,1000000,\n2000000,1000000,1023\n";
    out.push((writes.as_bytes().to_vec(), false));
    out.push((intervals.as_bytes().to_vec(), false));
    for (kind, recs) in [
        (
            Kind::Writes,
            vec![Record::Write { time_ns: 0, page: 1 }, Record::Write { time_ns: 5, page: 200 }, Record::Write { time_ns: 9, page: 2 }],
        ),
        (
            Kind::Intervals,
            vec![
                Record::Interval { start_ns: 0, length_ns: 1_000_000, pages: vec![0, 1, 2, 9, 10].into() },
                Record::Interval { start_ns: 1_000_000, length_ns: 1_000_000, pages: vec![].into() },
                Record::Interval { start_ns: 2_000_000, length_ns: 1_000_000, pages: (100..300).collect() },
            ],
        ),
    ] {
        let p = dir.join(format!("seed-{}.mtrace", kind.name()));
        let mut w = Writer::create(&p, Form::Binary, kind).expect("create a seed trace");
        for rec in &recs {
            w.write(rec).expect("write a seed record");
        }
        let mut h = Header::new(kind, 4096, 1 << 20);
        if kind == Kind::Intervals {
            h.interval_ns = Some(1_000_000);
        }
        w.finish(&h).expect("finish a seed trace");
        out.push((std::fs::read(&p).expect("read the seed trace"), true));
    }
    let gcc = repo.join("traces/gcc-brotli.mtrace");
    let text = dir.join("gcc-brotli.csv");
    migsim::trace::convert(&gcc, &text, Form::Text).expect("convert gcc-brotli.mtrace");
    out.push((std::fs::read(&gcc).expect("read gcc-brotli.mtrace"), true));
    out.push((std::fs::read(&text).expect("read gcc-brotli.csv"), false));
    out
}
