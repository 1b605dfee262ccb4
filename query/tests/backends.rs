//! One engine test suite, run on both databases: every scenario below is a function of a [`TestDb`], called from
//! a test in `mod sqlite` (a fresh file) and one in `mod postgres` (a fresh schema of the server named by
//! `ASQLITE_TEST_POSTGRES_URL`; skipped, and said so, without it). What a Core user writes must behave the same on
//! both: the tutorial, commit-as-you-go, transactions and savepoints, executemany (in order, all or nothing),
//! streams, run_sync, DDL and reflection, value types, constraint errors by kind, upserts, dispose.

mod support;

use asqlite::ErrorKind;
use asqlite_query::expr::func;
use asqlite_query::prelude::*;
use asqlite_query::Error;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use support::TestDb;

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let tag: String = stringify!($name).chars().take(24).collect();
                    let Some(db) = super::TestDb::postgres(&tag).await else { return };
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_both!(
    tutorial,
    commit_as_you_go_and_drop_rolls_back,
    begin_and_transaction_closure,
    nested_savepoints,
    execute_many_keeps_order_and_is_all_or_nothing,
    execute_many_checks_keys_and_takes_structs,
    scalar_and_streams,
    run_sync_runs_statements_and_a_panic_rolls_back,
    constraint_errors_have_the_same_kinds,
    create_all_drop_all_and_reflect,
    value_types_round_trip,
    upserts_and_returning,
    text_statements_and_bindparams,
    dispose_makes_later_use_an_error,
    engine_is_shared_across_tasks,
);

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

fn cars_data() -> Vec<Params> {
    vec![
        named_params! {"make" => "Honda Civic", "year" => 2012, "mileage" => 20_000},
        named_params! {"make" => "Toyota Prius", "year" => 2020, "mileage" => 10_000},
        named_params! {"make" => "Tesla Model 3", "year" => 2019, "mileage" => 5_000},
    ]
}

async fn setup(db: &TestDb) -> (MetaData, Table) {
    let meta = MetaData::new();
    let cars = cars_table(&meta);
    db.engine.create_all(&meta).await.unwrap();
    let conn = db.engine.begin().await.unwrap();
    conn.execute_many(cars.insert(), cars_data()).await.unwrap();
    conn.commit().await.unwrap();
    (meta, cars)
}

async fn count(engine: &Engine, table: &Table) -> i64 {
    engine.connect().await.unwrap().scalar(select(func::count_star()).select_from(table)).await.unwrap()
}

/// The tutorial of the contract, unchanged but for the URL.
async fn tutorial(db: &TestDb) {
    let engine = create_async_engine(&db.url).await.unwrap();
    let meta = MetaData::new();
    let cars = cars_table(&meta);
    let conn = engine.begin().await.unwrap();
    let m = meta.clone();
    conn.run_sync(move |c| m.create_all(c)).await.unwrap();
    conn.commit().await.unwrap();
    let conn = engine.begin().await.unwrap();
    conn.execute_many(cars.insert(), cars_data()).await.unwrap();
    conn.commit().await.unwrap();
    let conn = engine.connect().await.unwrap();
    let r = conn.execute(select(&cars).where_(cars.c("mileage").gt(6000)).order_by(cars.c("car_id"))).await.unwrap();
    assert_eq!(r.columns(), ["car_id", "make", "year", "mileage"]);
    let rows: Vec<(i64, String, i64)> =
        r.iter().map(|row| (row.get(0).unwrap(), row.get("make").unwrap(), row.get::<i64>("year").unwrap())).collect();
    assert_eq!(rows, [(1, "Honda Civic".to_owned(), 2012), (2, "Toyota Prius".to_owned(), 2020)]);
    let shown = r.to_string();
    assert!(shown.contains("Honda Civic") && shown.contains("car_id"), "{shown}");
    engine.dispose().await.unwrap();
}

