//! The async engine end to end on real database files: the tutorial, commit-as-you-go, transactions and
//! savepoints, executemany (and its key check), serde, streaming, the compiled-statement cache, dispose, URLs,
//! reflection and injection attempts.

use asqlite::ErrorKind;
use asqlite_query::expr::func;
use asqlite_query::prelude::*;
use asqlite_query::Error;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

fn url(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite:///{}", dir.path().join(name).display())
}

fn cars_table(meta: &MetaData) -> Table {
    Table::new(
        "cars",
        meta,
        [
            Column::new("car_id", Integer).primary_key(),
            Column::new("make", Text),
            Column::new("year", Integer),
            Column::new("mileage", Integer),
        ],
    )
}

async fn setup(dir: &tempfile::TempDir) -> (Engine, MetaData, Table) {
    let engine = create_async_engine(&url(dir, "cars.db")).await.unwrap();
    let meta = MetaData::new();
    let cars = cars_table(&meta);
    engine.create_all(&meta).await.unwrap();
    let conn = engine.begin().await.unwrap();
    conn.execute_many(
        cars.insert(),
        vec![
            named_params! {"make" => "Honda Civic", "year" => 2012, "mileage" => 20_000},
            named_params! {"make" => "Toyota Prius", "year" => 2020, "mileage" => 10_000},
            named_params! {"make" => "Tesla Model 3", "year" => 2019, "mileage" => 5_000},
        ],
    )
    .await
    .unwrap();
    conn.commit().await.unwrap();
    (engine, meta, cars)
}

async fn count(engine: &Engine, table: &Table) -> i64 {
    engine.connect().await.unwrap().scalar(select(func::count_star()).select_from(table)).await.unwrap()
}

/// The tutorial of the contract, on an absolute-path URL, with its output checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tutorial() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = tempfile::tempdir()?;
    let engine =
        create_async_engine(&format!("sqlite+aiosqlite:///{}", dir.path().join("async_local.db").display())).await?;
    let meta = MetaData::new();
    let cars = cars_table(&meta);
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
    let r = conn.execute(select(&cars).where_(cars.c("mileage").gt(6000))).await?;
    assert_eq!(r.columns(), ["car_id", "make", "year", "mileage"]);
    let got: Vec<(i64, String, i64)> = r
        .iter()
        .map(|row| Ok((row.get(0)?, row.get("make")?, row.get::<i64>("year")?)))
        .collect::<asqlite::Result<_>>()?;
    assert_eq!(got, [(1, "Honda Civic".into(), 2012), (2, "Toyota Prius".into(), 2020)]);
    assert_eq!(
        r.to_string(),
        "   car_id          make  year  mileage\n0       1   Honda Civic  2012    20000\n1       2  Toyota Prius  2020    10000"
    );
    engine.dispose().await?;
    Ok(())
}

#[tokio::test]
async fn connect_is_commit_as_you_go_and_drop_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _meta, cars) = setup(&dir).await;
    let conn = engine.connect().await.unwrap();
    assert!(!conn.in_transaction());
    conn.execute(cars.insert().value("make", "Kia")).await.unwrap();
    assert!(conn.in_transaction(), "the first write begins a transaction");
    assert_eq!(
        conn.scalar::<i64, _>(select(func::count_star()).select_from(&cars)).await.unwrap(),
        4,
        "sees its own write"
    );
    drop(conn);
    assert_eq!(count(&engine, &cars).await, 3, "dropped without commit: rolled back");
    let conn = engine.connect().await.unwrap();
    let r = conn.execute(cars.insert().value("make", "Kia")).await.unwrap();
    assert_eq!((r.rows_affected(), r.last_insert_rowid()), (1, 4));
    conn.commit().await.unwrap();
    conn.execute(update(&cars).set("year", 2024).where_(cars.c("make").eq("Kia"))).await.unwrap();
    conn.rollback().await.unwrap();
    assert_eq!(count(&engine, &cars).await, 4);
    let year: Option<i64> =
        engine.connect().await.unwrap().scalar(select(cars.c("year")).where_(cars.c("make").eq("Kia"))).await.unwrap();
    assert_eq!(year, None, "the rolled-back update is gone");
}

