//! The criterion harness both bench files share: one group per workload, every contender of the file in it, the
//! floor (rusqlite) first.

use std::time::Duration;

use asqlite_bench::{Contender, Fixture, Group, Kind, Options, Sizes, Workload};
use criterion::{Criterion, SamplingMode, Throughput};

/// Benchmark every workload on the contenders of `group`, under criterion group names `{name}/{workload}`.
pub fn run(c: &mut Criterion, name: &str, group: Group) {
    let fixture = Fixture::create(Sizes::FULL).expect("build the benchmark database");
    let options = Options::default();
    let mut contenders: Vec<Box<dyn Contender>> = Kind::group(group)
        .into_iter()
        .map(|k| k.open(&fixture, &options).unwrap_or_else(|e| panic!("open {}: {e}", k.name())))
        .collect();
    for w in Workload::MEASURED {
        let mut g = c.benchmark_group(format!("{name}/{}", w.name()));
        g.throughput(Throughput::Elements(fixture.ops(w)));
        match w {
            Workload::Point | Workload::Point64 => {
                g.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
            }
            // Batches of 0.02-3 s: one batch per sample, ten samples.
            _ => {
                g.sampling_mode(SamplingMode::Flat)
                    .sample_size(10)
                    .warm_up_time(Duration::from_millis(300))
                    .measurement_time(Duration::from_secs(3));
            }
        }
        for contender in &mut contenders {
            let kind = contender.kind();
            let check = contender.run(w).unwrap_or_else(|e| panic!("{} {}: {e}", kind.name(), w.name()));
            assert_eq!(check.checksum, fixture.expected(w), "{} read something else on {}", kind.name(), w.name());
            g.bench_function(kind.name(), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            contender.run(w).unwrap_or_else(|e| panic!("{} {}: {e}", kind.name(), w.name())).elapsed
                        })
                        .sum()
                });
            });
        }
        g.finish();
    }
}
