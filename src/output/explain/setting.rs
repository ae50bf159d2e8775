//! What one migration ran under (`Setting`), taken from the resolved scenario, and the opening
//! section that tells it: the VM, its workload, the link, the strategy and its stop rule.

use super::Section;
use super::words::{at, dur, int, pct, rate, size};
use crate::model::Scenario;
use crate::model::mechanism::{HybridSwitch, Mechanisms};
use crate::model::result::MigrationResult;
use crate::model::scenario::OnMaxTime;
use crate::model::workload::{WorkloadKind, WorkloadSpec};

/// What one migration ran under, from the resolved scenario: the figures the sentences quote.
#[derive(Debug, Clone)]
pub struct Setting {
    pub page_size: u64,
    pub memory_bytes: u64,
    pub device_state_bytes: u64,
    /// The guest's workload in a few words, with its rates ("a hot/cold writer: ...").
    pub workload: String,
    /// The working set, bytes.
    pub working_set_bytes: u64,
    /// The direct link between the two hosts: (bytes/s, one-way latency in s); `None` when the
    /// route has several hops.
    pub link: Option<(f64, f64)>,
    /// Other migrations of the scenario between the same two hosts, which share the link.
    pub others: usize,
    pub stop_policy: &'static str,
    pub downtime_limit_s: f64,
    /// bytes/s
    pub max_bandwidth: Option<f64>,
    pub max_postcopy_bandwidth: Option<f64>,
    pub switchover_bandwidth: Option<f64>,
    pub max_rounds: u32,
    pub max_time_s: f64,
    pub cancel_at_max_time: bool,
    pub hybrid_switch_after: u32,
    pub resume_time_s: f64,
    pub page_header: u64,
    /// Host CPU pace of one stream for pages new to the destination, and for re-sent pages (bytes/s).
    pub cpu_rate_new: Option<f64>,
    pub cpu_rate_resent: Option<f64>,
    /// The re-sent pages' pace while the guest is paused (`None`: `cpu_rate_resent`).
    pub cpu_rate_resent_paused: Option<f64>,
    pub mech: Mechanisms,
}

impl Setting {
    /// The settings of migration `i` of `sc`.
    pub fn of(sc: &Scenario, i: usize) -> Setting {
        let spec = &sc.migrations[i];
        let vm = &sc.vms[spec.vm];
        let p = &spec.params;
        let (a, b) = (vm.host, spec.to);
        let link =
            sc.links.iter().find(|l| (l.a, l.b) == (a, b) || (l.a, l.b) == (b, a)).map(|l| (l.bandwidth_bps, l.latency_ns as f64 / 1e9));
        Setting {
            page_size: vm.page_size,
            memory_bytes: vm.memory_bytes,
            device_state_bytes: vm.device_state_bytes,
            workload: describe_workload(&vm.workload, vm.page_size),
            working_set_bytes: vm.workload.working_set.count * vm.page_size,
            link,
            others: sc
                .migrations
                .iter()
                .enumerate()
                .filter(|(j, o)| {
                    *j != i && {
                        let h = (sc.vms[o.vm].host, o.to);
                        h == (a, b) || h == (b, a)
                    }
                })
                .count(),
            stop_policy: p.stop_policy.name(),
            downtime_limit_s: p.downtime_limit_ns as f64 / 1e9,
            max_bandwidth: p.max_bandwidth_bps,
            max_postcopy_bandwidth: p.max_postcopy_bandwidth_bps,
            switchover_bandwidth: p.switchover_bandwidth_bps,
            max_rounds: p.max_rounds,
            max_time_s: p.max_time_ns as f64 / 1e9,
            cancel_at_max_time: p.on_max_time == OnMaxTime::Cancel,
            hybrid_switch_after: p.hybrid_switch_after,
            resume_time_s: p.resume_time_ns as f64 / 1e9,
            page_header: p.page_header_bytes,
            cpu_rate_new: p.cpu_rate_new_bps,
            cpu_rate_resent: p.cpu_rate_resent_bps,
            cpu_rate_resent_paused: p.cpu_rate_resent_paused_bps,
            mech: p.mech.clone(),
        }
    }

    pub(super) fn pages(&self) -> u64 {
        self.memory_bytes / self.page_size.max(1)
    }
}

