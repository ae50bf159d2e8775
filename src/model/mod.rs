//! The simulation: what a migration is made of and how it unfolds in simulated time.
//!
//! - The world: `scenario` (the resolved description a run starts from), `bitmap` and `memory`
//!   (guest pages), `workload` (which pages the guest writes and reads), `network` (links, routes and
//!   max-min fair sharing), `events` (the event queue and clock).
//! - The machinery every strategy shares: `transfer` (batches of pages, QEMU's accounting windows)
//!   and `mechanism` (auto-converge, XBZRLE, multifd, compression, Xen's rate limit).
//! - Plans: `plan` (when each migration may start: after others, or once a slot in a pool frees up),
//!   `probe` (the rates on chosen links, sampled while a run goes).
//! - The migration itself: `sim` (the run and its event loop), `vm` (a guest while it migrates),
//!   `migration` (one migration's state), `strategy` (pre-copy, post-copy, hybrid, cold, one file
//!   each) and `stop` (the stop policies, one file each).
//! - Post-copy's guest: `remote_access` (its accesses drawn only where they can fault) and
//!   `page_set` (the batch in flight).
//! - What comes out: `result`.
//!
//! Nothing here reads files or command-line arguments: `input` builds a `Scenario`, `output` reads
//! the results.

pub mod bitmap;
pub mod events;
pub mod mechanism;
pub mod memory;
pub mod migration;
pub mod network;
pub mod page_set;
pub mod plan;
pub mod probe;
pub mod remote_access;
pub mod result;
pub mod scenario;
pub mod sim;
pub mod stop;
pub mod strategy;
pub mod transfer;
pub mod vm;
pub mod workload;

pub use result::{MigrationResult, RoundRecord, RunReport};
pub use scenario::Scenario;
pub use sim::{run, simulate, simulate_watched};
pub use strategy::Strategy;
