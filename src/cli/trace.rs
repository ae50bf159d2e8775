//! The `migsim trace` subcommands: `record` (a live Linux process), `convert` (text <-> binary) and
//! `stats` (what a trace does). Argument parsing and printing only; the work is in `crate::trace`
//! (format, recorder, statistics) and `output::trace_stats`.

use crate::cli::common::{Failure, out};
use crate::output::trace_stats;
use crate::trace::record::{self, RecordError, Target};
use crate::trace::{self as trace, ConvertError, Form};
use crate::units;
use clap::{Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    #[command(subcommand)]
    pub command: TraceCommand,
}

#[derive(Subcommand, Debug)]
pub enum TraceCommand {
    /// Record the dirty pages of a running Linux process (--pid) or of a program it starts (-- COMMAND ARGS...).
    Record(RecordArgs),
    /// Convert a trace between the text form (.csv) and the binary form (.mtrace).
    Convert(ConvertArgs),
    /// Print a trace's dirty rate over time, distinct pages and writable-working-set curve; write them as CSV.
    Stats(StatsArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormArg {
    Text,
    Binary,
}

impl From<FormArg> for Form {
    fn from(f: FormArg) -> Form {
        match f {
            FormArg::Text => Form::Text,
            FormArg::Binary => Form::Binary,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// The process to record (it is left running).
    #[arg(long, conflicts_with = "command")]
    pub pid: Option<i32>,
    /// Sampling interval.
    #[arg(long, default_value = "100ms")]
    pub interval: String,
    /// How long to record (default: until the process exits or Ctrl-C).
    #[arg(long)]
    pub duration: Option<String>,
    /// The trace to write (.mtrace binary, .csv text).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// The form to write, when the extension does not say.
    #[arg(long, value_enum)]
    pub to: Option<FormArg>,
    /// Also record every descendant process (a build, a shell pipeline).
    #[arg(long)]
    pub children: bool,
    /// No progress line on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// A program to start and record; it is ended (SIGTERM) when the recording ends.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

#[derive(clap::Args, Debug)]
pub struct ConvertArgs {
    /// The trace to read (either form; told apart by its content).
    pub input: PathBuf,
    /// The trace to write; its form comes from the extension (.mtrace binary, .csv or .txt text) or --to.
    pub output: PathBuf,
    #[arg(long, value_enum)]
    pub to: Option<FormArg>,
}

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// The trace (either form).
    pub file: PathBuf,
    /// Folder for NAME-rate.csv and NAME-wws.csv (default: the trace's folder).
    #[arg(long)]
    pub csv_out: Option<PathBuf>,
    /// Rows of the printed dirty-rate table (the CSV has every interval).
    #[arg(long, default_value_t = 20)]
    pub rows: usize,
}

pub fn run(a: &TraceArgs) -> Result<(), Failure> {
    match &a.command {
        TraceCommand::Record(r) => cmd_record(r),
        TraceCommand::Convert(c) => cmd_convert(c),
        TraceCommand::Stats(s) => cmd_stats(s),
    }
}

fn output_form(path: &Path, flag: Option<FormArg>) -> Result<Form, Failure> {
    match flag.map(Form::from).or_else(|| Form::from_path(path)) {
        Some(f) => Ok(f),
        None => Err(Failure::input(format!(
            "{}: cannot tell the form from the extension; name it .mtrace (binary) or .csv (text), or pass --to binary|text",
            path.display()
        ))),
    }
}

fn duration_arg(flag: &str, v: &str) -> Result<u64, Failure> {
    match units::parse_duration(v) {
        Ok(0) => Err(Failure::input(format!("--{flag} must be longer than zero, e.g. 100ms"))),
        Ok(ns) => Ok(ns),
        Err(e) => Err(Failure::input(format!("--{flag}: {}", e.message))),
    }
}

fn cmd_record(a: &RecordArgs) -> Result<(), Failure> {
    let target = match (a.pid, a.command.is_empty()) {
        (Some(p), true) => Target::Pid(p),
        (None, false) => Target::Command(a.command.clone()),
        _ => return Err(Failure::input("say what to record: --pid PID, or -- COMMAND ARGS... to start a program")),
    };
    let interval_ns = duration_arg("interval", &a.interval)?;
    let duration_ns = a.duration.as_deref().map(|d| duration_arg("duration", d)).transpose()?;
    let opts = record::Options {
        target,
        interval_ns,
        duration_ns,
        output: a.output.clone(),
        form: output_form(&a.output, a.to)?,
        children: a.children,
        quiet: a.quiet,
    };
    let o = record::record(&opts).map_err(|e| match e {
        RecordError::Input(m) => Failure::input(m),
        RecordError::Other(m) => Failure::other(m),
    })?;
    let size = std::fs::metadata(&a.output).map_or(0, |m| m.len());
    let ps = o.page_size;
    out(&format!(
        "recorded {} for {}: {} intervals of {}; ended because {}\n\
         wrote {} ({}): memory {} ({} pages of {}), {} distinct pages written, {} page writes (sum of interval sets)\n\
         sampling cost: mean {}, max {} per sample = {:.1}% of the interval on average (max {:.1}%); {} hashed in all\n",
        o.program,
        units::format_duration(o.duration_ns),
        o.intervals,
        units::format_duration(interval_ns),
        o.end.text(),
        a.output.display(),
        units::format_size(size),
        units::format_size(o.frames * ps),
        o.frames,
        units::format_size(ps),
        o.distinct_dirty,
        o.page_writes,
        units::format_duration(o.sample_mean_ns),
        units::format_duration(o.sample_max_ns),
        100.0 * o.sample_share(interval_ns),
        100.0 * o.sample_max_ns as f64 / interval_ns as f64,
        units::format_size(o.bytes_hashed),
    ))
}

/// Whether two paths name one file (the same path written differently, a symbolic or a hard link).
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (ma.dev(), ma.ino()) == (mb.dev(), mb.ino()) {
            return true;
        }
    }
    let _ = (ma, mb);
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

fn cmd_convert(a: &ConvertArgs) -> Result<(), Failure> {
    if same_file(&a.input, &a.output) {
        return Err(Failure::input(format!(
            "{} and {} are the same file: converting a trace onto itself would replace it (and drop its comments); \
             write the converted trace to another file",
            a.input.display(),
            a.output.display()
        )));
    }
    let form = output_form(&a.output, a.to)?;
    let s = trace::convert(&a.input, &a.output, form).map_err(|e| match e {
        ConvertError::Input(e) => Failure::input(e),
        ConvertError::Output(m) => Failure::other(m),
    })?;
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    out(&format!(
        "wrote {} ({}, {}) from {} ({}): {} records, {} page writes\n",
        a.output.display(),
        if form == Form::Binary { "binary" } else { "text" },
        units::format_size(size(&a.output)),
        a.input.display(),
        units::format_size(size(&a.input)),
        s.records,
        s.entries
    ))
}

fn cmd_stats(a: &StatsArgs) -> Result<(), Failure> {
    let st = crate::trace::stats::compute(&a.file).map_err(Failure::input)?;
    let dir = match &a.csv_out {
        Some(d) => d.clone(),
        None => a.file.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    let stem = a.file.file_stem().map_or_else(|| "trace".into(), |s| s.to_string_lossy().into_owned());
    let rate_path = dir.join(format!("{stem}-rate.csv"));
    let wws_path = dir.join(format!("{stem}-wws.csv"));
    for (p, data) in [(&rate_path, trace_stats::rate_csv(&st)), (&wws_path, trace_stats::wws_csv(&st))] {
        crate::files::write_atomic(p, data.as_bytes()).map_err(|e| Failure::other(format!("{}: cannot write: {e}", p.display())))?;
    }
    let png = dir.join(format!("{stem}.png"));
    crate::output::plot::write(&png, &crate::output::trace_stats::charts(&st, &stem))
        .map_err(|e| Failure::other(format!("{}: cannot write: {e}", png.display())))?;
    out(&format!(
        "{}\nwrote {}, {} and {}\n",
        trace_stats::table(&st, &a.file.display().to_string(), a.rows),
        rate_path.display(),
        wws_path.display(),
        png.display()
    ))
}