/// The workload in a few words, with its figures.
fn describe_workload(w: &WorkloadSpec, ps: u64) -> String {
    let rate = format!("{} page writes/s", int(w.write_pps.round() as u64));
    let ws = size((w.working_set.count * ps) as f64);
    match &w.kind {
        WorkloadKind::Idle => "an idle guest that writes nothing".into(),
        WorkloadKind::Uniform => format!("a guest writing {rate} spread evenly over a {ws} working set"),
        WorkloadKind::HotCold { hot_pages, hot_share } => format!(
            "a guest writing {rate} into a {ws} working set, {} of them to a {} hot set",
            pct(hot_share * 100.0),
            size((hot_pages * ps) as f64)
        ),
        WorkloadKind::Zipf { exponent } => {
            format!("a guest writing {rate} into a {ws} working set, a few pages far more often than the rest (Zipf, exponent {exponent})")
        }
        WorkloadKind::Sequential => format!("a guest sweeping its {ws} working set in address order at {rate}"),
        WorkloadKind::Fluid => format!("a guest dirtying {rate} of new pages until its {ws} working set is all dirty"),
        WorkloadKind::Phases { phases, .. } => format!(
            "a guest whose writes change in {} phases (first: {})",
            phases.len(),
            phases.first().map_or(String::new(), |p| describe_workload(&p.workload, ps))
        ),
        WorkloadKind::Mix { parts } => {
            format!("{} writers at once ({})", parts.len(), parts.iter().map(|p| describe_workload(p, ps)).collect::<Vec<_>>().join("; "))
        }
        WorkloadKind::Trace(t) => format!(
            "a guest replaying the dirty pages recorded in {}",
            t.path.file_name().map_or_else(|| t.path.display().to_string(), |n| n.to_string_lossy().into_owned())
        ),
    }
}

/// The opening section: what the run was given.
pub(super) fn section(m: &MigrationResult, s: &Setting) -> Section {
    let mut p = vec![format!(
        "{} has {} of memory, {} pages of {}; it runs {}.",
        m.vm,
        size(s.memory_bytes as f64),
        int(s.pages()),
        size(s.page_size as f64),
        s.workload
    )];
    let link = match s.link {
        Some((bw, lat)) => format!(" over a {} link with {} of one-way latency", rate(bw), dur(lat)),
        None => " over a route of several links".into(),
    };
    let shared = match s.others {
        0 => String::new(),
        n => {
            format!(", which {} other migration{} of the scenario share{}", n, if n == 1 { "" } else { "s" }, if n == 1 { "s" } else { "" })
        }
    };
    p.push(format!("It moves from {} to {}{link}{shared}, starting at {}.", m.from, m.to, at(m.start_s)));
    let limit = dur(s.downtime_limit_s);
    let rule = match s.stop_policy {
        "qemu" => format!(
            "QEMU's stop rule: about every 50 ms QEMU compares what is left to send with the threshold, the bandwidth it measured over the last 100 ms times the {limit} downtime limit, and pauses the guest once what is left, after a fresh sync, is below it"
        ),
        "threshold" | "simgrid" => format!(
            "the textbook stop rule: at the end of each pass over memory, pre-copy stops once the dirty pages fit in what the pass's rate sends in the {limit} downtime limit"
        ),
        "xen" => format!(
            "Xen's stop rule: at the end of each pass, stop when fewer than 50 pages are dirty, after {} rounds, or once {} (3 times the memory) has been sent",
            s.max_rounds,
            size(3.0 * s.memory_bytes as f64)
        ),
        "rounds" => format!("a plan of exactly {} rounds", s.max_rounds),
        other => format!("the `{other}` stop rule with a {limit} downtime limit"),
    };
    let cap = s.max_bandwidth.map_or(String::new(), |b| format!(" Pre-copy is capped at {} (max_bandwidth).", rate(b)));
    p.push(match m.strategy.as_str() {
        "precopy" => format!("Pre-copy sends memory in rounds while the guest runs and pauses it only for the last pages; it follows {rule}.{cap}"),
        "postcopy" => format!(
            "Post-copy pauses the guest at once, sends only its device state ({}), resumes it at the destination and then brings its {} over: pushed in the background, and fetched on demand whenever the guest touches a page that has not arrived.",
            size(s.device_state_bytes as f64),
            size(s.memory_bytes as f64)
        ),
        "hybrid" => format!(
            "Hybrid starts as pre-copy and switches to post-copy {}. While in pre-copy it follows {rule}.{cap}",
            match s.mech.hybrid_switch {
                HybridSwitch::Rounds => format!("after {} rounds (hybrid_switch_after)", s.hybrid_switch_after),
                HybridSwitch::Stall => "once a round no longer shrinks the dirty set by 5 % (hybrid_switch = stall)".to_string(),
                HybridSwitch::Either => format!("after {} rounds (hybrid_switch_after), or earlier once a round no longer shrinks the dirty set by 5 %", s.hybrid_switch_after),
                HybridSwitch::Time => "once hybrid_switch_after_time has passed".to_string(),
            }
        ),
        "cold" => format!("Cold migration pauses the guest, copies all {} and its device state, and resumes it: the downtime is the whole migration.", size(s.memory_bytes as f64)),
        other => format!("The strategy is {other}."),
    });
    Section { heading: "The setting".into(), paragraphs: p, items: Vec::new() }
}