async fn commit_as_you_go_and_drop_rolls_back(db: &TestDb) {
    let (_meta, cars) = setup(db).await;
    let engine = &db.engine;
    let conn = engine.connect().await.unwrap();
    assert!(!conn.in_transaction());
    conn.execute(cars.insert().value("make", "Kia")).await.unwrap();
    assert!(conn.in_transaction(), "the first write begins a transaction");
    assert_eq!(conn.scalar::<i64, _>(select(func::count_star()).select_from(&cars)).await.unwrap(), 4);
    drop(conn);
    assert_eq!(count(engine, &cars).await, 3, "dropped without commit: rolled back");
    let conn = engine.connect().await.unwrap();
    let r = conn.execute(cars.insert().value("make", "Kia")).await.unwrap();
    assert_eq!(r.rows_affected(), 1);
    conn.commit().await.unwrap();
    assert!(!conn.in_transaction());
    conn.execute(update(&cars).set("year", 2024).where_(cars.c("make").eq("Kia"))).await.unwrap();
    conn.rollback().await.unwrap();
    assert_eq!(count(engine, &cars).await, 4);
    let year: Option<i64> =
        engine.connect().await.unwrap().scalar(select(cars.c("year")).where_(cars.c("make").eq("Kia"))).await.unwrap();
    assert_eq!(year, None, "the rolled-back update is gone");
}

