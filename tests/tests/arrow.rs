//! Results as Arrow record batches (feature `arrow`): every type and NULL pattern through each handle, empty
//! results, mixed-type columns (an error naming the column, the row and both types, or text when asked), streams
//! whose memory stays flat and whose consumer may write through the same connection, a round trip through an Arrow
//! IPC file, and the query layer's `execute_arrow` / `to_arrow` typed by the table's columns.
//!
//! The bugs guarded against: a value that does not fit its column becoming a silent NULL; a stream whose worker
//! waits for a consumer that waits for that worker (deadlock); a stream that holds its whole result in memory; a
//! schema that changes from one batch of a stream to the next.

use asqlite::arrow::cast::AsArray;
use asqlite::arrow::types::{Date32Type, Float64Type, Int64Type, Time64MicrosecondType, TimestampMicrosecondType};
use asqlite::arrow::{Array, ArrowOptions, DataType, Field, Mixed, RecordBatch, Schema, TimeUnit};
use asqlite::{params, ErrorKind};
use futures::StreamExt;

use crate::common::temp_db;

const TYPES: &str = "CREATE TABLE t (
    i INTEGER, f REAL, s TEXT, b BLOB, flag BOOLEAN, d DATE, ts DATETIME, tm TIME, j JSON, n NUMERIC,
    u CHAR(32), v VARCHAR(20), x)";

/// Rows: every value; every column NULL; NULLs first and last around values.
const ROWS: &str = "INSERT INTO t VALUES
    (1, 1.5, 'one', x'0102', 1, '2012-05-17', '2012-05-17 09:30:00.000001', '09:30:00.250000', '{\"a\": 1}', 19999.99,
     '0000000000000000000000000000abcd', 'varchar', 7),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (-9223372036854775808, -0.0, '', x'', 0, '1970-01-01', '1970-01-01T00:00:00Z', '00:00', '5', 3, '', '', NULL),
    (9223372036854775807, 1e300, 'é✓', x'ff', 2, '2024-02-29', '2024-02-29 23:59:59', '23:59:59.999999', '[1.5]', 2.5,
     'ffffffffffffffffffffffffffffffff', 'v', 8)";

fn setup(conn: &asqlite::blocking::Connection) {
    conn.execute_batch(TYPES).unwrap();
    conn.execute_batch(ROWS).unwrap();
}

