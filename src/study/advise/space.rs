//! The space advise searches for one scenario: which strategies and knob values it may try (the
//! scenario's own values among them; a knob pinned by `--set`, ruled out by `--exclude` or without
//! effect in the model keeps the scenario's value, with the reason), candidates (a strategy and a
//! value per knob), the combinations QEMU refuses, and how a candidate becomes `--set` overrides
//! of the scenario, so that every candidate is read by the scenario reader like any other
//! scenario. It knows nothing of runs, figures or the search order.

use super::knob::{Knob, Setting, round3, scenario_value};
use super::objective::{Metric, Objective};
use crate::model::Scenario;
use crate::model::mechanism::HybridSwitch;
use crate::model::strategy::{self, Strategy};

/// One knob's values (ordered, the scenario's among them), or why it is not searched.
#[derive(Debug, Clone)]
pub struct Dim {
    pub knob: Knob,
    pub values: Vec<Setting>,
    pub scenario: Setting,
    /// Why only the scenario's value is tried (pinned, excluded, or no effect in the model).
    pub fixed: Option<String>,
}

impl Dim {
    fn new(knob: Knob, scenario: Setting, mut extra: Vec<Setting>) -> Dim {
        extra.push(scenario.clone());
        let mut values: Vec<Setting> = Vec::new();
        for v in extra {
            if !values.contains(&v) {
                values.push(v);
            }
        }
        values.sort_by(|a, b| a.order().total_cmp(&b.order()));
        Dim { knob, values, scenario, fixed: None }
    }

    fn fix(&mut self, why: impl Into<String>) {
        self.values = vec![self.scenario.clone()];
        self.fixed = Some(why.into());
    }

    /// Add a value (refinement); false if it was there already.
    pub fn insert(&mut self, v: Setting) -> bool {
        if self.values.contains(&v) {
            return false;
        }
        self.values.push(v);
        self.values.sort_by(|a, b| a.order().total_cmp(&b.order()));
        true
    }

    /// The values next to `v` in order.
    pub fn neighbours(&self, v: &Setting) -> Vec<Setting> {
        let Some(i) = self.values.iter().position(|x| x == v) else { return vec![] };
        [i.checked_sub(1), Some(i + 1)].into_iter().flatten().filter_map(|j| self.values.get(j).cloned()).collect()
    }
}

/// What advise may change in the scenario, and the scenario's own values.
#[derive(Debug, Clone)]
pub struct Space {
    /// `migration.` for a short-form scenario, `migrations.0.` for a full-form one.
    pub prefix: String,
    pub strategies: Vec<Strategy>,
    /// Strategies ruled out by `--exclude`.
    pub excluded: Vec<&'static str>,
    pub dims: Vec<Dim>,
}

/// The names `--exclude` takes.
pub fn exclude_names() -> Vec<&'static str> {
    let mut v = strategy::names();
    v.extend(Knob::ALL.iter().map(|k| k.name()));
    v
}

/// The workload's page writes per second, summed over its parts (a trace's rate is unknown).
pub fn write_pps(w: &crate::model::workload::WorkloadSpec) -> Option<f64> {
    use crate::model::workload::WorkloadKind;
    match &w.kind {
        WorkloadKind::Mix { parts } => parts.iter().map(write_pps).sum(),
        WorkloadKind::Phases { phases, .. } => {
            let total: f64 = phases.iter().map(|p| p.duration_ns as f64).sum();
            let rates: Option<Vec<f64>> = phases.iter().map(|p| write_pps(&p.workload).map(|r| r * p.duration_ns as f64)).collect();
            rates.map(|r| if total > 0.0 { r.iter().sum::<f64>() / total } else { 0.0 })
        }
        WorkloadKind::Trace(_) => None,
        _ => Some(w.write_pps),
    }
}

/// Whether the workload draws random numbers: anything that writes or reads does (a sequential
/// writer's post-copy accesses are drawn too); an idle guest is the same on every seed.
pub fn stochastic(w: &crate::model::workload::WorkloadSpec) -> bool {
    use crate::model::workload::WorkloadKind;
    match &w.kind {
        WorkloadKind::Mix { parts } => parts.iter().any(stochastic),
        WorkloadKind::Phases { phases, .. } => phases.iter().any(|p| stochastic(&p.workload)),
        WorkloadKind::Trace(_) => true,
        _ => w.write_pps > 0.0 || w.read_pps > 0.0,
    }
}

