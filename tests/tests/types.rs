//! Value types end to end: every type of the `chrono`, `time`, `uuid`, `serde_json` and `rust_decimal` features
//! (and `u64`/`i128`) through the blocking layer, the pool, and the query layer's columns and serde structs, and
//! against a file that SQLAlchemy 2 wrote (`tests/fixtures/sqlalchemy_types.db`, made by the committed
//! `make_sqlalchemy_types.py`; its values as text in `sqlalchemy_types.json`).
//!
//! The bugs these guard against: a timestamp, UUID or decimal written in a form SQLAlchemy does not write, so that
//! a file shared with Python reads back wrong or sorts and compares wrongly; SQLite's own date text or Unix times
//! not reading; a value that does not convert panicking, or failing with a message that names neither the column,
//! the value nor the expected format; a `u64` or `i128` outside SQLite's INTEGER silently wrapped; a `Vec<u8>`
//! struct field stored as the text `[1,2,3]`.

use std::path::PathBuf;
use std::str::FromStr;

use asqlite::blocking::Connection;
use asqlite::types::chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use asqlite::types::rust_decimal::Decimal;
use asqlite::types::time;
use asqlite::types::uuid::Uuid;
use asqlite::types::Json;
use asqlite::{params, ErrorKind, Pool, Row, Value};
use asqlite_query::prelude::*;
use asqlite_query::types as col;
use serde::{Deserialize, Serialize};

use crate::common::temp_db;

// ---- The SQLAlchemy fixture.

/// What SQLAlchemy 2's SQLite dialect emitted for the fixture's table.
const SQLALCHEMY_DDL: &str = "CREATE TABLE everyday (id INTEGER NOT NULL, created DATETIME, day DATE, at TIME, \
                              uid CHAR(32), doc JSON, price NUMERIC(10, 2), flag BOOLEAN, data BLOB, PRIMARY KEY (id))";

/// What SQLAlchemy stored for the first two rows (`SELECT created, day, at, uid FROM everyday`), for the record:
/// the test below checks the file against these and against what this crate writes.
const SQLALCHEMY_STORED: [[&str; 4]; 2] = [
    ["2012-05-17 09:30:00.000000", "2012-05-17", "09:30:00.000000", "12345678123456781234567812345678"],
    ["2020-02-29 23:59:59.123456", "2020-02-29", "00:00:00.000001", "00000000000000000000000000000001"],
];

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// A copy of SQLAlchemy's database in a fresh directory (opening a file may write to it).
fn sqlalchemy_db() -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = temp_db();
    std::fs::copy(fixture_path("sqlalchemy_types.db"), &path).expect("copy the fixture");
    (dir, path)
}

/// One row of the fixture, as Python had it.
#[derive(Debug, Clone, PartialEq)]
struct Everyday {
    id: i64,
    created: Option<NaiveDateTime>,
    day: Option<NaiveDate>,
    at: Option<NaiveTime>,
    uid: Option<Uuid>,
    doc: serde_json::Value,
    price: Option<Decimal>,
    flag: Option<bool>,
    data: Option<Vec<u8>>,
}

/// The rows from `sqlalchemy_types.json` (Python's `isoformat()`, `str()` and `hex()` of each value).
fn fixture_rows() -> Vec<Everyday> {
    let text = std::fs::read_to_string(fixture_path("sqlalchemy_types.json")).expect("the JSON fixture");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let s = |r: &serde_json::Value, k: &str| r[k].as_str().map(str::to_owned);
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Everyday {
            id: r["id"].as_i64().unwrap(),
            created: s(r, "created").map(|v| NaiveDateTime::from_str(&v).unwrap()),
            day: s(r, "day").map(|v| NaiveDate::from_str(&v).unwrap()),
            at: s(r, "at").map(|v| NaiveTime::from_str(&v).unwrap()),
            uid: s(r, "uid").map(|v| Uuid::parse_str(&v).unwrap()),
            doc: s(r, "doc").map_or(serde_json::Value::Null, |v| serde_json::from_str(&v).unwrap()),
            price: s(r, "price").map(|v| Decimal::from_str(&v).unwrap()),
            flag: r["flag"].as_bool(),
            data: s(r, "data")
                .map(|h| (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect()),
        })
        .collect()
}

