//! Dirty-page traces: the file format in its text and binary forms (`format`), the recorder that
//! samples a live Linux process (`record`), and the statistics of a trace (`stats`). Replaying a
//! trace in a simulation is a workload kind (`model::workload::trace`).
//!
//! Nothing here knows about migrations.

pub mod format;
pub mod record;
pub mod stats;
