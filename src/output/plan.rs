//! A plan's report: what a run of several migrations achieved as a whole. Per run (one per
//! strategy of the scenario): the makespan (from the plan's start to the last VM running at its
//! destination), the mean completion time (from the plan's start) and migration time (from each
//! migration's own start), the sum and maximum of downtime, the deadlines and downtime objectives
//! missed, the bytes sent; per VM, one row with its start, end, waits and goals; per link, the bytes
//! it carried. The table `migsim run` prints, and `plan.csv`, `links.csv` and `plan.json`.
//!
//! It reads the scenario (routes, goals) and the results, and never changes them. The charts of a
//! plan are in `output::gantt`.

use crate::model::result::{MigrationResult, RunReport};
use crate::model::scenario::Scenario;
use crate::output::report::columns;
use crate::units;
use serde::Serialize;

/// One VM of a plan's run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VmRow {
    /// The strategy of the run (the scenario's, or `--strategy`); a VM may name its own.
    pub run: String,
    pub vm: String,
    pub strategy: String,
    pub from: String,
    pub to: String,
    /// When the migration started, and when the VM ran at its destination with all its memory
    /// (simulated seconds).
    pub start_s: f64,
    pub end_s: f64,
    /// From the plan's start to the migration's start (held back by the policy).
    pub wait_s: f64,
    /// From the migration's start to its end.
    pub total_time_s: f64,
    /// From the plan's start to the migration's end.
    pub completion_s: f64,
    pub downtime_s: Option<f64>,
    pub completed: bool,
    pub bytes_sent: u64,
    pub deadline_s: Option<f64>,
    pub deadline_met: Option<bool>,
    pub downtime_objective_s: Option<f64>,
    pub downtime_objective_met: Option<bool>,
}

/// One run of a plan as a whole.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub run: String,
    pub migrations: usize,
    pub completed: usize,
    /// The plan's start: the earliest start any of its migrations may have.
    pub start_s: f64,
    pub makespan_s: f64,
    pub mean_completion_s: f64,
    pub mean_total_time_s: f64,
    pub max_total_time_s: f64,
    pub downtime_sum_s: f64,
    pub downtime_max_s: f64,
    pub missed_deadlines: usize,
    pub missed_downtime_objectives: usize,
    pub sent_bytes: u64,
    /// The most migrations in flight at once.
    pub peak_parallel: usize,
}

/// A link and what the plan's run sent over it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LinkRow {
    pub run: String,
    pub link: String,
    pub bandwidth_bps: f64,
    pub migrations: usize,
    pub bytes: u64,
    /// The bytes over the link's capacity times the makespan: its mean utilisation over the plan.
    pub mean_utilisation: f64,
}

/// The runs of a report: (the strategy of the run, its results in scenario order). `simulate` puts
/// one run after the other, each with one result per migration.
pub fn runs<'a>(sc: &'a Scenario, r: &'a RunReport) -> Vec<(&'static str, &'a [MigrationResult])> {
    let n = sc.migrations.len().max(1);
    sc.strategies.iter().map(|s| s.name()).zip(r.migrations.chunks(n)).collect()
}

fn plan_start(sc: &Scenario) -> f64 {
    sc.migrations.iter().map(|m| m.start_ns).min().unwrap_or(0) as f64 / 1e9
}

