//! The scenario reader: a TOML file (short or full form, plus `--set` overrides) into a fully
//! resolved, validated `model::Scenario` of hosts, links, VMs, workloads and migrations. Every
//! mistake is an error naming the file, the line and the key. Workloads are read by `workload`,
//! migration parameters by `migration`, a `[topology]` by `topology`, VM groups' hosts by `select`,
//! a `[plan]` by `plan`; every migration's route is fixed here (`routes`).

use crate::input::migration::read_migration;
use crate::input::routes::Router;
use crate::input::tree::{self as config, ConfigError, Node, Origin, TableReader, choice};
use crate::input::workload::read_workload;
use crate::input::{plan, select, topology};
use crate::model::memory::{ZeroLayout, ZeroPages};
use crate::model::plan::{Gate, Goal, Plan, Pool};
use crate::model::scenario::{Host, Link, MigrationSpec, Scenario, VmSpec};
use crate::model::strategy;
use crate::model::workload::{DEFAULT_WRITE_DELTA, PageRange, WorkloadKind, WorkloadSpec};
use crate::names::suggest;
use crate::units;
use std::path::Path;

/// A failure to load a scenario: the file could not be read, or its content is wrong.
#[derive(Debug)]
pub enum LoadError {
    Io { file: String, error: std::io::Error },
    Config(ConfigError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io { file, error } => write!(f, "{file}: cannot read the scenario: {error}"),
            LoadError::Config(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<ConfigError> for LoadError {
    fn from(e: ConfigError) -> Self {
        LoadError::Config(e)
    }
}

/// Read a scenario file, apply `--set` overrides and resolve it.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, LoadError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| LoadError::Io { file: file.clone(), error })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        let col = at - bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        ConfigError {
            file: file.clone(),
            origin: Origin::File { line, col },
            key: String::new(),
            message: format!(
                "not UTF-8 text: byte {at} (0x{:02X}) does not belong to a UTF-8 character; save the file as UTF-8",
                bytes[at]
            ),
        }
    })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "scenario".into());
    Ok(from_str(&file, &stem, &text, overrides)?)
}

/// Resolve a scenario from text (`file` names it in messages, `default_name` is used when it has none).
pub fn from_str(file: &str, default_name: &str, text: &str, overrides: &[String]) -> Result<Scenario, ConfigError> {
    let mut root = config::parse(file, text)?;
    for o in overrides {
        config::apply_override(&mut root, file, o)?;
    }
    resolve(file, default_name, &root)
}

const DEFAULT_PAGE_SIZE: u64 = 4096;
/// Page sizes a VM may have: QEMU's smallest target page is 1 KiB (`TARGET_PAGE_BITS_MIN` 10, on
/// Arm), and 1 GiB is the largest huge page of x86 and Arm. Below 1 KiB the defaults (a 1 KiB write
/// delta) would not fit a page either.
const MIN_PAGE_SIZE: u64 = 1024;
const MAX_PAGE_SIZE: u64 = 1 << 30;
/// The most pages one VM may have.
const MAX_PAGES: u64 = 1 << 32;
const DEFAULT_DEVICE_STATE: u64 = 256 * 1024;
const DEFAULT_LATENCY_NS: u64 = 100_000;
/// The most VMs one `[[vms]]` group may expand into.
const MAX_GROUP: u64 = 1_000_000;

/// Defaults taken from `[vm]` for every VM.
#[derive(Default, Clone)]
struct VmDefaults {
    memory: Option<u64>,
    page_size: Option<u64>,
    zero_fraction: Option<f64>,
    zero_layout: Option<ZeroLayout>,
    zero_profile: Option<Vec<f64>>,
    untouched_profile: Option<Vec<f64>>,
    free_fraction: Option<f64>,
    device_state: Option<u64>,
}

