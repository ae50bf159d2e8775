//! What a sweep runs: the plan (scenario, axes, strategies, seed, this shard's points), each run's
//! place in it and its rows, the CSV header and the manifest, and where an interrupted sweep
//! resumes.

use super::common::Error;
use super::spec::{Base, Fnv};
use crate::model::result::MigrationResult;
use crate::model::{Scenario, Strategy};
use serde_json::json;
use std::io::BufRead;
use std::path::Path;

/// What to run: the scenario and its axes, the strategies, the base seed and this shard's points.
#[derive(Clone)]
pub struct Plan {
    pub base: Base,
    pub name: String,
    pub seed: u64,
    /// `--strategy`: these strategies replace the scenario's (see `Scenario::use_strategies`).
    strategy: Option<Vec<Strategy>>,
    pub strategies: Vec<&'static str>,
    pub total_points: u64,
    pub points: std::ops::Range<u64>,
    pub shard: Option<(u64, u64)>,
    /// A scenario of several migrations is a plan: each run adds a row for the plan as a whole
    /// (vm `PLAN_ROW`, the `output::plan::SWEEP_COLUMNS`).
    pub plan_rows: bool,
}

/// The `vm` of the row that holds a run's plan figures (makespan, downtime sum, ...).
pub const PLAN_ROW: &str = "(plan)";

/// One run's rows as CSV text, and the names of the result fields (the metric columns).
pub struct RunRows {
    pub names: Vec<String>,
    pub csv: Vec<u8>,
}

/// The scalar fields of a result in declaration order, as CSV cells. Arrays and nested objects
/// (the timeline) are left out; a field added to `MigrationResult` appears without any change here.
pub fn result_fields(m: &MigrationResult) -> Result<Vec<(String, String)>, Error> {
    use serde::de::{Deserializer, MapAccess, Visitor};
    struct Fields(Vec<(String, String)>);
    impl<'de> serde::Deserialize<'de> for Fields {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Fields;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                        let cell = match v {
                            serde_json::Value::Null => String::new(),
                            serde_json::Value::Bool(b) => b.to_string(),
                            serde_json::Value::String(s) => s,
                            // Integers stay integers; floats print as Rust does (shortest, no exponent).
                            serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                                (Some(u), _) => u.to_string(),
                                (_, Some(i)) => i.to_string(),
                                _ => n.as_f64().map_or(String::new(), |x| x.to_string()),
                            },
                            serde_json::Value::Array(_) | serde_json::Value::Object(_) => continue,
                        };
                        out.push((k, cell));
                    }
                    Ok(Fields(out))
                }
            }
            d.deserialize_map(V)
        }
    }
    // Through JSON text, whose keys keep the declaration order (a serde_json map would sort them).
    let text = serde_json::to_string(m).map_err(Error::other)?;
    serde_json::from_str::<Fields>(&text).map(|f| f.0).map_err(Error::other)
}

fn fnv(parts: &[&str]) -> String {
    let mut h = Fnv::default();
    for p in parts {
        h.write(p.as_bytes());
        h.write(&[0]);
    }
    format!("{:016x}", h.0)
}

impl Plan {
    /// The plan of a sweep: resolves the scenario without sweep values (its errors come first),
    /// applies `--seed` and `--strategy`, and slices the points for `--shard I/N` (1-based).
    pub fn new(base: Base, seed: Option<u64>, strategy: Option<Vec<Strategy>>, shard: Option<(u64, u64)>) -> Result<Plan, Error> {
        let mut sc = base.scenario().map_err(|e| Error::Input(e.to_string()))?;
        if let Some(list) = &strategy {
            sc.use_strategies(list.clone());
        }
        let total_points = base.spec.points().ok_or_else(|| Error::Input(format!("{}: the sweep has more than 2^64 points", base.file)))?;
        let per_point = (sc.strategies.len() as u64).checked_mul(base.spec.replications);
        if per_point.and_then(|n| n.checked_mul(total_points)).is_none() {
            return Err(Error::Input(format!("{}: the sweep has more than 2^64 runs", base.file)));
        }
        let points = match shard {
            Some((i, n)) => {
                if n == 0 || i == 0 || i > n {
                    return Err(Error::Input(format!("--shard {i}/{n}: shards are numbered 1 to N, e.g. --shard 1/4 to --shard 4/4")));
                }
                let cut = |k: u64| (total_points as u128 * k as u128 / n as u128) as u64;
                cut(i - 1)..cut(i)
            }
            None => 0..total_points,
        };
        Ok(Plan {
            plan_rows: sc.migrations.len() > 1 || sc.plan.label.is_some(),
            name: sc.name.clone(),
            seed: seed.unwrap_or(sc.seed),
            strategy,
            strategies: sc.strategies.iter().map(|s| s.name()).collect(),
            base,
            total_points,
            points,
            shard,
        })
    }