impl Space {
    /// The space of a scenario with one migration. `full_form`: the file has `[[migrations]]`, so
    /// the knobs are set on that entry. `sets` are the user's `--set` overrides (each pins the knob
    /// it names), `exclude` the `--exclude` names, `objectives` add their downtime bounds to the
    /// downtime limits tried.
    pub fn new(sc: &Scenario, full_form: bool, sets: &[String], exclude: &[String], objectives: &[Objective]) -> Result<Space, String> {
        if sc.migrations.len() != 1 {
            return Err(format!(
                "{}: advise tunes one migration, but the scenario has {} ([[migrations]]); give it a scenario with one VM that migrates",
                sc.file,
                sc.migrations.len()
            ));
        }
        let prefix = if full_form { "migrations.0." } else { "migration." }.to_string();
        let names = exclude_names();
        for x in exclude {
            if !names.contains(&x.as_str()) {
                let hint = crate::names::suggest(x, names.iter().copied()).map_or(String::new(), |s| format!("did you mean `{s}`? "));
                return Err(format!("--exclude {x}: not a strategy or a knob; {hint}valid: {}", names.join(", ")));
            }
        }
        // A `--set` of a migration key pins the knob that owns it.
        let pinned: Vec<&str> = sets
            .iter()
            .filter_map(|s| s.split_once('=').map(|(k, _)| k.trim()))
            .filter_map(|k| k.strip_prefix("migration.").or_else(|| k.strip_prefix("migrations.0.")))
            .map(|k| k.split('.').next().unwrap_or(k))
            .collect();
        if pinned.contains(&"strategy") {
            return Err(
                "--set migration.strategy: advise chooses the strategy; rule strategies out with --exclude, e.g. --exclude postcopy,hybrid"
                    .into(),
            );
        }
        let excluded: Vec<&'static str> = strategy::names().into_iter().filter(|n| exclude.iter().any(|x| x == n)).collect();
        let strategies: Vec<Strategy> = strategy::ALL.into_iter().filter(|s| !excluded.contains(&s.name())).collect();
        if strategies.is_empty() {
            return Err("--exclude rules out every strategy; leave at least one of precopy, postcopy, hybrid, cold".into());
        }

        let m = &sc.migrations[0];
        let p = &m.params;
        let vm = &sc.vms[m.vm];
        let writes = write_pps(&vm.workload).is_none_or(|r| r > 0.0);
        let policy = p.stop_policy.name();
        let mut dims = Vec::new();
        for knob in Knob::ALL {
            let here = scenario_value(knob, p, vm.page_size);
            let mut d = match knob {
                Knob::DowntimeLimit => {
                    let mut v: Vec<Setting> = [10, 30, 100, 300, 1000].iter().map(|ms| Setting::Duration(ms * 1_000_000)).collect();
                    for o in objectives.iter().filter(|o| o.metric == Metric::Downtime && o.limit > 0.0) {
                        v.push(Setting::Duration((o.limit * 1e9).round() as u64));
                    }
                    let mut d = Dim::new(knob, here, v);
                    if !matches!(policy, "qemu" | "threshold" | "simgrid") {
                        d.fix(format!("the scenario's stop policy, {policy}, does not use a downtime limit"));
                    }
                    d
                }
                Knob::MaxBandwidth => {
                    let mut d = Dim::new(knob, here.clone(), vec![Setting::Caps(None, None)]);
                    if d.values.len() == 1 {
                        d.fixed = Some("the scenario caps nothing, so the whole link is used; a lower cap never shortens a migration, pin one with --set".into());
                    }
                    d
                }
                Knob::AutoConverge => Dim::new(
                    knob,
                    here,
                    vec![Setting::AutoConverge(None), Setting::AutoConverge(Some((20.0, 10.0))), Setting::AutoConverge(Some((40.0, 20.0)))],
                ),
                Knob::DirtyLimit => {
                    let w = write_pps(&vm.workload).unwrap_or(0.0);
                    let v = [0.5, 0.25, 0.1].iter().filter(|_| w > 0.0).map(|f| Setting::DirtyLimit(Some(round3(w * f)))).collect();
                    let mut v: Vec<Setting> = v;
                    v.push(Setting::DirtyLimit(None));
                    let mut d = Dim::new(knob, here, v);
                    if w <= 0.0 && writes {
                        d.fix("the workload replays a trace, whose write rate is not known in advance");
                    }
                    d
                }
                Knob::Xbzrle => {
                    let v = [64u64 << 20, 256 << 20, 1 << 30]
                        .into_iter()
                        .filter(|&c| c == 64 << 20 || c <= vm.memory_bytes / 2)
                        .map(|c| Setting::Xbzrle(Some(c)))
                        .chain([Setting::Xbzrle(None)])
                        .collect();
                    Dim::new(knob, here, v)
                }
                Knob::Multifd => {
                    let mut d = Dim::new(knob, here, [1, 2, 4, 8].map(Setting::Channels).to_vec());
                    if p.cpu_rate_new_bps.is_none() && p.cpu_rate_resent_bps.is_none() && p.mech.compression.is_none() {
                        d.fix("the scenario gives the host no CPU limit in cpu_rate_new or cpu_rate_resent, so more channels cannot speed the stream up in the model");
                    }
                    d
                }
                Knob::Compression => {
                    let mut d = Dim::new(knob, here, vec![Setting::Compression(false)]);
                    if d.values.len() == 1 {
                        d.fixed = Some("the scenario does not say how well its pages compress: give [migration] compression = { ratio, cpu_rate } to try it".into());
                    }
                    d
                }
                Knob::HybridSwitch => Dim::new(knob, here, [1, 2, 4].map(|n| Setting::Switch(HybridSwitch::Rounds, n)).to_vec()),
                Knob::PostcopyPreempt => Dim::new(knob, here, vec![Setting::Flag(false), Setting::Flag(true)]),
                Knob::Prepaging => {
                    let mut d = Dim::new(knob, here, vec![Setting::Pages(1), Setting::Pages(64)]);
                    if !p.mech.postcopy_push {
                        d.fix("the scenario turns the post-copy push off (postcopy_push = false)");
                    }
                    d
                }
            };
            let needs_writes = matches!(knob, Knob::AutoConverge | Knob::DirtyLimit | Knob::Xbzrle);
            if needs_writes && !writes {
                d.fix("the guest writes nothing, so there is nothing to throttle or re-send");
            }
            if let Some(k) = knob.keys().iter().find(|k| pinned.contains(k)) {
                d.fix(format!("pinned by --set {prefix}{k}"));
            }
            if exclude.iter().any(|x| x == knob.name()) {
                d.fix(format!("--exclude {}", knob.name()));
            }
            if !strategies.iter().any(|s| knob.acts_on(*s)) {
                d.fix("it acts on none of the strategies left");
            }
            dims.push(d);
        }
        Ok(Space { prefix, strategies, excluded, dims })
    }

