//! Parsing and formatting of human-written quantities: sizes, byte/bit rates, page rates and
//! durations (`"8 GiB"`, `"10 Gbit/s"`, `"20000 pages/s"`, `"300 ms"`). Parsing is in `parse`,
//! formatting in `format`.
//!
//! This module owns the unit vocabulary; the rest of the crate only sees internal units:
//! sizes in bytes (`u64`), rates in bytes per second (`f64`), durations in whole nanoseconds
//! (`u64`) and page rates in pages per second (`f64`).
//!
//! Numbers are parsed as exact decimals (digits and a power of ten) rather than through `f64`,
//! so `"0.1 KB"` is exactly 100 bytes and `"0.1 Gbit/s"` is the `f64` nearest to 12.5e6.

mod format;
mod parse;

pub use format::*;
pub use parse::*;
