//! The tutorial's statements, timed: on a SQLite file, and on PostgreSQL when a URL is given (feature
//! "postgres"). Each statement runs `N` times (after a warm-up) and the median and 99th percentile are printed.
//!
//! ```text
//! cargo run --release -p asqlite-query --features postgres --example latency -- postgresql://postgres@127.0.0.1:54329/postgres
//! ```

use std::time::{Duration, Instant};

use asqlite_query::expr::func;
use asqlite_query::prelude::*;

const N: usize = 2000;

async fn time<F, Fut>(what: &str, db: &str, mut f: F) -> Result<(), asqlite_query::Error>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), asqlite_query::Error>>,
{
    for i in 0..N / 10 {
        f(i).await?;
    }
    let mut took: Vec<Duration> = Vec::with_capacity(N);
    for i in 0..N {
        let t = Instant::now();
        f(i).await?;
        took.push(t.elapsed());
    }
    took.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("| {what} | {db} | {:.0} µs | {:.0} µs |", us(took[N / 2]), us(took[N * 99 / 100]));
    Ok(())
}

async fn run(url: &str, db: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let engine = create_async_engine(url).await?;
    let meta = MetaData::new();
    let cars = Table::new(
        "latency_cars",
        &meta,
        [
            Column::new("car_id", Integer).primary_key(),
            Column::new("make", Text),
            Column::new("year", Integer),
            Column::new("mileage", Integer),
        ],
    );
    engine.drop_all(&meta).await?;
    let conn = engine.begin().await?;
    let m = meta.clone();
    conn.run_sync(move |c| m.create_all(c)).await?;
    conn.commit().await?;
    let rows = || {
        vec![
            named_params! {"make" => "Honda Civic", "year" => 2012, "mileage" => 20_000},
            named_params! {"make" => "Toyota Prius", "year" => 2020, "mileage" => 10_000},
            named_params! {"make" => "Tesla Model 3", "year" => 2019, "mileage" => 5_000},
        ]
    };
    time("begin, execute_many (3 rows), commit", db, |_| {
        let (engine, cars) = (engine.clone(), cars.clone());
        async move {
            let conn = engine.begin().await?;
            conn.execute_many(cars.insert(), rows()).await?;
            conn.commit().await
        }
    })
    .await?;
    time("select where mileage > 6000 (connect, execute)", db, |_| {
        let (engine, cars) = (engine.clone(), cars.clone());
        async move {
            let conn = engine.connect().await?;
            let r = conn.execute(select(&cars).where_(cars.c("mileage").gt(6000)).limit(10)).await?;
            assert_eq!(r.len(), 10);
            Ok(())
        }
    })
    .await?;
    time("point select by key", db, |i| {
        let (engine, cars) = (engine.clone(), cars.clone());
        async move {
            let id = i64::try_from(i % 1000).unwrap_or(0) + 1;
            let conn = engine.connect().await?;
            let make: String = conn.scalar(select(cars.c("make")).where_(cars.c("car_id").eq(id))).await?;
            assert!(!make.is_empty());
            Ok(())
        }
    })
    .await?;
    time("scalar count(*)", db, |_| {
        let (engine, cars) = (engine.clone(), cars.clone());
        async move {
            let conn = engine.connect().await?;
            let n: i64 = conn.scalar(select(func::count_star()).select_from(&cars)).await?;
            assert!(n > 0);
            Ok(())
        }
    })
    .await?;
    engine.drop_all(&meta).await?;
    engine.dispose().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = std::env::temp_dir().join(format!("asqlite-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!("| statement | database | median | p99 |\n|---|---|---|---|");
    run(&format!("sqlite:///{}", dir.join("cars.db").display()), "SQLite (file, WAL)").await?;
    std::fs::remove_dir_all(&dir)?;
    if let Some(url) = std::env::args().nth(1) {
        run(&url, "PostgreSQL (local, TCP)").await?;
    }
    Ok(())
}
