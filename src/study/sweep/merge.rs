//! `migsim merge`: the shards of a sweep (`--shard I/N`) joined back into one `sweep.csv`, with its
//! summary and charts rebuilt. Every row is checked first (`rows`): nothing is written unless the
//! shards hold the sweep's runs exactly.

use super::analyse::analyse;
use super::common::{Error, Outcome, pool, read_json};
use super::stats::{Layout, Staged};
use serde_json::json;
use std::io::{BufRead, Seek, Write};
use std::path::{Path, PathBuf};

/// `migsim merge OUT a.csv b.csv ...`: join the CSVs of shards into `OUT/sweep.csv` and rebuild the
/// summary and charts. With each input's sweep.json beside it, the shards are put in point order
/// and must come from one sweep and cover it without gap or overlap, and each shard's rows must be
/// exactly its runs; without, they are joined in the order given, and no run's row may repeat.
pub fn merge(out: &Path, inputs: &[PathBuf], jobs: usize, charts: bool) -> Result<Outcome, Error> {
    if inputs.is_empty() {
        return Err(Error::Input("merge needs at least one CSV to join: migsim merge OUT a.csv b.csv ...".into()));
    }
    let first_line = |p: &Path| -> Result<Vec<u8>, Error> {
        let f = std::fs::File::open(p).map_err(|e| Error::Input(format!("{}: cannot read: {e}", p.display())))?;
        let mut line = Vec::new();
        std::io::BufReader::new(f).read_until(b'\n', &mut line).map_err(Error::other)?;
        Ok(line)
    };
    let mut items: Vec<(PathBuf, Vec<u8>, Option<serde_json::Value>)> = Vec::new();
    let mut axes = 0;
    for p in inputs {
        let header = first_line(p)?;
        axes = Layout::read(p).map_err(|e| Error::Input(format!("{e:#}")))?.axes;
        if let Some((q, h, _)) = items.first()
            && *h != header
        {
            return Err(Error::Input(format!(
                "{}: its columns differ from those of {}; only shards of one sweep can be merged",
                p.display(),
                q.display()
            )));
        }
        items.push((p.clone(), header, read_json(&p.with_file_name("sweep.json"))));
    }
    let mut merged_manifest = None;
    if let (Some((with, _, _)), Some((without, _, _))) =
        (items.iter().find(|(_, _, m)| m.is_some()), items.iter().find(|(_, _, m)| m.is_none()))
    {
        return Err(Error::Input(format!(
            "{} has its sweep.json beside it but {} has none, so which runs it holds is unknown; merge the folders of \
             `migsim sweep --shard` as they were written",
            with.display(),
            without.display()
        )));
    }
    if items.iter().all(|(_, _, m)| m.is_some()) {
        let first = items[0].2.clone().expect("all have one");
        let id = first["sweep_id"].clone();
        if let Some((p, _, _)) = items.iter().find(|(_, _, m)| m.as_ref().is_some_and(|m| m["sweep_id"] != id)) {
            return Err(Error::Input(format!("{}: it comes from another sweep than {}", p.display(), items[0].0.display())));
        }
        items.sort_by_key(|(_, _, m)| m.as_ref().and_then(|m| m["first_point"].as_u64()).unwrap_or(0));
        let total = first["points"].as_u64().unwrap_or(0);
        let mut next = 0;
        for (p, _, m) in &items {
            let m = m.as_ref().expect("all have one");
            let (a, b) = (m["first_point"].as_u64().unwrap_or(0), m["end_point"].as_u64().unwrap_or(0));
            if a != next {
                let what = if a > next {
                    format!("points {next} to {} are in none of them (a shard is missing)", a - 1)
                } else {
                    format!("{} repeats points {a} to {}", p.display(), next.min(b) - 1)
                };
                return Err(Error::Input(format!("the shards do not add up to the sweep: {what}")));
            }
            next = b;
        }
        if next != total {
            return Err(Error::Input(format!(
                "the shards do not add up to the sweep: points {next} to {} are in none of them (a shard is missing)",
                total - 1
            )));
        }
        let mut m = first;
        m["shard"] = serde_json::Value::Null;
        m["first_point"] = json!(0);
        m["end_point"] = json!(total);
        m["runs"] = json!(items.iter().map(|(_, _, m)| m.as_ref().and_then(|m| m["runs"].as_u64()).unwrap_or(0)).sum::<u64>());
        let rows: Option<Vec<u64>> = items.iter().map(|(_, _, m)| m.as_ref().and_then(|m| m["rows"].as_u64())).collect();
        m["rows"] = rows.map_or(serde_json::Value::Null, |r| json!(r.iter().sum::<u64>()));
        merged_manifest = Some(m);
        let mut problems = Vec::new();
        for (p, _, m) in &items {
            problems.extend(super::rows::check_shard(p, m.as_ref().expect("all have one"))?);
        }
        super::rows::report(problems)?;
    } else {
        let files: Vec<&Path> = items.iter().map(|(p, _, _)| p.as_path()).collect();
        super::rows::report(super::rows::check_repeats(&files, axes)?)?;
    }

    crate::files::create_dir_all(out).map_err(|e| Error::Other(format!("{}: cannot create: {e}", out.display())))?;
    let csv_path = out.join("sweep.csv");
    let mut staged = Staged::create(&csv_path)?;
    staged.w.write_all(&items[0].1).map_err(Error::other)?;
    let mut rows = 0u64;
    for (p, header, _) in &items {
        let f = std::fs::File::open(p).map_err(|e| Error::Input(format!("{}: cannot read: {e}", p.display())))?;
        let mut r = std::io::BufReader::new(f);
        r.seek(std::io::SeekFrom::Start(header.len() as u64)).map_err(Error::other)?;
        let mut line = Vec::new();
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line).map_err(Error::other)? == 0 {
                break;
            }
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            staged.w.write_all(&line).map_err(Error::other)?;
            rows += 1;
        }
    }
    staged.finish()?;

    let log: Vec<String> = merged_manifest
        .as_ref()
        .and_then(|m| m["axes"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter(|a| a["scale"] == "log")
        .filter_map(|a| a["column"].as_str().map(String::from))
        .collect();
    let name = merged_manifest.as_ref().and_then(|m| m["scenario"].as_str().map(String::from)).unwrap_or_else(|| "sweep".into());
    let names = analyse(out, &name, &log, charts, &pool(jobs)?)?;
    let runs = merged_manifest.as_ref().and_then(|m| m["runs"].as_u64()).unwrap_or(rows);
    let mut m = merged_manifest.unwrap_or_else(|| json!({ "scenario": name, "runs": runs }));
    m["charts"] = json!(names);
    let manifest_path = out.join("sweep.json");
    crate::files::write_atomic(&manifest_path, serde_json::to_string_pretty(&m).map_err(Error::other)?.as_bytes())
        .map_err(|e| Error::Other(format!("{}: {e}", manifest_path.display())))?;
    Ok(Outcome { runs, resumed: 0, charts: names.len(), csv: csv_path })
}
