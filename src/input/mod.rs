//! From text to a resolved scenario: the TOML tree that remembers where each value came from
//! (`tree`), the scenario reader (`scenario`, with `workload`, `migration`, `mechanisms` and `trace`
//! for the tables they read; `topology` expands a `[topology]`, `plan` a `[plan]`, `select` names
//! many hosts or VMs at once, `routes` fixes each migration's route) and its inverse (`write`, for
//! `migsim check`). Every mistake becomes one
//! error naming the file, line, column and key, and what would be valid.
//!
//! It builds the model's types and never runs a simulation.

pub mod mechanisms;
pub mod migration;
pub mod plan;
pub mod routes;
pub mod scenario;
pub mod select;
pub mod topology;
pub mod trace;
pub mod tree;
pub mod workload;
pub mod write;

pub use scenario::{LoadError, from_str, load};
