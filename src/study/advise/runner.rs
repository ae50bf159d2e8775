//! Running a candidate: its scenario is the file's text read again with the user's `--set`
//! overrides, advise's cap on `max_time` and the candidate's overrides (so the scenario reader
//! checks every candidate and its errors are the reader's), replication `k` gets the seed a sweep
//! would derive, and each (candidate, replication) is one `model::run`. It knows nothing of the
//! search or of what the figures are for.

use super::figures::Figures;
use crate::input::tree::{self as config, Value};
use crate::model::Scenario;
use crate::model::scenario::OnMaxTime;
use crate::model::strategy::Strategy;
use crate::study::sweep::Error;
use crate::study::sweep::spec::{Fnv, run_seed};
use crate::units;

/// How many times the time to copy memory once a run may take before advise calls it hopeless.
pub const CAP_COPIES: f64 = 20.0;
/// The cap is never below this.
pub const CAP_FLOOR_NS: u64 = 60_000_000_000;

/// The scenario under advice and how to run a candidate of it.
#[derive(Debug, Clone)]
pub struct Runner {
    pub file: String,
    stem: String,
    text: String,
    /// The user's `--set` overrides.
    pub sets: Vec<String>,
    /// The cap advise adds (`max_time`), if any.
    pub cap: Option<Cap>,
    /// The base seed (the scenario's, or `--seed`).
    pub seed: u64,
    /// The file has `[[migrations]]`: the knobs go on that entry.
    pub full_form: bool,
    pub page_size: u64,
}

/// advise's limit on a run's simulated time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cap {
    pub ns: u64,
    /// The scenario's own `max_time`.
    pub scenario_ns: u64,
    /// Given with `--max-time` (not derived).
    pub explicit: bool,
}

impl Runner {
    /// Read the scenario (with `--set`), check it, and work out the cap: `--max-time` if given;
    /// otherwise, when the scenario cancels at `max_time`, the shorter of its `max_time` and
    /// CAP_COPIES times the time to copy memory once at the slower of the link and the scenario's
    /// cap (at least a minute): a pre-copy still running then is not converging, and simulating
    /// it to the scenario's hour would take most of the search's time.
    pub fn load(path: &std::path::Path, sets: &[String], seed: Option<u64>, max_time: Option<u64>) -> Result<(Runner, Scenario), Error> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Input(format!("{file}: cannot read the scenario: {e}")))?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "scenario".into());
        let sc = crate::input::from_str(&file, &stem, &text, sets).map_err(|e| Error::Input(e.to_string()))?;
        let full_form = matches!(config::parse(&file, &text).map(|n| n.value), Ok(Value::Table(t)) if t.get("migrations").is_some());
        let mut r = Runner { file, stem, text, sets: sets.to_vec(), cap: None, seed: seed.unwrap_or(sc.seed), full_form, page_size: 4096 };
        if let Some(m) = sc.migrations.first() {
            let vm = &sc.vms[m.vm];
            r.page_size = vm.page_size;
            let p = &m.params;
            let slowest = p.max_bandwidth_bps.map_or(link_rate(&sc), |c| c.min(link_rate(&sc)));
            let copy_ns = vm.memory_bytes as f64 / slowest * 1e9;
            // In whole seconds, so that the override reads well ("138 s").
            let derived = ((copy_ns * CAP_COPIES / 1e9).ceil() as u64 * 1_000_000_000).max(CAP_FLOOR_NS);
            r.cap = match max_time {
                Some(ns) => Some(Cap { ns, scenario_ns: p.max_time_ns, explicit: true }),
                None if p.on_max_time == OnMaxTime::Cancel && derived < p.max_time_ns => {
                    Some(Cap { ns: derived, scenario_ns: p.max_time_ns, explicit: false })
                }
                None => None,
            };
        }
        Ok((r, sc))
    }

    fn prefix(&self) -> &'static str {
        if self.full_form { "migrations.0." } else { "migration." }
    }

    /// Every override a candidate's scenario is read with: the user's, the cap, the candidate's.
    pub fn all_sets(&self, candidate: &[String]) -> Vec<String> {
        let mut all = self.sets.clone();
        if let Some(c) = self.cap {
            all.push(format!("{}max_time=\"{}\"", self.prefix(), units::format_duration_exact(c.ns)));
        }
        all.extend(candidate.iter().cloned());
        all
    }

    /// The scenario of a candidate.
    pub fn scenario(&self, candidate: &[String]) -> Result<Scenario, Error> {
        crate::input::from_str(&self.file, &self.stem, &self.text, &self.all_sets(candidate)).map_err(|e| Error::Input(e.to_string()))
    }

    /// The seed of replication `k`: derived as a sweep derives a point's seeds, from the base seed
    /// and `k` only, so every candidate sees the same guest behaviour in replication `k` (common
    /// random numbers: differences between candidates are the knobs', not the draws').
    pub fn seed(&self, k: u64) -> u64 {
        let mut h = Fnv::default();
        h.write(b"advise");
        run_seed(self.seed, h.0, k)
    }

    /// Simulate replication `k` of a candidate.
    pub fn run(&self, candidate: &[String], strategy: Strategy, k: u64) -> Result<Figures, Error> {
        let mut sc = self.scenario(candidate)?;
        sc.seed = self.seed(k);
        let results = crate::model::run(&sc, strategy);
        let m = results.first().ok_or_else(|| Error::Other("the run produced no migration".into()))?;
        Ok(Figures::of(m, self.page_size))
    }

    /// Identifies what the runs depend on (the scenario text, the overrides, the cap, the seed and
    /// migsim's version); `--resume` reuses runs only under the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut h = Fnv::default();
        for part in [env!("CARGO_PKG_VERSION"), &self.text, &self.all_sets(&[]).join("\n"), &self.seed.to_string()] {
            h.write(part.as_bytes());
            h.write(&[0]);
        }
        format!("{:016x}", h.0)
    }
}

