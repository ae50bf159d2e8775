//! Scenarios: reading a TOML file (short or full form, plus `--set` overrides) into a fully resolved,
//! validated description of hosts, links, VMs, workloads and migrations, and writing it back out in
//! full (for `migsim check`). Internally: bytes, bytes per second, nanoseconds, pages per second.

use crate::config::{self, ConfigError, Node, Origin, TableReader, choice};
use crate::mechanism::{self, Mechanisms};
use crate::units::{self, WriteRate};
use std::path::Path;

pub const NS_PER_S: f64 = 1e9;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    PreCopy,
    PostCopy,
    Hybrid,
    Cold,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Strategy::PreCopy, Strategy::PostCopy, Strategy::Hybrid, Strategy::Cold];
    pub const NAMES: [(&'static str, Strategy); 4] =
        [("precopy", Strategy::PreCopy), ("postcopy", Strategy::PostCopy), ("hybrid", Strategy::Hybrid), ("cold", Strategy::Cold)];
    pub fn name(self) -> &'static str {
        config::name_of(&Self::NAMES, self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopPolicy {
    /// QEMU's continuous check: pending < measured bandwidth x downtime limit, then sync, then stop.
    Qemu,
    /// Textbook: at the end of each full pass, stop if the dirty set fits the downtime budget.
    Threshold,
    /// Xen legacy: at most 30 rounds, 3x memory sent, fewer than 50 dirty pages.
    Xen,
    /// Stop after `max_rounds` passes.
    Rounds,
    /// SimGrid's VM live-migration plugin: one message per round, threshold = bandwidth x 30 ms.
    SimGrid,
}

impl StopPolicy {
    pub const NAMES: [(&'static str, StopPolicy); 5] = [
        ("qemu", StopPolicy::Qemu),
        ("threshold", StopPolicy::Threshold),
        ("xen", StopPolicy::Xen),
        ("rounds", StopPolicy::Rounds),
        ("simgrid", StopPolicy::SimGrid),
    ];
    pub fn name(self) -> &'static str {
        config::name_of(&Self::NAMES, self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMaxTime {
    /// Give up: the VM stays at the source (what a management script that cancels QEMU does).
    Cancel,
    /// Force the stop-and-copy, whatever the downtime.
    Stop,
}

impl OnMaxTime {
    pub const NAMES: [(&'static str, OnMaxTime); 2] = [("cancel", OnMaxTime::Cancel), ("stop", OnMaxTime::Stop)];
}

/// `count` guest pages from `first`, one every `stride` pages (1: the contiguous range
/// `[first, first + count)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRange {
    pub first: u64,
    pub count: u64,
    pub stride: u64,
}

impl PageRange {
    pub const fn contiguous(first: u64, count: u64) -> Self {
        PageRange { first, count, stride: 1 }
    }

    /// Page number `k` of the range (`k < count`).
    #[inline]
    pub fn page(&self, k: u64) -> u64 {
        self.first + k * self.stride
    }

    /// The contiguous pages that hold the whole range, from `first` to its last page.
    pub fn span(&self) -> std::ops::Range<usize> {
        let end = if self.count == 0 { self.first } else { self.page(self.count - 1) + 1 };
        self.first as usize..end as usize
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum WorkloadKind {
    Idle,
    Uniform,
    /// `hot_pages` at the start of the working set take `hot_share` of the writes.
    HotCold {
        hot_pages: u64,
        hot_share: f64,
    },
    /// Page k of the working set (k = 0 hottest) is written with probability proportional to 1/(k+1)^s.
    Zipf {
        exponent: f64,
    },
    /// Sweeps the working set in address order, wrapping around.
    Sequential,
    /// SimGrid's fluid model: `rate` x time new dirty pages, capped at the working set (no overlap).
    Fluid,
    Phases {
        phases: Vec<Phase>,
        repeat: bool,
    },
    /// Several writers at once, e.g. an application and its guest OS (each with its own working set).
    Mix {
        parts: Vec<WorkloadSpec>,
    },
    /// Replays a recorded dirty-page trace (docs/traces.md).
    Trace(crate::trace_replay::TraceSpec),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub duration_ns: u64,
    pub workload: WorkloadSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSpec {
    pub kind: WorkloadKind,
    /// Page writes per second (not distinct pages).
    pub write_pps: f64,
    /// Extra reads per second, with the same distribution as the writes (they fault in post-copy).
    pub read_pps: f64,
    pub working_set: PageRange,
    /// Writes per second the application would issue with a whole vCPU (`None`: the write rate, a
    /// CPU-bound application). A vCPU throttled to a share s writes min(write rate, s x this).
    pub full_cpu_pps: Option<f64>,
    /// Bytes of a page that change between two sends of it (the size of an XBZRLE delta).
    pub write_delta: DeltaSize,
}

/// A distribution of sizes in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeltaSize {
    Fixed(u64),
    /// Uniform between the two bounds, inclusive.
    Uniform(u64, u64),
}

/// Assumed when a workload does not say how much of a page its writes change.
pub const DEFAULT_WRITE_DELTA: DeltaSize = DeltaSize::Fixed(1024);

#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub a: usize,
    pub b: usize,
    pub bandwidth_bps: f64,
    pub latency_ns: u64,
}

#[derive(Debug, Clone)]
pub struct VmSpec {
    pub name: String,
    pub host: usize,
    pub memory_bytes: u64,
    pub page_size: u64,
    /// How many pages start all-zero, and where they lie in guest-physical memory.
    pub zero_pages: ZeroPages,
    /// Share of memory the guest has free (ballooned, or reported free): never sent.
    pub free_fraction: f64,
    pub device_state_bytes: u64,
    pub workload: WorkloadSpec,
}

/// A VM's zero pages, as the scenario gives them: one of the two forms.
#[derive(Debug, Clone, PartialEq)]
pub enum ZeroPages {
    /// `zero_fraction` of all pages, laid out as `zero_layout` says.
    Share { fraction: f64, layout: ZeroLayout },
    /// `zero_profile`: the zero share of each of `len()` equal regions of memory, lowest first.
    Profile(Vec<f64>),
}

/// Where a VM's zero pages lie. It matters to QEMU's stop rule, which counts unsent zero pages as
/// remaining although they take almost no time to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZeroLayout {
    /// Spread evenly over the pages outside the working set.
    #[default]
    Spread,
    /// Packed at the highest addresses outside the working set (then at the top of the working set,
    /// if the outside is too small): a freshly booted guest that never touched the top of its memory.
    Top,
}

impl ZeroLayout {
    pub const NAMES: [(&'static str, ZeroLayout); 2] = [("spread", ZeroLayout::Spread), ("top", ZeroLayout::Top)];

    pub fn name(self) -> &'static str {
        config::name_of(&Self::NAMES, self)
    }
}

/// The regions of a `zero_profile` over `pages` pages: `n` nearly equal ranges, lowest first, each
/// with the number of zero pages its share gives (rounded).
pub fn zero_profile_regions(profile: &[f64], pages: usize) -> impl Iterator<Item = (std::ops::Range<usize>, usize)> + '_ {
    let n = profile.len();
    profile.iter().enumerate().map(move |(i, f)| {
        let r = i * pages / n..(i + 1) * pages / n;
        let zeros = ((r.len() as f64) * f).round() as usize;
        (r, zeros)
    })
}

impl VmSpec {
    pub fn pages(&self) -> u64 {
        self.memory_bytes / self.page_size
    }
}

#[derive(Debug, Clone)]
pub struct MigrationParams {
    /// Set when this migration names its own strategy; otherwise the run's strategy applies.
    pub strategy: Option<Strategy>,
    pub stop_policy: StopPolicy,
    pub downtime_limit_ns: u64,
    pub max_bandwidth_bps: Option<f64>,
    /// QEMU's max-postcopy-bandwidth: the cap once post-copy has begun (`None`: none, QEMU's
    /// default; `max_bandwidth` does not apply then).
    pub max_postcopy_bandwidth_bps: Option<f64>,
    pub max_rounds: u32,
    pub max_time_ns: u64,
    pub on_max_time: OnMaxTime,
    pub hybrid_switch_after: u32,
    pub setup_time_ns: u64,
    pub resume_time_ns: u64,
    pub switchover_bandwidth_bps: Option<f64>,
    pub page_header_bytes: u64,
    /// Host CPU throughput of one migration stream for pages the destination has never held
    /// (bytes/s; `None`: not a bottleneck). Measured once per host, see docs/model.md.
    pub cpu_rate_new_bps: Option<f64>,
    /// The same for pages the destination already holds (re-sent dirty pages).
    pub cpu_rate_resent_bps: Option<f64>,
    pub mech: Mechanisms,
}

#[derive(Debug, Clone)]
pub struct MigrationSpec {
    pub vm: usize,
    pub to: usize,
    pub start_ns: u64,
    pub params: MigrationParams,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub hosts: Vec<Host>,
    pub links: Vec<Link>,
    pub vms: Vec<VmSpec>,
    pub migrations: Vec<MigrationSpec>,
    /// One simulation per entry; migrations without their own strategy use it.
    pub strategies: Vec<Strategy>,
    /// Where the file was read from (for messages).
    pub file: String,
}

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
/// The fastest write or access rate a workload may ask for, pages per second (see `read_workload`).
const MAX_ACCESS_PPS: f64 = 1e9;
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
    let mut hosts: Vec<Host> = Vec::new();
    if let Some(list) = top.tables("hosts")? {
        for mut t in list {
            let Some(name) = t.string("name")? else {
                return Err(t.error("name", "every [[hosts]] entry needs a name, e.g. name = \"a\""));
            };
            if hosts.iter().any(|h| h.name == name) {
                return Err(t.error("name", format!("host \"{name}\" is defined twice")));
            }
            t.finish()?;
            hosts.push(Host { name });
        }
    }
    let implicit = hosts.is_empty();
    if implicit {
        hosts.push(Host { name: "source".into() });
        hosts.push(Host { name: "destination".into() });
    }
    let host_index = |r: &TableReader<'_>, key: &str, name: &str, origin: &Origin| -> Result<usize, ConfigError> {
        hosts.iter().position(|h| h.name == name).ok_or_else(|| {
            let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
            let hint = config::suggest(name, names.iter().copied()).map_or(String::new(), |s| format!("did you mean \"{s}\"? "));
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
    let mut vms = Vec::new();
    match top.tables("vms")? {
        Some(list) => {
            for mut t in list {
                let Some(name) = t.string("name")? else {
                    return Err(t.error("name", "every [[vms]] entry needs a name, e.g. name = \"web1\""));
                };
                if vms.iter().any(|v: &VmSpec| v.name == name) {
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
    let mut migrations = Vec::new();
    match top.tables("migrations")? {
        Some(list) => {
            for mut t in list {
                let (vm, vm_origin) = match t.node("vm") {
                    Some(Node { value: config::Value::Str(v), origin }) => (v.clone(), origin.clone()),
                    Some(n) => return Err(t.error("vm", format!("expected a VM name, found {}", n.value.type_name()))),
                    None => return Err(t.error("vm", "every [[migrations]] entry needs vm = \"<vm name>\"")),
                };
                let Some(vm_i) = vms.iter().position(|v| v.name == vm) else {
                    let names: Vec<&str> = vms.iter().map(|v| v.name.as_str()).collect();
                    let hint = config::suggest(&vm, names.iter().copied()).map_or(String::new(), |s| format!("did you mean \"{s}\"? "));
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
                if let Some(k) = migrations.iter().position(|m: &MigrationSpec| m.vm == vm_i) {
                    return Err(t.error_at(
                        "vm",
                        &vm_origin,
                        format!("VM \"{vm}\" already migrates in migration {}; each VM migrates at most once per scenario", k + 1),
                    ));
                }
                let start_ns = t.duration("start")?;
                let (mut p, s) = read_migration(&mut t, Some(&mig_params))?;
                if let Some(s) = s {
                    if s.len() != 1 {
                        return Err(
                            t.error("strategy", "a single migration takes one strategy; list several under [migration] to run each")
                        );
                    }
                    p.strategy = Some(s[0]);
                }
                t.finish()?;
                migrations.push(MigrationSpec { vm: vm_i, to, start_ns: start_ns.or(default_start).unwrap_or(0), params: p });
            }
        }
        None => {
            if implicit {
                migrations.push(MigrationSpec { vm: 0, to: 1, start_ns: default_start.unwrap_or(0), params: mig_params.clone() });
            } else {
                return Err(top.error("migrations", "a scenario with [[vms]] needs [[migrations]] (vm, to, start)"));
            }
        }
    }
    // Routes must exist.
    for (i, m) in migrations.iter().enumerate() {
        if crate::network::route(&links, hosts.len(), vms[m.vm].host, m.to).is_none() {
            return Err(top.error(
                "migrations",
                format!(
                    "migration {i} of VM \"{}\": no chain of [[links]] joins host \"{}\" to host \"{}\"",
                    vms[m.vm].name, hosts[vms[m.vm].host].name, hosts[m.to].name
                ),
            ));
        }
    }

    let strategies = mig_strategies.unwrap_or_else(|| vec![Strategy::PreCopy]);
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

fn read_workload(file: &str, path: String, node: &Node, pages: u64, page_size: u64) -> Result<WorkloadSpec, ConfigError> {
    let mut t = TableReader::at(file, path, node)?;
    #[derive(Clone, Copy, PartialEq)]
    enum K {
        Idle,
        Uniform,
        HotCold,
        Zipf,
        Sequential,
        Phases,
        Fluid,
        Trace,
        Mix,
    }
    const KINDS: [(&str, K); 9] = [
        ("idle", K::Idle),
        ("uniform", K::Uniform),
        ("hotcold", K::HotCold),
        ("zipf", K::Zipf),
        ("sequential", K::Sequential),
        ("phases", K::Phases),
        ("fluid", K::Fluid),
        ("trace", K::Trace),
        ("mix", K::Mix),
    ];
    let kind_name = t.string("kind")?.unwrap_or_else(|| "idle".into());
    let kind = choice(&t, "kind", &kind_name, &KINDS)?;
    // The fluid (SimGrid) model counts bytes: its working-set cap is rounded down to whole pages.
    let fluid = kind == K::Fluid;
    let to_pages = |t: &TableReader<'_>, key: &str, bytes: u64| -> Result<u64, ConfigError> {
        if !fluid && !bytes.is_multiple_of(page_size) {
            return Err(t.error(
                key,
                format!("{} is not a whole number of pages ({})", units::format_size_exact(bytes), units::format_size_exact(page_size)),
            ));
        }
        Ok(bytes / page_size)
    };
    let ws_bytes = t.size("working_set")?;
    let offset_bytes = t.size("offset")?.unwrap_or(0);
    let offset = to_pages(&t, "offset", offset_bytes)?;
    let ws = match ws_bytes {
        Some(b) => to_pages(&t, "working_set", b)?,
        None => pages - offset.min(pages),
    };
    if offset + ws > pages {
        return Err(
            t.error("working_set", format!("offset + working_set ({} pages) is larger than the VM's memory ({pages} pages)", offset + ws))
        );
    }
    // A strided working set: one page every `stride`, e.g. an array's metadata page after every 512
    // data pages it describes.
    let stride = match t.size("stride")? {
        None => 1,
        Some(b) => {
            if !matches!(kind, K::Idle | K::Uniform | K::HotCold | K::Zipf | K::Sequential) {
                return Err(t.error("stride", format!("applies to kind = \"uniform\", \"hotcold\", \"zipf\", \"sequential\" or \"idle\" (this workload is \"{kind_name}\")")));
            }
            if b == 0 {
                return Err(
                    t.error("stride", format!("must be at least one page, e.g. stride = \"{}\"", units::format_size_exact(page_size)))
                );
            }
            to_pages(&t, "stride", b)?
        }
    };
    let range = PageRange { first: offset, count: ws, stride };
    let span_end = range.span().end as u64;
    if span_end > pages {
        return Err(t.error(
            "stride",
            format!("the working set's last page (offset + (pages - 1) x stride) is page {}, past the VM's memory ({pages} pages); use a smaller stride or working_set", span_end - 1),
        ));
    }
    let rate = |t: &mut TableReader<'_>, key: &'static str| -> Result<f64, ConfigError> {
        Ok(match t.write_rate(key)? {
            Some(WriteRate::PagesPerSec(p)) => p,
            Some(w @ WriteRate::BytesPerSec(_)) => w.pages_per_sec(page_size),
            None => 0.0,
        })
    };
    let write_pps = rate(&mut t, "write_rate")?;
    let read_pps = rate(&mut t, "read_rate")?;
    // The clock steps in nanoseconds: a faster guest would make several accesses at one instant,
    // and post-copy draws the guest's accesses one by one. No memory system comes near this rate.
    for (key, pps) in [("write_rate", write_pps), ("read_rate", read_pps)] {
        if pps > MAX_ACCESS_PPS {
            return Err(t.error(
                key,
                format!(
                    "{pps:e} pages/s is above {MAX_ACCESS_PPS:e} pages/s (one page per nanosecond, the simulator's clock step); real guests write at most a few million pages/s"
                ),
            ));
        }
    }
    let needs_rate = !matches!(kind, K::Idle | K::Phases | K::Trace | K::Mix);
    if needs_rate && !t.has("write_rate") {
        return Err(t.error(
            "write_rate",
            format!("kind = \"{kind_name}\" needs a write_rate, e.g. write_rate = \"20000 pages/s\" or \"50 MiB/s\""),
        ));
    }
    if (needs_rate || kind == K::Trace) && ws == 0 {
        return Err(t.error("working_set", "the working set is empty; give it at least one page"));
    }
    // A kind changed by --set leaves the file's keys of the old kind behind, and --set cannot remove
    // a key: say how to replace the whole table instead.
    let kind_from_set = matches!(t.node("kind"), Some(Node { origin: Origin::Override(_), .. }));
    let only_for = |t: &mut TableReader<'_>, key: &'static str, for_kind: &str| -> Result<(), ConfigError> {
        if t.has(key) && kind_name != for_kind {
            let hint = if kind_from_set {
                format!(
                    "; to change the kind from the command line, replace the whole table: --set '{}={{ kind = \"{kind_name}\", write_rate = \"...\", ... }}'",
                    t.path()
                )
            } else {
                String::new()
            };
            return Err(t.error(key, format!("applies only to kind = \"{for_kind}\" (this workload is \"{kind_name}\"){hint}")));
        }
        Ok(())
    };
    only_for(&mut t, "hot_set", "hotcold")?;
    only_for(&mut t, "hot_share", "hotcold")?;
    only_for(&mut t, "exponent", "zipf")?;
    only_for(&mut t, "phases", "phases")?;
    only_for(&mut t, "repeat", "phases")?;
    only_for(&mut t, "parts", "mix")?;
    if kind == K::Mix {
        for key in ["write_rate", "read_rate", "working_set", "offset", "full_cpu_rate"] {
            if t.has(key) {
                return Err(t.error(key, "a mix takes this key in each of its parts, not for the whole"));
            }
        }
    }
    for key in crate::trace_replay::KEYS {
        only_for(&mut t, key, "trace")?;
    }
    let kind = match kind {
        K::Idle => WorkloadKind::Idle,
        K::Uniform => WorkloadKind::Uniform,
        K::HotCold => {
            let Some(hot) = t.size("hot_set")? else {
                return Err(t.error("hot_set", "kind = \"hotcold\" needs hot_set, e.g. hot_set = \"512 MiB\""));
            };
            let hot_pages = to_pages(&t, "hot_set", hot)?;
            if hot_pages == 0 || hot_pages > ws {
                return Err(t.error(
                    "hot_set",
                    format!("must be between one page and the working set ({})", units::format_size_exact(ws * page_size)),
                ));
            }
            WorkloadKind::HotCold { hot_pages, hot_share: t.fraction("hot_share")?.unwrap_or(0.9) }
        }
        K::Zipf => {
            let exponent = t.float("exponent")?.unwrap_or(1.0);
            if exponent <= 0.0 {
                return Err(t.error("exponent", format!("{exponent} must be > 0 (1.0 is classic Zipf)")));
            }
            WorkloadKind::Zipf { exponent }
        }
        K::Sequential => WorkloadKind::Sequential,
        K::Fluid => WorkloadKind::Fluid,
        K::Trace => WorkloadKind::Trace(crate::trace_replay::read_spec(&mut t, file, page_size)?),
        K::Phases => {
            let repeat = t.bool("repeat")?.unwrap_or(true);
            let Some(list) = t.tables("phases")? else {
                return Err(t.error("phases", "kind = \"phases\" needs [[workload.phases]] entries with duration and workload"));
            };
            if list.is_empty() {
                return Err(t.error("phases", "needs at least one phase"));
            }
            let mut phases = Vec::new();
            for mut p in list {
                let Some(duration_ns) = p.duration("duration")? else {
                    return Err(p.error("duration", "every phase needs a duration, e.g. duration = \"10 s\""));
                };
                if duration_ns == 0 {
                    return Err(p.error("duration", "must be longer than zero"));
                }
                let wl_path = p.key_path("workload");
                let Some(n) = p.node("workload") else {
                    return Err(p.error("workload", "every phase needs workload = { kind = \"uniform\", write_rate = \"...\" }"));
                };
                let workload = read_workload(file, wl_path, n, pages, page_size)?;
                if matches!(workload.kind, WorkloadKind::Phases { .. }) {
                    return Err(p.error("workload", "phases cannot nest"));
                }
                p.finish()?;
                phases.push(Phase { duration_ns, workload });
            }
            WorkloadKind::Phases { phases, repeat }
        }
        K::Mix => {
            let need = "kind = \"mix\" needs parts = [{ kind = \"uniform\", write_rate = \"...\", ... }, ...]";
            let path = t.key_path("parts");
            let items = match t.node("parts").map(|n| &n.value) {
                Some(config::Value::Array(items)) if !items.is_empty() => items,
                _ => return Err(t.error("parts", need)),
            };
            let mut parts = Vec::new();
            for (i, n) in items.iter().enumerate() {
                let w = read_workload(file, format!("{path}.{i}"), n, pages, page_size)?;
                if matches!(w.kind, WorkloadKind::Phases { .. } | WorkloadKind::Mix { .. }) {
                    return Err(t.error("parts", "a part of a mix cannot be a phases or mix workload"));
                }
                parts.push(w);
            }
            WorkloadKind::Mix { parts }
        }
    };
    let full_cpu_pps = match t.write_rate("full_cpu_rate")? {
        Some(r) if r.pages_per_sec(page_size) <= 0.0 => return Err(t.error("full_cpu_rate", "must be greater than zero")),
        Some(r) => Some(r.pages_per_sec(page_size)),
        None => None,
    };
    let write_delta = read_delta(&mut t, page_size)?;
    t.finish()?;
    let (mut write_pps, mut read_pps, mut working_set) = (write_pps, read_pps, range);
    if let WorkloadKind::Mix { parts } = &kind {
        // The whole: the parts' rates added up, and the range that holds every part's working set.
        write_pps = parts.iter().map(|p| p.write_pps).sum();
        read_pps = parts.iter().map(|p| p.read_pps).sum();
        let first = parts.iter().map(|p| p.working_set.first).min().unwrap_or(0);
        let end = parts.iter().map(|p| p.working_set.span().end as u64).max().unwrap_or(0);
        working_set = PageRange::contiguous(first, end - first);
    }
    Ok(WorkloadSpec { kind, write_pps, read_pps, working_set, full_cpu_pps, write_delta })
}

/// `write_delta = "64 B"` or `write_delta = { min = "16 B", max = "4 KiB" }`.
fn read_delta(t: &mut TableReader<'_>, page_size: u64) -> Result<DeltaSize, ConfigError> {
    let is_table = matches!(t.raw().get("write_delta").map(|n| &n.value), Some(config::Value::Table(_)));
    let d = if is_table {
        let mut d = t.table("write_delta")?.expect("checked above");
        let (Some(min), Some(max)) = (d.size("min")?, d.size("max")?) else {
            return Err(d.error("min", "a write_delta range needs min and max, e.g. { min = \"16 B\", max = \"4 KiB\" }"));
        };
        if min > max {
            return Err(d.error("min", "is larger than max"));
        }
        d.finish()?;
        DeltaSize::Uniform(min, max)
    } else {
        match t.size("write_delta")? {
            Some(b) => DeltaSize::Fixed(b),
            None => DEFAULT_WRITE_DELTA,
        }
    };
    let max = match d {
        DeltaSize::Fixed(b) | DeltaSize::Uniform(_, b) => b,
    };
    if max > 2 * page_size {
        return Err(t.error(
            "write_delta",
            format!("is larger than two pages ({}); a delta above one page overflows anyway", units::format_size_exact(2 * page_size)),
        ));
    }
    Ok(d)
}

fn read_migration(
    t: &mut TableReader<'_>,
    defaults: Option<&MigrationParams>,
) -> Result<(MigrationParams, Option<Vec<Strategy>>), ConfigError> {
    let strategies = match t.strings("strategy")? {
        Some(list) => {
            if list.is_empty() {
                return Err(t.error("strategy", "give at least one strategy: precopy, postcopy, hybrid or cold"));
            }
            let mut out = Vec::new();
            for (s, origin) in list {
                match Strategy::NAMES.iter().find(|(n, _)| *n == s) {
                    Some((_, st)) => out.push(*st),
                    None => {
                        let hint = config::suggest(&s, Strategy::NAMES.iter().map(|(n, _)| *n))
                            .map_or(String::new(), |h| format!("did you mean \"{h}\"? "));
                        return Err(t.error_at(
                            "strategy",
                            &origin,
                            format!("\"{s}\" is not a strategy; {hint}expected precopy, postcopy, hybrid or cold"),
                        ));
                    }
                }
            }
            Some(out)
        }
        None => None,
    };
    let d = defaults.cloned().unwrap_or(MigrationParams {
        strategy: None,
        stop_policy: StopPolicy::Qemu,
        downtime_limit_ns: 300_000_000,
        max_bandwidth_bps: None,
        max_postcopy_bandwidth_bps: None,
        max_rounds: 30,
        max_time_ns: 3_600_000_000_000,
        on_max_time: OnMaxTime::Cancel,
        hybrid_switch_after: 2,
        setup_time_ns: 0,
        resume_time_ns: 0,
        switchover_bandwidth_bps: None,
        page_header_bytes: 8,
        cpu_rate_new_bps: None,
        cpu_rate_resent_bps: None,
        mech: Mechanisms::default(),
    });
    let stop_policy = match t.string("stop_policy")? {
        Some(s) => choice(t, "stop_policy", &s, &StopPolicy::NAMES)?,
        None => d.stop_policy,
    };
    let on_max_time = match t.string("on_max_time")? {
        Some(s) => choice(t, "on_max_time", &s, &OnMaxTime::NAMES)?,
        None => d.on_max_time,
    };
    let max_rounds = match t.uint("max_rounds")? {
        Some(0) => return Err(t.error("max_rounds", "must be at least 1")),
        Some(n) => u32::try_from(n).map_err(|_| t.error("max_rounds", "is too large"))?,
        None => d.max_rounds,
    };
    let max_time_ns = match t.duration("max_time")? {
        Some(0) => return Err(t.error("max_time", "must be longer than zero, e.g. \"10 min\"")),
        Some(n) => n,
        None => d.max_time_ns,
    };
    let hybrid_switch_after = match t.uint("hybrid_switch_after")? {
        Some(0) => return Err(t.error("hybrid_switch_after", "must be at least 1 (round 0, the bulk copy, always runs as pre-copy)")),
        Some(n) => u32::try_from(n).map_err(|_| t.error("hybrid_switch_after", "is too large"))?,
        None => d.hybrid_switch_after,
    };
    let p = MigrationParams {
        strategy: d.strategy,
        stop_policy,
        downtime_limit_ns: t.duration("downtime_limit")?.unwrap_or(d.downtime_limit_ns),
        max_bandwidth_bps: t.positive_rate("max_bandwidth")?.or(d.max_bandwidth_bps),
        max_postcopy_bandwidth_bps: t.positive_rate("max_postcopy_bandwidth")?.or(d.max_postcopy_bandwidth_bps),
        max_rounds,
        max_time_ns,
        on_max_time,
        hybrid_switch_after,
        setup_time_ns: t.duration("setup_time")?.unwrap_or(d.setup_time_ns),
        resume_time_ns: t.duration("resume_time")?.unwrap_or(d.resume_time_ns),
        switchover_bandwidth_bps: t.positive_rate("switchover_bandwidth")?.or(d.switchover_bandwidth_bps),
        page_header_bytes: t.size("page_header")?.unwrap_or(d.page_header_bytes),
        cpu_rate_new_bps: t.positive_rate("cpu_rate_new")?.or(d.cpu_rate_new_bps),
        cpu_rate_resent_bps: t.positive_rate("cpu_rate_resent")?.or(d.cpu_rate_resent_bps),
        mech: mechanism::read(t, &d.mech)?,
    };
    Ok((p, strategies))
}

impl Scenario {
    /// The fully resolved scenario in the full form, with every default written out. Reading it back
    /// gives the same scenario.
    pub fn to_toml(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let q = |x: &str| format!("{x:?}");
        let _ = writeln!(s, "# {} resolved by migsim check: every default is written out.", self.file);
        let _ = writeln!(s, "name = {}", q(&self.name));
        let _ = writeln!(s, "description = {}", q(&self.description));
        let _ = writeln!(s, "seed = {}", self.seed);
        let _ = writeln!(s, "\n[migration]");
        let strategies: Vec<String> = self.strategies.iter().map(|s| q(s.name())).collect();
        let _ = writeln!(s, "strategy = [{}]", strategies.join(", "));
        for h in &self.hosts {
            let _ = writeln!(s, "\n[[hosts]]\nname = {}", q(&h.name));
        }
        for l in &self.links {
            let _ = writeln!(
                s,
                "\n[[links]]\nbetween = [{}, {}]\nbandwidth = {}\nlatency = {}",
                q(&self.hosts[l.a].name),
                q(&self.hosts[l.b].name),
                q(&units::format_rate_exact(l.bandwidth_bps)),
                q(&units::format_duration_exact(l.latency_ns))
            );
        }
        for v in &self.vms {
            let _ = writeln!(s, "\n[[vms]]\nname = {}\nhost = {}", q(&v.name), q(&self.hosts[v.host].name));
            let _ = writeln!(s, "memory = {}", q(&units::format_size_exact(v.memory_bytes)));
            let _ = writeln!(s, "page_size = {}", q(&units::format_size_exact(v.page_size)));
            match &v.zero_pages {
                ZeroPages::Profile(p) => {
                    let _ = writeln!(s, "zero_profile = [{}]", p.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", "));
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
        for m in &self.migrations {
            let p = &m.params;
            let _ = writeln!(s, "\n[[migrations]]\nvm = {}\nto = {}", q(&self.vms[m.vm].name), q(&self.hosts[m.to].name));
            let _ = writeln!(s, "start = {}", q(&units::format_duration_exact(m.start_ns)));
            if let Some(st) = p.strategy {
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
            let _ = writeln!(s, "on_max_time = {}", q(config::name_of(&OnMaxTime::NAMES, p.on_max_time)));
            let _ = writeln!(s, "hybrid_switch_after = {}", p.hybrid_switch_after);
            let _ = writeln!(s, "setup_time = {}", q(&units::format_duration_exact(p.setup_time_ns)));
            let _ = writeln!(s, "resume_time = {}", q(&units::format_duration_exact(p.resume_time_ns)));
            if let Some(b) = p.switchover_bandwidth_bps {
                let _ = writeln!(s, "switchover_bandwidth = {}", q(&units::format_rate_exact(b)));
            }
            let _ = writeln!(s, "page_header = {}", q(&units::format_size_exact(p.page_header_bytes)));
            for (k, r) in [("cpu_rate_new", p.cpu_rate_new_bps), ("cpu_rate_resent", p.cpu_rate_resent_bps)] {
                if let Some(b) = r {
                    let _ = writeln!(s, "{k} = {}", q(&units::format_rate_exact(b)));
                }
            }
            for line in mechanism::to_toml(&p.mech) {
                let _ = writeln!(s, "{line}");
            }
        }
        s
    }
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
        parts.extend(t.inline_keys());
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