#[tokio::test]
async fn begin_and_transaction_closure() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _meta, cars) = setup(&dir).await;
    {
        let conn = engine.begin().await.unwrap();
        conn.execute(delete(&cars)).await.unwrap();
    }
    assert_eq!(count(&engine, &cars).await, 3, "begin() dropped without commit rolls back");
    let c2 = cars.clone();
    let n: u64 = engine
        .transaction(|conn| async move {
            let r = conn.execute(delete(&c2).where_(c2.c("year").lt(2015))).await?;
            Ok::<_, Error>(r.rows_affected())
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(count(&engine, &cars).await, 2);
    let c3 = cars.clone();
    let err = engine
        .transaction(|conn| async move {
            conn.execute(delete(&c3)).await?;
            Err::<(), Error>(Error::Rows("changed my mind".into()))
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("changed my mind"));
    assert_eq!(count(&engine, &cars).await, 2, "Err rolls back");
}

#[tokio::test]
async fn nested_savepoints() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _meta, cars) = setup(&dir).await;
    let conn = engine.begin().await.unwrap();
    conn.execute(cars.insert().value("make", "A")).await.unwrap();
    let sp = conn.begin_nested().await.unwrap();
    conn.execute(cars.insert().value("make", "B")).await.unwrap();
    let inner = conn.begin_nested().await.unwrap();
    conn.execute(cars.insert().value("make", "C")).await.unwrap();
    inner.commit().await.unwrap();
    sp.rollback().await.unwrap(); // undoes B and C
    let sp = conn.begin_nested().await.unwrap();
    conn.execute(cars.insert().value("make", "D")).await.unwrap();
    sp.commit().await.unwrap();
    {
        let _dropped = conn.begin_nested().await.unwrap();
        conn.execute(cars.insert().value("make", "E")).await.unwrap();
    }
    conn.commit().await.unwrap();
    let r =
        engine.connect().await.unwrap().execute(select(cars.c("make")).where_(cars.c("car_id").gt(3))).await.unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["A", "D"]);
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Car {
    car_id: Option<i64>,
    make: String,
    year: i64,
    mileage: Option<i64>,
}

