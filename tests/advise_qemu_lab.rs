//! advise against the QEMU lab: where the lab ran several configurations of one guest
//! (validation/qemu and validation/qemu-mechanisms: bandwidth caps, downtime limits, post-copy,
//! hybrid, auto-converge, XBZRLE, multifd), advise's evaluation ranks them in the order QEMU
//! measured. Each configuration is read from its case file and becomes an advise candidate (a
//! strategy and knob values, through `Space::candidate_of`); it runs on one base guest of the
//! group through advise's own runner (the `--set` path, three replications) and is ranked by
//! advise's own judge for the figure it minimizes. Every pair QEMU tells apart, by more than the
//! lab's spread between configurations that should have taken the same time (the no-cap and
//! 512 MiB/s runs of the 256 MiB guest: 0.477 s against 0.628 s and 0.695 s, docs/validation.md),
//! must come out in QEMU's order, and the runs QEMU cancelled must not be ranked at all.

use migsim::study::advise::figures::Summary;
use migsim::study::advise::objective::Metric;
use migsim::study::advise::rank::{Entry, Judge};
use migsim::study::advise::runner::Runner;
use migsim::study::advise::space::Space;
use std::path::Path;

/// Measured values closer than this factor are not told apart.
const APART: f64 = 1.5;

/// One guest and the lab's configurations of it.
struct Group {
    /// The case whose guest every configuration runs on.
    base: &'static str,
    /// The lab's constants that the group's other mechanism cases carry and the base lacks
    /// (validation/tools/convert_qemu.py): two cores shared with the guest's vCPU and the
    /// receiver (multifd), the 8-byte change of each write (XBZRLE). The bases of the groups with
    /// auto-converge runs are those runs, which carry the dirtier's rate with a whole vCPU.
    sets: &'static [&'static str],
    /// Case-file name prefixes, in validation/qemu and validation/qemu-mechanisms.
    cases: &'static str,
}

const GROUPS: [Group; 6] = [
    Group {
        base: "validation/qemu-mechanisms/m256-uniform-r10000-w128-bw32-dt300-precopy-ac.toml",
        sets: &["migration.cpu_cores=2", "migration.cpu_busy_threads=1", "migration.cpu_loopback=true", "workload.write_delta=\"8 B\""],
        cases: "m256-uniform-r10000-w128-",
    },
    Group {
        base: "validation/qemu/m1024-uniform-r10000-w768-bw128-dt300-precopy.toml",
        sets: &["migration.cpu_cores=2", "migration.cpu_busy_threads=1", "migration.cpu_loopback=true", "workload.write_delta=\"8 B\""],
        cases: "m1024-uniform-r10000-w768-",
    },
    Group {
        base: "validation/qemu-mechanisms/m256-hotspot-r20000-w128-h16p90-bw32-dt300-precopy-ac.toml",
        sets: &["workload.write_delta=\"8 B\""],
        cases: "m256-hotspot-r20000-w128-h16p90-",
    },
    Group { base: "validation/qemu/m256-idle-w128-bw128-dt300-precopy.toml", sets: &[], cases: "m256-idle-w128-" },
    Group { base: "validation/qemu/m2048-uniform-r10000-w1536-bw128-dt300-precopy.toml", sets: &[], cases: "m2048-uniform-r10000-w1536-" },
    Group { base: "validation/qemu/m256-uniform-r2000-w128-bw32-dt300-precopy.toml", sets: &[], cases: "m256-uniform-r2000-w128-" },
];

/// A `[reference]` figure of a case file (None when QEMU did not report it: a cancelled run).
fn reference(text: &str, key: &str) -> Option<f64> {
    let table = &text[text.find("[reference]")?..];
    let line = table.lines().find(|l| l.split('=').next().is_some_and(|k| k.trim() == key))?;
    line.split('=').nth(1)?.split('#').next()?.trim().parse().ok()
}

