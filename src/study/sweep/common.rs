//! What the parts of a sweep share: the error type (input or other, for the exit status), what a
//! sweep or a merge did, the worker pool, and reading a `sweep.json` manifest.

use std::path::{Path, PathBuf};

/// A failure: `Input` for a mistake in what the user gave (exit status 2), `Other` for the rest.
#[derive(Debug)]
pub enum Error {
    Input(String),
    Other(String),
}

impl Error {
    pub fn other(e: impl std::fmt::Display) -> Self {
        Error::Other(e.to_string())
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Error::Other(format!("{e:#}"))
    }
}

/// What a sweep or a merge did, for its final line.
pub struct Outcome {
    pub runs: u64,
    pub resumed: u64,
    pub charts: usize,
    pub csv: PathBuf,
}

pub fn read_json(p: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

pub fn pool(jobs: usize) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new().num_threads(jobs).build().map_err(Error::other)
}
