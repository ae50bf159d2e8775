//! What runs many simulations and compares them: parameter sweeps (`sweep`: plans, parallel runs,
//! CSV, summaries, charts, shards and their merge) and the validation against reference figures
//! (`validate`: closed forms, SimGrid, real QEMU).
//!
//! Studies read scenarios through `input`, run them through `model` and write through `output`;
//! they know nothing of the command line.

pub mod sweep;
pub mod validate;
