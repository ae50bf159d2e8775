//! How long a scenario's run will take on this machine, for `migsim check`'s warning on long runs: the scenario
//! is run with `max_time` cut to a short slice of simulated time, doubled until the slice costs
//! enough CPU to time or covers the whole run, and the cost is scaled up to the real `max_time`.
//!
//! A run's cost follows the simulated time its migrations last (batches, syncs, the guest's writes
//! and faults), so a run cut at 1/k of its `max_time` costs about 1/k of a run that goes to the end:
//! the figure is an estimate of the worst case, where no migration finishes early.

use crate::model::{self, Scenario};
use std::time::{Duration, Instant};

/// The first slice of simulated time.
const FIRST_SLICE_NS: u64 = 1_000_000_000;
/// Stop doubling once a slice has cost this much CPU: enough to extrapolate from.
const ENOUGH: Duration = Duration::from_millis(200);

/// What the probe found.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Expected time of the whole run (every strategy it runs), seconds of wall-clock time here.
    pub cpu_s: f64,
    /// The simulated time the last probe ran to, and whether it covered the run (every migration
    /// ended before the slice did): then `cpu_s` is a measurement, not a projection.
    pub probed_ns: u64,
    pub complete: bool,
    /// What the last probe cost, seconds.
    pub probe_cpu_s: f64,
    /// The longest `max_time` of the scenario's migrations.
    pub max_time_ns: u64,
}

/// Probe `sc` (see the module comment).
pub fn estimate(sc: &Scenario) -> Estimate {
    let max_time_ns = sc.migrations.iter().map(|m| m.params.max_time_ns).max().unwrap_or(0);
    let mut slice = FIRST_SLICE_NS.min(max_time_ns.max(1));
    loop {
        let mut cut = sc.clone();
        for m in &mut cut.migrations {
            m.params.max_time_ns = m.params.max_time_ns.min(slice);
        }
        let t = Instant::now();
        let report = model::simulate(&cut);
        let cpu = t.elapsed();
        // A migration cut by the slice (not by its own max_time) would have gone on.
        let cut_short =
            sc.migrations.iter().cycle().zip(&report.migrations).any(|(m, r)| m.params.max_time_ns > slice && r.stop_reason == "max_time");
        if !cut_short || slice >= max_time_ns {
            return Estimate { cpu_s: cpu.as_secs_f64(), probed_ns: slice, complete: true, probe_cpu_s: cpu.as_secs_f64(), max_time_ns };
        }
        if cpu >= ENOUGH {
            let scale = max_time_ns as f64 / slice as f64;
            return Estimate {
                cpu_s: cpu.as_secs_f64() * scale,
                probed_ns: slice,
                complete: false,
                probe_cpu_s: cpu.as_secs_f64(),
                max_time_ns,
            };
        }
        slice = slice.saturating_mul(2).min(max_time_ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(write_rate: &str) -> Scenario {
        let text = format!(
            "name = \"e\"\n[vm]\nmemory = \"64 MiB\"\n[network]\nbandwidth = \"1 Gbit/s\"\n[workload]\nkind = \"uniform\"\nwrite_rate = \"{write_rate}\"\n[migration]\nstrategy = \"precopy\"\nmax_time = \"10 h\"\n"
        );
        crate::input::from_str("e.toml", "e", &text, &[]).expect("a valid scenario")
    }

    #[test]
    fn a_run_that_ends_early_is_measured_whole() {
        let e = estimate(&scenario("10 MiB/s"));
        assert!(e.complete, "{e:?}");
        assert_eq!(e.probed_ns, FIRST_SLICE_NS, "64 MiB over 1 Gbit/s ends within the first slice");
    }

    #[test]
    fn a_run_that_never_converges_is_projected_to_its_max_time() {
        // 600 MiB/s of writes over 1 Gbit/s never converge: the run goes to max_time, and the
        // projection scales the last slice up to it.
        let e = estimate(&scenario("600 MiB/s"));
        assert!(!e.complete, "{e:?}");
        assert_eq!(e.max_time_ns, 36_000_000_000_000);
        assert!(e.probed_ns < e.max_time_ns, "{e:?}");
        assert!(e.cpu_s >= ENOUGH.as_secs_f64() * 0.99, "{e:?}");
    }
}