/// Check the batch of `SELECT * FROM t` (the four rows above).
fn check_types_batch(batch: &RecordBatch) {
    let schema = batch.schema();
    let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
    assert_eq!(
        types,
        [
            &DataType::Int64,
            &DataType::Float64,
            &DataType::Utf8,
            &DataType::Binary,
            &DataType::Boolean,
            &DataType::Date32,
            &DataType::Timestamp(TimeUnit::Microsecond, None),
            &DataType::Time64(TimeUnit::Microsecond),
            &DataType::Utf8,
            &DataType::Float64,
            &DataType::Utf8,
            &DataType::Utf8,
            &DataType::Int64, // no declared type: from its first value
        ]
    );
    assert!(schema.fields().iter().all(|f| f.is_nullable()));
    assert_eq!(schema.field(8).metadata()["ARROW:extension:name"], "arrow.json");
    assert_eq!(batch.num_rows(), 4);
    // Row 1 is NULL everywhere.
    for c in batch.columns() {
        assert!(c.is_null(1), "{:?}", c.data_type());
        assert_eq!(c.null_count(), if c.data_type() == &DataType::Int64 && c.is_null(2) { 2 } else { 1 });
    }
    let i = batch.column(0).as_primitive::<Int64Type>();
    assert_eq!((i.value(0), i.value(2), i.value(3)), (1, i64::MIN, i64::MAX));
    let f = batch.column(1).as_primitive::<Float64Type>();
    assert_eq!((f.value(0), f.value(3)), (1.5, 1e300));
    assert_eq!(f.value(2), 0.0); // SQLite keeps a REAL -0.0 as 0
    let s = batch.column(2).as_string::<i32>();
    assert_eq!((s.value(0), s.value(2), s.value(3)), ("one", "", "é✓"));
    let b = batch.column(3).as_binary::<i32>();
    assert_eq!((b.value(0), b.value(2), b.value(3)), (&[1u8, 2][..], &[][..], &[0xffu8][..]));
    let flag = batch.column(4).as_boolean();
    assert_eq!((flag.value(0), flag.value(2), flag.value(3)), (true, false, true));
    let d = batch.column(5).as_primitive::<Date32Type>();
    assert_eq!((d.value(0), d.value(2), d.value(3)), (15_477, 0, 19_782));
    let ts = batch.column(6).as_primitive::<TimestampMicrosecondType>();
    assert_eq!((ts.value(0), ts.value(2)), (1_337_247_000_000_001, 0));
    assert_eq!(ts.value(3), 1_709_251_199_000_000);
    let tm = batch.column(7).as_primitive::<Time64MicrosecondType>();
    assert_eq!((tm.value(0), tm.value(2), tm.value(3)), (34_200_250_000, 0, 86_399_999_999));
    // A JSON column's affinity stores `5` as INTEGER 5: it comes back as its JSON text.
    let j = batch.column(8).as_string::<i32>();
    assert_eq!((j.value(0), j.value(2), j.value(3)), ("{\"a\": 1}", "5", "[1.5]"));
    // NUMERIC affinity keeps 3 as an INTEGER: widened to Float64.
    let n = batch.column(9).as_primitive::<Float64Type>();
    assert_eq!((n.value(0), n.value(2), n.value(3)), (19999.99, 3.0, 2.5));
    assert_eq!(batch.column(10).as_string::<i32>().value(0), "0000000000000000000000000000abcd");
    let x = batch.column(12).as_primitive::<Int64Type>();
    assert_eq!((x.value(0), x.is_null(2), x.value(3)), (7, true, 8));
}

#[test]
fn every_type_and_null_pattern_through_the_blocking_connection() {
    let conn = asqlite::blocking::Connection::open_in_memory().unwrap();
    setup(&conn);
    check_types_batch(&conn.query_arrow("SELECT * FROM t", params![]).unwrap());
    // Batch by batch: the same values, every batch with the same schema.
    let mut stmt = conn.prepare("SELECT * FROM t").unwrap();
    let batches: Vec<RecordBatch> = stmt.arrow_batches(params![], 3).unwrap().map(Result::unwrap).collect();
    assert_eq!(batches.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(), [3, 1]);
    assert_eq!(batches[0].schema(), batches[1].schema());
    check_types_batch(&concat(&batches));
    // Rows already read: types from the values (rows keep no declared types), or from the fields given.
    let rows = conn.query("SELECT i, s, d FROM t", params![]).unwrap();
    let batch = rows.to_arrow().unwrap();
    assert_eq!(batch.schema().field(2).data_type(), &DataType::Utf8);
    let given = ArrowOptions::new().fields([None, None, Some(Field::new("", DataType::Date32, true))]);
    let batch = rows.to_arrow_with(&given).unwrap();
    assert_eq!(batch.schema().field(2).name(), "d");
    assert_eq!(batch.column(2).as_primitive::<Date32Type>().value(0), 15_477);
}