fn read_everyday(r: &Row) -> asqlite::Result<Everyday> {
    Ok(Everyday {
        id: r.get("id")?,
        created: r.get("created")?,
        day: r.get("day")?,
        at: r.get("at")?,
        uid: r.get("uid")?,
        doc: r.get("doc")?,
        price: r.get("price")?,
        flag: r.get("flag")?,
        data: r.get("data")?,
    })
}

fn chrono_to_time(dt: NaiveDateTime) -> time::PrimitiveDateTime {
    use asqlite::types::chrono::Datelike;
    let month = time::Month::try_from(u8::try_from(dt.month()).unwrap()).unwrap();
    let date = time::Date::from_calendar_date(dt.year(), month, u8::try_from(dt.day()).unwrap()).unwrap();
    let [h, m, s] = [dt.hour(), dt.minute(), dt.second()].map(|x| u8::try_from(x).unwrap());
    time::PrimitiveDateTime::new(date, time::Time::from_hms_nano(h, m, s, dt.nanosecond()).unwrap())
}

#[test]
fn sqlalchemy_file_reads_back_in_rust() {
    let (_dir, path) = sqlalchemy_db();
    let conn = Connection::open(&path).unwrap();
    let ddl: String =
        conn.query_one("SELECT sql FROM sqlite_master WHERE name = 'everyday'", ()).unwrap().get(0).unwrap();
    assert_eq!(
        ddl.split_whitespace().collect::<Vec<_>>().join(" ").replace("( ", "(").replace(" )", ")"),
        SQLALCHEMY_DDL
    );
    let rows = conn.query("SELECT * FROM everyday ORDER BY id", ()).unwrap();
    let got: Vec<Everyday> = rows.iter().map(|r| read_everyday(r).unwrap()).collect();
    assert_eq!(got, fixture_rows());

    // The same columns through the other types of each column.
    for (row, want) in rows.iter().zip(fixture_rows()) {
        let created: Option<time::PrimitiveDateTime> = row.get("created").unwrap();
        assert_eq!(created, want.created.map(chrono_to_time));
        let utc: Option<DateTime<Utc>> = row.get("created").unwrap();
        assert_eq!(utc, want.created.map(|d| d.and_utc()));
        let day: Option<time::Date> = row.get("day").unwrap();
        assert_eq!(day.map(|d| d.to_string()), want.day.map(|d| d.to_string()));
        let at: Option<time::Time> = row.get("at").unwrap();
        assert_eq!(at.map(|t| t.nanosecond()), want.at.map(|t| t.nanosecond()));
        let doc: Json<serde_json::Value> = row.get("doc").unwrap();
        assert_eq!(doc.0, want.doc);
    }

    // Stored as the dialect writes: the exact text, and numbers for Numeric (SQLAlchemy binds floats there).
    for (i, want) in SQLALCHEMY_STORED.iter().enumerate() {
        let r = conn.query_one("SELECT created, day, at, uid FROM everyday WHERE id = ?1", params![i + 1]).unwrap();
        let got: Vec<String> = (0..4).map(|c| r.get(c).unwrap()).collect();
        assert_eq!(got, want);
    }
    let kinds = conn.query("SELECT typeof(price) FROM everyday WHERE price IS NOT NULL", ()).unwrap();
    assert!(kinds.iter().all(|r| r.get::<String>(0).unwrap() == "real"));
}

#[test]
fn rust_writes_what_sqlalchemy_writes() {
    let (_dir, path) = sqlalchemy_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&SQLALCHEMY_DDL.replace("everyday", "ours")).unwrap();
    for f in fixture_rows() {
        conn.execute(
            "INSERT INTO ours VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![f.id, f.created, f.day, f.at, f.uid, Json(&f.doc), f.price, f.flag, f.data],
        )
        .unwrap();
    }
    let cols = "id, created, day, at, uid, price, flag, data, typeof(created), typeof(uid), typeof(price), doc";
    let theirs = conn.query(&format!("SELECT {cols} FROM everyday ORDER BY id"), ()).unwrap();
    let ours = conn.query(&format!("SELECT {cols} FROM ours ORDER BY id"), ()).unwrap();
    assert_eq!(theirs.len(), ours.len());
    for (t, o) in theirs.iter().zip(ours.iter()) {
        // Byte for byte the same values and storage classes; JSON the same document (SQLAlchemy adds spaces).
        assert_eq!(&t.values()[..11], &o.values()[..11]);
        assert_eq!(t.get::<serde_json::Value>("doc").unwrap(), o.get::<serde_json::Value>("doc").unwrap());
    }
}