    pub fn dim(&self, knob: Knob) -> &Dim {
        self.dims.iter().find(|d| d.knob == knob).expect("every knob has a dim")
    }

    pub fn dim_mut(&mut self, knob: Knob) -> &mut Dim {
        self.dims.iter_mut().find(|d| d.knob == knob).expect("every knob has a dim")
    }

    /// The scenario's own settings under strategy `s`.
    pub fn baseline(&self, s: Strategy) -> Candidate {
        Candidate { strategy: s, settings: self.dims.iter().map(|d| d.scenario.clone()).collect() }
    }

    /// The candidate that runs strategy `s` with the knob values of another migration's
    /// parameters `p` (pages of `page_size` bytes): a configuration written in another scenario
    /// file, to be run on this scenario's guest.
    pub fn candidate_of(&self, s: Strategy, p: &crate::model::scenario::MigrationParams, page_size: u64) -> Candidate {
        let mut c = self.baseline(s);
        for d in &self.dims {
            c.set(self, d.knob, scenario_value(d.knob, p, page_size));
        }
        c
    }

    /// The knobs searched for strategy `s` (more than one value, acting on it).
    pub fn searched(&self, s: Strategy) -> Vec<Knob> {
        self.dims.iter().filter(|d| d.values.len() > 1 && d.knob.acts_on(s)).map(|d| d.knob).collect()
    }

    /// How many candidates the full product holds (an upper bound: invalid pairs are skipped).
    pub fn size(&self) -> u128 {
        self.strategies.iter().map(|s| self.searched(*s).iter().map(|k| self.dim(*k).values.len() as u128).product::<u128>()).sum()
    }

