//! What runs many simulations and compares them: parameter sweeps (`sweep`: plans, parallel runs,
//! CSV, summaries, charts, shards and their merge), the validation against reference figures
//! (`validate`: closed forms, SimGrid, real QEMU), the CPU a run will take (`estimate`, for
//! `migsim check`) and the search for the settings that meet an
//! operator's objectives (`advise`).
//!
//! Studies read scenarios through `input`, run them through `model` and write through `output`;
//! they know nothing of the command line.

pub mod advise;
pub mod estimate;
pub mod sweep;
pub mod validate;