// ---- Every type, both ways, through the blocking layer and the pool.

const VALS_DDL: &str = "CREATE TABLE vals (id INTEGER PRIMARY KEY, naive DATETIME, utc DATETIME, fixed DATETIME, \
                        d DATE, t TIME, td DATE, tt TIME, tp DATETIME, tz DATETIME, uid CHAR(32), doc JSON, \
                        jdoc JSON, price TEXT, big INTEGER, wide INTEGER)";
const VALS_INSERT: &str =
    "INSERT INTO vals VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Body {
    make: String,
    tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Vals {
    naive: NaiveDateTime,
    utc: DateTime<Utc>,
    fixed: DateTime<FixedOffset>,
    d: NaiveDate,
    t: NaiveTime,
    td: time::Date,
    tt: time::Time,
    tp: time::PrimitiveDateTime,
    tz: time::OffsetDateTime,
    uid: Uuid,
    doc: serde_json::Value,
    jdoc: Json<Body>,
    price: Decimal,
    big: u64,
    wide: i128,
}

fn sample() -> Vals {
    let naive = NaiveDateTime::from_str("2020-02-29T23:59:59.123456789").unwrap();
    let tp = chrono_to_time(naive);
    Vals {
        naive,
        utc: naive.and_utc(),
        fixed: naive.and_utc().with_timezone(&FixedOffset::west_opt(4 * 3600 + 30 * 60).unwrap()),
        d: naive.date(),
        t: naive.time(),
        td: tp.date(),
        tt: tp.time(),
        tp,
        tz: tp.assume_offset(time::UtcOffset::from_hms(5, 45, 0).unwrap()),
        uid: Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0),
        doc: serde_json::json!({"a": [1, 2.5, null, "ü"]}),
        jdoc: Json(Body { make: "Honda Civic".into(), tags: vec!["used".into()] }),
        price: Decimal::from_str("1234567890123456789.123456789").unwrap(),
        big: i64::MAX.unsigned_abs(),
        wide: i128::from(i64::MIN),
    }
}

fn insert_params(v: &Vals) -> asqlite::Params {
    params![1, v.naive, v.utc, v.fixed, v.d, v.t, v.td, v.tt, v.tp, v.tz, v.uid, v.doc, v.jdoc, v.price, v.big, v.wide]
}

fn read_vals(r: &asqlite::RowRef<'_>) -> asqlite::Result<Vals> {
    Ok(Vals {
        naive: r.get("naive")?,
        utc: r.get("utc")?,
        fixed: r.get("fixed")?,
        d: r.get("d")?,
        t: r.get("t")?,
        td: r.get("td")?,
        tt: r.get("tt")?,
        tp: r.get("tp")?,
        tz: r.get("tz")?,
        uid: r.get("uid")?,
        doc: r.get("doc")?,
        jdoc: r.get("jdoc")?,
        price: r.get("price")?,
        big: r.get("big")?,
        wide: r.get("wide")?,
    })
}

/// The stored text of the row: the formats, not only the round trip.
const VALS_STORED: &str = "SELECT naive, utc, fixed, d, t, td, tt, tp, tz, uid, jdoc, price FROM vals";
const VALS_STORED_TEXT: [&str; 12] = [
    "2020-02-29 23:59:59.123456789",
    "2020-02-29 23:59:59.123456789",
    "2020-02-29 19:29:59.123456789-04:30",
    "2020-02-29",
    "23:59:59.123456789",
    "2020-02-29",
    "23:59:59.123456789",
    "2020-02-29 23:59:59.123456789",
    "2020-02-29 23:59:59.123456789+05:45",
    "123456789abcdef0123456789abcdef0",
    r#"{"make":"Honda Civic","tags":["used"]}"#,
    "1234567890123456789.123456789",
];