/// The per-VM rows of one run.
pub fn rows(sc: &Scenario, run: &str, results: &[MigrationResult]) -> Vec<VmRow> {
    let t0 = plan_start(sc);
    let sec = |ns: Option<u64>| ns.map(|n| n as f64 / 1e9);
    sc.migrations
        .iter()
        .zip(results)
        .map(|(spec, m)| {
            let end = m.start_s + m.total_time_s;
            let deadline_s = sec(spec.goal.deadline_ns);
            let objective = sec(spec.goal.downtime_ns);
            VmRow {
                run: run.to_string(),
                vm: m.vm.clone(),
                strategy: m.strategy.clone(),
                from: m.from.clone(),
                to: m.to.clone(),
                start_s: m.start_s,
                end_s: end,
                wait_s: m.start_s - t0,
                total_time_s: m.total_time_s,
                completion_s: end - t0,
                downtime_s: m.downtime_s,
                completed: m.completed,
                bytes_sent: m.bytes_sent,
                deadline_s,
                // Times are whole nanoseconds: compare them as such, not as rounded seconds.
                deadline_met: spec.goal.deadline_ns.map(|d| m.completed && (end * 1e9).round() as u64 <= d),
                downtime_objective_s: objective,
                downtime_objective_met: spec
                    .goal
                    .downtime_ns
                    .map(|d| m.completed && m.downtime_s.is_some_and(|x| (x * 1e9).round() as u64 <= d)),
            }
        })
        .collect()
}

/// The run as a whole.
pub fn summary(sc: &Scenario, run: &str, results: &[MigrationResult]) -> Summary {
    let rows = rows(sc, run, results);
    let n = rows.len().max(1) as f64;
    let downtimes = rows.iter().filter_map(|r| r.downtime_s);
    // Migrations in flight: +1 at each start, -1 at each end (ends first at a tie; times are whole
    // nanoseconds, compared as such).
    let ns = |s: f64| (s * 1e9).round() as i64;
    let mut edges: Vec<(i64, i32)> = rows.iter().flat_map(|r| [(ns(r.start_s), 1), (ns(r.end_s), -1)]).collect();
    edges.sort();
    let peak = edges.iter().scan(0i32, |k, e| {
        *k += e.1;
        Some(*k)
    });
    Summary {
        run: run.to_string(),
        migrations: rows.len(),
        completed: rows.iter().filter(|r| r.completed).count(),
        start_s: plan_start(sc),
        makespan_s: rows.iter().map(|r| r.completion_s).fold(0.0, f64::max),
        mean_completion_s: rows.iter().map(|r| r.completion_s).sum::<f64>() / n,
        mean_total_time_s: rows.iter().map(|r| r.total_time_s).sum::<f64>() / n,
        max_total_time_s: rows.iter().map(|r| r.total_time_s).fold(0.0, f64::max),
        downtime_sum_s: downtimes.clone().sum(),
        downtime_max_s: downtimes.fold(0.0, f64::max),
        missed_deadlines: rows.iter().filter(|r| r.deadline_met == Some(false)).count(),
        missed_downtime_objectives: rows.iter().filter(|r| r.downtime_objective_met == Some(false)).count(),
        sent_bytes: rows.iter().map(|r| r.bytes_sent).sum(),
        peak_parallel: peak.max().unwrap_or(0).max(0) as usize,
    }
}

/// The name of link `l`: its two ends.
pub fn link_name(sc: &Scenario, l: usize) -> String {
    format!("{}--{}", sc.hosts[sc.links[l].a].name, sc.hosts[sc.links[l].b].name)
}

/// The links the run used, busiest first: every byte of a migration crosses each link of its route.
pub fn links(sc: &Scenario, run: &str, results: &[MigrationResult], makespan_s: f64) -> Vec<LinkRow> {
    let mut bytes = vec![0u64; sc.links.len()];
    let mut count = vec![0usize; sc.links.len()];
    for (route, m) in crate::model::sim::routes(sc).iter().zip(results) {
        for &l in route {
            bytes[l] += m.bytes_sent;
            count[l] += 1;
        }
    }
    let mut out: Vec<LinkRow> = (0..sc.links.len())
        .filter(|&l| count[l] > 0)
        .map(|l| LinkRow {
            run: run.to_string(),
            link: link_name(sc, l),
            bandwidth_bps: sc.links[l].bandwidth_bps * 8.0,
            migrations: count[l],
            bytes: bytes[l],
            mean_utilisation: if makespan_s > 0.0 { bytes[l] as f64 / (sc.links[l].bandwidth_bps * makespan_s) } else { 0.0 },
        })
        .collect();
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.link.cmp(&b.link)));
    out
}

