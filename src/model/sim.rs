//! One simulation run: the VMs, the network and the migrations, driven by the event queue. Each event
//! goes to the migration it names, which acts through its `Ctx` in the phase it is in
//! (`model::strategy`). Read a migration top to bottom in `strategy::precopy` and
//! `strategy::postcopy`.

use crate::model::events::{EventQueue, SimTime};
use crate::model::memory::Layouts;
use crate::model::migration::{Ctx, Ev, Migration};
use crate::model::network::{Network, route};
use crate::model::plan::Admission;
use crate::model::probe::{LinkLoad, Probe};
use crate::model::result::{MigrationResult, RunReport};
use crate::model::scenario::Scenario;
use crate::model::strategy::{self, Strategy, postcopy};
use crate::model::vm::Vm;

/// Simulate every strategy of the scenario (one run each, same seed).
pub fn simulate(sc: &Scenario) -> RunReport {
    simulate_watched(sc, None).0
}

/// `simulate`, sampling the rates on `links` in each run when given (`model::probe`): the report
/// and one `LinkLoad` per run (empty ones without `links`).
pub fn simulate_watched(sc: &Scenario, links: Option<&[usize]>) -> (RunReport, Vec<LinkLoad>) {
    let mut migrations = Vec::new();
    let mut loads = Vec::new();
    for &s in &sc.strategies {
        let mut sim = Simulation::new(sc, s);
        if let Some(l) = links {
            sim.watch(l.to_vec());
        }
        sim.run();
        migrations.extend(sim.results());
        loads.push(sim.link_load());
    }
    let report = RunReport {
        scenario: sc.name.clone(),
        description: sc.description.clone(),
        seed: sc.seed,
        migsim_version: env!("CARGO_PKG_VERSION"),
        migrations,
    };
    (report, loads)
}

/// Run one simulation of `sc` with every migration that has no strategy of its own using `strategy`.
pub fn run(sc: &Scenario, strategy: Strategy) -> Vec<MigrationResult> {
    let mut sim = Simulation::new(sc, strategy);
    sim.run();
    sim.results()
}

