//! What `migsim merge` checks before it writes anything: that each shard's rows are exactly the
//! runs its `sweep.json` says it holds (every point, strategy and replication, in run order, with
//! the seed the sweep gives it, no row missing, repeated or changed), and, for CSVs without a
//! manifest, that no run's row appears twice. The manifest alone describes the plan (axes and their
//! values, strategies, replications, base seed, points), so the scenario file is not needed.

use super::common::Error;
use super::spec::{Fnv, run_seed};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Problems listed before the rest are counted.
const SHOWN: usize = 8;

/// A run's key as written in its rows: the axis columns, replication, seed and strategy.
type Key = Vec<String>;

/// The runs a shard's manifest promises, in run order (point, then strategy, then replication).
struct Expected {
    keys: Vec<Key>,
    /// The point of each run (an index into the sweep), for messages.
    points: Vec<u64>,
    /// The index of each key.
    index: HashMap<Key, usize>,
    /// The rows the shard wrote, where the manifest says (sweeps of this version do).
    rows: Option<u64>,
}

fn expected(m: &serde_json::Value, file: &Path) -> Result<Expected, Error> {
    let bad = |what: &str| Error::Input(format!("{}: its sweep.json is damaged ({what}); rerun the shard", file.display()));
    let axes: Vec<(String, Vec<String>)> = m["axes"]
        .as_array()
        .ok_or_else(|| bad("no axes"))?
        .iter()
        .map(|a| {
            let key = a["key"].as_str().unwrap_or_default().to_string();
            let values = a["values"].as_array().map(|v| v.iter().filter_map(|x| x.as_str().map(String::from)).collect());
            values.filter(|v: &Vec<String>| !v.is_empty()).map(|v| (key, v)).ok_or_else(|| bad("an axis without values"))
        })
        .collect::<Result<_, _>>()?;
    let strategies: Vec<String> =
        m["strategies"].as_array().ok_or_else(|| bad("no strategies"))?.iter().filter_map(|s| s.as_str().map(String::from)).collect();
    let reps = m["replications"].as_u64().ok_or_else(|| bad("no replications"))?;
    let seed = m["seed"].as_u64().ok_or_else(|| bad("no seed"))?;
    let (first, end) = (m["first_point"].as_u64().unwrap_or(0), m["end_point"].as_u64().unwrap_or(0));
    let runs = (end.saturating_sub(first)).saturating_mul(strategies.len() as u64).saturating_mul(reps);
    if runs > 1 << 26 {
        return Err(bad("more runs than a shard can hold"));
    }
    let (mut keys, mut points) = (Vec::with_capacity(runs as usize), Vec::with_capacity(runs as usize));
    for p in first..end {
        // The point's values (the last axis varies fastest) and its hash, as `SweepSpec` computes them.
        let mut rest = p;
        let mut cols = vec![String::new(); axes.len()];
        for (i, (_, values)) in axes.iter().enumerate().rev() {
            cols[i] = values[(rest % values.len() as u64) as usize].clone();
            rest /= values.len() as u64;
        }
        let mut h = Fnv::default();
        for ((key, _), col) in axes.iter().zip(&cols) {
            h.write(key.as_bytes());
            h.write(b"=");
            h.write(col.as_bytes());
            h.write(b"\n");
        }
        for s in &strategies {
            for k in 0..reps {
                let mut key = cols.clone();
                key.extend([k.to_string(), run_seed(seed, h.0, k).to_string(), s.clone()]);
                keys.push(key);
                points.push(p);
            }
        }
    }
    let index = keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
    Ok(Expected { keys, points, index, rows: m["rows"].as_u64() })
}

/// A run in words: `point 3 (network.bandwidth_bps=1e9), strategy precopy, replication 0`.
fn describe(e: &Expected, i: usize, axes: &[String]) -> String {
    let k = &e.keys[i];
    let n = axes.len();
    let vals: Vec<String> = axes.iter().zip(k).map(|(a, v)| format!("{a}={v}")).collect();
    format!("point {} ({}), strategy {}, replication {}", e.points[i], vals.join(", "), k[n + 2], k[n])
}

/// Reads a shard's rows as (line, key, vm).
fn rows(file: &Path, axes: usize) -> Result<Vec<(u64, Key, String)>, Error> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .map_err(|e| Error::Input(format!("{}: cannot read: {e}", file.display())))?;
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::Input(format!("{}: {e}", file.display())))?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() < axes + 4 {
            return Err(Error::Input(format!("{}:{line}: a cut or damaged row ({} fields)", file.display(), rec.len())));
        }
        let key: Key = rec.iter().take(axes + 3).map(String::from).collect();
        out.push((line, key, rec[axes + 3].to_string()));
    }
    Ok(out)
}