#[test]
fn every_type_through_the_pool_connection_and_transaction() {
    let (_dir, path) = temp_db();
    setup(&asqlite::blocking::Connection::open(&path).unwrap());
    futures::executor::block_on(async {
        let pool = asqlite::Pool::builder().readers(2).open(&path).await.unwrap();
        check_types_batch(&pool.query_arrow("SELECT * FROM t", params![]).await.unwrap());
        let batches: Vec<RecordBatch> =
            pool.stream_arrow("SELECT * FROM t", params![], 2).map(Result::unwrap).collect().await;
        assert_eq!(batches.len(), 2);
        check_types_batch(&concat(&batches));
        let tx = pool.begin().await.unwrap();
        tx.execute("DELETE FROM t WHERE i IS NULL", params![]).await.unwrap();
        let batch = tx.query_arrow("SELECT i FROM t", params![]).await.unwrap();
        assert_eq!(batch.num_rows(), 3, "the transaction sees its own delete");
        drop(tx);
        pool.close().await.unwrap();
        let conn = asqlite::Connection::open(&path).await.unwrap();
        check_types_batch(&conn.query_arrow("SELECT * FROM t", params![]).await.unwrap());
        conn.close().await.unwrap();
    });
}

#[test]
fn empty_results_keep_their_schema() {
    let conn = asqlite::blocking::Connection::open_in_memory().unwrap();
    conn.execute_batch(TYPES).unwrap();
    let batch = conn.query_arrow("SELECT *, count(*) OVER () AS c, 1 + 1 AS two FROM t", params![]).unwrap();
    assert_eq!(batch.num_rows(), 0);
    let types: Vec<DataType> = batch.schema().fields().iter().map(|f| f.data_type().clone()).collect();
    assert_eq!(types[..4], [DataType::Int64, DataType::Float64, DataType::Utf8, DataType::Binary]);
    assert_eq!(types[6], DataType::Timestamp(TimeUnit::Microsecond, None));
    // No declared type and no value: Null.
    assert_eq!(types[12..], [DataType::Null, DataType::Null, DataType::Null]);
    futures::executor::block_on(async {
        let pool = asqlite::Connection::open_in_memory().await.unwrap();
        pool.execute_batch(TYPES).await.unwrap();
        let batch = pool.query_arrow("SELECT d, ts FROM t", params![]).await.unwrap();
        assert_eq!((batch.num_rows(), batch.schema().field(0).data_type()), (0, &DataType::Date32));
        // A stream of an empty result gives one empty batch, which carries the schema.
        let batches: Vec<_> = pool.stream_arrow("SELECT d FROM t", params![], 10).collect().await;
        assert_eq!(batches.len(), 1);
        let batch = batches.into_iter().next().unwrap().unwrap();
        assert_eq!((batch.num_rows(), batch.schema().field(0).data_type()), (0, &DataType::Date32));
        // A statement without result columns: a batch of no columns.
        let batch = pool.query_arrow("CREATE TABLE u (a)", params![]).await.unwrap();
        assert_eq!((batch.num_rows(), batch.num_columns()), (0, 0));
        pool.close().await.unwrap();
    });
}