#[tokio::test]
async fn execute_many_keys_serde_and_results() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _meta, cars) = setup(&dir).await;
    let conn = engine.connect().await.unwrap();
    let err = conn
        .execute_many(cars.insert(), vec![named_params! {"make" => "X", "year" => 1}, named_params! {"make" => "Y"}])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Params(_)), "{err}");
    assert!(err.to_string().contains("same keys"), "{err}");
    // Same length, other keys: still an error; the same keys in another order (or prefix) are fine.
    let err = conn
        .execute_many(
            cars.insert(),
            vec![named_params! {"make" => "X", "year" => 1}, named_params! {"make" => "Y", "mileage" => 2}],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("same keys"), "{err}");
    let n = conn
        .execute_many(
            cars.insert(),
            vec![named_params! {"make" => "Order1", "year" => 1}, named_params! {":year" => 2, "make" => "Order2"}],
        )
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(n, 2);
    let years: Vec<i64> = conn
        .execute(text("SELECT year FROM cars WHERE make LIKE 'Order%' ORDER BY make"))
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert_eq!(years, vec![1, 2]);
    conn.rollback().await.unwrap();
    let new = vec![
        Car { car_id: None, make: "Kia".into(), year: 2021, mileage: Some(7) },
        Car { car_id: None, make: "Fiat".into(), year: 2022, mileage: None },
    ];
    let r = conn.execute_many(cars.insert(), &new).await.unwrap();
    assert_eq!(r.rows_affected(), 2);
    conn.commit().await.unwrap();
    let r = conn.execute(select(&cars).order_by(cars.c("car_id"))).await.unwrap();
    let all: Vec<Car> = r.deserialize().unwrap();
    assert_eq!(all[3], Car { car_id: Some(4), make: "Kia".into(), year: 2021, mileage: Some(7) });
    assert_eq!(all[4].mileage, None);
    assert_eq!(r.len(), 5);
    assert!(r.one().is_err());
    assert!(r.one_or_none().is_err());
    assert_eq!(r.first().unwrap().get::<String>("make").unwrap(), "Honda Civic");
    assert_eq!(r.mappings()[1]["make"], Value::Text("Toyota Prius".into()));
    let cols = r.to_columns();
    assert_eq!(cols[1].0, "make");
    assert_eq!(cols[2].1.len(), 5);
    assert_eq!(r.column("year").unwrap()[4], Value::Integer(2022));
    let one = conn.execute(select(cars.c("make")).where_(cars.c("car_id").eq(2))).await.unwrap();
    assert_eq!(one.one().unwrap().get::<String>(0).unwrap(), "Toyota Prius");
    let none = conn.execute(select(cars.c("make")).where_(cars.c("car_id").eq(99))).await.unwrap();
    assert!(none.one_or_none().unwrap().is_none());
    assert!(none.one().is_err());
    assert_eq!(none.scalar::<Option<String>>().unwrap(), None);
    assert!(none.scalar::<String>().is_err());
    // bindparam through execute_many (update by key).
    let q = update(&cars).set("mileage", bindparam("m")).where_(cars.c("car_id").eq(bindparam("id")));
    let n = conn
        .execute_many(&q, vec![named_params! {"m" => 1, "id" => 1}, named_params! {"id" => 2, "m" => 2}])
        .await
        .unwrap();
    assert_eq!(n.rows_affected(), 2);
    let err = conn.execute_many(&q, vec![named_params! {"m" => 1}]).await.unwrap_err();
    assert!(err.to_string().contains("\"id\""), "{err}");
    conn.commit().await.unwrap();
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Gadget {
    id: i64,
    ok: bool,
    tags: Vec<String>,
    made: String,
}