    /// Every valid candidate of the full product, strategy by strategy (the last knob varies
    /// fastest). Only for a space whose `size` is small.
    pub fn all(&self) -> Vec<Candidate> {
        let mut out = Vec::new();
        for s in &self.strategies {
            let knobs = self.searched(*s);
            let sizes: Vec<usize> = knobs.iter().map(|k| self.dim(*k).values.len()).collect();
            for n in 0..sizes.iter().product::<usize>() {
                let mut c = self.baseline(*s);
                let mut rest = n;
                for (k, size) in knobs.iter().zip(&sizes).rev() {
                    c.set(self, *k, self.dim(*k).values[rest % size].clone());
                    rest /= size;
                }
                if c.valid() {
                    out.push(c);
                }
            }
        }
        out
    }
}

/// A strategy and a value for every knob (the scenario's where the knob does not act on it).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub strategy: Strategy,
    pub settings: Vec<Setting>,
}

impl Candidate {
    fn index(space: &Space, knob: Knob) -> usize {
        space.dims.iter().position(|d| d.knob == knob).expect("every knob has a dim")
    }

    pub fn get(&self, space: &Space, knob: Knob) -> &Setting {
        &self.settings[Self::index(space, knob)]
    }

    /// Set a knob; a knob that does not act on the strategy keeps the scenario's value, so two
    /// candidates that run the same migration are equal.
    pub fn set(&mut self, space: &Space, knob: Knob, v: Setting) {
        let i = Self::index(space, knob);
        self.settings[i] = if knob.acts_on(self.strategy) { v } else { space.dims[i].scenario.clone() };
    }

    pub fn with(&self, space: &Space, knob: Knob, v: Setting) -> Candidate {
        let mut c = self.clone();
        c.set(space, knob, v);
        c
    }

    /// Combinations QEMU refuses: XBZRLE with multifd (multifd pages are never XBZRLE-encoded),
    /// and the dirty limit with auto-converge (QEMU 8.1's dirty-limit capability conflicts with it).
    pub fn valid(&self) -> bool {
        let mut xbzrle = false;
        let mut channels = 1;
        let mut ac = false;
        let mut dl = false;
        for s in &self.settings {
            match s {
                Setting::Xbzrle(c) => xbzrle = c.is_some(),
                Setting::Channels(n) => channels = *n,
                Setting::AutoConverge(a) => ac = a.is_some(),
                Setting::DirtyLimit(d) => dl = d.is_some(),
                _ => {}
            }
        }
        !(xbzrle && channels > 1 || ac && dl)
    }

    /// The knobs set away from the scenario's values.
    pub fn changed(&self, space: &Space) -> Vec<Knob> {
        space.dims.iter().zip(&self.settings).filter(|(d, v)| **v != d.scenario).map(|(d, _)| d.knob).collect()
    }

    /// The `--set` overrides that make the scenario run this candidate: the strategy, then each
    /// knob set away from the scenario's value.
    pub fn overrides(&self, space: &Space) -> Vec<String> {
        let mut out = vec![format!("{}strategy=\"{}\"", space.prefix, self.strategy.name())];
        for (d, v) in space.dims.iter().zip(&self.settings) {
            if *v != d.scenario {
                out.extend(v.sets(d.knob).into_iter().map(|(k, v)| format!("{}{k}={v}", space.prefix)));
            }
        }
        out
    }

    /// A stable identity: the overrides, one string.
    pub fn key(&self, space: &Space) -> String {
        self.overrides(space).join(" ; ")
    }

    /// "precopy, downtime_limit 50 ms, auto_converge on, 20/10 %", or "precopy as the scenario says".
    pub fn label(&self, space: &Space) -> String {
        let changed: Vec<String> = self.changed(space).iter().map(|k| format!("{} {}", k.name(), self.get(space, *k).words())).collect();
        if changed.is_empty() {
            format!("{} as the scenario says", self.strategy.name())
        } else {
            format!("{}, {}", self.strategy.name(), changed.join(", "))
        }
    }