async fn begin_and_transaction_closure(db: &TestDb) {
    let (_meta, cars) = setup(db).await;
    let engine = &db.engine;
    {
        let conn = engine.begin().await.unwrap();
        conn.execute(delete(&cars)).await.unwrap();
        assert!(conn.begin().await.is_err(), "a transaction is already open");
    }
    assert_eq!(count(engine, &cars).await, 3, "begin() dropped without commit rolls back");
    let c2 = cars.clone();
    let n: u64 = engine
        .transaction(|conn| async move {
            let r = conn.execute(delete(&c2).where_(c2.c("year").lt(2015))).await?;
            Ok::<_, Error>(r.rows_affected())
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    let c3 = cars.clone();
    let err = engine
        .transaction(|conn| async move {
            conn.execute(delete(&c3)).await?;
            Err::<(), Error>(Error::Rows("changed my mind".into()))
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("changed my mind"));
    assert_eq!(count(engine, &cars).await, 2, "Err rolls back");
}

async fn nested_savepoints(db: &TestDb) {
    let (_meta, cars) = setup(db).await;
    let conn = db.engine.begin().await.unwrap();
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
    let r = db
        .engine
        .connect()
        .await
        .unwrap()
        .execute(select(cars.c("make")).where_(cars.c("car_id").gt(3)).order_by(cars.c("car_id")))
        .await
        .unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["A", "D"]);
}

/// Rows go in the order given (the keys the database numbers follow it) however many pipelines they take, and a
/// failing row undoes its whole batch while the transaction goes on.
async fn execute_many_keeps_order_and_is_all_or_nothing(db: &TestDb) {
    let meta = MetaData::new();
    let items = Table::new(
        "items",
        &meta,
        [Column::new("id", Integer).primary_key(), Column::new("n", Integer).unique(), Column::new("label", Text)],
    );
    db.engine.create_all(&meta).await.unwrap();
    let rows: Vec<Params> = (0..2500i64).map(|n| named_params! {"n" => n, "label" => format!("item {n}")}).collect();
    let conn = db.engine.begin().await.unwrap();
    let r = conn.execute_many(items.insert(), rows).await.unwrap();
    assert_eq!(r.rows_affected(), 2500);
    // A batch whose last row collides with an earlier one: nothing of it stays, the transaction goes on.
    let bad: Vec<Params> = (5000..5010i64).chain([7]).map(|n| named_params! {"n" => n, "label" => "bad"}).collect();
    let err = conn.execute_many(items.insert(), bad).await.unwrap_err();
    assert_eq!(err.driver_kind(), Some(ErrorKind::UniqueViolation), "{err}");
    conn.execute(items.insert().values(named_params! {"n" => 9000, "label" => "after"})).await.unwrap();
    conn.commit().await.unwrap();
    let conn = db.engine.connect().await.unwrap();
    let r = conn.execute(select((items.c("id"), items.c("n"))).order_by(items.c("id"))).await.unwrap();
    assert_eq!(r.len(), 2501);
    for (i, row) in r.iter().take(2500).enumerate() {
        let (id, n): (i64, i64) = (row.get(0).unwrap(), row.get(1).unwrap());
        assert_eq!((id, n), (i64::try_from(i).unwrap() + 1, i64::try_from(i).unwrap()), "row {i} out of order");
    }
    let bad: i64 =
        conn.scalar(select(func::count_star()).select_from(&items).where_(items.c("label").eq("bad"))).await.unwrap();
    assert_eq!(bad, 0);
    // Updates by key, many at once.
    let conn = db.engine.begin().await.unwrap();
    let sets: Vec<Params> = (0..10i64).map(|n| named_params! {"k" => n, "v" => format!("renamed {n}")}).collect();
    let r = conn
        .execute_many(update(&items).set("label", bindparam("v")).where_(items.c("n").eq(bindparam("k"))), sets)
        .await
        .unwrap();
    assert_eq!(r.rows_affected(), 10);
    conn.commit().await.unwrap();
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Car {
    make: String,
    year: i64,
    mileage: Option<i64>,
}

async fn execute_many_checks_keys_and_takes_structs(db: &TestDb) {
    let (_meta, cars) = setup(db).await;
    let conn = db.engine.connect().await.unwrap();
    let err = conn
        .execute_many(cars.insert(), vec![named_params! {"make" => "X", "year" => 1}, named_params! {"make" => "Y"}])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("same keys"), "{err}");
    let fleet = vec![
        Car { make: "Kia".into(), year: 2021, mileage: None },
        Car { make: "Fiat".into(), year: 2001, mileage: Some(99_000) },
    ];
    conn.execute_many(cars.insert(), &fleet).await.unwrap();
    conn.commit().await.unwrap();
    let back: Vec<Car> = conn
        .execute(
            select((cars.c("make"), cars.c("year"), cars.c("mileage")))
                .where_(cars.c("car_id").gt(3))
                .order_by(cars.c("car_id")),
        )
        .await
        .unwrap()
        .deserialize()
        .unwrap();
    assert_eq!(back, fleet);
}

async fn scalar_and_streams(db: &TestDb) {
    let (_meta, cars) = setup(db).await;
    let conn = db.engine.connect().await.unwrap();
    let n: i64 = conn.scalar(select(func::count_star()).select_from(&cars)).await.unwrap();
    assert_eq!(n, 3);
    let none: Option<String> = conn.scalar(select(cars.c("make")).where_(cars.c("year").gt(3000))).await.unwrap();
    assert_eq!(none, None);
    let mut s = conn.stream(select(cars.c("make")).order_by(cars.c("year"))).await.unwrap();
    let mut makes = Vec::new();
    while let Some(row) = s.next().await {
        makes.push(row.unwrap().get::<String>(0).unwrap());
    }
    assert_eq!(makes, ["Honda Civic", "Tesla Model 3", "Toyota Prius"]);
    // In a transaction, the stream sees the transaction's writes.
    conn.execute(cars.insert().value("make", "Kia").value("year", 2030)).await.unwrap();
    let s = conn.stream(select(cars.c("make")).where_(cars.c("year").gt(2025))).await.unwrap();
    let rows: Vec<_> = s.collect().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].as_ref().unwrap().get::<String>(0).unwrap(), "Kia");
    conn.rollback().await.unwrap();
    // A stream dropped half-way leaves the connection usable.
    let mut s = conn.stream(select(cars.c("make"))).await.unwrap();
    s.next().await.unwrap().unwrap();
    drop(s);
    assert_eq!(conn.scalar::<i64, _>(select(func::count_star()).select_from(&cars)).await.unwrap(), 3);
}