/// A column whose values do not fit one Arrow type: an error naming the column, the row and both types, or, with
/// `Mixed::Utf8`, a text column; never a silent NULL.
#[test]
fn mixed_type_columns_are_an_error_naming_column_row_and_types_or_text_when_asked() {
    let conn = asqlite::blocking::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE m (id INTEGER PRIMARY KEY, x, n INTEGER, d DATE, r);
         INSERT INTO m VALUES (1, NULL, 1, '2020-01-01', 1.5), (2, 10, 2, '2020-01-02', 2),
                              (3, 'eleven', 'three', 'yesterday', 2.5), (4, x'00ff', 4, NULL, NULL)",
    )
    .unwrap();
    let e = conn.query_arrow("SELECT x FROM m", params![]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeConversion);
    let msg = e.to_string();
    for part in ["column 0 (\"x\")", "row 2", "TEXT \"eleven\"", "Int64", "from its first value, in row 1"] {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
    assert!(msg.contains("Mixed::Utf8"), "the error says how to read it anyway: {msg}");
    let e = conn.query_arrow("SELECT n FROM m", params![]).unwrap_err().to_string();
    assert!(e.contains("row 2") && e.contains("declared type INTEGER") && e.contains("TEXT \"three\""), "{e}");
    let e = conn.query_arrow("SELECT d FROM m", params![]).unwrap_err().to_string();
    assert!(e.contains("row 2") && e.contains("Date32") && e.contains("YYYY-MM-DD"), "{e}");
    // A REAL column takes integers (widening), the other way round is a misfit.
    let r = conn.query_arrow("SELECT r FROM m", params![]).unwrap();
    assert_eq!(r.column(0).as_primitive::<Float64Type>().values(), &[1.5, 2.0, 2.5, 0.0]);
    let e = conn.query_arrow("SELECT n FROM m WHERE id < 3 UNION ALL SELECT 1.5", params![]).unwrap_err();
    assert!(e.to_string().contains("REAL 1.5 does not fit the column's Arrow type Int64"), "{e}");

    // The fallback: every value as text, the ones read before the misfit included.
    let text = ArrowOptions::new().mixed(Mixed::Utf8);
    let b = conn.query_arrow_with("SELECT x, n, d, r FROM m", params![], &text).unwrap();
    let types: Vec<DataType> = b.schema().fields().iter().map(|f| f.data_type().clone()).collect();
    assert_eq!(types, [DataType::Utf8, DataType::Utf8, DataType::Utf8, DataType::Float64]);
    let col = |i: usize| -> Vec<Option<String>> {
        b.column(i).as_string::<i32>().iter().map(|v| v.map(str::to_owned)).collect()
    };
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(col(0), [None, some("10"), some("eleven"), some("00FF")]);
    assert_eq!(col(1), [some("1"), some("2"), some("three"), some("4")]);
    assert_eq!(col(2), [some("2020-01-01"), some("2020-01-02"), some("yesterday"), None]);

    // A field given as not nullable refuses a NULL, fallback or not.
    let strict = ArrowOptions::new().mixed(Mixed::Utf8).fields([Some(Field::new("d", DataType::Date32, false))]);
    let e = conn.query_arrow_with("SELECT d FROM m", params![], &strict).unwrap_err().to_string();
    assert!(e.contains("NULL in a field that is not nullable") && e.contains("row 3"), "{e}");

    // A stream keeps its first batch's schema: a later misfit is an error even with the fallback, after the rows
    // before it.
    futures::executor::block_on(async {
        let pool = asqlite::Connection::open_in_memory().await.unwrap();
        pool.execute_batch("CREATE TABLE s (x); INSERT INTO s VALUES (1), (2), (3), ('four'), (5)").await.unwrap();
        let items: Vec<_> = pool.stream_arrow_with("SELECT x FROM s", params![], 2, text.clone()).collect().await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0].as_ref().unwrap().num_rows(), 2);
        assert_eq!(items[1].as_ref().unwrap().num_rows(), 1, "the row before the misfit");
        let e = items[2].as_ref().unwrap_err().to_string();
        assert!(e.contains("row 3") && e.contains("first batch"), "{e}");
        // Within the first batch the fallback applies.
        let items: Vec<_> = pool.stream_arrow_with("SELECT x FROM s", params![], 10, text.clone()).collect().await;
        assert_eq!(items[0].as_ref().unwrap().column(0).as_string::<i32>().value(3), "four");
        pool.close().await.unwrap();
    });
}

/// Unsupported Arrow types and a wrong number of fields are errors, not panics.
#[test]
fn bad_options_are_errors() {
    let conn = asqlite::blocking::Connection::open_in_memory().unwrap();
    let e = conn
        .query_arrow_with(
            "SELECT 1",
            params![],
            &ArrowOptions::new().fields([Some(Field::new("a", DataType::Int8, true))]),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("Int8"), "{e}");
    let two = ArrowOptions::new().fields([None::<Field>, None]);
    assert!(conn.query_arrow_with("SELECT 1", params![], &two).unwrap_err().to_string().contains("2 fields"));
    let mut stmt = conn.prepare("SELECT 1").unwrap();
    assert_eq!(stmt.arrow_batches(params![], 0).unwrap_err().kind(), ErrorKind::InvalidInput);
}

