//! The engine at scale (issue 17): many concurrent migrations over one shared link and over a
//! two-tier network (benches/concurrent-*.toml), SimGrid's grid (the 42 converging rows of
//! validation/simgrid, one run each), and a 1 TiB VM under each strategy (benches/hotcold-1t.toml).
//! Run with `cargo bench --bench engine` (the 10,000-migration points take a few minutes: criterion's
//! 10 samples of runs of seconds; `cargo bench --bench engine -- "concurrent/10 "` and the like pick
//! some). The curves against an older commit are in `benches/scale.sh` (whole runs).

use criterion::{Criterion, criterion_group, criterion_main};
use migsim::model::{Scenario, strategy};
use std::hint::black_box;
use std::path::Path;

fn load(file: &str, overrides: &[&str]) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    migsim::input::load(&path, &overrides).expect("bench scenario is valid")
}

fn concurrency(c: &mut Criterion) {
    let mut g = c.benchmark_group("concurrent");
    g.sample_size(10);
    for n in [10, 100, 1000, 10_000] {
        let sc = load("benches/concurrent-link.toml", &[&format!("vms.0.count={n}")]);
        g.bench_function(format!("{n} on one 10 Gbit/s link"), |b| b.iter(|| black_box(migsim::model::simulate(&sc))));
    }
    // The two-tier bench's mix: 60 % web servers, 40 % databases.
    for n in [10u64, 100, 1000, 10_000] {
        let (web, db) = (n * 6 / 10, n - n * 6 / 10);
        let sc = load("benches/concurrent-two-tier.toml", &[&format!("vms.0.count={web}"), &format!("vms.1.count={db}")]);
        g.bench_function(format!("{n} over a two-tier network"), |b| b.iter(|| black_box(migsim::model::simulate(&sc))));
    }
    g.finish();
}

fn simgrid_grid(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/simgrid");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("validation/simgrid")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // The 6 rows SimGrid itself never converges on are left out, as in the peer's batch.
            n.starts_with("sg-") && n.ends_with(".toml") && !n.contains("lat10ms-high")
        })
        .collect();
    cases.sort();
    let scenarios: Vec<Scenario> = cases.iter().map(|p| migsim::input::load(p, &[]).expect("valid case")).collect();
    assert_eq!(scenarios.len(), 42);
    let mut g = c.benchmark_group("simgrid");
    g.sample_size(20);
    g.bench_function("grid, 42 migrations", |b| {
        b.iter(|| scenarios.iter().map(|sc| black_box(migsim::model::run(sc, strategy::PRECOPY)).len()).sum::<usize>())
    });
    g.finish();
}

fn one_tib(c: &mut Criterion) {
    let sc = load("benches/hotcold-1t.toml", &[]);
    let mut g = c.benchmark_group("1 TiB");
    g.sample_size(10);
    for s in strategy::ALL {
        g.bench_function(s.name(), |b| b.iter(|| black_box(migsim::model::run(&sc, s))));
    }
    g.finish();
}

criterion_group!(benches, concurrency, simgrid_grid, one_tib);
criterion_main!(benches);
