//! The tutorial (`cars.rs`) ending the way the Python one does, `df = pd.DataFrame(r)`, but natively: the result
//! as an Apache Arrow record batch, built on the worker thread without blocking the executor. Run it with
//! `cargo run --example cars_arrow --features arrow`.
//!
//! A `RecordBatch` is what the Rust data tools take: DataFusion (`SessionContext::read_batch`), Polars (through
//! Arrow's C data interface), Parquet writers; see the README.

use asqlite_query::arrow::RecordBatch;
use asqlite_query::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let engine = create_async_engine("sqlite+aiosqlite:///async_local.db").await?;

    let meta = MetaData::new();
    let cars = Table::new(
        "cars",
        &meta,
        [
            Column::new("car_id", Integer).primary_key(),
            Column::new("make", Text),
            Column::new("year", Integer),
            Column::new("mileage", Integer),
        ],
    );

    let conn = engine.begin().await?;
    let m = meta.clone();
    conn.run_sync(move |c| m.create_all(c)).await?;
    conn.commit().await?;

    let cars_data = vec![
        named_params! {"make" => "Honda Civic", "year" => 2012, "mileage" => 20_000},
        named_params! {"make" => "Toyota Prius", "year" => 2020, "mileage" => 10_000},
        named_params! {"make" => "Tesla Model 3", "year" => 2019, "mileage" => 5_000},
    ];
    let conn = engine.begin().await?;
    conn.execute_many(cars.insert(), cars_data).await?;
    conn.commit().await?;

    let conn = engine.connect().await?;
    // The DataFrame step: columns built on the worker straight from SQLite's values, typed by the table's columns
    // (car_id: Int64, not null, as a primary key; make: Utf8; year and mileage: Int64).
    let batch: RecordBatch = conn.execute_arrow(select(&cars).where_(cars.c("mileage").gt(6000))).await?;
    println!("{}", batch.schema());
    println!("{} rows", batch.num_rows());
    println!("{}", arrow_cast::pretty::pretty_format_batches(std::slice::from_ref(&batch))?);

    // An ordinary result converts too.
    let r = conn.execute(select(&cars).where_(cars.c("mileage").gt(6000))).await?;
    assert_eq!(r.to_arrow()?, batch);
    engine.dispose().await?;
    Ok(())
}
