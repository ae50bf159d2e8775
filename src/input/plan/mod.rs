//! `[plan]`: an evacuation plan, turned into ordinary migrations with start conditions.
//!
//! A plan says what to move (`drain` hosts or racks, and/or `vms`), where to (`to`, `placement`,
//! explicit destinations in `[[plan.override]]`), in what `order` and under which `policy`; it
//! becomes one `MigrationSpec` per VM, in the plan's order, each with a `Gate` (wait for a slot in a
//! pool, or for other migrations to end) and a `Goal` (deadline, downtime objective). The model
//! starts each migration when its gate opens (`model::plan`); it never sees the policy.
//!
//! Placement is in `place`, the quick estimate that orders by predicted time in `estimate`, the
//! mVM-like schedule in `mvm`. docs/plans.md gives every key and each policy's rule with its source.

pub mod estimate;
pub mod mvm;
pub mod place;

use crate::input::migration::read_migration;
use crate::input::routes::Router;
use crate::input::select;
use crate::input::tree::{ConfigError, Node, Origin, TableReader, Value, choice};
use crate::model::plan::{Gate, Goal, Pool};
use crate::model::scenario::{Host, Link, MigrationParams, MigrationSpec, VmSpec};
use crate::model::strategy::Strategy;
use crate::units::format_size;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    AllAtOnce,
    Sequential,
    Parallel,
    Mvm,
}

