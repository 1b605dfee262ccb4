//! Bad input through the query layer: each mistake is an error value whose message names what was wrong, never a
//! panic, and hostile identifiers are quoted so that they round-trip as data.
//!
//! The bugs these guard against: an unknown column turning into a panic (or into SQL SQLite rejects with a
//! message about something else), a malformed URL opening some other file, parameter sets with different keys
//! or an extra value silently dropped, a syntax error losing SQLite's position, and a keyword, quote or space
//! in a name breaking (or injecting into) the SQL.

use asqlite::ErrorKind;
use asqlite_query::expr::func;
use asqlite_query::prelude::*;
use asqlite_query::Error;

async fn engine_with(meta: &MetaData) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("bad.db").display());
    let engine = create_async_engine(&url).await.unwrap();
    engine.create_all(meta).await.unwrap();
    (dir, engine)
}

fn cars(meta: &MetaData) -> Table {
    Table::new(
        "cars",
        meta,
        [Column::new("car_id", Integer).primary_key(), Column::new("make", Text), Column::new("year", Integer)],
    )
}

#[tokio::test]
async fn unknown_column_is_a_compile_error_naming_it() {
    let meta = MetaData::new();
    let cars = cars(&meta);
    let (_dir, engine) = engine_with(&meta).await;
    let conn = engine.connect().await.unwrap();
    // Building the expression does not panic; compiling or executing it reports the table and the column.
    let bad = select(&cars).where_(cars.c("nope").gt(1));
    for e in [bad.compile().unwrap_err(), conn.execute(&bad).await.unwrap_err()] {
        assert!(matches!(e, Error::Compile(_)), "{e:?}");
        assert_eq!(e.to_string(), "cannot compile statement: \"cars\" has no column named \"nope\"");
    }
    let e = conn.execute(cars.insert().value("nope", 1)).await.unwrap_err();
    assert!(e.to_string().contains("no column named \"nope\""), "{e}");
    let e = conn.execute(cars.update().set("nope", 1)).await.unwrap_err();
    assert!(e.to_string().contains("no column named \"nope\""), "{e}");
    let e = conn.execute_with(cars.insert(), named_params! {"nope" => 1}).await.unwrap_err();
    assert!(e.to_string().contains("no column named \"nope\""), "{e}");
    let alias = cars.alias("c");
    let e = conn.execute(select(alias.c("nope"))).await.unwrap_err();
    assert!(e.to_string().contains("\"c\" has no column named \"nope\""), "{e}");
    let sub = select(cars.c("make")).subquery("s");
    let e = conn.execute(select(sub.c("year"))).await.unwrap_err();
    assert!(e.to_string().contains("\"s\" has no column named \"year\""), "{e}");
    // The connection is still usable.
    let n: i64 = conn.scalar(select(func::count_star()).select_from(&cars)).await.unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn malformed_engine_urls_are_url_errors() {
    let cases = [
        ("", "expected sqlite://"),
        ("cars.db", "expected sqlite://"),
        ("postgresql://localhost/cars", "`postgres` feature"),
        ("sqlite:/cars.db", "expected sqlite://"),
        ("sqlite+psycopg2:///cars.db", "unknown driver"),
        ("sqlite://localhost/cars.db", "a host is not allowed"),
        ("sqlite:///cars.db?mode=rx", "mode must be"),
        ("sqlite:///cars.db?readers=many", "whole number"),
        ("sqlite:///cars.db?timeout=-1", "timeout"),
        ("sqlite:///cars.db?timeout=soon", "timeout"),
        ("sqlite:///cars.db?journal=wal", "unknown option"),
        ("sqlite:///cars.db?mode", "has no value"),
        ("sqlite:///ca%2", "two hex digits"),
        ("sqlite:///ca%+1rs.db", "two hex digits"),
        ("sqlite:///%ff%fe.db", "not UTF-8"),
    ];
    for (url, why) in cases {
        let e = create_async_engine(url).await.unwrap_err();
        assert!(matches!(e, Error::Url(_)), "{url}: {e:?}");
        let msg = e.to_string();
        assert!(msg.starts_with("bad database URL: "), "{url}: {msg}");
        assert!(msg.contains(why), "{url}: {msg}");
    }
    // A missing directory is a driver error that says it could not open the file.
    let e = create_async_engine("sqlite:////nonexistent-dir/sub/cars.db").await.unwrap_err();
    assert!(e.as_driver().is_some(), "{e:?}");
}

#[tokio::test]
async fn execute_many_with_mismatched_keys_is_refused_and_nothing_is_written() {
    let meta = MetaData::new();
    let cars = cars(&meta);
    let (_dir, engine) = engine_with(&meta).await;
    let conn = engine.begin().await.unwrap();
    let cases = vec![
        vec![named_params! {"make" => "A", "year" => 1}, named_params! {"make" => "B"}],
        vec![named_params! {"make" => "A"}, named_params! {"make" => "B", "year" => 2}],
        vec![named_params! {"make" => "A", "year" => 1}, named_params! {"make" => "B", "yaer" => 2}],
    ];
    for sets in cases {
        let e = conn.execute_many(cars.insert(), sets).await.unwrap_err();
        assert!(matches!(e, Error::Params(_)), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("parameter set 1 has keys") && msg.contains("every set must have the same keys"), "{msg}");
    }
    let e = conn.execute_many(cars.insert(), vec![params![1, 2]]).await.unwrap_err();
    assert!(matches!(e, Error::Params(_)), "{e:?}");
    conn.commit().await.unwrap();
    let n: i64 = conn.scalar(select(func::count_star()).select_from(&cars)).await.unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn wrong_parameters_through_execute_with_are_params_errors() {
    let meta = MetaData::new();
    let cars = cars(&meta);
    let (_dir, engine) = engine_with(&meta).await;
    let conn = engine.connect().await.unwrap();
    let q = select(cars.c("make")).where_(cars.c("year").gt(bindparam("y")));
    let e = conn.execute(&q).await.unwrap_err();
    assert!(matches!(e, Error::Params(_)), "{e:?}");
    assert_eq!(e.to_string(), "bad parameters: no value given for parameter \"y\"");
    let e = conn.execute_with(&q, named_params! {"year" => 2000}).await.unwrap_err();
    assert!(e.to_string().contains("no parameter named \"year\""), "{e}");
    let e = conn.execute_with(&q, named_params! {"y" => 2000, "z" => 1}).await.unwrap_err();
    assert!(e.to_string().contains("no parameter named \"z\""), "{e}");
    let e = conn.execute_with(text("SELECT ?, ?"), params![1]).await.unwrap_err();
    assert!(e.to_string().contains("takes 2 positional parameters, 1 given"), "{e}");
    let e = conn.execute_with(text("SELECT ?"), params![1, 2, 3]).await.unwrap_err();
    assert!(e.to_string().contains("takes 1 positional parameter, 3 given"), "{e}");
    let e = conn.execute_with(text("SELECT 1"), params![1]).await.unwrap_err();
    assert!(e.to_string().contains("takes 0 positional parameters, 1 given"), "{e}");
    let e = conn.execute_with(text("SELECT :a"), named_params! {"b" => 1}).await.unwrap_err();
    assert!(e.to_string().contains("no parameter named \"b\""), "{e}");
    let e = conn.execute_with(text("SELECT ?1"), params![1]).await.unwrap_err();
    assert!(e.to_string().contains("use :name"), "{e}");
    // A value that does not fit SQLite is a parameter error, not a panic.
    let e = conn.execute_with(&q, named_params! {"y" => u64::MAX}).await.unwrap_err();
    assert!(matches!(e, Error::Params(_)), "{e:?}");
    // And the right parameters work.
    let r = conn.execute_with(&q, named_params! {"y" => 2000}).await.unwrap();
    assert!(r.is_empty());
}

#[tokio::test]
async fn invalid_sql_through_text_carries_sqlites_offset() {
    let engine = create_async_engine("sqlite://").await.unwrap();
    let conn = engine.connect().await.unwrap();
    let e = conn.execute(text("SELECT 1 FROM nowhere WHERE")).await.unwrap_err();
    let d = e.as_driver().expect("a driver error");
    assert_eq!(d.sql(), Some("SELECT 1 FROM nowhere WHERE"));
    assert!(e.to_string().contains("incomplete input") || e.to_string().contains("syntax error"), "{e}");
    let e = conn.execute(text("SELECT * FORM t")).await.unwrap_err();
    let d = e.as_driver().expect("a driver error");
    assert_eq!(d.offset(), Some(9), "{e}");
    assert!(e.to_string().contains("near \"FORM\""), "{e}");
    let e = conn.execute(text("SELECT * FROM missing_table")).await.unwrap_err();
    assert_eq!(e.driver_kind(), Some(ErrorKind::NoSuchTable), "{e:?}");
    assert!(e.to_string().contains("no such table: missing_table"), "{e}");
    // Inside a transaction too, and the transaction stays usable.
    let conn = engine.begin().await.unwrap();
    let e = conn.execute(text("CREATE TABLE (x)")).await.unwrap_err();
    assert_eq!(e.as_driver().and_then(asqlite::Error::offset), Some(13), "{e}");
    conn.execute(text("CREATE TABLE t (x)")).await.unwrap();
    conn.commit().await.unwrap();
}

/// Tables and columns named with keywords, quotes, spaces, mixed case and SQL fragments: create, insert, select,
/// update, delete and drop on a real database, with the names read back as written.
#[tokio::test]
async fn hostile_identifiers_round_trip() {
    let meta = MetaData::new();
    let names = ["select", "a\"b", "my table", "Order", "x; DROP TABLE cars; --", "a:b", "?", "$x", "é", "[y]", "`z`"];
    let table_name = "my \"table\"; select";
    let mut columns = vec![Column::new("id", Integer).primary_key()];
    columns.extend(names.iter().map(|n| Column::new(*n, Text)));
    let t = Table::new(table_name, &meta, columns);
    let other = Table::new("select", &meta, [Column::new("from", Integer).primary_key(), Column::new("a\"b", Text)]);
    let (_dir, engine) = engine_with(&meta).await;
    let conn = engine.begin().await.unwrap();

    let mut row = vec![("id".to_owned(), Value::Integer(1))];
    row.extend(names.iter().map(|n| ((*n).to_owned(), Value::Text(format!("v{n}")))));
    conn.execute_with(t.insert(), asqlite::Params::named(row)).await.unwrap();
    let mut ins = t.insert().value("id", 2);
    for n in names {
        ins = ins.value(n, format!("w{n}"));
    }
    conn.execute(ins).await.unwrap();
    conn.execute(other.insert().value("from", 1).value("a\"b", "o")).await.unwrap();

    let r = conn.execute(select(&t).order_by(t.c("id"))).await.unwrap();
    let mut expected_cols = vec!["id".to_owned()];
    expected_cols.extend(names.iter().map(|n| (*n).to_owned()));
    assert_eq!(r.columns(), expected_cols.as_slice());
    for n in names {
        assert_eq!(r.get(0).unwrap().get::<String>(n).unwrap(), format!("v{n}"), "column {n}");
        assert_eq!(r.get(1).unwrap().get::<String>(n).unwrap(), format!("w{n}"), "column {n}");
    }

    for n in names {
        let q = update(&t).set(n, t.c(n).concat("!")).where_(t.c("id").eq(1)).returning(t.c(n).label(n));
        let r = conn.execute(q).await.unwrap();
        assert_eq!(r.one().unwrap().get::<String>(0).unwrap(), format!("v{n}!"), "column {n}");
        assert_eq!(r.columns(), [n]);
    }
    // A join across two hostile tables, with an alias and a label named like SQL.
    let a = t.alias("a\" --");
    let q = select((a.c("select"), other.c("a\"b").label("from")))
        .select_from(&a)
        .join_on(&other, other.c("from").eq(a.c("id")));
    let r = conn.execute(q).await.unwrap();
    assert_eq!(r.columns(), ["select", "from"]);
    assert_eq!(r.one().unwrap().get::<String>(1).unwrap(), "o");

    let r = conn.execute(delete(&t).where_(t.c("a\"b").eq("wa\"b")).returning(t.c("my table"))).await.unwrap();
    assert_eq!(r.scalars::<String>().unwrap(), ["wmy table"]);
    conn.commit().await.unwrap();
    let n: i64 = conn.scalar(select(func::count_star()).select_from(&t)).await.unwrap();
    assert_eq!(n, 1);
    let n: i64 = conn.scalar(text("SELECT count(*) FROM \"my \"\"table\"\"; select\"")).await.unwrap();
    assert_eq!(n, 1);

    // Reflection reads the names back as written.
    let reflected = MetaData::new();
    engine.reflect(&reflected).await.unwrap();
    let rt = reflected.table(table_name).expect("the hostile table is reflected");
    assert_eq!(rt.column_names(), expected_cols.iter().map(String::as_str).collect::<Vec<_>>());

    engine.drop_all(&meta).await.unwrap();
    let left: i64 = engine
        .connect()
        .await
        .unwrap()
        .scalar(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'"))
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn nul_in_an_identifier_is_a_clear_error() {
    let meta = MetaData::new();
    let t = Table::new("t\0x", &meta, [Column::new("a", Integer)]);
    let e = select(&t).compile().unwrap_err();
    assert!(e.to_string().contains("NUL"), "{e}");
    let conn = asqlite::blocking::Connection::open_in_memory().unwrap();
    let e = meta.create_all(&conn).unwrap_err();
    assert!(matches!(e, Error::Compile(_)) && e.to_string().contains("NUL"), "{e:?}");
}
