//! Regression cases: inputs the fuzzer (or issue 18) found that broke a promise, each run through
//! the same checks as the fuzzer's inputs (`check::run_one`).

use crate::check::{self, Tally};
use crate::inputs::{Corpus, Input};
