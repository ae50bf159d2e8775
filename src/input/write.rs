//! The reader's inverse: a resolved scenario written back as TOML in the full form with every
//! default filled in (`migsim check`). Reading the output back gives the same scenario.

use crate::model::memory::ZeroPages;
use crate::model::scenario::{OnMaxTime, Scenario};
use crate::model::workload::{DeltaSize, WorkloadKind, WorkloadSpec};
use crate::names::name_of;
use crate::units;

/// The fully resolved scenario in the full form, with every default written out. Reading it back
/// gives the same scenario.
pub fn to_toml(sc: &Scenario) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let q = |x: &str| format!("{x:?}");
    let _ = writeln!(s, "# {} resolved by migsim check: every default is written out.", sc.file);
    let _ = writeln!(s, "name = {}", q(&sc.name));
    let _ = writeln!(s, "description = {}", q(&sc.description));
    let _ = writeln!(s, "seed = {}", sc.seed);
    let _ = writeln!(s, "\n[migration]");
    let strategies: Vec<String> = sc.strategies.iter().map(|s| q(s.name())).collect();
    let _ = writeln!(s, "strategy = [{}]", strategies.join(", "));
    if let Some(label) = &sc.plan.label {
        // The plan itself is written out below: its pools and each migration's start conditions.
        let _ = writeln!(s, "\n[plan]\nlabel = {}", q(label));
    }
    for h in &sc.hosts {
        let _ = writeln!(s, "\n[[hosts]]\nname = {}", q(&h.name));
        if let Some(r) = &h.rack {
            let _ = writeln!(s, "rack = {}", q(r));
        }
        if let Some(m) = h.memory_bytes {
            let _ = writeln!(s, "memory = {}", q(&units::format_size_exact(m)));
        }
        if h.switch {
            let _ = writeln!(s, "switch = true");
        }
    }
    for l in &sc.links {
        let _ = writeln!(
            s,
            "\n[[links]]\nbetween = [{}, {}]\nbandwidth = {}\nlatency = {}",
            q(&sc.hosts[l.a].name),
            q(&sc.hosts[l.b].name),
            q(&units::format_rate_exact(l.bandwidth_bps)),
            q(&units::format_duration_exact(l.latency_ns))
        );
    }
    for v in &sc.vms {
        let _ = writeln!(s, "\n[[vms]]\nname = {}\nhost = {}", q(&v.name), q(&sc.hosts[v.host].name));
        let _ = writeln!(s, "memory = {}", q(&units::format_size_exact(v.memory_bytes)));
        let _ = writeln!(s, "page_size = {}", q(&units::format_size_exact(v.page_size)));
        match &v.zero_pages {
            ZeroPages::Profile(p) => {
                // The Debug form of an f64 reads back to the same number.
                let shares = |p: &[f64]| p.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ");
                let _ = writeln!(s, "zero_profile = [{}]", shares(p));
                if let Some(u) = &v.untouched_profile {
                    let _ = writeln!(s, "untouched_profile = [{}]", shares(u));
                }
            }
            ZeroPages::Share { fraction, layout } => {
                let _ = writeln!(s, "zero_fraction = {fraction:?}");
                let _ = writeln!(s, "zero_layout = {}", q(layout.name()));
            }
        }
        let _ = writeln!(s, "free_fraction = {:?}", v.free_fraction);
        let _ = writeln!(s, "device_state = {}", q(&units::format_size_exact(v.device_state_bytes)));
        let _ = writeln!(s, "workload = {}", workload_inline(&v.workload, v.page_size));
    }
    for p in &sc.plan.pools {
        let _ = writeln!(s, "\n[[pools]]\nname = {}\ncapacity = {}", q(&p.name), p.capacity);
    }
    let router = crate::input::routes::Router::new(sc.hosts.len(), &sc.links, None);
    let pairs: Vec<(usize, usize)> = sc.migrations.iter().map(|m| (sc.vms[m.vm].host, m.to)).collect();
    let fewest_hops = router.routes(&pairs);
    let list = |names: Vec<&str>| names.iter().map(|n| q(n)).collect::<Vec<_>>().join(", ");
    for (i, m) in sc.migrations.iter().enumerate() {
        let p = &m.params;
        let _ = writeln!(s, "\n[[migrations]]\nvm = {}\nto = {}", q(&sc.vms[m.vm].name), q(&sc.hosts[m.to].name));
        let _ = writeln!(s, "start = {}", q(&units::format_duration_exact(m.start_ns)));
        if !m.gate.after.is_empty() {
            let _ = writeln!(s, "after = [{}]", list(m.gate.after.iter().map(|&a| sc.vms[sc.migrations[a].vm].name.as_str()).collect()));
        }
        if !m.gate.pools.is_empty() {
            let _ = writeln!(s, "pools = [{}]", list(m.gate.pools.iter().map(|&i| sc.plan.pools[i].name.as_str()).collect()));
        }
        if let Some(d) = m.goal.deadline_ns {
            let _ = writeln!(s, "deadline = {}", q(&units::format_duration_exact(d)));
        }
        if let Some(d) = m.goal.downtime_ns {
            let _ = writeln!(s, "downtime_objective = {}", q(&units::format_duration_exact(d)));
        }
        // A route other than the fewest hops (a fat-tree's routing, a `via`) is written as the nodes it passes.
        let from = sc.vms[m.vm].host;
        if let Some(r) = &m.route
            && fewest_hops[i].as_ref() != Some(r)
        {
            let mut at = from;
            let mut nodes = Vec::new();
            for &l in &r[..r.len().saturating_sub(1)] {
                at = if sc.links[l].a == at { sc.links[l].b } else { sc.links[l].a };
                nodes.push(sc.hosts[at].name.as_str());
            }
            let _ = writeln!(s, "via = [{}]", list(nodes));
        }
        if let Some(st) = m.strategy {
            let _ = writeln!(s, "strategy = {}", q(st.name()));
        }
        let _ = writeln!(s, "stop_policy = {}", q(p.stop_policy.name()));
        let _ = writeln!(s, "downtime_limit = {}", q(&units::format_duration_exact(p.downtime_limit_ns)));
        if let Some(b) = p.max_bandwidth_bps {
            let _ = writeln!(s, "max_bandwidth = {}", q(&units::format_rate_exact(b)));
        }
        if let Some(b) = p.max_postcopy_bandwidth_bps {
            let _ = writeln!(s, "max_postcopy_bandwidth = {}", q(&units::format_rate_exact(b)));
        }
        let _ = writeln!(s, "max_rounds = {}", p.max_rounds);
        let _ = writeln!(s, "max_time = {}", q(&units::format_duration_exact(p.max_time_ns)));
        let _ = writeln!(s, "on_max_time = {}", q(name_of(&OnMaxTime::NAMES, p.on_max_time)));
        let _ = writeln!(s, "hybrid_switch_after = {}", p.hybrid_switch_after);
        let _ = writeln!(s, "setup_time = {}", q(&units::format_duration_exact(p.setup_time_ns)));
        let _ = writeln!(s, "resume_time = {}", q(&units::format_duration_exact(p.resume_time_ns)));
        if let Some(b) = p.switchover_bandwidth_bps {
            let _ = writeln!(s, "switchover_bandwidth = {}", q(&units::format_rate_exact(b)));
        }
        let _ = writeln!(s, "page_header = {}", q(&units::format_size_exact(p.page_header_bytes)));
        for (k, r) in [
            ("cpu_rate_new", p.cpu_rate_new_bps),
            ("cpu_rate_resent", p.cpu_rate_resent_bps),
            ("cpu_rate_resent_paused", p.cpu_rate_resent_paused_bps),
        ] {
            if let Some(b) = r {
                let _ = writeln!(s, "{k} = {}", q(&units::format_rate_exact(b)));
            }
        }
        for line in crate::input::mechanisms::to_toml(&p.mech) {
            let _ = writeln!(s, "{line}");
        }
    }
    s
}