impl Policy {
    pub const NAMES: [(&'static str, Policy); 4] =
        [("all-at-once", Policy::AllAtOnce), ("sequential", Policy::Sequential), ("parallel", Policy::Parallel), ("mvm", Policy::Mvm)];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    AsListed,
    LargestFirst,
    SmallestFirst,
    DirtiestFirst,
    LeastDirtyFirst,
    ShortestPredictedFirst,
    LongestPredictedFirst,
}

impl Order {
    pub const NAMES: [(&'static str, Order); 7] = [
        ("as-listed", Order::AsListed),
        ("largest-first", Order::LargestFirst),
        ("smallest-first", Order::SmallestFirst),
        ("dirtiest-first", Order::DirtiestFirst),
        ("least-dirty-first", Order::LeastDirtyFirst),
        ("shortest-predicted-first", Order::ShortestPredictedFirst),
        ("longest-predicted-first", Order::LongestPredictedFirst),
    ];
}

/// The caps of the `parallel` policy: the key, how its pools are named, and how the label says it.
const CAPS: [(&str, &str, &str); 4] = [
    ("max_parallel", "all", "in all"),
    ("max_per_source", "source", "per source host"),
    ("max_per_destination", "destination", "per destination host"),
    ("max_per_link", "link", "per link"),
];

/// What the reader knows when it expands a plan.
pub struct World<'a> {
    pub hosts: &'a [Host],
    pub links: &'a [Link],
    pub vms: &'a [VmSpec],
    pub router: &'a Router,
    /// `[migration]`: every plan migration's parameters unless an override changes them.
    pub defaults: &'a MigrationParams,
    pub default_start: u64,
    /// The strategy the estimate assumes for migrations without their own (the run's first).
    pub strategy: Strategy,
    /// VMs that `[[migrations]]` already move.
    pub moving: &'a [bool],
    /// The index the plan's first migration will have.
    pub first: usize,
    /// The pools `[[pools]]` declared (the plan's come after them).
    pub pools: &'a [Pool],
}

/// The plan's migrations (in its order), its pools and its label.
#[derive(Default)]
pub struct Expanded {
    pub migrations: Vec<MigrationSpec>,
    pub pools: Vec<Pool>,
    pub label: Option<String>,
}

/// A plan migration's parameters and its own strategy, if an override gave one.
type Params = (MigrationParams, Option<Strategy>);

/// What `[[plan.override]]` sets for the VMs it names.
struct Override<'a> {
    node: &'a Node,
    path: String,
    vms: Vec<bool>,
    to: Option<Vec<usize>>,
    to_origin: Origin,
    deadline: Option<u64>,
    downtime: Option<u64>,
}

/// Keys of `[plan]` besides `label` (all need something to move).
const KEYS: [&str; 15] = [
    "to",
    "placement",
    "policy",
    "order",
    "start",
    "deadline",
    "downtime_objective",
    "override",
    "max_parallel",
    "max_per_source",
    "max_per_destination",
    "max_per_link",
    "drain",
    "vms",
    "label",
];

/// Read `[plan]` and expand it.
pub fn read(t: &mut TableReader<'_>, w: &World<'_>) -> Result<Expanded, ConfigError> {
    let label = t.string("label")?;
    let drain = t.strings("drain")?;
    let chosen = t.strings("vms")?;
    if drain.is_none() && chosen.is_none() {
        for k in &KEYS[..12] {
            if t.raw().get(k).is_some() {
                return Err(t.error(k, "the plan has nothing to move: give drain = [hosts or racks] or vms = [VM names]"));
            }
        }
        t.allow(&KEYS[..12]);
        return Ok(Expanded { label, ..Expanded::default() });
    }
    let vm_names = || w.vms.iter().map(|v| v.name.as_str());
    let drained = match &drain {
        Some(items) => select::hosts(t, "drain", items, w.hosts)?,
        None => Vec::new(),
    };
    let mut is_drained = vec![false; w.hosts.len()];
    drained.iter().for_each(|&h| is_drained[h] = true);
    let mut moves = vec![false; w.vms.len()];
    for (i, v) in w.vms.iter().enumerate() {
        moves[i] = is_drained[v.host];
    }
    if let Some(items) = &chosen {
        for i in select::vms(t, "vms", items, vm_names())? {
            moves[i] = true;
        }
    }
    let selected: Vec<usize> = (0..w.vms.len()).filter(|&i| moves[i]).collect();
    if selected.is_empty() {
        return Err(t.error("drain", "the hosts to drain hold no VM: nothing to move"));
    }
    if let Some(&i) = selected.iter().find(|&&i| w.moving[i]) {
        let key = if chosen.is_some() { "vms" } else { "drain" };
        return Err(t.error(key, format!("VM \"{}\" already migrates in [[migrations]]; each VM migrates at most once", w.vms[i].name)));
    }
    let to = match t.strings("to")? {
        Some(items) => Some(select::hosts(t, "to", &items, w.hosts)?),
        None => None,
    };
    let rule = match t.string("placement")? {
        Some(s) => choice(t, "placement", &s, &place::Rule::NAMES)?,
        None => place::Rule::LeastLoaded,
    };
    let policy = match t.string("policy")? {
        Some(s) => choice(t, "policy", &s, &Policy::NAMES)?,
        None => Policy::AllAtOnce,
    };
    // The caps act under policy = "parallel" only; the other policies ignore them, so that one file
    // can sweep plan.policy over all of them.
    let mut caps = Vec::new();
    for (key, _, _) in CAPS {
        if let Some(n) = t.uint(key)? {
            if n == 0 || n > u32::MAX as u64 {
                return Err(t.error(key, format!("{n} is not a cap; give at least 1")));
            }
            if policy == Policy::Parallel {
                caps.push((key, n as u32));
            }
        }
    }
    if policy == Policy::Parallel && caps.is_empty() {
        return Err(t.error("policy", "\"parallel\" needs a cap: max_parallel, max_per_source, max_per_destination or max_per_link"));
    }
    if policy == Policy::Sequential {
        caps.push(("max_parallel", 1));
    }
    let order = match t.string("order")? {
        Some(s) => choice(t, "order", &s, &Order::NAMES)?,
        // Longest first is the classic list-scheduling order for a short makespan (Graham, 1969).
        None if policy == Policy::Mvm => Order::LongestPredictedFirst,
        None => Order::AsListed,
    };
    let start = t.duration("start")?.unwrap_or(w.default_start);
    let deadline = t.duration("deadline")?;
    let downtime = t.duration("downtime_objective")?;
    let overrides = read_overrides(t, w)?;

    // Each VM's settings: the overrides that name it, in order.
    let combos: Vec<Vec<usize>> = selected.iter().map(|&v| (0..overrides.len()).filter(|&o| overrides[o].vms[v]).collect()).collect();
    let mut params: Vec<Params> = Vec::with_capacity(selected.len());
    let mut seen: Vec<(Vec<usize>, Params)> = Vec::new();
    for combo in &combos {
        let p = match seen.iter().find(|(c, _)| c == combo) {
            Some((_, p)) => p.clone(),
            None => {
                let mut p = (w.defaults.clone(), None);
                for &o in combo {
                    let mut r = TableReader::at(t.file(), overrides[o].path.clone(), overrides[o].node)?;
                    let (q, s) = read_migration(&mut r, Some(&p.0))?;
                    p = (q, s.map(|s| s[0]).or(p.1));
                }
                seen.push((combo.clone(), p.clone()));
                p
            }
        };
        params.push(p);
    }

    // Placement.
    let mut room = place::Room { capacity: w.hosts.iter().map(|h| h.memory_bytes).collect(), used: vec![0; w.hosts.len()] };
    for v in w.vms {
        room.used[v.host] += v.memory_bytes;
    }
    let default_to: Vec<usize> = (0..w.hosts.len()).filter(|&h| !w.hosts[h].switch).collect();
    // One list of undrained candidates per destination list, shared by the VMs that use it.
    let mut shared: Vec<(*const Vec<usize>, std::rc::Rc<[usize]>)> = Vec::new();
    let wants: Vec<place::Want> = selected
        .iter()
        .zip(&combos)
        .map(|(&v, combo)| {
            let list = combo.iter().rev().find_map(|&o| overrides[o].to.as_ref()).or(to.as_ref()).unwrap_or(&default_to);
            let candidates = match shared.iter().find(|(p, _)| std::ptr::eq(*p, list)) {
                Some((_, c)) => c.clone(),
                None => {
                    let c: std::rc::Rc<[usize]> = list.iter().copied().filter(|&h| !is_drained[h]).collect();
                    shared.push((list, c.clone()));
                    c
                }
            };
            place::Want { name: w.vms[v].name.clone(), memory: w.vms[v].memory_bytes, candidates, own: Some(w.vms[v].host) }
        })
        .collect();
    // The key to blame for a VM's destinations: its last override with `to`, else the plan's `to`.
    let blame = |i: usize| -> ConfigError {
        match combos[i].iter().rev().find(|&&o| overrides[o].to.is_some()) {
            Some(&o) => ConfigError {
                file: t.file().to_string(),
                origin: overrides[o].to_origin.clone(),
                key: format!("{}.to", overrides[o].path),
                message: String::new(),
            },
            None => t.error("to", ""),
        }
    };
    if let Some(i) = wants.iter().position(|x| x.count() == 0) {
        let mut e = blame(i);
        e.message = format!("VM \"{}\" has no destination: every host it may go to is drained or is its own", wants[i].name);
        return Err(e);
    }
    let host_name = |h: usize| w.hosts[h].name.clone();
    let dest = place::place(&wants, &mut room, rule, &host_name).map_err(|(i, m)| {
        let mut e = blame(i);
        e.message = m;
        e
    })?;

    // Routes, and what each migration would take alone.
    let pairs: Vec<(usize, usize)> = selected.iter().zip(&dest).map(|(&v, &d)| (w.vms[v].host, d)).collect();
    let routes = w.router.routes(&pairs);
    let mut route = Vec::with_capacity(routes.len());
    for (i, r) in routes.into_iter().enumerate() {
        match r {
            Some(r) => route.push(r),
            None => {
                let mut e = blame(i);
                e.message = format!(
                    "VM \"{}\": no chain of links joins host \"{}\" to its destination \"{}\"",
                    wants[i].name, w.hosts[pairs[i].0].name, w.hosts[pairs[i].1].name
                );
                return Err(e);
            }
        }
    }
    let path_bw = |r: &[usize]| r.iter().map(|&l| w.links[l].bandwidth_bps).fold(f64::INFINITY, f64::min);
    let latency = |r: &[usize]| r.iter().map(|&l| w.links[l].latency_ns).sum::<u64>();
    let strategy_of = |i: usize| params[i].1.unwrap_or(w.strategy);
    let predict = |i: usize, b: f64| estimate::duration(&w.vms[selected[i]], &params[i].0, strategy_of(i), b, latency(&route[i]));

    // The plan's order (stable: ties keep the listing order).
    let mut order_ix: Vec<usize> = (0..selected.len()).collect();
    let key = |i: usize| -> f64 {
        let vm = &w.vms[selected[i]];
        match order {
            Order::AsListed => 0.0,
            Order::LargestFirst => -(vm.memory_bytes as f64),
            Order::SmallestFirst => vm.memory_bytes as f64,
            Order::DirtiestFirst => -estimate::dirty_rate(vm),
            Order::LeastDirtyFirst => estimate::dirty_rate(vm),
            Order::ShortestPredictedFirst => predict(i, path_bw(&route[i])),
            Order::LongestPredictedFirst => -predict(i, path_bw(&route[i])),
        }
    };
    let keys: Vec<f64> = (0..selected.len()).map(key).collect();
    order_ix.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));

    // Pools of the parallel caps.
    let mut pools: Vec<Pool> = Vec::new();
    let mut pool_ix = std::collections::HashMap::new();
    let mut gate_pools: Vec<Vec<usize>> = vec![Vec::new(); selected.len()];
    for &(key, cap) in &caps {
        let (_, kind, _) = CAPS.iter().find(|c| c.0 == key).expect("a known cap");
        for i in 0..selected.len() {
            let names: Vec<String> = match *kind {
                "all" => vec!["all".into()],
                "source" => vec![format!("source:{}", w.hosts[pairs[i].0].name)],
                "destination" => vec![format!("destination:{}", w.hosts[pairs[i].1].name)],
                _ => route[i].iter().map(|&l| format!("link:{}--{}", w.hosts[w.links[l].a].name, w.hosts[w.links[l].b].name)).collect(),
            };
            for name in names {
                let ix = *pool_ix.entry(name.clone()).or_insert_with(|| {
                    pools.push(Pool { name, capacity: cap });
                    w.pools.len() + pools.len() - 1
                });
                gate_pools[i].push(ix);
            }
        }
    }
    if let Some(p) = pools.iter().find(|p| w.pools.iter().any(|q| q.name == p.name)) {
        return Err(t.error("policy", format!("the plan's pool \"{}\" has the name of a [[pools]] entry; rename that entry", p.name)));
    }

    // The mVM-like schedule: start conditions and bandwidths.
    let mut sched: Option<Vec<mvm::Slot>> = None;
    if policy == Policy::Mvm {
        let jobs: Vec<mvm::Job> = order_ix
            .iter()
            .map(|&i| {
                let full = path_bw(&route[i]).min(params[i].0.max_bandwidth_bps.unwrap_or(f64::INFINITY));
                mvm::Job { route: route[i].clone(), full }
            })
            .collect();
        let capacity: Vec<f64> = w.links.iter().map(|l| l.bandwidth_bps).collect();
        sched = Some(mvm::schedule(&jobs, &capacity, &|j, b| predict(order_ix[j], b)));
    }

    let mut migrations = Vec::with_capacity(selected.len());
    for (pos, &i) in order_ix.iter().enumerate() {
        let (mut p, strategy) = params[i].clone();
        let mut gate = Gate { after: Vec::new(), pools: gate_pools[i].clone() };
        if let Some(s) = &sched {
            let slot = &s[pos];
            gate.after = slot.after.iter().map(|&j| w.first + j).collect();
            let full = path_bw(&route[i]).min(p.max_bandwidth_bps.unwrap_or(f64::INFINITY));
            if slot.bandwidth < full * (1.0 - 1e-9) {
                // mVM runs each migration at the bandwidth it was given.
                p.max_bandwidth_bps = Some(slot.bandwidth);
                p.max_postcopy_bandwidth_bps = Some(p.max_postcopy_bandwidth_bps.map_or(slot.bandwidth, |b| b.min(slot.bandwidth)));
            }
        }
        let o = combos[i].iter().rev();
        let goal = Goal {
            deadline_ns: o.clone().find_map(|&o| overrides[o].deadline).or(deadline).map(|d| start.saturating_add(d)),
            downtime_ns: o.clone().find_map(|&o| overrides[o].downtime).or(downtime),
        };
        migrations.push(MigrationSpec {
            strategy,
            vm: selected[i],
            to: dest[i],
            start_ns: start,
            params: p,
            gate,
            goal,
            route: Some(route[i].clone()),
        });
    }
    let label = label.unwrap_or_else(|| {
        describe(
            drain.as_deref().unwrap_or_default(),
            chosen.as_deref().unwrap_or_default(),
            selected.len(),
            policy,
            &caps,
            order,
            (to.is_some() || overrides.iter().any(|o| o.to.is_some())).then_some(rule),
            selected.iter().map(|&v| w.vms[v].memory_bytes).sum(),
        )
    });
    Ok(Expanded { migrations, pools, label: Some(label) })
}

