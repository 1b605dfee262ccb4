//! The crates people use against the floor and asqlite's `Pool`: rusqlite, tokio-rusqlite, async-sqlite and sqlx,
//! on the same bundled SQLite, in one criterion group per workload (insert, point, point64, scan, stream).
//!
//! `cargo bench -p asqlite-bench --bench peers` (without the default `peers` feature, only rusqlite and asqlite run)

mod common;

use asqlite_bench::Group;
use criterion::{criterion_group, criterion_main, Criterion};

fn peers(c: &mut Criterion) {
    common::run(c, "peers", Group::Peers);
}

criterion_group!(benches, peers);
criterion_main!(benches);
