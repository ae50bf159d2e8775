//! migsim: a page-level discrete-event simulator of virtual-machine live migration.
//!
//! The crate is layered; imports run one way, from the top down (docs/architecture.md):
//!
//! - `cli`: the `migsim` command line, a thin shell over everything below.
//! - `study`: what runs many simulations: parameter sweeps, the validation against references.
//! - `input` (TOML text -> a resolved `model::Scenario`) and `output` (results -> tables, CSV, JSON,
//!   charts) sit beside each other; neither knows the other.
//! - `model`: the simulation itself: memory, workloads, network, transfer, mechanisms, the
//!   strategies and stop policies, and the results they produce. It never reads files or arguments.
//! - `trace`: the dirty-page trace file format, the Linux recorder and trace statistics.
//! - `units`, `names`, `files`: the vocabulary every layer shares (quantities as people write them,
//!   names and suggestions, atomic files).

pub mod cli;
pub mod files;
pub mod input;
pub mod model;
pub mod names;
pub mod output;
pub mod study;
pub mod trace;
pub mod units;