/// Check one shard against its manifest: the problems found, in words (empty if none).
pub fn check_shard(file: &Path, m: &serde_json::Value) -> Result<Vec<String>, Error> {
    let e = expected(m, file)?;
    let axes: Vec<String> =
        m["axes"].as_array().into_iter().flatten().map(|a| a["column"].as_str().unwrap_or_default().to_string()).collect();
    let rows = rows(file, axes.len())?;
    let f = file.display();
    let mut problems = Vec::new();
    // The rows of each run, as (line, vm); and the rows that come before an earlier run's row.
    let mut seen: Vec<Vec<(u64, String)>> = vec![Vec::new(); e.keys.len()];
    let mut back: Vec<(u64, usize, usize)> = Vec::new(); // (line, its run, the run of the row before)
    let mut prev: Option<usize> = None;
    for (line, key, vm) in &rows {
        let Some(&i) = e.index.get(key) else {
            // Not a run of this shard: name what differs from the run the rows had reached.
            let near = prev.map_or(0, |p| (p + 1).min(e.keys.len().saturating_sub(1)));
            let names: Vec<&str> = axes.iter().map(String::as_str).chain(["replication", "seed", "strategy"]).collect();
            let diff: Vec<String> = match e.keys.get(near) {
                Some(want) => names
                    .iter()
                    .zip(want)
                    .zip(key)
                    .filter(|((_, w), g)| w != g)
                    .map(|((n, w), g)| format!("{n} {g} (expected {w})"))
                    .collect(),
                None => vec!["this shard has no runs".into()],
            };
            problems.push(format!(
                "{f}:{line}: a row that is not a run of this sweep: {}; it was changed, or comes from another sweep",
                if diff.is_empty() { "its key columns differ".into() } else { diff.join(", ") }
            ));
            continue;
        };
        if let Some(p) = prev.filter(|&p| i < p) {
            back.push((*line, i, p));
        }
        seen[i].push((*line, vm.clone()));
        prev = Some(i);
    }
    let mut repeated = vec![false; e.keys.len()];
    for (i, rows) in seen.iter().enumerate() {
        for (k, (line, vm)) in rows.iter().enumerate() {
            if let Some((first, _)) = rows[..k].iter().find(|(_, v)| v == vm) {
                repeated[i] = true;
                problems.push(format!(
                    "{f}:{first} and {f}:{line} both hold the row of vm {vm} of {} (one is repeated, or was changed from another run)",
                    describe(&e, i, &axes)
                ));
            }
        }
    }
    for (line, i, p) in back {
        if !repeated[i] && !repeated[p] {
            problems.push(format!("{f}:{line}: the row of {} comes after rows of later runs (rows out of order)", describe(&e, i, &axes)));
        }
    }
    let mut i = 0;
    while i < e.keys.len() {
        if !seen[i].is_empty() {
            i += 1;
            continue;
        }
        let from = i;
        while i < e.keys.len() && seen[i].is_empty() {
            i += 1;
        }
        let first = describe(&e, from, &axes);
        problems.push(if i - from == 1 {
            format!("{f}: no row for {first} (a missing row)")
        } else {
            format!("{f}: no rows for {} runs from {first} (missing rows)", i - from)
        });
    }
    let vms: Vec<Vec<String>> = seen.iter().map(|r| r.iter().map(|(_, v)| v.clone()).collect()).collect();
    // Every run of a point has the same vms (the same scenario); a run with fewer lost a row.
    let mut first_of_point: Option<(u64, usize)> = None;
    for i in 0..e.keys.len() {
        if vms[i].is_empty() || repeated[i] {
            continue;
        }
        match first_of_point {
            Some((p, j)) if p == e.points[i] => {
                if vms[i] != vms[j] {
                    let (a, b) = (vms[i].join(" "), vms[j].join(" "));
                    problems.push(format!(
                        "{f}: {} has rows for vms [{a}] but {} of the same point has [{b}]: a row is missing or extra",
                        describe(&e, i, &axes),
                        describe(&e, j, &axes)
                    ));
                }
            }
            _ => first_of_point = Some((e.points[i], i)),
        }
    }
    if let Some(want) = e.rows.filter(|&n| n != rows.len() as u64) {
        problems.push(format!("{f}: {} rows, but its sweep wrote {want} (sweep.json `rows`)", rows.len()));
    }
    Ok(problems)
}

/// For CSVs without a manifest: the rows whose run and vm appeared before (in any input).
pub fn check_repeats(files: &[&Path], axes: usize) -> Result<Vec<String>, Error> {
    let mut seen: HashSet<(Key, String)> = HashSet::new();
    let mut problems = Vec::new();
    for file in files {
        for (line, key, vm) in rows(file, axes)? {
            let key_text = key.join(",");
            if !seen.insert((key, vm.clone())) {
                problems.push(format!("{}:{line}: the row of run {key_text}, vm {vm} appears twice", file.display()));
            }
        }
    }
    Ok(problems)
}

/// One error for all the problems: the first few in full, the rest counted.
pub fn report(problems: Vec<String>) -> Result<(), Error> {
    if problems.is_empty() {
        return Ok(());
    }
    let n = problems.len();
    let mut text = format!("the shards do not hold the sweep's runs exactly ({n} problem{}):", if n == 1 { "" } else { "s" });
    for p in problems.iter().take(SHOWN) {
        text += &format!("\n  {p}");
    }
    if n > SHOWN {
        text += &format!("\n  ... and {} more", n - SHOWN);
    }
    text += "\nnothing was written; rerun the shards concerned (migsim sweep FILE --shard I/N)";
    Err(Error::Input(text))
}
