use asqlite_query::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // With no argument, the file `async_local.db`; with a URL (`-- postgresql://user@host/db`, feature
    // "postgres"), the same program runs there unchanged.
    let url = std::env::args().nth(1);
    let url = url.as_deref().unwrap_or("sqlite+aiosqlite:///async_local.db"); // also "sqlite:///path", "sqlite://" (memory)
    let engine = create_async_engine(url).await?;

    let meta = MetaData::new(); // cheap to clone, shared
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

    let conn = engine.begin().await?; // a transaction; dropped without commit = rolled back
    let m = meta.clone();
    conn.run_sync(move |c| m.create_all(c)).await?; // closure runs with a blocking connection (the worker's, on SQLite)
    conn.commit().await?;

    let cars_data = vec![
        named_params! {"make" => "Honda Civic", "year" => 2012, "mileage" => 20_000},
        named_params! {"make" => "Toyota Prius", "year" => 2020, "mileage" => 10_000},
        named_params! {"make" => "Tesla Model 3", "year" => 2019, "mileage" => 5_000},
    ];
    let conn = engine.begin().await?;
    conn.execute_many(cars.insert(), cars_data).await?; // one compiled statement, N parameter sets, one hop
    conn.commit().await?;

    let conn = engine.connect().await?;
    let r = conn.execute(select(&cars).where_(cars.c("mileage").gt(6000))).await?;
    assert_eq!(r.columns(), ["car_id", "make", "year", "mileage"]);
    for row in r.iter() {
        let (id, make): (i64, String) = (row.get(0)?, row.get("make")?);
        let year = row.get::<i64>("year")?; // the type can also be named with a turbofish
        println!("{id} {make} {year}");
    }
    println!("{r}"); // an aligned text table, like a DataFrame's repr
    engine.dispose().await?;
    Ok(())
}