async fn run_sync_runs_statements_and_a_panic_rolls_back(db: &TestDb) {
    let (_meta, cars) = setup(db).await;
    let conn = db.engine.begin().await.unwrap();
    let t = cars.clone();
    let (n, exists) = conn
        .run_sync(move |c| {
            c.execute_stmt(t.insert().value("make", "Sync"))?;
            let n: i64 = c.execute_stmt(select(func::count_star()).select_from(&t))?.scalar()?;
            Ok::<_, Error>((n, t.exists(c)?))
        })
        .await
        .unwrap();
    assert_eq!((n, exists), (4, true));
    conn.commit().await.unwrap();
    assert_eq!(count(&db.engine, &cars).await, 4);
    let conn = db.engine.begin().await.unwrap();
    conn.execute(delete(&cars)).await.unwrap();
    let err = conn
        .run_sync(|_c| -> Result<(), Error> {
            panic!("boom");
        })
        .await
        .unwrap_err();
    assert_eq!(err.driver_kind(), Some(ErrorKind::Panicked), "{err}");
    conn.rollback().await.unwrap();
    assert_eq!(count(&db.engine, &cars).await, 4, "the delete before the panic was rolled back");
}

async fn constraint_errors_have_the_same_kinds(db: &TestDb) {
    let meta = MetaData::new();
    let owners = Table::new(
        "owners",
        &meta,
        [Column::new("id", Integer).primary_key(), Column::new("name", Text).nullable(false).unique()],
    );
    let _cars = Table::with_constraints(
        "cars",
        &meta,
        [
            Column::new("car_id", Integer).primary_key(),
            Column::new("year", Integer),
            Column::new("owner_id", Integer).foreign_key("owners.id"),
        ],
        [Constraint::check("year > 1800")],
    );
    db.engine.create_all(&meta).await.unwrap();
    let conn = db.engine.connect().await.unwrap();
    conn.execute(owners.insert().value("id", 1).value("name", "Ann")).await.unwrap();
    conn.commit().await.unwrap();
    let cases = [
        ("INSERT INTO owners (id, name) VALUES (2, 'Ann')", ErrorKind::UniqueViolation, "23505"),
        ("INSERT INTO owners (id, name) VALUES (1, 'Bob')", ErrorKind::PrimaryKeyViolation, "23505"),
        ("INSERT INTO owners (id, name) VALUES (3, NULL)", ErrorKind::NotNullViolation, "23502"),
        ("INSERT INTO cars (car_id, year, owner_id) VALUES (1, 2000, 42)", ErrorKind::ForeignKeyViolation, "23503"),
        ("INSERT INTO cars (car_id, year) VALUES (1, 1700)", ErrorKind::CheckViolation, "23514"),
        ("SELECT * FROM nope", ErrorKind::NoSuchTable, "42P01"),
        ("SELECT nope FROM owners", ErrorKind::NoSuchColumn, "42703"),
    ];
    for (sql, kind, _state) in cases {
        let conn = db.engine.connect().await.unwrap();
        let err = conn.execute(text(sql)).await.unwrap_err();
        assert_eq!(err.driver_kind(), Some(kind), "{sql}: {err}");
        #[cfg(feature = "postgres")]
        assert_eq!(err.sqlstate(), db.is_postgres().then_some(_state), "{sql}: {err}");
        conn.rollback().await.unwrap();
    }
    // A failed statement aborts a transaction on PostgreSQL (not on SQLite): commit then says so.
    let conn = db.engine.begin().await.unwrap();
    conn.execute(owners.insert().value("id", 5).value("name", "Eve")).await.unwrap();
    conn.execute(owners.insert().value("id", 6).value("name", "Ann")).await.unwrap_err();
    let committed = conn.commit().await;
    if db.is_postgres() {
        assert_eq!(committed.unwrap_err().driver_kind(), Some(ErrorKind::TransactionAborted));
    } else {
        committed.unwrap();
    }
}