fn read_overrides<'a>(t: &mut TableReader<'a>, w: &World<'_>) -> Result<Vec<Override<'a>>, ConfigError> {
    let Some(node) = t.node("override") else { return Ok(Vec::new()) };
    let Value::Array(items) = &node.value else {
        return Err(t.error("override", format!("expected [[plan.override]] tables, found {}", node.value.type_name())));
    };
    let mut out = Vec::new();
    for (i, n) in items.iter().enumerate() {
        let path = t.key_path(&format!("override.{i}"));
        let mut r = TableReader::at(t.file(), path.clone(), n)?;
        let Some(names) = r.strings("vms")? else {
            return Err(r.error("vms", "every [[plan.override]] needs vms = [VM names or patterns] it applies to"));
        };
        let mut vms = vec![false; w.vms.len()];
        for v in select::vms(&r, "vms", &names, w.vms.iter().map(|v| v.name.as_str()))? {
            vms[v] = true;
        }
        let to_origin = r.raw().get("to").map_or(Origin::Missing, |n| n.origin.clone());
        let to = match r.strings("to")? {
            Some(items) => Some(select::hosts(&r, "to", &items, w.hosts)?),
            None => None,
        };
        let deadline = r.duration("deadline")?;
        let downtime = r.duration("downtime_objective")?;
        // Checked here (unknown keys, a single strategy); applied per VM by the caller.
        let (_, s) = read_migration(&mut r, Some(w.defaults))?;
        if s.as_ref().is_some_and(|s| s.len() != 1) {
            return Err(r.error("strategy", "an override takes one strategy (list several under [migration] to run each)"));
        }
        r.finish()?;
        out.push(Override { node: n, path, vms, to, to_origin, deadline, downtime });
    }
    Ok(out)
}