/// The migration's link rate: the slowest link on its route (bytes/s).
pub fn link_rate(sc: &Scenario) -> f64 {
    let Some(m) = sc.migrations.first() else { return f64::INFINITY };
    let from = sc.vms[m.vm].host;
    crate::model::network::route(&sc.links, sc.hosts.len(), from, m.to)
        .map(|r| r.iter().map(|&l| sc.links[l].bandwidth_bps).fold(f64::INFINITY, f64::min))
        .unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_cuts_hopeless_runs_only_when_the_scenario_cancels() {
        let dir = std::env::temp_dir().join(format!("migsim-advise-runner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.toml");
        // 1 GiB at 1 Gbit/s: 8.6 s to copy once; 20 copies = 172 s, under the 1 h default.
        std::fs::write(&p, "[vm]\nmemory = \"1 GiB\"\n[network]\nbandwidth = \"1 Gbit/s\"\n[workload]\nkind = \"idle\"\n").unwrap();
        let (r, _) = Runner::load(&p, &[], None, None).unwrap();
        let cap = r.cap.unwrap();
        assert_eq!(cap.ns, (20.0 * (1u64 << 30) as f64 / 125e6).ceil() as u64 * 1_000_000_000, "{cap:?}");
        assert_eq!(cap.scenario_ns, 3_600_000_000_000);
        assert!(r.all_sets(&[]).iter().any(|s| s.starts_with("migration.max_time=")));
        let stop = vec!["migration.on_max_time=\"stop\"".to_string()];
        assert!(Runner::load(&p, &stop, None, None).unwrap().0.cap.is_none(), "a forced stop keeps the scenario's max_time");
        let (r, _) = Runner::load(&p, &stop, None, Some(5_000_000_000)).unwrap();
        assert_eq!(r.cap.map(|c| (c.ns, c.explicit)), Some((5_000_000_000, true)));
        // Same base seed, same seeds; another base seed, other seeds.
        assert_eq!(r.seed(2), Runner::load(&p, &[], None, None).unwrap().0.seed(2));
        assert_ne!(r.seed(0), Runner::load(&p, &[], Some(7), None).unwrap().0.seed(0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
