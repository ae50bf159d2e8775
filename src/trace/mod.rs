//! Dirty-page traces: the file format in its text and binary forms (`format`, read by `reader`,
//! written by `writer`), the recorder that
//! samples a live Linux process (`record`), and the statistics of a trace (`stats`). Replaying a
//! trace in a simulation is a workload kind (`model::workload::trace`).
//!
//! Nothing here knows about migrations.

pub mod format;
pub mod reader;
pub mod record;
pub mod stats;
pub mod writer;

pub use format::{Form, Header, Kind, PageSet, Place, Record, TraceError};
pub use reader::{Reader, Summary, scan};
pub use writer::{ConvertError, Writer, convert};
