//! migsim: a page-level discrete-event simulator of virtual-machine live migration.
//!
//! Modules, one per concept: `units` (human quantities), `config` (the TOML tree with positions),
//! `scenario` (resolved scenarios), `engine` (event queue), `memory` (pages and bitmaps), `workload`
//! (dirty-page generators), `network` (links, routes, fair sharing), `transfer` (batches and QEMU's
//! windows), `sim` (migrations as state machines), `mechanism` (QEMU and Xen mechanisms), `report`
//! (results and their files), `sweep` (parameter sweeps and their CSV, summary and charts), `plot`
//! (PNG and SVG charts), `timeline` (the run's timeline chart), `cli`.
//! Dirty-page traces: `trace` (the file format), `trace_replay` (the `trace` workload kind),
//! `record` (the Linux recorder), `trace_stats` (analysis), `trace_cmd` (`migsim trace ...`).

pub mod cli;
pub mod config;
pub mod engine;
pub mod mechanism;
pub mod memory;
pub mod network;
pub mod plot;
pub mod record;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod timeline;
pub mod trace;
pub mod trace_cmd;
pub mod trace_replay;
pub mod trace_stats;
pub mod transfer;
pub mod units;
pub mod validate;
pub mod workload;
