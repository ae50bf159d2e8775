//! What one run of a candidate yields (`Figures`: the metrics advise judges, and the few
//! quantities its verdicts explain themselves with), read from the model's `MigrationResult`;
//! their CSV columns (so `--resume` reads them back); and what a candidate's runs add up to
//! (`Summary`: mean, 95 % interval and worst value of each metric, Student's t over replications).

use super::objective::{Metric, Objective};
use crate::model::MigrationResult;
use crate::study::sweep::stats::Acc;

/// The figures of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// False when the migration was cancelled at `max_time` (the VM stayed at the source).
    pub completed: bool,
    pub converged: bool,
    pub stop_reason: String,
    pub total_time_s: f64,
    /// NaN when the migration was cancelled (the VM never stopped).
    pub downtime_s: f64,
    pub bytes_sent: f64,
    /// The share of the guest's running time lost during the migration, downtime aside: the
    /// model's `app_slowdown` over the live pre-copy, plus post-copy's fault stalls.
    pub app_slowdown: f64,
    pub postcopy_window_s: f64,
    pub fault_stall_s: f64,
    pub remote_faults: f64,
    pub throttle_max_pct: f64,
    pub rounds: f64,
    pub precopy_bytes: f64,
    pub stop_copy_bytes: f64,
    pub postcopy_bytes: f64,
    /// Bytes left dirty by the last pre-copy round, and the stop threshold it was held to.
    pub dirty_end_bytes: f64,
    /// NaN when the policy has none or there was no pre-copy round.
    pub threshold_bytes: f64,
    /// Pre-copy's average rate on the wire, bytes/s (NaN without pre-copy).
    pub send_rate: f64,
    /// Time the VM ran at the source during the migration (until the pause or the switch).
    pub live_s: f64,
    pub xbzrle_bytes_saved: f64,
    pub compression_bytes_saved: f64,
}

/// The CSV columns of `Figures`, in order.
pub const COLUMNS: [&str; 21] = [
    "completed",
    "converged",
    "stop_reason",
    "total_time_s",
    "downtime_s",
    "bytes_sent",
    "app_slowdown",
    "postcopy_window_s",
    "fault_stall_s",
    "remote_faults",
    "throttle_max_pct",
    "rounds",
    "precopy_bytes",
    "stop_copy_bytes",
    "postcopy_bytes",
    "dirty_end_bytes",
    "threshold_bytes",
    "send_rate_bps",
    "live_s",
    "xbzrle_bytes_saved",
    "compression_bytes_saved",
];

impl Figures {
    /// The figures of a migration whose guest has pages of `page_size` bytes.
    pub fn of(m: &MigrationResult, page_size: u64) -> Figures {
        let downtime = m.downtime_s.unwrap_or(f64::NAN);
        let live = m.postcopy_start_s.unwrap_or(if m.completed { m.total_time_s - downtime } else { m.total_time_s }).max(0.0);
        let running = if m.completed { m.total_time_s - downtime } else { m.total_time_s };
        let lost = m.app_slowdown * live + m.fault_stall_s;
        let pre: Vec<_> = m.timeline.iter().filter(|r| r.phase == "precopy" || r.phase == "precopy (cancelled)").collect();
        let last = pre.last();
        let (bytes, secs) = pre.iter().fold((0.0, 0.0), |(b, t), r| (b + r.bytes_sent as f64, t + (r.end_s - r.start_s)));
        Figures {
            completed: m.completed,
            converged: m.converged,
            stop_reason: m.stop_reason.clone(),
            total_time_s: m.total_time_s,
            downtime_s: downtime,
            bytes_sent: m.bytes_sent as f64,
            app_slowdown: if running > 0.0 { (lost / running).clamp(0.0, 1.0) } else { 0.0 },
            postcopy_window_s: m.postcopy_window_s,
            fault_stall_s: m.fault_stall_s,
            remote_faults: m.remote_faults as f64,
            throttle_max_pct: m.throttle_max_pct,
            rounds: m.rounds as f64,
            precopy_bytes: m.precopy_bytes as f64,
            stop_copy_bytes: m.stop_copy_bytes as f64,
            postcopy_bytes: m.postcopy_bytes as f64,
            dirty_end_bytes: last.map_or(0.0, |r| (r.dirty_pages_at_end * page_size) as f64),
            threshold_bytes: last.and_then(|r| r.stop_threshold_bytes).unwrap_or(f64::NAN),
            send_rate: if secs > 0.0 { bytes / secs } else { f64::NAN },
            live_s: live,
            xbzrle_bytes_saved: m.xbzrle_bytes_saved as f64,
            compression_bytes_saved: m.compression_bytes_saved as f64,
        }
    }

    /// A metric's value; NaN for the downtime of a cancelled run.
    pub fn value(&self, m: Metric) -> f64 {
        match m {
            Metric::Downtime => self.downtime_s,
            Metric::TotalTime => self.total_time_s,
            Metric::Bytes => self.bytes_sent,
            Metric::AppSlowdown => self.app_slowdown,
            Metric::PostcopyWindow => self.postcopy_window_s,
            Metric::FaultStall => self.fault_stall_s,
            Metric::Throttle => self.throttle_max_pct,
        }
    }