/// The consumer writes through the stream's own connection (and inside a transaction) after every batch: the
/// worker must set the rest aside instead of waiting for it. Every row comes once, in order, from the statement's
/// one snapshot (the rows the consumer inserts meanwhile are not among them).
#[test]
fn a_consumer_writing_through_the_streams_own_connection_does_not_deadlock() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let conn = asqlite::Connection::open_in_memory().await.unwrap();
        conn.execute_batch(
            "CREATE TABLE n (i INTEGER PRIMARY KEY, s TEXT);
             WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 5000)
             INSERT INTO n SELECT i, 'row ' || i FROM k",
        )
        .await
        .unwrap();
        let mut s = conn.stream_arrow("SELECT i, s FROM n ORDER BY i", params![], 100);
        let mut next = 1i64;
        while let Some(batch) = s.next().await {
            let batch = batch.unwrap();
            for (i, text) in
                batch.column(0).as_primitive::<Int64Type>().values().iter().zip(batch.column(1).as_string::<i32>())
            {
                assert_eq!((*i, text), (next, Some(format!("row {next}").as_str())));
                next += 1;
            }
            conn.execute("INSERT INTO n (s) VALUES ('written meanwhile')", params![]).await.unwrap();
        }
        assert_eq!(next, 5001);
        let tx = conn.begin().await.unwrap();
        let mut s = tx.stream_arrow("SELECT i FROM n WHERE i <= 1000", params![], 64);
        let mut rows = 0;
        while let Some(batch) = s.next().await {
            rows += batch.unwrap().num_rows();
            tx.execute("UPDATE n SET s = 'seen' WHERE i = 1", params![]).await.unwrap();
        }
        assert_eq!(rows, 1000);
        tx.commit().await.unwrap();
        // Dropping a stream half-way leaves the connection usable.
        let mut s = conn.stream_arrow("SELECT * FROM n", params![], 10);
        s.next().await.unwrap().unwrap();
        drop(s);
        assert_eq!(conn.query_arrow("SELECT count(*) FROM n", params![]).await.unwrap().num_rows(), 1);
        conn.close().await.unwrap();
    });
}

/// `arrow_memory` (a child process, so that its peak memory is its own) streams 1M rows in batches of 65 536: on a
/// pool, paused for a while after the first batch; and on a lone connection written through after the first
/// batch, so that its worker sets the rest aside. Memory must not grow with the rows: a stream holds at most three
/// batches (about 9 MiB here, against 46 MiB for one batch of the whole result); the bound is a third of the whole.
#[cfg(target_os = "linux")]
#[test]
fn a_million_rows_stream_in_flat_memory() {
    for mode in ["stream", "spill"] {
        let (dir, path) = temp_db();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_arrow_memory")).arg(&path).arg(mode).output().unwrap();
        drop(dir);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "arrow_memory {mode} failed: {stdout} {}", String::from_utf8_lossy(&out.stderr));
        let fields: Vec<&str> = stdout.split_whitespace().collect();
        let [_, growth, _, result] = fields[..] else { panic!("unexpected output {stdout:?}") };
        let (growth, result): (u64, u64) = (growth.parse().unwrap(), result.parse().unwrap());
        assert!(growth < result / 3, "{mode}: peak memory grew by {growth} bytes for a result of {result} bytes");
    }
}

/// A batch written to an Arrow IPC file and read back by the `arrow-ipc` reader is the same batch, schema (with
/// the JSON extension name) and values.
#[test]
fn a_batch_round_trips_through_an_arrow_ipc_file() {
    let conn = asqlite::blocking::Connection::open_in_memory().unwrap();
    setup(&conn);
    let batch = conn.query_arrow("SELECT * FROM t", params![]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.arrow");
    {
        let file = std::fs::File::create(&path).unwrap();
        let mut w = arrow_ipc::writer::FileWriter::try_new(file, &batch.schema()).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
    }
    let reader = arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&path).unwrap(), None).unwrap();
    let back: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    assert_eq!(back, [batch]);
    check_types_batch(&back[0]);
}

