//! asqlite's layers against the synchronous floor: rusqlite, asqlite's blocking connection, its async
//! `Connection` and its `Pool`, in one criterion group per workload (insert, point, point64, scan, stream).
//!
//! `cargo bench -p asqlite-bench --bench sync_vs_async`

mod common;

use asqlite_bench::Group;
use criterion::{criterion_group, criterion_main, Criterion};

fn sync_vs_async(c: &mut Criterion) {
    common::run(c, "sync_vs_async", Group::SyncVsAsync);
}

criterion_group!(benches, sync_vs_async);
criterion_main!(benches);