    /// The CSV cells, in the order of `COLUMNS`.
    pub fn cells(&self) -> Vec<String> {
        let f = |x: f64| if x.is_finite() { x.to_string() } else { String::new() };
        vec![
            self.completed.to_string(),
            self.converged.to_string(),
            self.stop_reason.clone(),
            f(self.total_time_s),
            f(self.downtime_s),
            f(self.bytes_sent),
            f(self.app_slowdown),
            f(self.postcopy_window_s),
            f(self.fault_stall_s),
            f(self.remote_faults),
            f(self.throttle_max_pct),
            f(self.rounds),
            f(self.precopy_bytes),
            f(self.stop_copy_bytes),
            f(self.postcopy_bytes),
            f(self.dirty_end_bytes),
            f(self.threshold_bytes),
            f(self.send_rate * 8.0),
            f(self.live_s),
            f(self.xbzrle_bytes_saved),
            f(self.compression_bytes_saved),
        ]
    }

    /// Read back what `cells` wrote (None if a cell is malformed).
    pub fn from_cells(c: &[String]) -> Option<Figures> {
        if c.len() != COLUMNS.len() {
            return None;
        }
        let b = |s: &str| s.parse::<bool>().ok();
        let f = |s: &str| if s.is_empty() { Some(f64::NAN) } else { s.parse::<f64>().ok() };
        Some(Figures {
            completed: b(&c[0])?,
            converged: b(&c[1])?,
            stop_reason: c[2].clone(),
            total_time_s: f(&c[3])?,
            downtime_s: f(&c[4])?,
            bytes_sent: f(&c[5])?,
            app_slowdown: f(&c[6])?,
            postcopy_window_s: f(&c[7])?,
            fault_stall_s: f(&c[8])?,
            remote_faults: f(&c[9])?,
            throttle_max_pct: f(&c[10])?,
            rounds: f(&c[11])?,
            precopy_bytes: f(&c[12])?,
            stop_copy_bytes: f(&c[13])?,
            postcopy_bytes: f(&c[14])?,
            dirty_end_bytes: f(&c[15])?,
            threshold_bytes: f(&c[16])?,
            send_rate: f(&c[17])? / 8.0,
            live_s: f(&c[18])?,
            xbzrle_bytes_saved: f(&c[19])?,
            compression_bytes_saved: f(&c[20])?,
        })
    }
}

/// What a candidate's runs add up to.
#[derive(Debug, Clone)]
pub struct Summary {
    pub runs: usize,
    /// Every run completed (none was cancelled at `max_time`).
    pub completed: bool,
    /// Every run converged (or switched to post-copy, or was cold).
    pub converged: bool,
    /// The first run's stop reason.
    pub stop_reason: String,
    /// Per metric of `Metric::ALL`: the mean and interval over the runs that have a value.
    pub acc: Vec<Acc>,
    /// Per metric: the largest value over the runs (NaN if any run has none).
    pub worst: Vec<f64>,
    /// Means of the explaining quantities.
    pub mean: Figures,
}

fn avg(runs: &[Figures], f: impl Fn(&Figures) -> f64) -> f64 {
    let v: Vec<f64> = runs.iter().map(f).filter(|x| x.is_finite()).collect();
    if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }
}

impl Summary {
    pub fn of(runs: &[Figures]) -> Summary {
        let acc = Metric::ALL
            .iter()
            .map(|m| {
                let mut a = Acc::default();
                runs.iter().map(|r| r.value(*m)).filter(|x| x.is_finite()).for_each(|x| a.push(x));
                a
            })
            .collect();
        let worst = Metric::ALL
            .iter()
            .map(|m| {
                runs.iter().map(|r| r.value(*m)).fold(f64::NEG_INFINITY, |w, x| if x.is_nan() || w.is_nan() { f64::NAN } else { w.max(x) })
            })
            .collect();
        let mean = Figures {
            completed: runs.iter().all(|r| r.completed),
            converged: runs.iter().all(|r| r.converged),
            stop_reason: runs.first().map_or(String::new(), |r| r.stop_reason.clone()),
            total_time_s: avg(runs, |r| r.total_time_s),
            downtime_s: avg(runs, |r| r.downtime_s),
            bytes_sent: avg(runs, |r| r.bytes_sent),
            app_slowdown: avg(runs, |r| r.app_slowdown),
            postcopy_window_s: avg(runs, |r| r.postcopy_window_s),
            fault_stall_s: avg(runs, |r| r.fault_stall_s),
            remote_faults: avg(runs, |r| r.remote_faults),
            throttle_max_pct: avg(runs, |r| r.throttle_max_pct),
            rounds: avg(runs, |r| r.rounds),
            precopy_bytes: avg(runs, |r| r.precopy_bytes),
            stop_copy_bytes: avg(runs, |r| r.stop_copy_bytes),
            postcopy_bytes: avg(runs, |r| r.postcopy_bytes),
            dirty_end_bytes: avg(runs, |r| r.dirty_end_bytes),
            threshold_bytes: avg(runs, |r| r.threshold_bytes),
            send_rate: avg(runs, |r| r.send_rate),
            live_s: avg(runs, |r| r.live_s),
            xbzrle_bytes_saved: avg(runs, |r| r.xbzrle_bytes_saved),
            compression_bytes_saved: avg(runs, |r| r.compression_bytes_saved),
        };
        Summary {
            runs: runs.len(),
            completed: mean.completed,
            converged: mean.converged,
            stop_reason: mean.stop_reason.clone(),
            acc,
            worst,
            mean,
        }
    }