#[tokio::test]
async fn types_stored_like_sqlalchemy() {
    let engine = create_async_engine("sqlite://").await.unwrap();
    let meta = MetaData::new();
    let g = Table::new(
        "gadgets",
        &meta,
        [
            Column::new("id", Integer).primary_key(),
            Column::new("ok", Boolean).nullable(false).server_default(0),
            Column::new("tags", Json),
            Column::new("made", DateTime),
            Column::new("name", Varchar(20)).server_default("none"),
        ],
    );
    engine.create_all(&meta).await.unwrap();
    let made = asqlite_query::types::datetime_text(2024, 5, 17, 8, 30, 0, 1234).unwrap();
    let item = Gadget { id: 1, ok: true, tags: vec!["a".into(), "b".into()], made: made.clone() };
    let conn = engine.connect().await.unwrap();
    conn.execute_with(g.insert(), &item).await.unwrap();
    let raw = conn.execute(text("SELECT ok, tags, made, name, typeof(ok) FROM gadgets")).await.unwrap();
    let row = raw.one().unwrap();
    assert_eq!(row.get::<i64>("ok").unwrap(), 1);
    assert_eq!(row.get::<String>("tags").unwrap(), r#"["a","b"]"#);
    assert_eq!(row.get::<String>("made").unwrap(), "2024-05-17 08:30:00.001234");
    assert_eq!(row.get::<String>("name").unwrap(), "none");
    let back: Vec<Gadget> =
        conn.execute(select((g.c("id"), g.c("ok"), g.c("tags"), g.c("made")))).await.unwrap().deserialize().unwrap();
    assert_eq!(back, [item]);
    let n: i64 = conn.scalar(select(func::count_star()).select_from(&g).where_(g.c("ok").eq(true))).await.unwrap();
    assert_eq!(n, 1);
    let ddl = asqlite_query::compile::create_table_sql(&g, false);
    assert_eq!(
        ddl,
        "CREATE TABLE gadgets (id INTEGER NOT NULL, ok BOOLEAN NOT NULL DEFAULT 0, tags JSON, made DATETIME, \
         name VARCHAR(20) DEFAULT 'none', PRIMARY KEY (id))"
    );
}

#[tokio::test]
async fn text_bindparams_scalar_and_stream() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _meta, cars) = setup(&dir).await;
    let conn = engine.connect().await.unwrap();
    let r = conn
        .execute_with(text("SELECT make FROM cars WHERE year > :y ORDER BY car_id"), named_params! {"y" => 2015})
        .await
        .unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["Toyota Prius", "Tesla Model 3"]);
    assert!(!conn.in_transaction(), "a text SELECT runs on a reader");
    let err = conn.execute_with(text("SELECT :a"), named_params! {"b" => 1}).await.unwrap_err();
    assert!(matches!(err, Error::Params(_)), "{err}");
    let q = select(cars.c("make")).where_(cars.c("mileage").lt(bindparam("m")));
    let make: String = conn.scalar_with(&q, named_params! {"m" => 6000}).await.unwrap();
    assert_eq!(make, "Tesla Model 3");
    conn.execute(text("INSERT INTO cars (make) VALUES ('Lada')")).await.unwrap();
    assert!(conn.in_transaction(), "a text write begins the transaction");
    let mut s = conn.stream(select(cars.c("car_id")).order_by(cars.c("car_id"))).await.unwrap();
    let mut ids = Vec::new();
    while let Some(row) = s.next().await {
        ids.push(row.unwrap().get::<i64>(0).unwrap());
    }
    assert_eq!(ids, [1, 2, 3, 4]);
    conn.commit().await.unwrap();
    let compiled = select(cars.c("make")).where_(cars.c("car_id").eq(4)).compile().unwrap();
    assert_eq!(conn.scalar::<String, _>(&compiled).await.unwrap(), "Lada");
}

/// The same query built 10,000 times compiles once, and the driver prepares its SQL once per connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_built_in_a_loop_compiles_once() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _meta, cars) = setup(&dir).await;
    let conn = engine.connect().await.unwrap();
    let before = engine.cache_stats();
    let prepared_before = engine.pool().stats().cache_misses;
    for i in 0..10_000i64 {
        let q = select(&cars).where_(cars.c("car_id").eq(i % 3 + 1));
        let r = conn.execute(q).await.unwrap();
        assert_eq!(r.one().unwrap().get::<i64>(0).unwrap(), i % 3 + 1);
    }
    let after = engine.cache_stats();
    assert_eq!(after.misses - before.misses, 1);
    assert_eq!(after.hits - before.hits, 9_999);
    let prepared = engine.pool().stats().cache_misses - prepared_before;
    let connections = u64::try_from(engine.pool().stats().readers).unwrap() + 1;
    assert!(prepared <= connections, "prepared {prepared} times on {connections} connections");
}

#[tokio::test]
async fn dispose_makes_later_use_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _meta, cars) = setup(&dir).await;
    let conn = engine.connect().await.unwrap();
    let clone = engine.clone();
    engine.dispose().await.unwrap();
    assert!(clone.is_disposed());
    assert!(matches!(clone.connect().await.unwrap_err(), Error::Closed(_)));
    assert!(matches!(conn.execute(select(&cars)).await.unwrap_err(), Error::Closed(_)));
    engine.dispose().await.unwrap();
}