fn read_vm_fields(t: &mut TableReader<'_>, d: &VmDefaults) -> Result<VmDefaults, ConfigError> {
    let mut zero_fraction = t.fraction("zero_fraction")?;
    let mut zero_layout = match t.string("zero_layout")? {
        Some(v) => Some(choice(t, "zero_layout", &v, &ZeroLayout::NAMES)?),
        None => None,
    };
    let mut zero_profile = t.fractions("zero_profile")?;
    if zero_profile.is_some() && (zero_fraction.is_some() || zero_layout.is_some()) {
        // A command-line setting (`--set`, a sweep axis) of one form replaces the other form the
        // file gave, so a profile can be tried on a scenario written with zero_fraction and back.
        let from_cli = |k: &str| matches!(t.raw().get(k).map(|n| &n.origin), Some(Origin::Override(_) | Origin::Arg(_)));
        let profile_cli = from_cli("zero_profile");
        let fraction_cli = from_cli("zero_fraction") || from_cli("zero_layout");
        if profile_cli && !fraction_cli {
            (zero_fraction, zero_layout) = (None, None);
        } else if fraction_cli && !profile_cli {
            zero_profile = None;
        } else {
            let other = if zero_fraction.is_some() { "zero_fraction" } else { "zero_layout" };
            return Err(t.error(
                "zero_profile",
                format!("give either zero_profile (where the zero pages lie, region by region) or {other}, not both"),
            ));
        }
    }
    let untouched_profile = t.fractions("untouched_profile")?;
    // A VM's own setting replaces what `[vm]` said, whichever of the two ways each used; the
    // untouched pages go with the zero profile they lie in.
    let (zero_fraction, zero_layout, zero_profile, untouched_profile) = if zero_profile.is_some() {
        (None, None, zero_profile, untouched_profile)
    } else if zero_fraction.is_some() || zero_layout.is_some() {
        (zero_fraction.or(d.zero_fraction), zero_layout.or(d.zero_layout), None, untouched_profile)
    } else {
        (d.zero_fraction, d.zero_layout, d.zero_profile.clone(), untouched_profile.or_else(|| d.untouched_profile.clone()))
    };
    Ok(VmDefaults {
        memory: t.size("memory")?.or(d.memory),
        page_size: t.size("page_size")?.or(d.page_size),
        zero_fraction,
        zero_layout,
        zero_profile,
        untouched_profile,
        free_fraction: t.fraction("free_fraction")?.or(d.free_fraction),
        device_state: t.size("device_state")?.or(d.device_state),
    })
}

