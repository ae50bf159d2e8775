//! The resolved scenario the simulation runs: hosts, links, VMs with their workloads, and
//! migrations with every parameter filled in. Internally: bytes, bytes per second, nanoseconds,
//! pages per second. `input` builds it from TOML; nothing here knows about files.

use crate::model::mechanism::Mechanisms;
use crate::model::memory::ZeroPages;
use crate::model::plan::{Gate, Goal, Plan};
use crate::model::stop::policy::StopPolicy;
use crate::model::strategy::rule::Strategy;
use crate::model::workload::WorkloadSpec;

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

#[derive(Debug, Clone, Default)]
pub struct Host {
    pub name: String,
    /// The rack it sits in (a plan drains racks by name).
    pub rack: Option<String>,
    /// Memory for VMs (placement respects it); `None`: unlimited.
    pub memory_bytes: Option<u64>,
    /// A network switch: it forwards migrations but holds no VM.
    pub switch: bool,
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
    /// With a zero profile: the share of each of its regions that the guest has never written
    /// (`Memory::untouched`), at most the region's zero share.
    pub untouched_profile: Option<Vec<f64>>,
    /// Share of memory the guest has free (ballooned, or reported free): never sent.
    pub free_fraction: f64,
    pub device_state_bytes: u64,
    pub workload: WorkloadSpec,
}

impl VmSpec {
    pub fn pages(&self) -> u64 {
        self.memory_bytes / self.page_size
    }
}

#[derive(Debug, Clone)]
pub struct MigrationParams {
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
    /// The same while the guest is paused (the final copy; `None`: `cpu_rate_resent_bps`): the
    /// stream no longer competes with the vCPUs or their memory traffic.
    pub cpu_rate_resent_paused_bps: Option<f64>,
    pub mech: Mechanisms,
}

#[derive(Debug, Clone)]
pub struct MigrationSpec {
    /// Set when this migration names its own strategy; otherwise the run's strategy applies.
    pub strategy: Option<Strategy>,
    pub vm: usize,
    pub to: usize,
    pub start_ns: u64,
    pub params: MigrationParams,
    /// What holds it back after `start_ns` (other migrations, slots in pools); open by default.
    pub gate: Gate,
    /// Its deadline and downtime objective, for the plan's report.
    pub goal: Goal,
    /// The links it crosses, when the scenario fixed them (a topology's routing); otherwise the
    /// fewest-hop route (`network::route`).
    pub route: Option<Vec<usize>>,
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
    /// The plan's label and its pools (the migrations' gates refer to them).
    pub plan: Plan,
    /// One simulation per entry; migrations without their own strategy use it.
    pub strategies: Vec<Strategy>,
    /// Where the file was read from (for messages).
    pub file: String,
}

impl Scenario {
    /// Run these strategies instead of the scenario's list, also in migrations that named their own
    /// (what `--strategy` does).
    pub fn use_strategies(&mut self, list: Vec<Strategy>) {
        self.strategies = list;
        for m in &mut self.migrations {
            m.strategy = None;
        }
    }
}