#[tokio::test]
async fn urls_memory_read_only_and_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, meta, cars) = setup(&dir).await;
    engine.dispose().await.unwrap();
    let ro = create_async_engine(&format!("{}?mode=ro", url(&dir, "cars.db"))).await.unwrap();
    assert_eq!(count(&ro, &cars).await, 3);
    let err = ro.connect().await.unwrap().execute(delete(&cars)).await.unwrap_err();
    assert!(err.driver_kind().is_some(), "{err}");
    let mem = create_async_engine("sqlite+aiosqlite://").await.unwrap();
    mem.create_all(&meta).await.unwrap();
    assert_eq!(count(&mem, &cars).await, 0);
    for bad in ["mysql://x", "sqlite:/nope.db", "sqlite:///x.db?mode=fast", "sqlite+psycopg:///x.db"] {
        assert!(matches!(create_async_engine(bad).await.unwrap_err(), Error::Url(_)), "{bad}");
    }
    let missing = create_async_engine(&format!("{}?mode=rw", url(&dir, "missing.db"))).await.unwrap_err();
    assert_eq!(missing.driver_kind(), Some(ErrorKind::CantOpen));
}

#[tokio::test]
async fn ddl_order_and_reflection() {
    let engine = create_async_engine("sqlite://").await.unwrap();
    let meta = MetaData::new();
    // Defined child first: create_all still creates the parent first.
    let cars = Table::with_constraints(
        "cars",
        &meta,
        [
            Column::new("car_id", Integer).primary_key(),
            Column::new("owner_id", Integer).foreign_key("owners.id").on_delete(ReferentialAction::Cascade),
            Column::new("plate", Varchar(10)).unique(),
            Column::new("year", Integer).index(),
        ],
        [Constraint::check("year > 1885").named("ck_year")],
    );
    let owners = Table::new("owners", &meta, [Column::new("id", Integer).primary_key(), Column::new("name", Text)]);
    let links = Table::with_constraints(
        "links",
        &meta,
        [Column::new("a", Integer), Column::new("b", Integer)],
        [Constraint::primary_key(["a", "b"]), Constraint::foreign_key(["a"], "owners", ["id"])],
    );
    Index::new_unique("ix_owner_name", &owners, ["name"]);
    assert_eq!(
        meta.sorted_tables().iter().map(|t| t.name().to_owned()).collect::<Vec<_>>(),
        ["owners", "cars", "links"]
    );
    engine.create_all(&meta).await.unwrap();
    engine.create_all(&meta).await.unwrap(); // checks first: a second run is a no-op
    let got = MetaData::new();
    engine.reflect(&got).await.unwrap();
    let rc = got.table("cars").unwrap();
    assert_eq!(rc.column_names(), ["car_id", "owner_id", "plate", "year"]);
    assert_eq!(rc.primary_key(), ["car_id"]);
    assert_eq!(rc.column("plate").unwrap().sql_type(), &SqlType::Varchar(10));
    let fk = &rc.foreign_keys()[0];
    assert_eq!((fk.target_table.as_str(), fk.on_delete), ("owners", Some(ReferentialAction::Cascade)));
    assert!(rc.indexes().iter().any(|i| i.name() == "ix_cars_year"));
    assert!(rc.constraints().iter().any(|c| matches!(c, Constraint::Unique { columns, .. } if columns == &["plate"])));
    assert_eq!(got.table("links").unwrap().primary_key(), ["a", "b"]);
    assert!(got.table("owners").unwrap().indexes().iter().any(|i| i.name() == "ix_owner_name" && i.is_unique()));
    let conn = engine.begin().await.unwrap();
    let err = conn.execute(cars.insert().value("year", 1800)).await.unwrap_err();
    assert_eq!(err.driver_kind(), Some(ErrorKind::CheckViolation));
    drop(conn);
    assert!(engine.drop_table(&links).await.unwrap());
    assert!(!engine.drop_table(&links).await.unwrap());
    assert!(engine.create_table(&links).await.unwrap());
    assert!(!engine.create_table(&links).await.unwrap());
    engine.drop_all(&meta).await.unwrap();
    engine.drop_all(&meta).await.unwrap();
    let left = MetaData::new();
    engine.reflect(&left).await.unwrap();
    assert!(left.tables().is_empty());
}