/// The Arrow lines of the design's "Contract additions", as written there.
#[test]
fn the_contract_lines_compile_and_run_as_written() {
    use asqlite_query::prelude::*;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (_dir, path) = temp_db();
        let pool = asqlite::Pool::open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER)")
            .await
            .unwrap();
        pool.execute("INSERT INTO cars (make, year, mileage) VALUES ('Honda Civic', 2012, 20000)", params![])
            .await
            .unwrap();
        let run = async {
            let batch: asqlite::arrow::RecordBatch =
                pool.query_arrow("SELECT * FROM cars WHERE mileage > ?1", params![6000]).await?;
            assert_eq!(batch.num_rows(), 1);
            let mut batches = pool.stream_arrow("SELECT * FROM cars", params![], 65_536); // Stream<Item = Result<RecordBatch>>
            assert_eq!(batches.next().await.unwrap()?.num_rows(), 1);
            Ok::<_, asqlite::Error>(())
        };
        run.await.unwrap();
        let engine = create_async_engine(&format!("sqlite:///{}", path.display())).await.unwrap();
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
        let conn = engine.connect().await.unwrap();
        let run = async {
            let batch = conn.execute_arrow(select(&cars).where_(cars.c("mileage").gt(6000))).await?; // query layer
            let result = conn.execute(select(&cars).where_(cars.c("mileage").gt(6000))).await?;
            let same = result.to_arrow()?; // a QueryResult
            assert_eq!(batch, same);
            Ok::<_, asqlite_query::Error>(())
        };
        run.await.unwrap();
        engine.dispose().await.unwrap();
        pool.close().await.unwrap();
    });
}

mod query_layer {
    use super::*;
    use asqlite_query::prelude::*;

    fn cars(meta: &MetaData) -> Table {
        Table::new(
            "cars",
            meta,
            [
                Column::new("car_id", Integer).primary_key(),
                Column::new("make", Text).nullable(false),
                Column::new("year", Integer),
                Column::new("mileage", Integer),
                Column::new("price", Float),
                Column::new("sold", Date),
                Column::new("made_at", DateTime),
                Column::new("at", Time),
                Column::new("doc", Json),
                Column::new("id", Uuid),
                Column::new("photo", Blob),
                Column::new("used", Boolean),
            ],
        )
    }