    pub fn per_point(&self) -> u64 {
        self.strategies.len() as u64 * self.base.spec.replications
    }

    /// The runs of this shard.
    pub fn runs(&self) -> u64 {
        (self.points.end - self.points.start) * self.per_point()
    }

    /// Run `j` of this shard as (point, strategy index, replication).
    pub fn locate(&self, j: u64) -> (u64, usize, u64) {
        let r = self.base.spec.replications;
        let g = self.points.start * self.per_point() + j;
        (g / self.per_point(), ((g % self.per_point()) / r) as usize, g % r)
    }

    /// The scenario of point `p`, with `--strategy` applied.
    pub fn scenario(&self, p: u64) -> Result<Scenario, Error> {
        let mut sc = self.base.point(p).map_err(|e| Error::Input(e.to_string()))?;
        if let Some(list) = &self.strategy {
            sc.use_strategies(list.clone());
        }
        if sc.strategies.len() != self.strategies.len() {
            return Err(Error::Input(format!(
                "{}: the sweep point {} changes the list of strategies",
                self.base.file,
                self.base.spec.describe(p)
            )));
        }
        Ok(sc)
    }

    /// The columns before the metrics.
    /// The same plan over the first point only (to learn the columns of an empty shard).
    pub fn first_point(&self) -> Plan {
        Plan { points: 0..1, ..self.clone() }
    }

    pub fn key_columns(&self) -> Vec<String> {
        let mut h: Vec<String> = self.base.spec.axes.iter().map(|a| a.column.clone()).collect();
        h.extend(["replication", "seed", "strategy", "vm"].map(String::from));
        h
    }

    /// Simulate run `j`; `cache` keeps the last point's scenario (a worker's runs are mostly of one
    /// point, and resolving it costs a parse).
    pub fn run(&self, j: u64, cache: &mut Option<(u64, Scenario)>) -> Result<RunRows, Error> {
        let (p, s, k) = self.locate(j);
        if cache.as_ref().is_none_or(|(q, _)| *q != p) {
            *cache = Some((p, self.scenario(p)?));
        }
        let sc = &mut cache.as_mut().expect("just filled").1;
        sc.seed = self.base.spec.seed(self.seed, p, k);
        let mut results = crate::model::sim::run(sc, sc.strategies[s]);
        let axis: Vec<String> = self.base.spec.values(p).iter().map(|v| v.column.clone()).collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut names = Vec::new();
        let plan_cols = if self.plan_rows { crate::output::plan::SWEEP_COLUMNS.len() } else { 0 };
        let key = |vm: &str, strategy: &str| {
            let mut row = axis.clone();
            row.extend([k.to_string(), sc.seed.to_string(), strategy.to_string(), vm.to_string()]);
            row
        };
        for m in &mut results {
            // The per-round arrays are not columns: out of the way while the fields are read (a
            // long timeline cost more to write as JSON and read back than the run itself).
            let (timeline, schedule) = (std::mem::take(&mut m.timeline), std::mem::take(&mut m.throttle_schedule));
            let fields = result_fields(m);
            (m.timeline, m.throttle_schedule) = (timeline, schedule);
            let fields = fields?;
            let mut row = key(&m.vm, &m.strategy);
            names.clear();
            for (n, v) in fields {
                if n != "vm" && n != "strategy" {
                    names.push(n);
                    row.push(v);
                }
            }
            row.extend(std::iter::repeat_n(String::new(), plan_cols));
            w.write_record(&row).map_err(Error::other)?;
        }
        if self.plan_rows {
            // The plan as a whole: its own figures, the migrations' columns empty.
            let run = sc.strategies[s].name();
            let summary = crate::output::plan::summary(sc, run, &results);
            let mut row = key(PLAN_ROW, run);
            row.extend(std::iter::repeat_n(String::new(), names.len()));
            row.extend(crate::output::plan::sweep_values(&summary));
            w.write_record(&row).map_err(Error::other)?;
            names.extend(crate::output::plan::SWEEP_COLUMNS.iter().map(|c| c.to_string()));
        }
        Ok(RunRows { names, csv: w.into_inner().map_err(Error::other)? })
    }