#[test]
fn every_type_round_trips_through_the_blocking_layer() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(VALS_DDL).unwrap();
    let want = sample();
    conn.execute(VALS_INSERT, insert_params(&want)).unwrap();
    let got = conn.query_map("SELECT * FROM vals", (), read_vals).unwrap();
    assert_eq!(got, [want]);
    let stored = conn.query_one(VALS_STORED, ()).unwrap();
    let texts: Vec<String> = (0..12).map(|i| stored.get(i).unwrap()).collect();
    assert_eq!(texts, VALS_STORED_TEXT);
    // SQLite's own functions read what was written (the offset converted to UTC).
    let r = conn.query_one("SELECT datetime(naive), datetime(fixed), unixepoch(utc), date(d), time(t) FROM vals", ());
    let r = r.unwrap();
    assert_eq!(r.get::<String>(0).unwrap(), "2020-02-29 23:59:59");
    assert_eq!(r.get::<String>(1).unwrap(), "2020-02-29 23:59:59");
    assert_eq!(r.get::<i64>(2).unwrap(), 1_583_020_799);
    assert_eq!((r.get::<String>(3).unwrap(), r.get::<String>(4).unwrap()), ("2020-02-29".into(), "23:59:59".into()));
}

#[test]
fn every_type_round_trips_through_the_pool() {
    futures::executor::block_on(async {
        let (_dir, path) = temp_db();
        let pool = Pool::builder().readers(2).open(&path).await.unwrap();
        pool.execute_batch(VALS_DDL).await.unwrap();
        let want = sample();
        pool.execute(VALS_INSERT, insert_params(&want)).await.unwrap();
        // Decoded on the worker, and from an owned row on this thread.
        let got = pool.query_map("SELECT * FROM vals", params![], read_vals).await.unwrap();
        assert_eq!(got, std::slice::from_ref(&want));
        let row = pool.query_one("SELECT * FROM vals WHERE uid = ?1", params![want.uid]).await.unwrap();
        assert_eq!(row.get::<DateTime<FixedOffset>>("fixed").unwrap(), want.fixed);
        assert_eq!(row.get::<time::OffsetDateTime>("tz").unwrap(), want.tz);
        assert_eq!(row.get::<Json<Body>>("jdoc").unwrap(), want.jdoc);
        // Comparisons bind the same text, so they find the row.
        let n: i64 = pool
            .query_row(
                "SELECT count(*) FROM vals WHERE naive = ?1 AND d = ?2 AND price = ?3",
                params![want.naive, want.d, want.price],
                |r| r.get(0),
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
        // SQLite's date functions' output reads back (CURRENT_TIMESTAMP has no fraction; unixepoch() is an INTEGER).
        let r = pool.query_one("SELECT datetime(?1) AS a, unixepoch(?1) AS b", params![want.naive]).await.unwrap();
        let whole = want.naive.with_nanosecond(0).unwrap();
        assert_eq!(r.get::<NaiveDateTime>("a").unwrap(), whole);
        assert_eq!(r.get::<NaiveDateTime>("b").unwrap(), whole);
        assert_eq!(r.get::<time::PrimitiveDateTime>("b").unwrap(), chrono_to_time(whole));
        pool.close().await.unwrap();
    });
}

// ---- The query layer: columns of these types, and serde structs.

fn docs_table(meta: &MetaData) -> Table {
    Table::new(
        "docs",
        meta,
        [
            Column::new("id", Integer).primary_key(),
            Column::new("uid", col::Uuid),
            Column::new("made_at", col::DateTime),
            Column::new("day", col::Date),
            Column::new("at", col::Time),
            Column::new("price", Numeric),
            Column::new("doc", col::Json),
            Column::new("data", Blob),
            Column::new("ok", Boolean),
        ],
    )
}

/// A serde struct with fields of these types: the driver's formats through `serde_sql`, JSON through `Json<T>`,
/// bytes as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Doc {
    id: i64,
    #[serde(with = "asqlite_query::serde_sql")]
    uid: Uuid,
    #[serde(with = "asqlite_query::serde_sql")]
    made_at: NaiveDateTime,
    #[serde(with = "asqlite_query::serde_sql")]
    day: time::Date,
    #[serde(with = "asqlite_query::serde_sql")]
    at: Option<NaiveTime>,
    #[serde(with = "asqlite_query::serde_sql")]
    price: Decimal,
    doc: Json<Body>,
    data: Vec<u8>,
    ok: bool,
}

fn doc(id: i64, made_at: &str, price: &str) -> Doc {
    let made_at = NaiveDateTime::from_str(made_at).unwrap();
    Doc {
        id,
        uid: Uuid::from_u128(u128::try_from(id).unwrap()),
        made_at,
        day: chrono_to_time(made_at).date(),
        at: (id % 2 == 0).then(|| made_at.time()),
        price: Decimal::from_str(price).unwrap(),
        doc: Json(Body { make: format!("car {id}"), tags: vec!["used".into(); usize::try_from(id).unwrap()] }),
        data: vec![0, 1, 255, u8::try_from(id).unwrap()],
        ok: id != 2,
    }
}

