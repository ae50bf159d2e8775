//! The core benchmark: a 64 GiB VM with a hot/cold workload on 10 Gbit/s, QEMU pre-copy to completion
//! (benches/hotcold-64g.toml). Run with `cargo bench --bench core`. Peak memory is measured separately
//! with `/usr/bin/time -v target/release/migsim run benches/hotcold-64g.toml` (see docs/performance.md).
//! Beside it: the 1 GiB case a sweep runs thousands of, and 30 s of Zipf writes (benches/zipf-3g.toml).

use criterion::{Criterion, criterion_group, criterion_main};
use migsim::model::{Scenario, strategy};
use std::hint::black_box;
use std::path::Path;

fn load(file: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    migsim::input::load(&path, &[]).expect("bench scenario is valid")
}

fn core(c: &mut Criterion) {
    let sc = load("benches/hotcold-64g.toml");
    let mut g = c.benchmark_group("core");
    g.sample_size(10);
    g.bench_function("64GiB hotcold 10Gbit/s qemu precopy", |b| b.iter(|| black_box(migsim::model::run(&sc, strategy::PRECOPY))));
    g.bench_function("64GiB hotcold 10Gbit/s postcopy", |b| b.iter(|| black_box(migsim::model::run(&sc, strategy::POSTCOPY))));
    let small = load("benches/uniform-1g.toml");
    g.bench_function("1GiB uniform 10Gbit/s all strategies", |b| {
        b.iter(|| strategy::ALL.iter().map(|&s| black_box(migsim::model::run(&small, s)).len()).sum::<usize>())
    });
    let zipf = load("benches/zipf-3g.toml");
    g.bench_function("3GiB zipf 100Mbit/s precopy 30s", |b| b.iter(|| black_box(migsim::model::run(&zipf, strategy::PRECOPY))));
    g.finish();
}

criterion_group!(benches, core);
criterion_main!(benches);