    /// The full header, from a run's metric names.
    pub fn header(&self, names: &[String]) -> Result<Vec<u8>, Error> {
        let mut h = self.key_columns();
        h.extend(names.iter().cloned());
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&h).map_err(Error::other)?;
        w.into_inner().map_err(Error::other)
    }

    /// Identifies the sweep (scenario text, overrides, axes, seeds, strategies, version); the
    /// fingerprint adds the shard. A partial file is resumed only under the same fingerprint.
    pub fn ids(&self) -> (String, String) {
        let axes = format!(
            "{:?}",
            self.base.spec.axes.iter().map(|a| (&a.key, a.log, a.values.iter().map(|v| &v.toml).collect::<Vec<_>>())).collect::<Vec<_>>()
        );
        let seed = self.seed.to_string();
        let reps = self.base.spec.replications.to_string();
        let strategies = self.strategies.join(",");
        let sets = self.base.sets.join("\n");
        let id_parts = [env!("CARGO_PKG_VERSION"), &self.base.text, &sets, &axes, &seed, &reps, &strategies];
        let id = fnv(&id_parts);
        let slice = format!("{:?}", self.points);
        (id.clone(), fnv(&[&id, &slice]))
    }

    pub fn manifest(&self, runs: u64, charts: &[String]) -> serde_json::Value {
        let (id, fingerprint) = self.ids();
        json!({
            "scenario": self.name,
            "file": self.base.file,
            "seed": self.seed,
            "migsim_version": env!("CARGO_PKG_VERSION"),
            "sweep_id": id,
            "fingerprint": fingerprint,
            "axes": self.base.spec.axes.iter().map(|a| json!({
                "key": a.key,
                "column": a.column,
                "scale": if a.log { "log" } else { "linear" },
                "values": a.values.iter().map(|v| v.column.clone()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "replications": self.base.spec.replications,
            "strategies": self.strategies,
            "points": self.total_points,
            "shard": self.shard.map(|(i, n)| json!({ "index": i, "count": n })),
            "first_point": self.points.start,
            "end_point": self.points.end,
            "runs": runs,
            "charts": charts,
        })
    }

    /// How much of a partial CSV is good: its header (None if even that is cut), the runs whose
    /// rows are all there and are the expected ones, and the bytes they take. Stops at the first
    /// cut line, malformed row or unexpected row.
    pub fn resume_state(&self, partial: &Path) -> Result<(Option<Vec<u8>>, u64, u64), Error> {
        let f = std::fs::File::open(partial).map_err(|e| Error::Other(format!("{}: cannot read: {e}", partial.display())))?;
        let mut r = std::io::BufReader::new(f);
        let mut line = Vec::new();
        let read_line = |r: &mut std::io::BufReader<std::fs::File>, line: &mut Vec<u8>| -> Result<bool, Error> {
            line.clear();
            let n = r.read_until(b'\n', line).map_err(Error::other)?;
            Ok(n > 0 && line.ends_with(b"\n"))
        };
        let parse = |line: &[u8]| -> Option<Vec<String>> {
            let mut rd = csv::ReaderBuilder::new().has_headers(false).from_reader(line);
            let rec = rd.records().next()?.ok()?;
            Some(rec.iter().map(String::from).collect())
        };
        if !read_line(&mut r, &mut line)? {
            return Ok((None, 0, 0));
        }
        let header = line.clone();
        let Some(cols) = parse(&header) else { return Ok((None, 0, 0)) };
        let keys = self.key_columns();
        if !cols.starts_with(&keys) {
            return Ok((None, 0, 0));
        }
        let axes = self.base.spec.axes.len();
        let (mut done, mut good, mut offset, mut rows) = (0u64, header.len() as u64, header.len() as u64, 0usize);
        let mut migrations: Option<(u64, usize)> = None;
        while done < self.runs() && read_line(&mut r, &mut line)? {
            let Some(rec) = parse(&line) else { break };
            let (p, _, k) = self.locate(done);
            let seed = self.base.spec.seed(self.seed, p, k).to_string();
            let expected = self.base.spec.values(p);
            let same = rec.len() == cols.len()
                && expected.iter().zip(&rec).all(|(v, c)| &v.column == c)
                && rec[axes] == k.to_string()
                && rec[axes + 1] == seed;
            if !same {
                break;
            }
            let n = match migrations {
                Some((q, n)) if q == p => n,
                _ => {
                    let n = self.scenario(p)?.migrations.len() + self.plan_rows as usize;
                    migrations = Some((p, n));
                    n
                }
            };
            rows += 1;
            offset += line.len() as u64;
            if rows == n {
                done += 1;
                good = offset;
                rows = 0;
            }
        }
        Ok((Some(header), done, good))
    }
}
