//! From text to a resolved scenario: the TOML tree that remembers where each value came from
//! (`tree`), the scenario reader (`scenario`, with `workload`, `migration`, `mechanisms` and `trace`
//! for the tables they read) and its inverse (`write`, for `migsim check`). Every mistake becomes one
//! error naming the file, line, column and key, and what would be valid.
//!
//! It builds the model's types and never runs a simulation.

pub mod mechanisms;
pub mod migration;
pub mod scenario;
pub mod trace;
pub mod tree;
pub mod workload;
pub mod write;

pub use scenario::{LoadError, from_str, load};