/// Rank the group's configurations by `metric` and compare with QEMU's order; the number of
/// pairs compared.
fn check(g: &Group, metric: Metric) -> usize {
    let sets: Vec<String> = g.sets.iter().map(|s| s.to_string()).collect();
    let (runner, sc) = Runner::load(Path::new(g.base), &sets, None, None).unwrap();
    let space = Space::new(&sc, runner.full_form, &sets, &[], &[]).unwrap();
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["validation/qemu", "validation/qemu-mechanisms"] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().unwrap().to_string_lossy().starts_with(g.cases) {
                files.push(p);
            }
        }
    }
    files.sort();
    // Candidates, each with the measured values of the runs that had its configuration (repeats
    // of one configuration share a candidate; their mean is compared).
    let mut cands: Vec<(migsim::study::advise::space::Candidate, String, Vec<Option<f64>>)> = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let case = migsim::input::load(f, &[]).unwrap();
        let st = case.strategies[0];
        let c = space.candidate_of(st, &case.migrations[0].params, case.vms[0].page_size);
        // A run QEMU cancelled (it never converged) has no figure to rank by.
        let measured = match metric {
            _ if text.contains("\nconverged = false") => None,
            Metric::TotalTime => reference(&text, "total_time_s"),
            Metric::Bytes => reference(&text, "bytes_sent"),
            _ => unreachable!("total time and bytes only"),
        };
        match cands.iter_mut().find(|(x, _, _)| *x == c) {
            Some(slot) => slot.2.push(measured),
            None => cands.push((c, f.file_stem().unwrap().to_string_lossy().to_string(), vec![measured])),
        }
    }
    let summaries: Vec<Summary> = cands
        .iter()
        .map(|(c, _, _)| Summary::of(&(0..3).map(|k| runner.run(&c.overrides(&space), c.strategy, k).unwrap()).collect::<Vec<_>>()))
        .collect();
    let keys: Vec<String> = cands.iter().map(|(c, _, _)| c.key(&space)).collect();
    let entries: Vec<Entry> = summaries
        .iter()
        .zip(&cands)
        .zip(&keys)
        .map(|((s, (c, _, _)), k)| Entry { summary: s, changes: c.changed(&space).len(), strategy_rank: c.strategy_rank(), key: k })
        .collect();
    let ranking = Judge { objectives: &[], minimize: metric }.ranking(&entries);
    let place = |i: usize| ranking.iter().position(|&r| r == i);
    let measured: Vec<Option<f64>> = cands
        .iter()
        .map(|(_, _, m)| if m.iter().any(|x| x.is_none()) { None } else { Some(m.iter().flatten().sum::<f64>() / m.len() as f64) })
        .collect();
    let mut pairs = 0;
    for a in 0..cands.len() {
        match measured[a] {
            None => assert!(place(a).is_none(), "{}: QEMU cancelled it, advise ranks it {:?}", cands[a].1, place(a)),
            Some(_) => assert!(place(a).is_some(), "{}: QEMU completed it, advise does not rank it", cands[a].1),
        }
        for b in 0..cands.len() {
            let (Some(x), Some(y)) = (measured[a], measured[b]) else { continue };
            if x * APART < y {
                pairs += 1;
                assert!(
                    place(a) < place(b),
                    "{}: QEMU measured {} {x} for {} and {y} for {}; advise ranks them the other way ({} against {})",
                    g.cases,
                    metric.name(),
                    cands[a].1,
                    cands[b].1,
                    summaries[a].mean(metric),
                    summaries[b].mean(metric)
                );
            }
        }
    }
    pairs
}

#[test]
fn advise_ranks_the_lab_configurations_of_each_guest_in_the_measured_order() {
    let mut pairs = 0;
    for g in &GROUPS {
        for m in [Metric::TotalTime, Metric::Bytes] {
            pairs += check(g, m);
        }
    }
    // The groups hold enough configurations QEMU tells apart for the check to mean something.
    assert!(pairs >= 100, "only {pairs} pairs compared");
}