#[tokio::test]
async fn query_layer_columns_bind_and_decode_these_types() {
    let (_dir, path) = temp_db();
    let engine = create_async_engine(&format!("sqlite:///{}", path.display())).await.unwrap();
    let meta = MetaData::new();
    let docs = docs_table(&meta);
    engine.create_all(&meta).await.unwrap();

    let made = NaiveDateTime::from_str("2012-05-17T09:30:00").unwrap();
    let conn = engine.begin().await.unwrap();
    // Values through named_params! and through expressions.
    conn.execute(docs.insert().values(named_params! {
        "id" => 1,
        "uid" => Uuid::from_u128(1),
        "made_at" => made,
        "day" => made.date(),
        "at" => made.time(),
        "price" => Decimal::from_str("19999.99").unwrap(),
        "doc" => serde_json::json!({"make": "Honda Civic", "tags": ["used"]}),
        "data" => vec![0u8, 1, 255],
        "ok" => true,
    }))
    .await
    .unwrap();
    conn.commit().await.unwrap();

    let c = engine.connect().await.unwrap();
    let r = c
        .execute(select(&docs).where_(docs.c("made_at").ge(made).and(docs.c("uid").eq(Uuid::from_u128(1)))))
        .await
        .unwrap();
    let row = r.one().unwrap();
    assert_eq!(row.get::<NaiveDateTime>("made_at").unwrap(), made);
    assert_eq!(row.get::<time::PrimitiveDateTime>("made_at").unwrap(), chrono_to_time(made));
    assert_eq!(row.get::<NaiveDate>("day").unwrap(), made.date());
    assert_eq!(row.get::<time::Time>("at").unwrap(), chrono_to_time(made).time());
    assert_eq!(row.get::<Uuid>("uid").unwrap(), Uuid::from_u128(1));
    assert_eq!(row.get::<Decimal>("price").unwrap(), Decimal::from_str("19999.99").unwrap());
    assert_eq!(row.get::<serde_json::Value>("doc").unwrap()["tags"][0], "used");
    assert_eq!(row.get::<Json<Body>>("doc").unwrap().0.make, "Honda Civic");
    assert_eq!(row.get::<Vec<u8>>("data").unwrap(), [0, 1, 255]);
    assert!(row.get::<bool>("ok").unwrap());
    // Stored in SQLAlchemy's formats.
    let raw = c
        .execute(text("SELECT made_at, day, at, uid, typeof(price), typeof(data), ok FROM docs WHERE id = 1"))
        .await
        .unwrap();
    assert_eq!(
        raw.one().unwrap().to_values(),
        [
            Value::Text("2012-05-17 09:30:00.000000".into()),
            Value::Text("2012-05-17".into()),
            Value::Text("09:30:00.000000".into()),
            Value::Text("00000000000000000000000000000001".into()),
            Value::Text("real".into()),
            Value::Text("blob".into()),
            Value::Integer(1),
        ]
    );
    // JSON operators on the column.
    let make: String = c.scalar(select(docs.c("doc").json_get_value("make")).where_(docs.c("id").eq(1))).await.unwrap();
    assert_eq!(make, "Honda Civic");
    engine.dispose().await.unwrap();
}

