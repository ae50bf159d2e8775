//! The scenario reader: a TOML file (short or full form, plus `--set` overrides) into a fully
//! resolved, validated `model::Scenario` of hosts, links, VMs, workloads and migrations. Every
//! mistake is an error naming the file, the line and the key. Workloads are read by `workload`,
//! migration parameters by `migration`.

use crate::input::migration::read_migration;
use crate::input::tree::{self as config, ConfigError, Node, Origin, TableReader, choice};
use crate::input::workload::read_workload;
use crate::model::memory::{ZeroLayout, ZeroPages};
use crate::model::network::Routes;
use crate::model::scenario::{Host, Link, MigrationSpec, Scenario, VmSpec};
use crate::model::strategy;
use crate::model::workload::{DEFAULT_WRITE_DELTA, PageRange, WorkloadKind, WorkloadSpec};
use crate::names::suggest;
use crate::units;
use std::collections::HashMap;
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
    let text = std::fs::read_to_string(path).map_err(|error| LoadError::Io { file: file.clone(), error })?;
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
/// The most pages one VM may have.
const MAX_PAGES: u64 = 1 << 32;
const DEFAULT_DEVICE_STATE: u64 = 256 * 1024;
const DEFAULT_LATENCY_NS: u64 = 100_000;

/// Defaults taken from `[vm]` for every VM.
#[derive(Default, Clone)]
struct VmDefaults {
    memory: Option<u64>,
    page_size: Option<u64>,
    zero_fraction: Option<f64>,
    zero_layout: Option<ZeroLayout>,
    zero_profile: Option<Vec<f64>>,
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
    // A VM's own setting replaces what `[vm]` said, whichever of the two ways each used.
    let (zero_fraction, zero_layout, zero_profile) = if zero_profile.is_some() {
        (None, None, zero_profile)
    } else if zero_fraction.is_some() || zero_layout.is_some() {
        (zero_fraction.or(d.zero_fraction), zero_layout.or(d.zero_layout), None)
    } else {
        (d.zero_fraction, d.zero_layout, d.zero_profile.clone())
    };
    Ok(VmDefaults {
        memory: t.size("memory")?.or(d.memory),
        page_size: t.size("page_size")?.or(d.page_size),
        zero_fraction,
        zero_layout,
        zero_profile,
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

    // Hosts.
    // Names are looked up in maps: a scenario may name thousands of hosts and VMs.
    let mut hosts: Vec<Host> = Vec::new();
    let mut host_ids: HashMap<String, usize> = HashMap::new();
    if let Some(list) = top.tables("hosts")? {
        for mut t in list {
            let Some(name) = t.string("name")? else {
                return Err(t.error("name", "every [[hosts]] entry needs a name, e.g. name = \"a\""));
            };
            if host_ids.insert(name.clone(), hosts.len()).is_some() {
                return Err(t.error("name", format!("host \"{name}\" is defined twice")));
            }
            t.finish()?;
            hosts.push(Host { name });
        }
    }
    let implicit = hosts.is_empty();
    if implicit {
        for name in ["source", "destination"] {
            host_ids.insert(name.into(), hosts.len());
            hosts.push(Host { name: name.into() });
        }
    }
    let host_index = |r: &TableReader<'_>, key: &str, name: &str, origin: &Origin| -> Result<usize, ConfigError> {
        host_ids.get(name).copied().ok_or_else(|| {
            let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
            let hint = suggest(name, names.iter().copied()).map_or(String::new(), |s| format!("did you mean \"{s}\"? "));
            r.error_at(key, origin, format!("there is no host \"{name}\"; {hint}hosts: {}", names.join(", ")))
        })
    };

    // Links.
    let mut links = Vec::new();
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
    let mut vms: Vec<VmSpec> = Vec::new();
    let mut vm_ids: HashMap<String, usize> = HashMap::new();
    match top.tables("vms")? {
        Some(list) => {
            for mut t in list {
                let Some(name) = t.string("name")? else {
                    return Err(t.error("name", "every [[vms]] entry needs a name, e.g. name = \"web1\""));
                };
                if vm_ids.insert(name.clone(), vms.len()).is_some() {
                    return Err(t.error("name", format!("VM \"{name}\" is defined twice")));
                }
                let host = match t.node("host") {
                    Some(n) => match &n.value {
                        config::Value::Str(h) => host_index(&t, "host", h, &n.origin)?,
                        other => return Err(t.error("host", format!("expected a host name, found {}", other.type_name()))),
                    },
                    None if implicit => 0,
                    None => return Err(t.error("host", "every [[vms]] entry needs host = \"<host name>\"")),
                };
                let fields = read_vm_fields(&mut t, &vm_defaults)?;
                let wl_node = t.node("workload").or(workload_default_node);
                let vm = build_vm(&t, name, host, &fields, wl_node, &[Some(t.raw()), as_table(top.raw().get("vm"))])?;
                t.finish()?;
                vms.push(vm);
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

    // Migrations.
    let mut migrations: Vec<MigrationSpec> = Vec::new();
    // The migration (numbered from 1) of each VM that has one.
    let mut migration_of: Vec<Option<usize>> = vec![None; vms.len()];
    match top.tables("migrations")? {
        Some(list) => {
            for mut t in list {
                let (vm, vm_origin) = match t.node("vm") {
                    Some(Node { value: config::Value::Str(v), origin }) => (v.clone(), origin.clone()),
                    Some(n) => return Err(t.error("vm", format!("expected a VM name, found {}", n.value.type_name()))),
                    None => return Err(t.error("vm", "every [[migrations]] entry needs vm = \"<vm name>\"")),
                };
                let Some(&vm_i) = vm_ids.get(&vm) else {
                    let names: Vec<&str> = vms.iter().map(|v| v.name.as_str()).collect();
                    let hint = suggest(&vm, names.iter().copied()).map_or(String::new(), |s| format!("did you mean \"{s}\"? "));
                    return Err(t.error_at("vm", &vm_origin, format!("there is no VM \"{vm}\"; {hint}VMs: {}", names.join(", "))));
                };
                let to = match t.node("to") {
                    Some(Node { value: config::Value::Str(h), origin }) => host_index(&t, "to", h, origin)?,
                    Some(n) => return Err(t.error("to", format!("expected a host name, found {}", n.value.type_name()))),
                    None => return Err(t.error("to", "every [[migrations]] entry needs to = \"<destination host>\"")),
                };
                if to == vms[vm_i].host {
                    return Err(t.error("to", format!("VM \"{vm}\" is already on host \"{}\"", hosts[to].name)));
                }
                // QEMU refuses a second migration of a VM while one runs, and a move after the first
                // would start from the new host: neither is modelled, so a VM migrates once.
                if let Some(k) = migration_of[vm_i] {
                    return Err(t.error_at(
                        "vm",
                        &vm_origin,
                        format!("VM \"{vm}\" already migrates in migration {k}; each VM migrates at most once per scenario"),
                    ));
                }
                migration_of[vm_i] = Some(migrations.len() + 1);
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
                t.finish()?;
                migrations.push(MigrationSpec { strategy, vm: vm_i, to, start_ns: start_ns.or(default_start).unwrap_or(0), params: p });
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
                });
            } else {
                return Err(top.error("migrations", "a scenario with [[vms]] needs [[migrations]] (vm, to, start)"));
            }
        }
    }
    // Routes must exist (the adjacency built once, each host pair looked at once).
    let routes = Routes::new(&links, hosts.len());
    let mut joined: HashMap<(usize, usize), bool> = HashMap::new();
    for (i, m) in migrations.iter().enumerate() {
        let (from, to) = (vms[m.vm].host, m.to);
        if !*joined.entry((from, to)).or_insert_with(|| routes.route(from, to).is_some()) {
            return Err(top.error(
                "migrations",
                format!(
                    "migration {i} of VM \"{}\": no chain of [[links]] joins host \"{}\" to host \"{}\"",
                    vms[m.vm].name, hosts[vms[m.vm].host].name, hosts[m.to].name
                ),
            ));
        }
    }

    let strategies = mig_strategies.unwrap_or_else(|| vec![strategy::PRECOPY]);
    top.finish()?;
    Ok(Scenario { name, description, seed, hosts, links, vms, migrations, strategies, file: file.to_string() })
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
    if page_size == 0 || !page_size.is_power_of_two() {
        return Err(err(
            "page_size",
            format!("{} is not a power of two; use e.g. \"4 KiB\" or \"2 MiB\"", units::format_size_exact(page_size)),
        ));
    }
    if memory == 0 || !memory.is_multiple_of(page_size) {
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
        free_fraction: f.free_fraction.unwrap_or(0.0),
        device_state_bytes: f.device_state.unwrap_or(DEFAULT_DEVICE_STATE),
        workload,
    })
}