async fn create_all_drop_all_and_reflect(db: &TestDb) {
    let meta = MetaData::new();
    let owners = Table::new(
        "owners",
        &meta,
        [
            Column::new("id", Integer).primary_key(),
            Column::new("name", Varchar(40)).nullable(false).unique(),
            Column::new("rating", Float),
        ],
    );
    let cars = Table::new(
        "cars",
        &meta,
        [
            Column::new("car_id", Integer).primary_key(),
            Column::new("make", Text).index(),
            Column::new("electric", Boolean).server_default(false),
            Column::new("owner_id", Integer).foreign_key("owners.id").on_delete(ReferentialAction::Cascade),
        ],
    );
    db.engine.create_all(&meta).await.unwrap();
    db.engine.create_all(&meta).await.unwrap(); // checks first: a second call creates nothing
    let conn = db.engine.begin().await.unwrap();
    conn.execute(owners.insert().value("name", "Ann")).await.unwrap();
    conn.execute(cars.insert().value("make", "Kia").value("owner_id", 1)).await.unwrap();
    conn.commit().await.unwrap();
    let electric: bool = conn.scalar(select(cars.c("electric")).where_(cars.c("make").eq("Kia"))).await.unwrap();
    assert!(!electric, "the server default");

    let seen = MetaData::new();
    db.engine.reflect(&seen).await.unwrap();
    let mut names: Vec<String> = seen.tables().iter().map(|t| t.name().to_owned()).collect();
    names.sort();
    assert_eq!(names, ["cars", "owners"]);
    let o = seen.table("owners").unwrap();
    let cols: Vec<(String, SqlType, bool)> =
        o.columns().iter().map(|c| (c.name().to_owned(), c.sql_type().clone(), c.is_nullable())).collect();
    let id_type = if db.is_postgres() { SqlType::BigInteger } else { SqlType::Integer };
    assert_eq!(
        cols,
        [
            ("id".to_owned(), id_type, false),
            ("name".to_owned(), SqlType::Varchar(40), false),
            ("rating".to_owned(), SqlType::Float, true),
        ]
    );
    assert_eq!(o.primary_key(), ["id"]);
    let c = seen.table("cars").unwrap();
    let fks = c.foreign_keys();
    assert_eq!(fks.len(), 1);
    assert_eq!((fks[0].target_table.as_str(), fks[0].on_delete), ("owners", Some(ReferentialAction::Cascade)));
    assert_eq!(c.indexes().len(), 1, "{:?}", c.indexes());
    // What was reflected runs statements.
    let r = conn.execute(select(c.c("make")).where_(c.c("owner_id").eq(1))).await.unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["Kia"]);
    db.engine.drop_all(&meta).await.unwrap();
    let after = MetaData::new();
    db.engine.reflect(&after).await.unwrap();
    assert!(after.tables().is_empty());
}