fn seed_for(seed: u64, vm: usize) -> u64 {
    // SplitMix64 of (seed, vm): independent, reproducible streams per VM.
    let mut z = seed ^ (vm as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub struct Simulation<'a> {
    sc: &'a Scenario,
    q: EventQueue<Ev>,
    net: Network,
    vms: Vec<Vm>,
    migs: Vec<Migration>,
    /// When held-back migrations may start (`model::plan`).
    admission: Admission,
    probe: Option<Probe>,
}

/// The links each migration of `sc` crosses: the scenario's own route, else the fewest hops.
pub fn routes(sc: &Scenario) -> Vec<Vec<usize>> {
    sc.migrations
        .iter()
        .map(|m| {
            m.route.clone().unwrap_or_else(|| {
                route(&sc.links, sc.hosts.len(), sc.vms[m.vm].host, m.to).expect("routes are checked when the scenario is read")
            })
        })
        .collect()
}

/// The migration an event belongs to.
fn owner(ev: &Ev) -> usize {
    match *ev {
        Ev::Start(m) | Ev::SetupDone(m) | Ev::Wake(m, _) | Ev::Vcpu(m, _) | Ev::Request(m, _) | Ev::Deadline(m) => m,
    }
}

impl<'a> Simulation<'a> {
    pub fn new(sc: &'a Scenario, strategy: Strategy) -> Self {
        let mut net = Network::new(&sc.links);
        let mut layouts = Layouts::default();
        let vms = sc.vms.iter().enumerate().map(|(i, v)| Vm::new(v, seed_for(sc.seed, i), &mut layouts)).collect();
        let mut q = EventQueue::default();
        let migs = sc
            .migrations
            .iter()
            .zip(routes(sc))
            .enumerate()
            .map(|(i, (m, route))| {
                let vm = &sc.vms[m.vm];
                let flow = net.add_flow(route);
                q.schedule(m.start_ns, Ev::Start(i));
                let strategy = m.strategy.unwrap_or(strategy);
                Migration::new(m, vm, strategy, flow, net.latency(flow), seed_for(sc.seed ^ 0x6D65_6368, i))
            })
            .collect();
        Simulation {
            sc,
            q,
            net,
            vms,
            migs,
            admission: Admission::new(sc.plan.pools.iter().map(|p| p.capacity).collect(), sc.migrations.iter().map(|m| &m.gate)),
            probe: None,
        }
    }

    /// Sample the rates on `links` (and of all migrations) while the run goes.
    pub fn watch(&mut self, links: Vec<usize>) {
        self.probe = Some(Probe::new(links, &routes(self.sc)));
    }

    /// What the probe saw (empty unless `watch` was called).
    pub fn link_load(&mut self) -> LinkLoad {
        self.probe.take().map(Probe::finish).unwrap_or_default()
    }

    /// Migration `m`'s view of the world.
    fn ctx(&mut self, m: usize) -> Ctx<'_> {
        let mig = &mut self.migs[m];
        let vm = mig.vm;
        Ctx { id: m, mig, vm: &mut self.vms[vm], spec: &self.sc.vms[vm], net: &mut self.net, q: &mut self.q }
    }

    pub fn run(&mut self) {
        loop {
            // Shares changed by the events of this instant are solved before the clock moves on.
            let now = self.q.now();
            self.net.settle(now, self.q.seq_mut());
            // The next event: the queue's, or the network's next completed batch, by time and then
            // by the order they were scheduled in.
            let flow_first = match (self.q.peek(), self.net.peek()) {
                (None, None) => break,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(e), Some(f)) => f < e,
            };
            if flow_first {
                let (now, _) = self.net.peek().expect("peeked");
                if let Some(p) = self.probe.as_mut() {
                    p.observe(now, &self.net);
                }
                self.q.advance_to(now);
                let flow = self.net.complete(now, self.q.seq_mut());
                // With many migrations, the next one's bitmaps are cold: fetch them meanwhile.
                if let Some(next) = self.net.next_flow() {
                    let mg = &self.migs[next];
                    mg.bits.prefetch(mg.cursor);
                    self.vms[mg.vm].mem.nonzero.prefetch(mg.cursor);
                }
                // The flow id is the migration's index.
                strategy::batch_done(&mut self.ctx(flow), now);
                self.check_end(flow, now);
                continue;
            }
            let (now, ev) = self.q.pop().expect("peeked");
            if let Some(p) = self.probe.as_mut() {
                p.observe(now, &self.net);
            }
            let owner = owner(&ev);
            match ev {
                Ev::Start(m) => {
                    if self.admission.start(m) {
                        strategy::start(&mut self.ctx(m), now)
                    }
                }
                Ev::SetupDone(m) => strategy::precopy::setup_done(&mut self.ctx(m), now),
                Ev::Wake(m, g) => {
                    if self.migs[m].wake_gen == g {
                        self.migs[m].wake_at = None;
                        strategy::step(&mut self.ctx(m), now);
                    }
                }
                Ev::Vcpu(m, g) => {
                    if self.migs[m].vcpu_gen == g {
                        postcopy::run_vcpu(&mut self.ctx(m), now);
                    }
                }
                Ev::Request(m, page) => postcopy::on_request(&mut self.ctx(m), page, now),
                Ev::Deadline(m) => strategy::deadline(&mut self.ctx(m), now),
            }
            self.check_end(owner, now);
        }
    }

    /// If migration `m` has just ended, free what it held: the migrations it let go start when it
    /// ended (the VM runs at its destination), or now if that moment has passed.
    fn check_end(&mut self, m: usize, now: SimTime) {
        if let Some(end) = self.migs[m].end
            && !self.admission.has_ended(m)
        {
            for k in self.admission.ended(m) {
                self.q.schedule(end.max(now), Ev::Start(k));
            }
        }
    }

    /// Every migration's figures, in the scenario's order.
    pub fn results(&self) -> Vec<MigrationResult> {
        let now: SimTime = self.q.now();
        self.migs.iter().map(|mg| mg.result(self.sc, &self.vms[mg.vm], now)).collect()
    }
}