#[tokio::test]
async fn injection_through_parameter_keys_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _meta, cars) = setup(&dir).await;
    let conn = engine.connect().await.unwrap();
    let evil_key = "make) VALUES ('x'); DROP TABLE cars; --";
    let err = conn.execute_with(cars.insert(), asqlite::Params::named([(evil_key, "v")])).await.unwrap_err();
    assert!(matches!(err, Error::Compile(_)), "{err}");
    let evil_value = "x'); DROP TABLE cars; --";
    conn.execute_with(cars.insert(), named_params! {"make" => evil_value}).await.unwrap();
    conn.commit().await.unwrap();
    let make: String = conn.scalar(select(cars.c("make")).where_(cars.c("car_id").eq(4))).await.unwrap();
    assert_eq!(make, evil_value);
    assert_eq!(count(&engine, &cars).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_is_shared_across_tasks() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Engine>();
    assert_traits::<AsyncConnection>();
    let dir = tempfile::tempdir().unwrap();
    let (engine, _meta, cars) = setup(&dir).await;
    let mut tasks = Vec::new();
    for t in 0..8i64 {
        let (engine, cars) = (engine.clone(), cars.clone());
        tasks.push(tokio::spawn(async move {
            let conn = engine.connect().await?;
            for i in 0..50i64 {
                let id = (t + i) % 3 + 1;
                let got: i64 = conn.scalar(select(cars.c("car_id")).where_(cars.c("car_id").eq(id))).await?;
                assert_eq!(got, id);
            }
            Ok::<_, Error>(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}

/// `execute_many` of named rows in one key order binds each row on the worker by position, nothing copied; check
/// what that path must keep: keys with prefixes, a parameter used twice, rows whose keys come in another order than
/// the placeholders, a value that cannot convert (an error before anything runs), and client-side defaults (which
/// take the other path).
#[tokio::test]
async fn execute_many_binds_named_rows_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, meta, cars) = setup(&dir).await;
    let conn = engine.begin().await.unwrap();
    let rows = (0..100).map(|i| named_params! {":make" => format!("m{i}"), "$year" => 1900 + i, "mileage" => i});
    assert_eq!(conn.execute_many(cars.insert(), rows).await.unwrap().rows_affected(), 100);
    let q = select(func::sum(cars.c("year"))).where_(cars.c("make").like("m%"));
    assert_eq!(conn.scalar::<i64, _>(&q).await.unwrap(), (0..100).map(|i| 1900 + i).sum::<i64>());
    // The placeholders are (m, k, k); the rows say (k, m): "k" is used twice.
    let q = update(&cars)
        .set("mileage", bindparam("m"))
        .where_(cars.c("make").eq(bindparam("k")) | cars.c("make").eq(func::upper(bindparam("k"))));
    let sets = vec![named_params! {"k" => "m1", "m" => -1}, named_params! {"k" => "m2", "m" => -2}];
    assert_eq!(conn.execute_many(&q, sets).await.unwrap().rows_affected(), 2);
    let r = conn.execute(select(cars.c("mileage")).where_(cars.c("make").in_(["m1", "m2"])).order_by("make")).await;
    assert_eq!(r.unwrap().scalars::<i64>().unwrap(), [-1, -2]);
    let err = conn
        .execute_many(cars.insert(), vec![named_params! {"make" => "a"}, named_params! {"make" => u64::MAX}])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Params(_)), "{err}");
    conn.commit().await.unwrap();
    // A column with a client-side default is filled by a literal: the rows are bound the other way, as before.
    let tagged = Table::new(
        "tagged",
        &meta,
        [Column::new("id", Integer).primary_key(), Column::new("tag", Text).default("none")],
    );
    engine.create_table(&tagged).await.unwrap();
    let conn = engine.begin().await.unwrap();
    conn.execute_many(tagged.insert(), vec![named_params! {"id" => 1}, named_params! {"id" => 2}]).await.unwrap();
    conn.commit().await.unwrap();
    let r = conn.execute(select(tagged.c("tag")).order_by("id")).await.unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["none", "none"]);
}
