//! Parameter sweeps: the runs of a scenario over the cartesian product of its `[sweep]` axes,
//! strategies and replications, run in parallel and streamed in order to `sweep.csv` (through
//! `sweep.csv.partial`, which `--resume` continues), then `summary.csv` and the charts; shards of
//! the point list (`--shard I/N`), their merge (`migsim merge`), the Slurm job array that runs
//! the shards on a cluster (`slurm`), and the HTML report of a sweep's folder (`report`).
//!
//! Run order, the order of the rows: point (the last axis varies fastest), then strategy, then
//! replication, then the migrations of the run. Every run is a pure function of the scenario, the
//! point and its seed, so the file does not depend on the number of threads.

pub mod analyse;
pub mod common;
pub mod merge;
pub mod plan;
pub mod report;
pub mod rows;
pub mod run;
pub mod slurm;
pub mod spec;
pub mod stats;

pub use analyse::plot;
pub use common::{Error, Outcome};
pub use merge::merge;
pub use plan::Plan;
pub use run::{Options, run};