async fn value_types_round_trip(db: &TestDb) {
    let meta = MetaData::new();
    let t = Table::new(
        "things",
        &meta,
        [
            Column::new("id", Integer).primary_key(),
            Column::new("flag", Boolean),
            Column::new("ratio", Float),
            Column::new("price", Numeric),
            Column::new("data", Blob),
            Column::new("made", DateTime),
            Column::new("day", Date),
            Column::new("at", Time),
            Column::new("uid", Uuid),
            Column::new("doc", Json),
            Column::new("code", Varchar(8)),
            Column::new("big", BigInteger),
        ],
    );
    db.engine.create_all(&meta).await.unwrap();
    let conn = db.engine.begin().await.unwrap();
    conn.execute(t.insert().values(named_params! {
        "flag" => true,
        "ratio" => 0.25,
        "price" => "19999.99",
        "data" => vec![0u8, 1, 255],
        "made" => "2012-06-01 10:30:00.000000",
        "day" => "2012-06-01",
        "at" => "10:30:00.000000",
        "uid" => "0123456789abcdef0123456789abcdef",
        "doc" => serde_json::json!({"a": [1, 2]}).to_string(),
        "code" => "AB-1",
        "big" => i64::MAX,
    }))
    .await
    .unwrap();
    conn.execute(t.insert().values(named_params! {"flag" => false, "price" => 12})).await.unwrap();
    conn.commit().await.unwrap();
    let r = conn.execute(select(&t).order_by(t.c("id"))).await.unwrap();
    let row = r.get(0).unwrap();
    assert!(row.get::<bool>("flag").unwrap());
    assert_eq!(row.get::<f64>("ratio").unwrap(), 0.25);
    assert_eq!(row.get::<f64>("price").unwrap(), 19999.99);
    assert_eq!(row.get::<Vec<u8>>("data").unwrap(), [0, 1, 255]);
    assert_eq!(row.get::<String>("made").unwrap(), "2012-06-01 10:30:00.000000");
    assert_eq!(row.get::<String>("day").unwrap(), "2012-06-01");
    assert_eq!(row.get::<String>("at").unwrap(), "10:30:00.000000");
    assert_eq!(row.get::<String>("uid").unwrap(), "0123456789abcdef0123456789abcdef");
    let doc: serde_json::Value = serde_json::from_str(&row.get::<String>("doc").unwrap()).unwrap();
    assert_eq!(doc, serde_json::json!({"a": [1, 2]}));
    assert_eq!(row.get::<String>("code").unwrap(), "AB-1");
    assert_eq!(row.get::<i64>("big").unwrap(), i64::MAX);
    let row = r.get(1).unwrap();
    assert!(!row.get::<bool>("flag").unwrap());
    assert_eq!(row.get::<i64>("price").unwrap(), 12);
    assert_eq!(row.get::<Option<String>>("made").unwrap(), None);
    // Comparisons bind the same values.
    let n: i64 = conn
        .scalar(
            select(func::count_star()).select_from(&t).where_(
                t.c("made").gt("2012-01-01 00:00:00").and(t.c("flag").eq(true)).and(t.c("day").eq("2012-06-01")),
            ),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
}

async fn upserts_and_returning(db: &TestDb) {
    let meta = MetaData::new();
    let kv = Table::new("kv", &meta, [Column::new("k", Text).primary_key(), Column::new("v", Integer)]);
    db.engine.create_all(&meta).await.unwrap();
    let conn = db.engine.begin().await.unwrap();
    let up = |k: &str, v: i64| {
        kv.insert()
            .values(named_params! {"k" => k, "v" => v})
            .on_conflict_do_update(["k"], [("v", kv.c("v") + excluded("v"))])
    };
    conn.execute(up("a", 1)).await.unwrap();
    conn.execute(up("a", 10)).await.unwrap();
    conn.execute(kv.insert().values(named_params! {"k" => "a", "v" => 100}).on_conflict_do_nothing(["k"]))
        .await
        .unwrap();
    let r = conn
        .execute(kv.insert().values(named_params! {"k" => "b", "v" => 2}).returning([kv.c("k"), kv.c("v")]))
        .await
        .unwrap();
    assert_eq!((r.one().unwrap().get::<String>(0).unwrap(), r.one().unwrap().get::<i64>(1).unwrap()), ("b".into(), 2));
    let r = conn
        .execute(update(&kv).set("v", kv.c("v") * 2).returning([kv.c("v")]).where_(kv.c("k").eq("a")))
        .await
        .unwrap();
    assert_eq!(r.scalar::<i64>().unwrap(), 22);
    let r = conn.execute(delete(&kv).where_(kv.c("k").eq("b")).returning([kv.c("k")])).await.unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["b"]);
    conn.commit().await.unwrap();
}

async fn text_statements_and_bindparams(db: &TestDb) {
    let (_meta, cars) = setup(db).await;
    let conn = db.engine.connect().await.unwrap();
    let r = conn
        .execute_with(text("SELECT make FROM cars WHERE year > :y ORDER BY year"), named_params! {"y" => 2015})
        .await
        .unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["Tesla Model 3", "Toyota Prius"]);
    assert!(!conn.in_transaction(), "a text read begins no transaction");
    let q = select(cars.c("make")).where_(cars.c("mileage").lt(bindparam("m"))).order_by(cars.c("mileage"));
    let r = conn.execute_with(&q, named_params! {"m" => 15_000}).await.unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["Tesla Model 3", "Toyota Prius"]);
    let r = conn.execute(text("UPDATE cars SET year = year + 1 WHERE make = 'Kia'")).await.unwrap();
    assert_eq!(r.rows_affected(), 0);
    assert!(conn.in_transaction(), "a text write begins a transaction");
    conn.commit().await.unwrap();
    // A statement compiled for the other database is refused.
    let other: &'static dyn asqlite_query::compile::Dialect =
        if db.is_postgres() { &asqlite_query::compile::Sqlite } else { &asqlite_query::compile::Postgres };
    let wrong = select(cars.c("make")).where_(cars.c("year").gt(1)).compile_for(other).unwrap();
    let err = conn.execute(&wrong).await.unwrap_err();
    assert!(err.to_string().contains("compiled for"), "{err}");
    let right = select(cars.c("make")).where_(cars.c("year").gt(2019)).compile_for(db.engine.dialect()).unwrap();
    assert_eq!(conn.execute(&right).await.unwrap().scalars::<String>().unwrap(), ["Toyota Prius"]);
}

