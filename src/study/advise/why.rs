//! One sentence of why for each verdict, computed from the figures: why a strategy converges or
//! cannot (the dirty set a round leaves against what the link sends within the downtime limit,
//! the writer's rate against the link's), what post-copy costs (fault stalls, the window in which
//! a host failure loses the VM), what a mechanism bought (throttling, deltas, compression), and
//! why the recommendation beats its rivals. It reads summaries and the scenario's facts; it
//! decides nothing.

use super::figures::Summary;
use super::knob::{Knob, Setting};
use super::objective::{Metric, Objective};
use super::space::{Candidate, Space, write_pps};
use crate::model::Scenario;
use crate::units::{format_duration, format_rate, format_size};

/// What the sentences quote about the scenario.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The migration's link rate (the slowest link on its route), bytes/s.
    pub link: f64,
    /// The guest's page writes, bytes/s (None for a trace).
    pub write_rate: Option<f64>,
    /// The pages the guest writes, bytes.
    pub working_set: u64,
    pub memory: u64,
    /// The stop policy's name (what "small enough" means for pre-copy).
    pub policy: &'static str,
}

impl Facts {
    pub fn of(sc: &Scenario) -> Facts {
        let m = &sc.migrations[0];
        let vm = &sc.vms[m.vm];
        let ws = working_set_pages(&vm.workload) * vm.page_size;
        Facts {
            link: super::runner::link_rate(sc),
            write_rate: write_pps(&vm.workload).map(|p| p * vm.page_size as f64),
            working_set: ws.min(vm.memory_bytes),
            memory: vm.memory_bytes,
            policy: m.params.stop_policy.name(),
        }
    }
}

fn working_set_pages(w: &crate::model::workload::WorkloadSpec) -> u64 {
    use crate::model::workload::WorkloadKind;
    match &w.kind {
        WorkloadKind::Mix { parts } => parts.iter().map(working_set_pages).sum(),
        WorkloadKind::Phases { phases, .. } => phases.iter().map(|p| working_set_pages(&p.workload)).max().unwrap_or(0),
        _ => w.working_set.count,
    }
}

fn secs(s: f64) -> String {
    if s.is_finite() { format_duration((s.max(0.0) * 1e9).round() as u64) } else { "-".into() }
}

fn bytes(b: f64) -> String {
    if b.is_finite() { format_size(b.max(0.0).round() as u64) } else { "-".into() }
}

fn pct(x: f64) -> String {
    Metric::AppSlowdown.format(x)
}

/// Why a candidate's strategy behaves as it does, from its figures.
pub fn strategy(space: &Space, facts: &Facts, c: &Candidate, s: &Summary) -> String {
    let m = &s.mean;
    match c.strategy.name() {
        "postcopy" => {
            let exposure = format!("for {} a failure of either host loses the VM", secs(m.postcopy_window_s));
            if m.remote_faults < 0.5 {
                format!(
                    "post-copy pauses the VM only for its device state ({}); the guest touches no missing page, but {exposure}",
                    secs(m.downtime_s)
                )
            } else {
                format!(
                    "post-copy pauses the VM only to send its device state ({}), but the guest then waits {} on {:.0} remote faults ({} of its running time) and {exposure}",
                    secs(m.downtime_s),
                    secs(m.fault_stall_s),
                    m.remote_faults,
                    pct(m.app_slowdown)
                )
            }
        }
        "hybrid" if m.postcopy_window_s > 0.0 => format!(
            "hybrid sends {:.0} pre-copy round{} ({}), then switches with {} left to fetch: the guest waits {} on {:.0} faults, and for {} a failure of either host loses the VM",
            m.rounds,
            if (m.rounds - 1.0).abs() < 0.5 { "" } else { "s" },
            bytes(m.precopy_bytes),
            bytes(m.postcopy_bytes),
            secs(m.fault_stall_s),
            m.remote_faults,
            secs(m.postcopy_window_s)
        ),
        "hybrid" => format!("hybrid never switches: its {}", pre_copy(space, facts, c, s)),
        "cold" => {
            let rate = if m.total_time_s > 0.0 { m.bytes_sent / m.total_time_s } else { facts.link };
            format!(
                "cold migration pauses the VM for the whole copy: {} at {} take {}",
                bytes(m.bytes_sent),
                format_rate(rate),
                secs(m.total_time_s)
            )
        }
        _ => pre_copy(space, facts, c, s),
    }
}

