//! The query layer (`asqlite-query`) on point selects: building and compiling the statement, the engine's
//! compiled-statement cache (hit, miss, precompiled), a hand-written SQL string through the engine, and the point
//! query through the engine against the driver's own `Pool`, all on the same fixture database.
//!
//! `cargo bench -p asqlite-bench --bench query`

use std::future::Future;
use std::time::{Duration, Instant};

use asqlite_bench::data::sql;
use asqlite_bench::{Car, Fixture, Options, Sizes};
use asqlite_query::prelude::*;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

fn cars_table() -> Table {
    let meta = MetaData::new();
    Table::new(
        "cars",
        &meta,
        [
            Column::new("car_id", Integer).primary_key(),
            Column::new("make", Text),
            Column::new("year", Integer),
            Column::new("mileage", Integer),
        ],
    )
}

fn point(cars: &Table) -> asqlite_query::select::Select {
    select(cars).where_(cars.c("car_id").eq(bindparam("id")))
}

fn car(r: &RowRef<'_>) -> Car {
    Car {
        car_id: r.get(0).expect("car_id"),
        make: r.get(1).expect("make"),
        year: r.get(2).expect("year"),
        mileage: r.get(3).expect("mileage"),
    }
}

/// Building the statement, and building and compiling it (what a cache miss costs on top of the query).
fn build(c: &mut Criterion) {
    let cars = cars_table();
    let mut g = c.benchmark_group("query/build");
    g.bench_function("build", |b| b.iter(|| std::hint::black_box(point(&cars))));
    g.bench_function("build+compile", |b| b.iter(|| std::hint::black_box(point(&cars).compile().expect("compile"))));
    g.finish();
}

/// `iters` point queries inside one `block_on`, cycling over the fixture's keys.
fn bench_points<F, Fut>(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    ids: &[i64],
    query: F,
) where
    F: Fn(i64) -> Fut,
    Fut: Future<Output = Car>,
{
    let check = rt.block_on(query(ids[0]));
    assert_eq!(check.car_id, ids[0], "{name} read another car");
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let id = ids[usize::try_from(i).unwrap_or(0) % ids.len()];
                    std::hint::black_box(query(id).await);
                }
                start.elapsed()
            })
        });
    });
}

/// The point query through the engine (cache hit, miss, precompiled, hand-written SQL) and through the `Pool`.
fn point_query(c: &mut Criterion) {
    let fixture = Fixture::create(Sizes::FULL).expect("build the benchmark database");
    let options = Options::default();
    let rt = options.runtime().expect("runtime");
    let path = std::path::absolute(&fixture.path).expect("absolute path");
    let url = format!("sqlite:///{}?readers={}", path.display(), options.readers);
    let engine = rt.block_on(create_async_engine(&url)).expect("engine");
    let uncached = rt.block_on(create_async_engine(&format!("{url}&cache_size=0"))).expect("engine, no cache");
    let pool = rt.block_on(asqlite::Pool::builder().readers(options.readers).open(&fixture.path)).expect("pool");
    let conn = rt.block_on(engine.connect()).expect("connect");
    let uncached_conn = rt.block_on(uncached.connect()).expect("connect");
    let cars = cars_table();
    let compiled = point(&cars).compile().expect("compile");
    let hand_written = text("SELECT car_id, make, year, mileage FROM cars WHERE car_id = :id");
    let ids = &fixture.point_ids;

    let mut g = c.benchmark_group("query/point");
    g.throughput(Throughput::Elements(1))
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    bench_points(&mut g, &rt, "asqlite-pool", ids, |id| {
        let pool = &pool;
        async move { car(&pool.query_one(sql::POINT, params![id]).await.expect("pool point").as_row_ref()) }
    });
    let (conn, cars) = (&conn, &cars);
    bench_points(&mut g, &rt, "engine, built in the loop (cache hit)", ids, |id| async move {
        let r = conn.execute_with(point(cars), named_params! {"id" => id}).await.expect("engine point");
        car(&r.one().expect("one row"))
    });
    let uncached_conn = &uncached_conn;
    bench_points(&mut g, &rt, "engine, built in the loop (no cache: compiled every time)", ids, |id| async move {
        let r = uncached_conn.execute_with(point(cars), named_params! {"id" => id}).await.expect("engine point");
        car(&r.one().expect("one row"))
    });
    let compiled = &compiled;
    bench_points(&mut g, &rt, "engine, compiled once", ids, |id| async move {
        let r = conn.execute_with(compiled, named_params! {"id" => id}).await.expect("engine point");
        car(&r.one().expect("one row"))
    });
    let hand_written = &hand_written;
    bench_points(&mut g, &rt, "engine, hand-written SQL text", ids, |id| async move {
        let r = conn.execute_with(hand_written, named_params! {"id" => id}).await.expect("engine point");
        car(&r.one().expect("one row"))
    });
    g.finish();

    let stats = engine.cache_stats();
    // Two shapes (the select, built in every iteration, and the text); everything else was a hit.
    assert!(stats.misses <= 2 && stats.hits > 0, "the engine's cache missed: {stats:?}");
    rt.block_on(async {
        let _ = engine.dispose().await;
        let _ = uncached.dispose().await;
        let _ = pool.close().await;
    });
}

criterion_group!(benches, build, point_query);
criterion_main!(benches);