/// The label of a plan: what moves, how many, the policy, its caps, the order, the placement.
#[allow(clippy::too_many_arguments)]
fn describe(
    drain: &[(String, Origin)],
    vms: &[(String, Origin)],
    n: usize,
    policy: Policy,
    caps: &[(&str, u32)],
    order: Order,
    rule: Option<place::Rule>,
    bytes: u64,
) -> String {
    let names = |v: &[(String, Origin)]| v.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(", ");
    let mut what = Vec::new();
    if !drain.is_empty() {
        what.push(format!("drain {}", names(drain)));
    }
    if !vms.is_empty() {
        what.push(format!("move {}", names(vms)));
    }
    let how = match policy {
        Policy::AllAtOnce => "all at once".to_string(),
        Policy::Sequential => "sequential".to_string(),
        Policy::Mvm => "mvm schedule".to_string(),
        Policy::Parallel => {
            let c: Vec<String> = caps.iter().map(|(k, n)| format!("{n} {}", CAPS.iter().find(|c| c.0 == *k).map_or("", |c| c.2))).collect();
            format!("parallel (at most {})", c.join(", "))
        }
    };
    let mut s = format!("{}: {n} VMs ({}), {how}", what.join(" and "), format_size(bytes));
    if order != Order::AsListed {
        s += &format!(", {}", crate::names::name_of(&Order::NAMES, order));
    }
    if let Some(r) = rule {
        s += &format!(", {} placement", crate::names::name_of(&place::Rule::NAMES, r));
    }
    s
}