/// The links worth watching while a plan runs: those that carry the most VM memory (at most
/// `n`), busiest first. Known before the run, from the routes and the VMs' sizes.
pub fn watched(sc: &Scenario, n: usize) -> Vec<usize> {
    let mut load = vec![0u64; sc.links.len()];
    for (route, m) in crate::model::sim::routes(sc).iter().zip(&sc.migrations) {
        for &l in route {
            load[l] += sc.vms[m.vm].memory_bytes;
        }
    }
    let mut ls: Vec<usize> = (0..sc.links.len()).filter(|&l| load[l] > 0).collect();
    ls.sort_by(|&a, &b| load[b].cmp(&load[a]).then(a.cmp(&b)));
    ls.truncate(n);
    ls
}

fn dur(s: f64) -> String {
    units::format_duration((s.max(0.0) * 1e9).round() as u64)
}

/// The plan summary `migsim run` prints: one row per run.
pub fn table(sc: &Scenario, summaries: &[Summary]) -> String {
    let head = [
        "run",
        "VMs done",
        "makespan",
        "mean completion",
        "mean migration",
        "longest",
        "downtime sum",
        "downtime max",
        "deadlines missed",
        "objectives missed",
        "peak parallel",
        "sent",
    ];
    let mut all = vec![head.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    let goals = |f: fn(&crate::model::plan::Goal) -> bool| sc.migrations.iter().filter(|m| f(&m.goal)).count();
    let (with_deadline, with_objective) = (goals(|g| g.deadline_ns.is_some()), goals(|g| g.downtime_ns.is_some()));
    let of = |k: usize, n: usize| if n == 0 { "-".to_string() } else { format!("{k}/{n}") };
    for s in summaries {
        all.push(vec![
            s.run.clone(),
            format!("{}/{}", s.completed, s.migrations),
            dur(s.makespan_s),
            dur(s.mean_completion_s),
            dur(s.mean_total_time_s),
            dur(s.max_total_time_s),
            dur(s.downtime_sum_s),
            dur(s.downtime_max_s),
            of(s.missed_deadlines, with_deadline),
            of(s.missed_downtime_objectives, with_objective),
            s.peak_parallel.to_string(),
            units::format_size(s.sent_bytes),
        ]);
    }
    let rule: Vec<String> =
        all[0].iter().enumerate().map(|(c, _)| "-".repeat(all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))).collect();
    all.insert(1, rule);
    let label = sc.plan.label.clone().unwrap_or_else(|| format!("{} migrations as listed", sc.migrations.len()));
    format!("plan: {label}\n{}", columns(&all))
}

/// Rows as CSV text, with a header.
pub fn csv<T: Serialize>(rows: &[T]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The columns a sweep's plan row adds, and their values for a run.
pub const SWEEP_COLUMNS: [&str; 11] = [
    "plan_makespan_s",
    "plan_mean_completion_s",
    "plan_mean_total_time_s",
    "plan_max_total_time_s",
    "plan_downtime_sum_s",
    "plan_downtime_max_s",
    "plan_missed_deadlines",
    "plan_missed_downtime_objectives",
    "plan_completed",
    "plan_sent_bytes",
    "plan_peak_parallel",
];

pub fn sweep_values(s: &Summary) -> Vec<String> {
    vec![
        s.makespan_s.to_string(),
        s.mean_completion_s.to_string(),
        s.mean_total_time_s.to_string(),
        s.max_total_time_s.to_string(),
        s.downtime_sum_s.to_string(),
        s.downtime_max_s.to_string(),
        s.missed_deadlines.to_string(),
        s.missed_downtime_objectives.to_string(),
        s.completed.to_string(),
        s.sent_bytes.to_string(),
        s.peak_parallel.to_string(),
    ]
}