fn delta_inline(d: DeltaSize, _page_size: u64) -> String {
    let q = |x: u64| format!("{:?}", units::format_size_exact(x));
    match d {
        DeltaSize::Fixed(b) => format!("write_delta = {}", q(b)),
        DeltaSize::Uniform(a, b) => format!("write_delta = {{ min = {}, max = {} }}", q(a), q(b)),
    }
}

fn workload_inline(w: &WorkloadSpec, page_size: u64) -> String {
    let q = |x: &str| format!("{x:?}");
    let mut parts = Vec::new();
    let kind = match &w.kind {
        WorkloadKind::Idle => "idle",
        WorkloadKind::Uniform => "uniform",
        WorkloadKind::HotCold { .. } => "hotcold",
        WorkloadKind::Zipf { .. } => "zipf",
        WorkloadKind::Sequential => "sequential",
        WorkloadKind::Fluid => "fluid",
        WorkloadKind::Phases { .. } => "phases",
        WorkloadKind::Trace(_) => "trace",
        WorkloadKind::Mix { .. } => "mix",
    };
    parts.push(format!("kind = {}", q(kind)));
    if let WorkloadKind::Mix { parts: ps } = &w.kind {
        let ps: Vec<String> = ps.iter().map(|p| workload_inline(p, page_size)).collect();
        parts.push(format!("parts = [{}]", ps.join(", ")));
        parts.push(delta_inline(w.write_delta, page_size));
        return format!("{{ {} }}", parts.join(", "));
    }
    if let WorkloadKind::Trace(t) = &w.kind {
        parts.extend(crate::input::trace::inline_keys(t));
    } else {
        parts.push(format!("write_rate = {}", q(&units::format_pages_rate(w.write_pps))));
    }
    if w.read_pps > 0.0 {
        parts.push(format!("read_rate = {}", q(&units::format_pages_rate(w.read_pps))));
    }
    parts.push(format!("working_set = {}", q(&units::format_size_exact(w.working_set.count * page_size))));
    parts.push(format!("offset = {}", q(&units::format_size_exact(w.working_set.first * page_size))));
    if w.working_set.stride != 1 {
        parts.push(format!("stride = {}", q(&units::format_size_exact(w.working_set.stride * page_size))));
    }
    if let Some(f) = w.full_cpu_pps {
        parts.push(format!("full_cpu_rate = {}", q(&units::format_pages_rate(f))));
    }
    if w.reserved_cpu > 0.0 {
        parts.push(format!("reserved_cpu = {:?}", w.reserved_cpu));
    }
    parts.push(delta_inline(w.write_delta, page_size));
    match &w.kind {
        WorkloadKind::HotCold { hot_pages, hot_share } => {
            parts.push(format!("hot_set = {}", q(&units::format_size_exact(hot_pages * page_size))));
            parts.push(format!("hot_share = {hot_share:?}"));
        }
        WorkloadKind::Zipf { exponent } => parts.push(format!("exponent = {exponent:?}")),
        WorkloadKind::Phases { phases, repeat } => {
            parts.push(format!("repeat = {repeat}"));
            let ps: Vec<String> = phases
                .iter()
                .map(|p| {
                    format!(
                        "{{ duration = {}, workload = {} }}",
                        q(&units::format_duration_exact(p.duration_ns)),
                        workload_inline(&p.workload, page_size)
                    )
                })
                .collect();
            parts.push(format!("phases = [{}]", ps.join(", ")));
        }
        _ => {}
    }
    format!("{{ {} }}", parts.join(", "))
}