    /// The strategy's place in `strategy::ALL` (pre-copy, post-copy, hybrid, cold): the last
    /// tie-break between equally good settings.
    pub fn strategy_rank(&self) -> usize {
        strategy::ALL.iter().position(|s| *s == self.strategy).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(extra: &str) -> String {
        format!(
            "name = \"t\"\n[vm]\nmemory = \"1 GiB\"\n[network]\nbandwidth = \"10 Gbit/s\"\n[workload]\nkind = \"uniform\"\nwrite_rate = \"1000 pages/s\"\nworking_set = \"64 MiB\"\n[migration]\n{extra}"
        )
    }

    fn scenario(extra: &str) -> Scenario {
        crate::input::from_str("t.toml", "t", &text(extra), &[]).unwrap()
    }

    #[test]
    fn the_scenario_value_is_one_of_the_values_and_needs_no_override() {
        let sc = scenario("downtime_limit = \"50 ms\"\n");
        let space = Space::new(&sc, false, &[], &[], &[]).unwrap();
        assert_eq!(space.prefix, "migration.");
        let d = space.dim(Knob::DowntimeLimit);
        let ms: Vec<u64> = d.values.iter().map(|v| if let Setting::Duration(n) = v { n / 1_000_000 } else { 0 }).collect();
        assert_eq!(ms, [10, 30, 50, 100, 300, 1000]);
        let base = space.baseline(strategy::PRECOPY);
        assert_eq!(base.overrides(&space), ["migration.strategy=\"precopy\""]);
        assert_eq!(base.label(&space), "precopy as the scenario says");
        let c = base.with(&space, Knob::AutoConverge, Setting::AutoConverge(Some((20.0, 10.0))));
        assert_eq!(
            c.overrides(&space),
            [
                "migration.strategy=\"precopy\"",
                "migration.auto_converge=true",
                "migration.throttle_initial=20.0",
                "migration.throttle_increment=10.0"
            ]
        );
        // Every override is a valid scenario change.
        let sets = c.overrides(&space);
        let sc2 = crate::input::from_str("t.toml", "t", &text("downtime_limit = \"50 ms\"\n"), &sets).unwrap();
        assert_eq!(sc2.migrations[0].params.mech.auto_converge.map(|a| a.initial_pct), Some(20.0));
    }

    #[test]
    fn knobs_that_do_not_act_keep_the_scenario_value() {
        let sc = scenario("");
        let space = Space::new(&sc, false, &[], &[], &[]).unwrap();
        let post = space.baseline(strategy::POSTCOPY);
        let c = post.with(&space, Knob::DowntimeLimit, Setting::Duration(10_000_000));
        assert_eq!(c, post, "post-copy has no downtime limit to tune");
        assert!(space.searched(strategy::POSTCOPY).contains(&Knob::PostcopyPreempt));
        assert!(!space.searched(strategy::COLD).contains(&Knob::AutoConverge));
    }

    #[test]
    fn pinned_and_excluded_knobs_are_not_searched() {
        let sc = scenario("");
        let sets = vec!["migration.downtime_limit=\"20 ms\"".to_string()];
        let space = Space::new(&sc, false, &sets, &["xbzrle".into(), "postcopy".into()], &[]).unwrap();
        assert!(space.dim(Knob::DowntimeLimit).fixed.as_deref().unwrap().contains("pinned"));
        assert_eq!(space.dim(Knob::Xbzrle).values.len(), 1);
        assert!(!space.strategies.iter().any(|s| s.name() == "postcopy"));
        // No CPU limit: multifd cannot help in the model.
        assert!(space.dim(Knob::Multifd).fixed.is_some());
        let e = Space::new(&sc, false, &[], &["xbzrl".into()], &[]).unwrap_err();
        assert!(e.contains("did you mean `xbzrle`?"), "{e}");
        let e = Space::new(&sc, false, &["migration.strategy=cold".into()], &[], &[]).unwrap_err();
        assert!(e.contains("--exclude"), "{e}");
    }

    #[test]
    fn the_product_skips_combinations_qemu_refuses() {
        let sc = scenario("cpu_rate_new = \"400 MiB/s\"\n");
        let space = Space::new(&sc, false, &[], &["postcopy".into(), "hybrid".into(), "cold".into()], &[]).unwrap();
        let all = space.all();
        assert!(all.iter().all(Candidate::valid));
        assert!((all.len() as u128) < space.size());
        let keys: std::collections::HashSet<String> = all.iter().map(|c| c.key(&space)).collect();
        assert_eq!(keys.len(), all.len(), "every candidate is distinct");
    }
}
