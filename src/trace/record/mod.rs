//! The recorder behind `migsim trace record`: samples a live Linux process (optionally with its
//! descendants) every interval, hashes the content of each present page of its writable mappings,
//! and writes the pages whose content changed as one interval record of a trace.
//!
//! Page space: the trace's pages behave like a guest's physical frames. A process page gets the
//! lowest free frame when it is first seen present, keeps it while it stays mapped, and gives it back
//! when it is unmapped, dropped or its process exits. So the trace's memory is the peak number of
//! pages in use at once, and many short-lived processes (a build) reuse the same frames, as they
//! would in a VM. docs/traces.md documents the method and its limits.

use crate::trace::Form;
use std::ffi::OsString;
use std::path::PathBuf;

/// What to record.
#[derive(Debug, Clone)]
pub enum Target {
    Pid(i32),
    /// Start this program (and end it when the recording ends).
    Command(Vec<OsString>),
}

#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub interval_ns: u64,
    /// `None`: until the process exits or Ctrl-C.
    pub duration_ns: Option<u64>,
    pub output: PathBuf,
    pub form: Form,
    /// Include every descendant process (each with its own pages).
    pub children: bool,
    /// No progress line.
    pub quiet: bool,
}

/// Why a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Duration,
    Exited,
    Interrupted,
}

impl EndReason {
    pub fn text(self) -> &'static str {
        match self {
            EndReason::Duration => "the duration was reached",
            EndReason::Exited => "the process exited",
            EndReason::Interrupted => "interrupted (Ctrl-C or SIGTERM)",
        }
    }
}

/// What a finished recording reports.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub end: EndReason,
    pub program: String,
    pub intervals: u64,
    pub duration_ns: u64,
    pub page_size: u64,
    /// Frames ever used (the trace's memory, in pages).
    pub frames: u64,
    /// Distinct frames written in at least one interval, and the sum of the interval set sizes.
    pub distinct_dirty: u64,
    pub page_writes: u64,
    pub sample_mean_ns: u64,
    pub sample_max_ns: u64,
    pub bytes_hashed: u64,
    pub processes_seen: u64,
}

impl Outcome {
    /// Mean sample time as a share of the interval.
    pub fn sample_share(&self, interval_ns: u64) -> f64 {
        self.sample_mean_ns as f64 / interval_ns as f64
    }
}

/// A recording that could not start or go on: bad input (exit 2) or an I/O failure (exit 1).
#[derive(Debug)]
pub enum RecordError {
    Input(String),
    Other(String),
}

#[cfg(not(target_os = "linux"))]
pub fn record(_: &Options) -> Result<Outcome, RecordError> {
    Err(RecordError::Input(
        "migsim trace record reads /proc/PID/maps, /proc/PID/pagemap and process memory, which only Linux offers; record on \
         Linux and copy the trace here (replay and analysis work everywhere)"
            .into(),
    ))
}

#[cfg(target_os = "linux")]
pub use linux::record;

#[cfg(target_os = "linux")]
mod linux;
