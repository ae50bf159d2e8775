//! `migsim validate`: run the reference cases and print the error table.

use super::common::{Failure, Format, out};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Folder of reference sets (subfolders with a set.toml).
    #[arg(default_value = "validation")]
    pub dir: PathBuf,
    /// `table` (default), `csv` (one row per case and metric) or `json` (those rows and each set's
    /// summary and verdict).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only these reference sets (comma-separated names, e.g. analytic,simgrid).
    #[arg(long, value_delimiter = ',')]
    pub sets: Vec<String>,
}

pub fn cmd_validate(a: &ValidateArgs) -> Result<(), Failure> {
    let o = crate::study::validate::run(&a.dir, &a.sets).map_err(Failure::input)?;
    match a.format {
        Format::Csv => out(&crate::study::validate::csv(&o).map_err(Failure::other)?)?,
        Format::Json => out(&crate::study::validate::json(&o).map_err(Failure::other)?)?,
        Format::Table => out(&crate::study::validate::table(&o))?,
    }
    let missed: Vec<&str> = o.sets.iter().filter(|s| !s.passed).map(|s| s.set.as_str()).collect();
    if missed.is_empty() { Ok(()) } else { Err(Failure::other(format!("reference sets missing their targets: {}", missed.join(", ")))) }
}