async fn dispose_makes_later_use_an_error(db: &TestDb) {
    let engine = create_async_engine(&db.url).await.unwrap();
    let conn = engine.connect().await.unwrap();
    conn.execute(text("SELECT 1")).await.unwrap();
    engine.dispose().await.unwrap();
    assert!(engine.is_disposed());
    assert!(matches!(conn.execute(text("SELECT 1")).await.unwrap_err(), Error::Closed(_)));
    assert!(engine.connect().await.is_err());
}

async fn engine_is_shared_across_tasks(db: &TestDb) {
    let (_meta, cars) = setup(db).await;
    let mut tasks = Vec::new();
    for i in 0..8i64 {
        let (engine, cars) = (db.engine.clone(), cars.clone());
        tasks.push(tokio::spawn(async move {
            let conn = engine.begin().await.unwrap();
            conn.execute(cars.insert().value("make", format!("task {i}")).value("year", 2000 + i)).await.unwrap();
            conn.commit().await.unwrap();
            let n: i64 =
                engine.connect().await.unwrap().scalar(select(func::count_star()).select_from(&cars)).await.unwrap();
            assert!(n >= 4);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(count(&db.engine, &cars).await, 11);
}

/// The value types of other crates (features `chrono`, `uuid`, `serde_json`, `rust_decimal`) bind and read back the
/// same on both databases: on PostgreSQL into `TIMESTAMP`, `DATE`, `UUID`, `JSONB` and `NUMERIC` columns.
#[cfg(all(feature = "chrono", feature = "uuid", feature = "serde_json", feature = "rust_decimal"))]
mod typed {
    use super::*;
    use asqlite_query::types::chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    use asqlite_query::types::rust_decimal::Decimal;
    use asqlite_query::types::uuid::Uuid as UuidValue;
    use asqlite_query::Json as JsonValue;

    on_both!(feature_types_round_trip);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Spec {
        doors: u8,
        tags: Vec<String>,
    }

    async fn feature_types_round_trip(db: &TestDb) {
        let meta = MetaData::new();
        let t = Table::new(
            "typed",
            &meta,
            [
                Column::new("id", Integer).primary_key(),
                Column::new("made", DateTime),
                Column::new("seen", DateTime),
                Column::new("day", Date),
                Column::new("uid", Uuid),
                Column::new("spec", Json),
                Column::new("price", Numeric),
            ],
        );
        db.engine.create_all(&meta).await.unwrap();
        let made = NaiveDate::from_ymd_opt(2012, 6, 1).unwrap().and_hms_micro_opt(10, 30, 5, 250).unwrap();
        let seen: DateTime<Utc> = made.and_utc();
        let day = NaiveDate::from_ymd_opt(2020, 2, 29).unwrap();
        let uid = UuidValue::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let spec = Spec { doors: 5, tags: vec!["ev".into()] };
        let price: Decimal = "19999.99".parse().unwrap();
        let conn = db.engine.begin().await.unwrap();
        conn.execute(t.insert().values(named_params! {
            "made" => made, "seen" => seen, "day" => day, "uid" => uid, "spec" => JsonValue(&spec), "price" => price,
        }))
        .await
        .unwrap();
        conn.commit().await.unwrap();
        let r = conn.execute(select(&t).where_(t.c("made").ge(made).and(t.c("uid").eq(uid)))).await.unwrap();
        let row = r.one().unwrap();
        assert_eq!(row.get::<NaiveDateTime>("made").unwrap(), made);
        assert_eq!(row.get::<DateTime<Utc>>("seen").unwrap(), seen);
        assert_eq!(row.get::<NaiveDate>("day").unwrap(), day);
        assert_eq!(row.get::<UuidValue>("uid").unwrap(), uid);
        assert_eq!(row.get::<JsonValue<Spec>>("spec").unwrap().0, spec);
        assert_eq!(row.get::<Decimal>("price").unwrap(), price);
    }
}