    #[test]
    fn execute_arrow_and_to_arrow_take_the_tables_types_and_nullability() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (_dir, path) = temp_db();
            let engine = create_async_engine(&format!("sqlite:///{}", path.display())).await.unwrap();
            let meta = MetaData::new();
            let cars = cars(&meta);
            let conn = engine.begin().await.unwrap();
            let m = meta.clone();
            conn.run_sync(move |c| m.create_all(c)).await.unwrap();
            conn.execute(text(
                "INSERT INTO cars (make, year, mileage, price, sold, made_at, at, doc, id, photo, used) VALUES
                 ('Honda Civic', 2012, 20000, 9999.5, '2020-05-17', '2012-05-17 09:30:00.000000', '09:30:00', '{}',
                  '00000000000000000000000000001234', x'01', 1),
                 ('Toyota Prius', 2020, 10000, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                 ('Tesla Model 3', 2019, 5000, 30000, NULL, NULL, NULL, '[1]', NULL, NULL, 0)",
            ))
            .await
            .unwrap();
            // In the transaction: the batch sees its uncommitted rows.
            let batch = conn.execute_arrow(select(&cars)).await.unwrap();
            assert_eq!(batch.num_rows(), 3);
            conn.commit().await.unwrap();

            let conn = engine.connect().await.unwrap();
            let batch = conn.execute_arrow(select(&cars).where_(cars.c("mileage").gt(6000))).await.unwrap();
            let schema = batch.schema();
            let expect = Schema::new(vec![
                Field::new("car_id", DataType::Int64, false),
                Field::new("make", DataType::Utf8, false),
                Field::new("year", DataType::Int64, true),
                Field::new("mileage", DataType::Int64, true),
                Field::new("price", DataType::Float64, true),
                Field::new("sold", DataType::Date32, true),
                Field::new("made_at", DataType::Timestamp(TimeUnit::Microsecond, None), true),
                Field::new("at", DataType::Time64(TimeUnit::Microsecond), true),
                Field::new("doc", DataType::Utf8, true).with_metadata(
                    [("ARROW:extension:name".to_owned(), "arrow.json".to_owned())].into_iter().collect(),
                ),
                Field::new("id", DataType::Utf8, true),
                Field::new("photo", DataType::Binary, true),
                Field::new("used", DataType::Boolean, true),
            ]);
            assert_eq!(*schema, expect);
            assert_eq!(batch.num_rows(), 2);
            assert_eq!(batch.column(1).as_string::<i32>().value(1), "Toyota Prius");
            assert_eq!(batch.column(5).as_primitive::<Date32Type>().value(0), 18_399);

            // The same through an ordinary result, built again (a cache hit) or run by reference.
            let r = conn.execute(select(&cars).where_(cars.c("mileage").gt(6000))).await.unwrap();
            assert_eq!(r.to_arrow().unwrap(), batch);
            let again = select(&cars).where_(cars.c("mileage").gt(6000));
            assert_eq!(conn.execute(&again).await.unwrap().to_arrow().unwrap(), batch);
            let typed = batch;

            // Expressions: labels keep their column's type, count is a non-null Int64, the rest come from the driver.
            let s = select((cars.c("make").label("name"), func::count_star(), func::max(cars.c("price"))))
                .group_by(cars.c("make"))
                .order_by(cars.c("make"));
            let batch = conn.execute_arrow(&s).await.unwrap();
            let f = batch.schema();
            assert_eq!((f.field(0).name().as_str(), f.field(0).data_type()), ("name", &DataType::Utf8));
            assert_eq!((f.field(1).data_type(), f.field(1).is_nullable()), (&DataType::Int64, false));
            assert_eq!(f.field(2).data_type(), &DataType::Float64);

            // text() reads, with parameters; an empty result keeps the schema.
            let batch = conn
                .execute_arrow_with(text("SELECT make, sold FROM cars WHERE year > :y"), named_params! {"y" => 3000})
                .await
                .unwrap();
            assert_eq!((batch.num_rows(), batch.schema().field(1).data_type()), (0, &DataType::Date32));

            // RETURNING begins the connection's transaction, which a rollback undoes.
            let batch = conn
                .execute_arrow(cars.insert().values(named_params! {"make" => "Mazda 3"}).returning(cars.c("car_id")))
                .await
                .unwrap();
            assert_eq!(batch.column(0).as_primitive::<Int64Type>().value(0), 4);
            assert!(conn.in_transaction());
            conn.rollback().await.unwrap();
            assert_eq!(conn.scalar::<i64, _>(select(func::count_star()).select_from(&cars)).await.unwrap(), 3);
            // A statement compiled by hand has lost its tables: the driver types its columns from the values.
            let compiled = select(&cars).where_(cars.c("mileage").gt(6000)).compile().unwrap();
            let untyped = conn.execute(&compiled).await.unwrap().to_arrow().unwrap();
            assert_eq!(untyped.schema().field(5).data_type(), &DataType::Utf8);
            engine.dispose().await.unwrap();
            // A result outlives its engine and the engine's cache, and keeps its types.
            drop((conn, engine));
            assert_eq!(r.to_arrow().unwrap(), typed);
        });
    }
}

/// Batches of one schema as one batch.
fn concat(batches: &[RecordBatch]) -> RecordBatch {
    arrow_select::concat::concat_batches(&batches[0].schema(), batches).unwrap()
}