    fn at(m: Metric) -> usize {
        Metric::ALL.iter().position(|x| *x == m).expect("listed")
    }

    /// The mean of a metric (NaN if no run has it: the downtime of cancelled runs).
    pub fn mean(&self, m: Metric) -> f64 {
        let a = &self.acc[Self::at(m)];
        if a.n == 0 { f64::NAN } else { a.mean }
    }

    /// The 95 % interval of a metric's mean (None below two runs).
    pub fn ci(&self, m: Metric) -> Option<(f64, f64)> {
        self.acc[Self::at(m)].ci95()
    }

    pub fn worst(&self, m: Metric) -> f64 {
        self.worst[Self::at(m)]
    }

    /// Every run completed and met every objective.
    pub fn feasible(&self, objectives: &[Objective]) -> bool {
        self.completed && objectives.iter().all(|o| o.met(self.worst(o.metric)))
    }

    /// How far the worst run misses the objectives, summed relative excess (0 when feasible); an
    /// unfinished migration misses by more than any finished one.
    pub fn violation(&self, objectives: &[Objective]) -> f64 {
        if !self.completed {
            return 1e9;
        }
        objectives.iter().map(|o| o.excess(self.worst(o.metric))).sum()
    }

    /// The objectives the worst run misses.
    pub fn misses<'a>(&self, objectives: &'a [Objective]) -> Vec<&'a Objective> {
        objectives.iter().filter(|o| !self.completed || !o.met(self.worst(o.metric))).collect()
    }
}

/// A run with these figures (cancelled when `downtime` is NaN), for tests.
#[cfg(test)]
pub fn sample(total: f64, downtime: f64, window: f64) -> Figures {
    Figures {
        completed: downtime.is_finite(),
        converged: true,
        stop_reason: "converged".into(),
        total_time_s: total,
        downtime_s: downtime,
        bytes_sent: 1e9,
        app_slowdown: 0.0,
        postcopy_window_s: window,
        fault_stall_s: 0.0,
        remote_faults: 0.0,
        throttle_max_pct: 0.0,
        rounds: 3.0,
        precopy_bytes: 1e9,
        stop_copy_bytes: 1e6,
        postcopy_bytes: 0.0,
        dirty_end_bytes: 1e6,
        threshold_bytes: 2e6,
        send_rate: 1.25e9,
        live_s: total - downtime,
        xbzrle_bytes_saved: 0.0,
        compression_bytes_saved: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(total: f64, downtime: f64) -> Figures {
        sample(total, downtime, 0.0)
    }

    #[test]
    fn cells_read_back() {
        let r = run(6.24, 0.0267);
        let back = Figures::from_cells(&r.cells()).unwrap();
        assert_eq!(back.total_time_s, r.total_time_s);
        assert_eq!(back.downtime_s, r.downtime_s);
        assert!((back.send_rate - r.send_rate).abs() < 1e-3);
        let cancelled = run(60.0, f64::NAN);
        assert!(Figures::from_cells(&cancelled.cells()).unwrap().downtime_s.is_nan());
    }

    #[test]
    fn feasibility_needs_every_replication_within_the_bound() {
        let o = vec![Objective::parse("downtime <= 50 ms").unwrap()];
        let s = Summary::of(&[run(6.0, 0.030), run(6.1, 0.045), run(6.2, 0.040)]);
        assert!(s.feasible(&o));
        assert!((s.mean(Metric::TotalTime) - 6.1).abs() < 1e-9);
        let (lo, hi) = s.ci(Metric::TotalTime).unwrap();
        // t(2) = 4.3027, sd 0.1, n 3.
        assert!((hi - 6.1 - 4.3027 * 0.1 / 3f64.sqrt()).abs() < 1e-6 && lo < 6.1);
        let one_bad = Summary::of(&[run(6.0, 0.030), run(6.1, 0.060)]);
        assert!(!one_bad.feasible(&o));
        assert!((one_bad.violation(&o) - 0.2).abs() < 1e-9);
        let cancelled = Summary::of(&[run(60.0, f64::NAN)]);
        assert!(!cancelled.feasible(&[]) && cancelled.violation(&o) > 1e6);
        assert!(cancelled.mean(Metric::Downtime).is_nan());
    }
}