fn resolve(file: &str, default_name: &str, root: &Node) -> Result<Scenario, ConfigError> {
    let mut top = TableReader::root(file, root)?;
    let name = top.string("name")?.unwrap_or_else(|| default_name.to_string());
    let description = top.string("description")?.unwrap_or_default();
    let seed = top.uint("seed")?.unwrap_or(1);
    top.allow(&["reference", "sweep"]);

    // Defaults from the short-form tables.
    let vm_defaults = match top.table("vm")? {
        Some(mut t) => {
            let d = read_vm_fields(&mut t, &VmDefaults::default())?;
            t.finish()?;
            d
        }
        None => VmDefaults::default(),
    };
    let (net_bw, net_lat, net_origin) = match top.table("network")? {
        Some(mut t) => {
            let bw = t.positive_rate("bandwidth")?;
            let lat = t.duration("latency")?;
            t.finish()?;
            (bw, lat, true)
        }
        None => (None, None, false),
    };
    let workload_default_node = top.node("workload");
    let mut default_start = None;
    let mig_defaults = match top.table("migration")? {
        Some(mut t) => {
            let (p, strategies) = read_migration(&mut t, None)?;
            default_start = t.duration("start")?;
            t.finish()?;
            (p, strategies)
        }
        None => {
            let empty = Node { value: config::Value::Table(Default::default()), origin: Origin::Missing };
            let mut t = TableReader::root(file, &empty)?;
            read_migration(&mut t, None)?
        }
    };
    let (mig_params, mig_strategies) = mig_defaults;

    // Hosts: a [topology]'s, then the scenario's own.
    let (mut hosts, mut links, fat_tree) = match top.table("topology")? {
        Some(mut t) => {
            let g = topology::read(&mut t, net_lat.unwrap_or(DEFAULT_LATENCY_NS))?;
            t.finish()?;
            (g.hosts, g.links, g.fat_tree)
        }
        None => (Vec::new(), Vec::new(), None),
    };
    let generated = !hosts.is_empty();
    let mut host_ix: std::collections::HashMap<String, usize> = hosts.iter().enumerate().map(|(i, h)| (h.name.clone(), i)).collect();
    if let Some(list) = top.tables("hosts")? {
        for mut t in list {
            let Some(name) = t.string("name")? else {
                return Err(t.error("name", "every [[hosts]] entry needs a name, e.g. name = \"a\""));
            };
            if host_ix.contains_key(&name) {
                let by = if generated && hosts.iter().any(|h| h.name == name) { " (by [topology] or above)" } else { "" };
                return Err(t.error("name", format!("host \"{name}\" is defined twice{by}")));
            }
            let host = Host {
                rack: t.string("rack")?,
                memory_bytes: t.size("memory")?,
                switch: t.bool("switch")?.unwrap_or(false),
                name: name.clone(),
            };
            if host.switch && (host.memory_bytes.is_some() || host.rack.is_some()) {
                let key = if host.memory_bytes.is_some() { "memory" } else { "rack" };
                return Err(t.error(key, "a switch holds no VM: it has no memory or rack"));
            }
            t.finish()?;
            host_ix.insert(name, hosts.len());
            hosts.push(host);
        }
    }
    let implicit = hosts.is_empty();
    if implicit {
        hosts.push(Host { name: "source".into(), ..Host::default() });
        hosts.push(Host { name: "destination".into(), ..Host::default() });
    }
    let host_index = |r: &TableReader<'_>, key: &str, name: &str, origin: &Origin| -> Result<usize, ConfigError> {
        host_ix.get(name).copied().or_else(|| if implicit { hosts.iter().position(|h| h.name == name) } else { None }).ok_or_else(|| {
            let names = hosts.iter().map(|h| h.name.as_str());
            let hint = suggest(name, names.clone()).map_or(String::new(), |s| format!("did you mean \"{s}\"? "));
            r.error_at(key, origin, format!("there is no host \"{name}\"; {hint}hosts: {}", select::some_names(names)))
        })
    };

    // Links.
    match top.tables("links")? {
        Some(list) => {
            for mut t in list {
                let Some(ends) = t.strings("between")? else {
                    return Err(t.error("between", "every [[links]] entry needs between = [\"host a\", \"host b\"]"));
                };
                if ends.len() != 2 {
                    return Err(t.error("between", format!("expected exactly two host names, found {}", ends.len())));
                }
                let a = host_index(&t, "between", &ends[0].0, &ends[0].1)?;
                let b = host_index(&t, "between", &ends[1].0, &ends[1].1)?;
                if a == b {
                    return Err(t.error("between", "a link joins two different hosts"));
                }
                let bandwidth_bps = match t.positive_rate("bandwidth")?.or(net_bw) {
                    Some(b) => b,
                    None => return Err(t.error("bandwidth", "missing; give the link a bandwidth, e.g. bandwidth = \"10 Gbit/s\"")),
                };
                let latency_ns = t.duration("latency")?.or(net_lat).unwrap_or(DEFAULT_LATENCY_NS);
                t.finish()?;
                links.push(Link { a, b, bandwidth_bps, latency_ns });
            }
        }
        None if generated => {}
        None => {
            if !implicit && hosts.len() > 1 && !net_origin {
                return Err(top.error(
                    "links",
                    "a scenario with [[hosts]] needs [[links]] between them (or a [network] table when there are exactly two hosts)",
                ));
            }
            if hosts.len() == 2 {
                let Some(bw) = net_bw else {
                    return Err(
                        top.error("network", "missing [network] with bandwidth = \"10 Gbit/s\" (the link between source and destination)")
                    );
                };
                links.push(Link { a: 0, b: 1, bandwidth_bps: bw, latency_ns: net_lat.unwrap_or(DEFAULT_LATENCY_NS) });
            }
        }
    }

    // VMs.
    let mut vms = Vec::new();
    match top.tables("vms")? {
        Some(list) if list.is_empty() => {
            return Err(top.error("vms", "the list is empty: give at least one VM ([[vms]] with a name, or a [vm] table)"));
        }
        Some(list) => {
            let mut names = std::collections::HashSet::new();
            let mut used = vec![0u64; hosts.len()];
            for mut t in list {
                let Some(name) = t.string("name")? else {
                    return Err(t.error("name", "every [[vms]] entry needs a name, e.g. name = \"web1\""));
                };
                // A group: `count` VMs NAME-1 ... NAME-count, dealt in turn over the hosts it names.
                let count = match t.uint("count")? {
                    Some(0) => return Err(t.error("count", "a group has at least one VM")),
                    Some(n) if n > MAX_GROUP => return Err(t.error("count", format!("{n} VMs is over the {MAX_GROUP} a group may have"))),
                    other => other,
                };
                let (on, where_key) = select::group_hosts(&mut t, count.is_some(), implicit, &hosts, &host_index)?;
                if let Some(&h) = on.iter().find(|&&h| hosts[h].switch) {
                    return Err(t.error(where_key, format!("\"{}\" is a switch: it holds no VM", hosts[h].name)));
                }
                let fields = read_vm_fields(&mut t, &vm_defaults)?;
                let wl_node = t.node("workload").or(workload_default_node);
                let proto = build_vm(&t, name.clone(), on[0], &fields, wl_node, &[Some(t.raw()), as_table(top.raw().get("vm"))])?;
                let n = count.unwrap_or(1) as usize;
                for i in 0..n {
                    let vm_name = if count.is_some() { format!("{name}-{}", i + 1) } else { name.clone() };
                    if !names.insert(vm_name.clone()) {
                        return Err(t.error("name", format!("VM \"{vm_name}\" is defined twice")));
                    }
                    let host = on[i % on.len()];
                    used[host] += proto.memory_bytes;
                    if let Some(cap) = hosts[host].memory_bytes
                        && used[host] > cap
                    {
                        return Err(t.error(
                            where_key,
                            format!(
                                "host \"{}\" has {} of memory; with VM \"{vm_name}\" ({}) its VMs would take {}, {} too many",
                                hosts[host].name,
                                units::format_size(cap),
                                units::format_size(proto.memory_bytes),
                                units::format_size(used[host]),
                                units::format_size(used[host] - cap)
                            ),
                        ));
                    }
                    vms.push(VmSpec { name: vm_name, host, ..proto.clone() });
                }
                t.finish()?;
            }
        }
        None => {
            if !implicit {
                return Err(top.error("vms", "a scenario with [[hosts]] needs [[vms]] placed on them"));
            }
            let vm = build_vm(&top, "vm".into(), 0, &vm_defaults, workload_default_node, &[as_table(top.raw().get("vm"))])?;
            vms.push(vm);
        }
    }

    // Pools of slots that migrations may wait in.
    let mut pools: Vec<Pool> = Vec::new();
    if let Some(list) = top.tables("pools")? {
        for mut t in list {
            let Some(name) = t.string("name")? else {
                return Err(t.error("name", "every [[pools]] entry needs a name, e.g. name = \"uplink\""));
            };
            if pools.iter().any(|p| p.name == name) {
                return Err(t.error("name", format!("pool \"{name}\" is defined twice")));
            }
            let capacity = match t.uint("capacity")? {
                Some(c) if (1..=u32::MAX as u64).contains(&c) => c as u32,
                Some(c) => {
                    return Err(t.error("capacity", format!("{c} is not a capacity; give the migrations it lets run at once, at least 1")));
                }
                None => return Err(t.error("capacity", "missing; the migrations it lets run at once, e.g. capacity = 2")),
            };
            t.finish()?;
            pools.push(Pool { name, capacity });
        }
    }

    // Migrations.
    let vm_ix: std::collections::HashMap<&str, usize> = vms.iter().enumerate().map(|(i, v)| (v.name.as_str(), i)).collect();
    let mut migrates: Vec<Option<usize>> = vec![None; vms.len()];
    let mut migrations = Vec::new();
    // Per [[migrations]] entry: its `after` names, and its `via` nodes, read now and resolved below.
    let mut afters: Vec<Vec<(String, Origin)>> = Vec::new();
    let mut vias: Vec<Option<(Vec<usize>, Origin)>> = Vec::new();
    // A reader of [[migrations]] entry i, for the errors found once every entry is read.
    let entry_nodes: Vec<&Node> = match top.raw().get("migrations").map(|n| &n.value) {
        Some(config::Value::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    let entry = |i: usize| TableReader::at(file, format!("migrations.{i}"), entry_nodes[i]);
    match top.tables("migrations")? {
        Some(list) => {
            for mut t in list {
                let (vm, vm_origin) = match t.node("vm") {
                    Some(Node { value: config::Value::Str(v), origin }) => (v.clone(), origin.clone()),
                    Some(n) => return Err(t.error("vm", format!("expected a VM name, found {}", n.value.type_name()))),
                    None => return Err(t.error("vm", "every [[migrations]] entry needs vm = \"<vm name>\"")),
                };
                let Some(&vm_i) = vm_ix.get(vm.as_str()) else {
                    let names = vms.iter().map(|v| v.name.as_str());
                    let hint = suggest(&vm, names.clone()).map_or(String::new(), |s| format!("did you mean \"{s}\"? "));
                    return Err(t.error_at("vm", &vm_origin, format!("there is no VM \"{vm}\"; {hint}VMs: {}", select::some_names(names))));
                };
                let to = match t.node("to") {
                    Some(Node { value: config::Value::Str(h), origin }) => host_index(&t, "to", h, origin)?,
                    Some(n) => return Err(t.error("to", format!("expected a host name, found {}", n.value.type_name()))),
                    None => return Err(t.error("to", "every [[migrations]] entry needs to = \"<destination host>\"")),
                };
                if to == vms[vm_i].host {
                    return Err(t.error("to", format!("VM \"{vm}\" is already on host \"{}\"", hosts[to].name)));
                }
                if hosts[to].switch {
                    return Err(t.error("to", format!("\"{}\" is a switch: it holds no VM", hosts[to].name)));
                }
                // QEMU refuses a second migration of a VM while one runs, and a move after the first
                // would start from the new host: neither is modelled, so a VM migrates once.
                if let Some(k) = migrates[vm_i] {
                    return Err(t.error_at(
                        "vm",
                        &vm_origin,
                        format!("VM \"{vm}\" already migrates in migration {}; each VM migrates at most once per scenario", k + 1),
                    ));
                }
                migrates[vm_i] = Some(migrations.len());
                let start_ns = t.duration("start")?;
                let (p, s) = read_migration(&mut t, Some(&mig_params))?;
                let strategy = match s.as_deref() {
                    None => None,
                    Some([one]) => Some(*one),
                    Some(_) => {
                        return Err(
                            t.error("strategy", "a single migration takes one strategy; list several under [migration] to run each")
                        );
                    }
                };
                // A hand-made plan: wait for other migrations, or for a slot in pools.
                afters.push(t.strings("after")?.unwrap_or_default());
                let mut gate = Gate::default();
                for (name, origin) in t.strings("pools")?.unwrap_or_default() {
                    match pools.iter().position(|p| p.name == name) {
                        Some(i) if !gate.pools.contains(&i) => gate.pools.push(i),
                        Some(_) => return Err(t.error_at("pools", &origin, format!("pool \"{name}\" is listed twice"))),
                        None => {
                            return Err(select::no_match(&t, "pools", &origin, "pool", &name, pools.iter().map(|p| p.name.as_str())));
                        }
                    }
                }
                let goal = Goal { deadline_ns: t.duration("deadline")?, downtime_ns: t.duration("downtime_objective")? };
                let via = match t.strings("via")? {
                    Some(list) => {
                        let origin = t.raw().get("via").map_or(Origin::Missing, |n| n.origin.clone());
                        let mut nodes = vec![vms[vm_i].host];
                        for (h, o) in &list {
                            nodes.push(host_index(&t, "via", h, o)?);
                        }
                        nodes.push(to);
                        Some((nodes, origin))
                    }
                    None => None,
                };
                vias.push(via);
                migrations.push(MigrationSpec {
                    strategy,
                    vm: vm_i,
                    to,
                    start_ns: start_ns.or(default_start).unwrap_or(0),
                    params: p,
                    gate,
                    goal,
                    route: None,
                });
                t.finish()?;
            }
        }
        None => {
            if implicit {
                migrations.push(MigrationSpec {
                    strategy: None,
                    vm: 0,
                    to: 1,
                    start_ns: default_start.unwrap_or(0),
                    params: mig_params.clone(),
                    gate: Gate::default(),
                    goal: Goal::default(),
                    route: None,
                });
            } else if !top
                .raw()
                .get("plan")
                .is_some_and(|p| matches!(&p.value, config::Value::Table(t) if t.get("drain").is_some() || t.get("vms").is_some()))
            {
                return Err(
                    top.error("migrations", "a scenario with [[vms]] needs [[migrations]] (vm, to, start) or a [plan] that moves them")
                );
            }
        }
    }
    let strategies = mig_strategies.unwrap_or_else(|| vec![strategy::PRECOPY]);
    let router = Router::new(hosts.len(), &links, fat_tree);

    // The plan: more migrations, in its order, after the hand-made ones.
    let mut label = None;
    if let Some(mut t) = top.table("plan")? {
        let moving: Vec<bool> = migrates.iter().map(Option::is_some).collect();
        let world = plan::World {
            hosts: &hosts,
            links: &links,
            vms: &vms,
            router: &router,
            defaults: &mig_params,
            default_start: default_start.unwrap_or(0),
            strategy: strategies[0],
            moving: &moving,
            first: migrations.len(),
            pools: &pools,
        };
        let x = plan::read(&mut t, &world)?;
        t.finish()?;
        for m in &x.migrations {
            migrates[m.vm] = Some(migrations.len());
            migrations.push(m.clone());
        }
        pools.extend(x.pools);
        label = x.label;
    }

    // `after` names VMs whose migrations must end first; the waits may not go round in a circle.
    for (i, names) in afters.iter().enumerate() {
        for (name, origin) in names {
            let t = &entry(i)?;
            let Some(&v) = vm_ix.get(name.as_str()) else {
                return Err(select::no_match(t, "after", origin, "VM", name, vms.iter().map(|v| v.name.as_str())));
            };
            match migrates[v] {
                Some(k) if k == i => return Err(t.error_at("after", origin, "a migration cannot wait for itself")),
                Some(k) => migrations[i].gate.after.push(k),
                None => return Err(t.error_at("after", origin, format!("VM \"{name}\" does not migrate in this scenario"))),
            }
        }
    }
    if let Some(i) = crate::model::plan::circular(migrations.iter().map(|m| &m.gate)) {
        let t =
            if i < entry_nodes.len() { entry(i)? } else { TableReader::at(file, "plan".into(), top.raw().get("plan").expect("a plan"))? };
        return Err(t.error(
            "after",
            format!(
                "the migration of VM \"{}\" waits, through `after`, for itself: the waits go round in a circle",
                vms[migrations[i].vm].name
            ),
        ));
    }

    // Routes: fixed now (a `via`, a fat-tree's routing, else the fewest hops).
    for (i, via) in vias.iter().enumerate() {
        if let Some((nodes, origin)) = via {
            match router.along(nodes) {
                Ok(r) => migrations[i].route = Some(r),
                Err((a, b)) => {
                    return Err(entry(i)?.error_at(
                        "via",
                        origin,
                        format!(
                            "no link joins \"{}\" and \"{}\" (via lists the nodes between the source and the destination, in order)",
                            hosts[a].name, hosts[b].name
                        ),
                    ));
                }
            }
        }
    }
    let todo: Vec<usize> = (0..migrations.len()).filter(|&i| migrations[i].route.is_none()).collect();
    let pairs: Vec<(usize, usize)> = todo.iter().map(|&i| (vms[migrations[i].vm].host, migrations[i].to)).collect();
    for (&i, r) in todo.iter().zip(router.routes(&pairs)) {
        let Some(r) = r else {
            let m = &migrations[i];
            return Err(top.error(
                "migrations",
                format!(
                    "migration {i} of VM \"{}\": no chain of [[links]] joins host \"{}\" to host \"{}\"",
                    vms[m.vm].name, hosts[vms[m.vm].host].name, hosts[m.to].name
                ),
            ));
        };
        migrations[i].route = Some(r);
    }

    top.finish()?;
    Ok(Scenario { name, description, seed, hosts, links, vms, migrations, strategies, plan: Plan { label, pools }, file: file.to_string() })
}

/// Where a VM field was written: in the VM's own table, else in the `[vm]` defaults.
fn field_origin(tables: &[Option<&config::Table>], key: &str) -> Option<Origin> {
    tables.iter().flatten().find_map(|t| t.get(key).map(|v| v.origin.clone()))
}

fn as_table(n: Option<&Node>) -> Option<&config::Table> {
    match n.map(|n| &n.value) {
        Some(config::Value::Table(t)) => Some(t),
        _ => None,
    }
}

fn build_vm(
    t: &TableReader<'_>,
    name: String,
    host: usize,
    f: &VmDefaults,
    wl_node: Option<&Node>,
    tables: &[Option<&config::Table>],
) -> Result<VmSpec, ConfigError> {
    let Some(memory) = f.memory else {
        let key = if t.path().is_empty() { "vm" } else { "memory" };
        return Err(t.error(key, "missing the VM's memory; add memory = \"8 GiB\" (under [vm] or the VM's entry)"));
    };
    let page_size = f.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    let key_of = |k: &'static str| if t.path().is_empty() { format!("vm.{k}") } else { k.to_string() };
    let err = |k: &'static str, m: String| {
        let mut e = t.error(k, m);
        e.key = if t.path().is_empty() { key_of(k) } else { e.key };
        if let Some(o) = field_origin(tables, k) {
            e.origin = o;
        }
        e
    };
    if !page_size.is_power_of_two() || !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(err(
            "page_size",
            format!(
                "{} is not a valid page size: a power of two from {} to {}, e.g. \"4 KiB\" or \"2 MiB\"",
                units::format_size_exact(page_size),
                units::format_size_exact(MIN_PAGE_SIZE),
                units::format_size_exact(MAX_PAGE_SIZE)
            ),
        ));
    }
    if memory == 0 {
        return Err(err("memory", "must be positive, e.g. \"8 GiB\"".into()));
    }
    if !memory.is_multiple_of(page_size) {
        return Err(err(
            "memory",
            format!(
                "{} is not a whole number of {} pages; use a multiple of the page size, e.g. \"{}\"",
                units::format_size_exact(memory),
                units::format_size_exact(page_size),
                units::format_size_exact(memory.div_ceil(page_size).max(1) * page_size)
            ),
        ));
    }
    let pages = memory / page_size;
    // Each page costs a few bits in several bitmaps; beyond 2^32 pages (16 TiB of 4 KiB pages) a run
    // would need gigabytes of memory and hours, so say so instead of trying.
    if pages > MAX_PAGES {
        return Err(err(
            "memory",
            format!(
                "{} is {pages} pages of {}; migsim simulates at most {MAX_PAGES} pages per VM (use a larger page_size, e.g. \"2 MiB\", to model a bigger VM)",
                units::format_size_exact(memory),
                units::format_size_exact(page_size)
            ),
        ));
    }
    if let Some(p) = &f.zero_profile
        && p.len() as u64 > pages
    {
        return Err(err(
            "zero_profile",
            format!("has {} regions but memory has only {pages} pages; give at most one share per page", p.len()),
        ));
    }
    if let Some(u) = &f.untouched_profile {
        let Some(z) = &f.zero_profile else {
            return Err(err(
                "untouched_profile",
                "needs a zero_profile: it gives, region by region, the share of the zero pages' region the guest never wrote".into(),
            ));
        };
        if u.len() != z.len() {
            return Err(err(
                "untouched_profile",
                format!("has {} regions but zero_profile has {}; give one share for each of zero_profile's regions", u.len(), z.len()),
            ));
        }
        if let Some(i) = (0..u.len()).find(|&i| u[i] > z[i]) {
            return Err(err(
                "untouched_profile",
                format!(
                    "region {} is {} untouched but only {} zero; untouched pages are zero pages, so each share is at most zero_profile's",
                    i + 1,
                    u[i],
                    z[i]
                ),
            ));
        }
    }
    let workload = match wl_node {
        Some(n) => {
            let path = if t.path().is_empty() { "workload".to_string() } else { t.key_path("workload") };
            read_workload(t.file(), path, n, pages, page_size)?
        }
        None => WorkloadSpec {
            kind: WorkloadKind::Idle,
            write_pps: 0.0,
            read_pps: 0.0,
            working_set: PageRange::contiguous(0, pages),
            full_cpu_pps: None,
            reserved_cpu: 0.0,
            write_delta: DEFAULT_WRITE_DELTA,
        },
    };
    Ok(VmSpec {
        name,
        host,
        memory_bytes: memory,
        page_size,
        zero_pages: match &f.zero_profile {
            Some(p) => ZeroPages::Profile(p.clone()),
            None => ZeroPages::Share { fraction: f.zero_fraction.unwrap_or(0.0), layout: f.zero_layout.unwrap_or_default() },
        },
        untouched_profile: f.untouched_profile.clone(),
        free_fraction: f.free_fraction.unwrap_or(0.0),
        device_state_bytes: f.device_state.unwrap_or(DEFAULT_DEVICE_STATE),
        workload,
    })
}