/// The rate pre-copy sends at: measured, else the cap or the link.
fn send_rate(space: &Space, facts: &Facts, c: &Candidate, s: &Summary) -> f64 {
    if s.mean.send_rate.is_finite() && s.mean.send_rate > 0.0 {
        return s.mean.send_rate;
    }
    match c.get(space, Knob::MaxBandwidth) {
        Setting::Caps(Some(cap), _) => cap.min(facts.link),
        _ => facts.link,
    }
}

fn pre_copy(space: &Space, facts: &Facts, c: &Candidate, s: &Summary) -> String {
    let m = &s.mean;
    let limit = match c.get(space, Knob::DowntimeLimit) {
        Setting::Duration(ns) => *ns as f64 / 1e9,
        _ => f64::NAN,
    };
    let rate = send_rate(space, facts, c, s);
    let budget = if m.threshold_bytes.is_finite() { m.threshold_bytes } else { rate * limit };
    let within = match facts.policy {
        "qemu" | "threshold" | "simgrid" => {
            format!("the {} the link sends within the downtime limit ({}/s x {})", bytes(budget), bytes(rate), secs(limit))
        }
        "xen" => format!("Xen's stop threshold of 50 dirty pages ({})", bytes(budget)),
        other => format!("what the {other} stop policy allows"),
    };
    // What held the guest back, if anything: the throttle or the dirty limit.
    let held = if let Setting::AutoConverge(Some(_)) = c.get(space, Knob::AutoConverge)
        && m.throttle_max_pct > 0.0
    {
        Some(format!(
            "auto-converge throttles the vCPU up to {:.0} % ({} of the guest's time lost)",
            m.throttle_max_pct,
            pct(m.app_slowdown)
        ))
    } else if let Setting::DirtyLimit(Some(d)) = c.get(space, Knob::DirtyLimit)
        && m.app_slowdown > 0.0
    {
        Some(format!("the dirty limit holds the guest to {d:.0} page writes/s ({} of its time lost)", pct(m.app_slowdown)))
    } else {
        None
    };
    let writer = match (facts.write_rate, &held) {
        (_, Some(h)) => format!(" although {h}"),
        (Some(w), None) if w > rate => format!(": the guest writes pages at {}/s and the link sends {}/s", bytes(w), bytes(rate)),
        (Some(w), None) if w > 0.0 => format!(" (the guest writes {}/s into {} of memory)", bytes(w), bytes(facts.working_set as f64)),
        _ => String::new(),
    };
    if !s.completed {
        return format!(
            "pre-copy cannot converge{writer}; every round leaves {} dirty again, more than {within}, so it is cancelled at {}",
            bytes(m.dirty_end_bytes),
            secs(m.total_time_s)
        );
    }
    if !s.converged {
        let forced = match s.stop_reason.as_str() {
            "max_data" => "Xen gives up once it has sent 3 times the memory".to_string(),
            "max_rounds" => "it reaches the stop policy's round limit first".to_string(),
            "max_time" => "it runs out of time at max_time".to_string(),
            other => other.replace('_', " "),
        };
        return format!(
            "pre-copy never converges ({forced}){writer}: every round leaves {} dirty again, so the VM is paused by force while the last {} cross ({})",
            bytes(m.dirty_end_bytes),
            bytes(m.stop_copy_bytes),
            secs(m.downtime_s)
        );
    }
    let how = held.map_or(String::new(), |h| format!(", but only because {h}"));
    let mut extra = String::new();
    if m.xbzrle_bytes_saved > 0.0 {
        extra += &format!(", XBZRLE saving {}", bytes(m.xbzrle_bytes_saved));
    }
    if m.compression_bytes_saved > 0.0 {
        extra += &format!(", compression saving {}", bytes(m.compression_bytes_saved));
    }
    format!(
        "pre-copy converges in {:.0} round{}{how}: the last leaves {} dirty, within {within}, so the VM pauses {}{extra}",
        m.rounds,
        if (m.rounds - 1.0).abs() < 0.5 { "" } else { "s" },
        bytes(m.dirty_end_bytes),
        secs(m.downtime_s)
    )
}