#[tokio::test]
async fn serde_structs_with_these_fields_round_trip_through_a_table() {
    let engine = create_async_engine("sqlite://").await.unwrap();
    let meta = MetaData::new();
    let docs = docs_table(&meta);
    engine.create_all(&meta).await.unwrap();
    let rows = [
        doc(1, "2012-05-17T09:30:00", "19999.99"),
        doc(2, "2020-02-29T23:59:59.123456", "-0.5"),
        doc(3, "1999-12-31T00:00:00.000001", "7"),
    ];
    let conn = engine.begin().await.unwrap();
    conn.execute_many(docs.insert(), rows.iter()).await.unwrap();
    conn.commit().await.unwrap();

    let c = engine.connect().await.unwrap();
    let r = c.execute(select(&docs).order_by(docs.c("made_at").desc())).await.unwrap();
    let got: Vec<Doc> = r.deserialize().unwrap();
    assert_eq!(got, [rows[1].clone(), rows[0].clone(), rows[2].clone()]);
    // A struct field as a parameter of a comparison, and a JSON operator in WHERE.
    let r = c
        .execute_with(
            select(docs.c("id"))
                .order_by(docs.c("id"))
                .where_(docs.c("made_at").gt(bindparam("since")).and(docs.c("doc").json_get_value("make").ne("car 3"))),
            named_params! {"since" => NaiveDateTime::from_str("2000-01-01T00:00:00").unwrap()},
        )
        .await
        .unwrap();
    assert_eq!(r.scalars::<i64>().unwrap(), [1, 2]);
    // The stored text is what ToSql writes, not chrono's or uuid's serde form.
    let raw = c.execute(text("SELECT made_at, uid, typeof(data), doc FROM docs WHERE id = 2")).await.unwrap();
    assert_eq!(
        raw.one().unwrap().to_values(),
        [
            Value::Text("2020-02-29 23:59:59.123456".into()),
            Value::Text("00000000000000000000000000000002".into()),
            Value::Text("blob".into()),
            Value::Text(r#"{"make":"car 2","tags":["used","used"]}"#.into()),
        ]
    );
    engine.dispose().await.unwrap();
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Bytes {
    id: i64,
    plain: Vec<u8>,
    #[serde(with = "serde_bytes")]
    marked: Vec<u8>,
    fixed: [u8; 4],
    maybe: Option<Vec<u8>>,
}

#[tokio::test]
async fn bytes_round_trip_through_serde_both_ways() {
    let engine = create_async_engine("sqlite://").await.unwrap();
    let meta = MetaData::new();
    let t = Table::new(
        "bin",
        &meta,
        [
            Column::new("id", Integer).primary_key(),
            Column::new("plain", Blob),
            Column::new("marked", Blob),
            Column::new("fixed", Blob),
            Column::new("maybe", Blob),
        ],
    );
    engine.create_all(&meta).await.unwrap();
    let rows = [
        Bytes { id: 1, plain: vec![1, 2, 3], marked: vec![], fixed: [0, 0, 255, 7], maybe: Some(vec![9]) },
        Bytes { id: 2, plain: vec![], marked: vec![0], fixed: [1; 4], maybe: None },
    ];
    let conn = engine.begin().await.unwrap();
    conn.execute_many(t.insert(), rows.iter()).await.unwrap();
    conn.commit().await.unwrap();
    let c = engine.connect().await.unwrap();
    let back: Vec<Bytes> = c.execute(select(&t).order_by(t.c("id"))).await.unwrap().deserialize().unwrap();
    assert_eq!(back, rows);
    let kinds = c
        .execute(text("SELECT typeof(plain), typeof(marked), typeof(fixed), typeof(maybe) FROM bin ORDER BY id"))
        .await
        .unwrap();
    let kinds: Vec<Vec<String>> = kinds.iter().map(|r| (0..4).map(|i| r.get(i).unwrap()).collect()).collect();
    // An empty plain Vec<u8> is the JSON `[]` (serde cannot tell it from an empty list); serde_bytes makes it a BLOB.
    assert_eq!(kinds, [["blob", "blob", "blob", "blob"], ["text", "blob", "blob", "null"]]);
    let n: i64 = c.scalar(text("SELECT count(*) FROM bin WHERE plain = x'010203'")).await.unwrap();
    assert_eq!(n, 1, "bound as a BLOB, not the text [1,2,3]");
    engine.dispose().await.unwrap();
}

// ---- Bad input: an error naming the column, the value and the expected format; never a panic.

fn assert_conversion_error(e: &asqlite::Error, needles: &[&str]) {
    assert_eq!(e.kind(), ErrorKind::TypeConversion, "{e}");
    let msg = e.to_string();
    for n in needles {
        assert!(msg.contains(n), "{n:?} missing from: {msg}");
    }
}

#[test]
fn bad_values_read_as_errors_naming_column_value_and_format() {
    let conn = Connection::open_in_memory().unwrap();
    let row = conn
        .query_one(
            "SELECT '2012-13-01 00:00' AS made_at, -1 AS n, 'not-a-uuid' AS uid, '{bad' AS doc, '12,5' AS price, \
             '2023-02-29' AS day, '25:00' AS at, 2456064.5 AS jd, '[1]' AS body",
            (),
        )
        .unwrap();
    let e = row.get::<NaiveDateTime>("made_at").unwrap_err();
    assert_conversion_error(&e, &["\"made_at\"", "\"2012-13-01 00:00\"", "YYYY-MM-DD HH:MM:SS.ffffff"]);
    let e = row.get::<time::OffsetDateTime>("made_at").unwrap_err();
    assert_conversion_error(&e, &["\"made_at\"", "\"2012-13-01 00:00\"", "YYYY-MM-DD HH:MM:SS.ffffff"]);
    let e = row.get::<u64>("n").unwrap_err();
    assert_conversion_error(&e, &["\"n\"", "-1", "u64"]);
    let e = row.get::<Uuid>("uid").unwrap_err();
    assert_conversion_error(&e, &["\"uid\"", "\"not-a-uuid\"", "32 hex digits"]);
    let e = row.get::<serde_json::Value>("doc").unwrap_err();
    assert_conversion_error(&e, &["\"doc\"", "\"{bad\"", "JSON text"]);
    let e = row.get::<Json<Body>>("body").unwrap_err();
    assert_conversion_error(&e, &["\"body\"", "\"[1]\"", "JSON"]);
    let e = row.get::<Decimal>("price").unwrap_err();
    assert_conversion_error(&e, &["\"price\"", "\"12,5\"", "decimal number"]);
    let e = row.get::<NaiveDate>("day").unwrap_err();
    assert_conversion_error(&e, &["\"day\"", "\"2023-02-29\"", "YYYY-MM-DD"]);
    let e = row.get::<time::Time>("at").unwrap_err();
    assert_conversion_error(&e, &["\"at\"", "\"25:00\"", "HH:MM:SS.ffffff"]);
    let e = row.get::<DateTime<Utc>>("jd").unwrap_err();
    assert_conversion_error(&e, &["\"jd\"", "REAL 2456064.5", "Julian day"]);
}

#[test]
fn values_sqlite_cannot_hold_are_refused_when_bound() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (x)").unwrap();
    let e = conn.execute("INSERT INTO t VALUES (?1)", params![u64::MAX]).unwrap_err();
    assert_conversion_error(&e, &["u64 value 18446744073709551615", "64-bit signed INTEGER"]);
    let e = conn.execute("INSERT INTO t VALUES (?1)", params![i128::MIN]).unwrap_err();
    assert_conversion_error(&e, &["i128 value -170141183460469231731687303715884105728"]);
    let far = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap();
    let e = conn.execute("INSERT INTO t VALUES (?1)", params![far]).unwrap_err();
    assert_conversion_error(&e, &["+10000-01-01", "0000-9999"]);
    let n: i64 = conn.query_one("SELECT count(*) FROM t", ()).unwrap().get(0).unwrap();
    assert_eq!(n, 0);
    // The largest values that fit go in and come back.
    conn.execute("INSERT INTO t VALUES (?1), (?2)", params![i64::MAX.unsigned_abs(), i128::from(i64::MIN)]).unwrap();
    let back: Vec<(u64, i128)> =
        conn.query_map("SELECT max(x), min(x) FROM t", (), |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(back, [(i64::MAX.unsigned_abs(), i128::from(i64::MIN))]);
}

#[tokio::test]
async fn bad_values_through_the_pool_and_serde_name_the_column() {
    let (_dir, path) = temp_db();
    let pool = Pool::open(&path).await.unwrap();
    let e = pool
        .query_row("SELECT 'yesterday' AS made_at", params![], |r| r.get::<NaiveDateTime>("made_at"))
        .await
        .unwrap_err();
    assert_conversion_error(&e, &["\"made_at\"", "\"yesterday\"", "YYYY-MM-DD HH:MM:SS.ffffff"]);
    let e = pool.execute("SELECT ?1", params![u64::MAX]).await.unwrap_err();
    assert_conversion_error(&e, &["u64 value 18446744073709551615"]);
    pool.close().await.unwrap();

    let engine = create_async_engine("sqlite://").await.unwrap();
    let c = engine.connect().await.unwrap();
    let r = c
        .execute(text(
            "SELECT 1 AS id, 'zz' AS uid, '2012-05-17' AS made_at, '2012-05-17' AS day, NULL AS at, '1' AS price, \
             '{}' AS doc, x'' AS data, 1 AS ok",
        ))
        .await
        .unwrap();
    let e = r.deserialize::<Doc>().unwrap_err().to_string();
    assert!(e.contains("column \"uid\"") && e.contains("\"zz\"") && e.contains("32 hex digits"), "{e}");
    engine.dispose().await.unwrap();
}