/// "meets every objective" or "misses downtime <= 50 ms (2.15 s)".
pub fn verdict(s: &Summary, objectives: &[Objective]) -> String {
    if !s.completed {
        return "never completes: cancelled at max_time".to_string();
    }
    let misses: Vec<String> =
        s.misses(objectives).iter().map(|o| format!("misses {} ({})", o.describe(), o.metric.format(s.worst(o.metric)))).collect();
    if misses.is_empty() {
        if objectives.is_empty() { "no objective to meet".into() } else { "meets every objective".into() }
    } else {
        misses.join(", ")
    }
}

fn best_word(m: Metric) -> &'static str {
    match m {
        Metric::TotalTime => "fastest",
        Metric::Downtime => "shortest pause",
        Metric::Bytes => "fewest bytes",
        Metric::AppSlowdown => "least slowdown",
        Metric::PostcopyWindow => "shortest post-copy window",
        Metric::FaultStall => "least fault stall",
        Metric::Throttle => "least throttling",
    }
}

/// "takes 0.2 s longer", "sends 1.2 GiB more".
fn worse_by(m: Metric, d: f64) -> String {
    let v = m.format(d);
    match m {
        Metric::TotalTime => format!("takes {v} longer"),
        Metric::Downtime => format!("pauses the VM {v} longer"),
        Metric::Bytes => format!("sends {v} more"),
        Metric::AppSlowdown => format!("costs the guest {v} more of its time"),
        Metric::PostcopyWindow => format!("leaves the VM exposed {v} longer"),
        Metric::FaultStall => format!("stalls the guest {v} longer"),
        Metric::Throttle => format!("throttles {v} more"),
    }
}

/// Why `c` is preferred to `other` when their minimized figures are within 3 % (`free`: the
/// figures no objective bounds).
fn preferred(space: &Space, free: &[Metric], (c, s): (&Candidate, &Summary), (o, os): (&Candidate, &Summary)) -> String {
    let (mine, theirs) = (c.changed(space).len(), o.changed(space).len());
    if os.mean(Metric::PostcopyWindow) > 0.0 && s.mean(Metric::PostcopyWindow) == 0.0 {
        "has no post-copy window in which a host failure loses the VM".to_string()
    } else if let Some(m) = super::rank::clearly_better(free, s, os) {
        format!("brings the {} to {} instead of {}", m.words(), m.format(s.mean(m)), m.format(os.mean(m)))
    } else if theirs > mine {
        let n = theirs - mine;
        format!("changes {n} knob{} fewer", if n == 1 { "" } else { "s" })
    } else if c.strategy_rank() < o.strategy_rank() {
        format!("{} is the simpler strategy", c.strategy.name())
    } else {
        format!("gives the better {}", Metric::FRONT.iter().find(|m| s.mean(**m) < os.mean(**m)).map_or("figures", |m| m.words()))
    }
}

/// Why the recommendation wins: its rank among the feasible settings, and against the best
/// figure when it won a near tie.
#[allow(clippy::too_many_arguments)]
pub fn recommendation(
    space: &Space,
    minimize: Metric,
    objectives: &[Objective],
    free: &[Metric],
    feasible: usize,
    (c, s): (&Candidate, &Summary),
    best: Option<(&Candidate, &Summary)>,
    next: Option<(&Candidate, &Summary)>,
) -> String {
    let what = if objectives.is_empty() {
        format!("of the {feasible} settings tried")
    } else {
        format!("of the {feasible} settings that meet {}", objectives.iter().map(|o| o.describe()).collect::<Vec<_>>().join(" and "))
    };
    let v = s.mean(minimize);
    let tie = |x: f64| (x - v).abs() <= v.abs() * super::rank::TIE + 1e-12;
    match best {
        Some((b, bs)) if b != c => format!(
            "it is within 3 % of the {} {what} ({}, {} {}) and {}",
            best_word(minimize),
            b.label(space),
            minimize.words(),
            minimize.format(bs.mean(minimize)),
            preferred(space, free, (c, s), (b, bs))
        ),
        _ => {
            let after = match next {
                Some((n, ns)) if tie(ns.mean(minimize)) => {
                    format!("; {} does as well within 3 %, but this one {}", n.label(space), preferred(space, free, (c, s), (n, ns)))
                }
                Some((n, ns)) => format!("; the next, {}, {}", n.label(space), worse_by(minimize, (ns.mean(minimize) - v).max(0.0))),
                None => String::new(),
            };
            format!("it is the {} {what} ({} {}){after}", best_word(minimize), minimize.words(), minimize.format(v))
        }
    }
}
