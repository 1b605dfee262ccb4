//! Regression tests for input the driver core took the wrong way, each named after what broke.
//!
//! Each guards a promise about what the caller hands over: SQL text is run whole or refused (SQLite reads only up
//! to a NUL byte, so a NUL silently cut statements off), a path is a path (URI options count only when URIs were
//! asked for), and what SQLite stores can be read back (TEXT that is not UTF-8 could not be read at all).

use asqlite::blocking::Connection;
use asqlite::{params, Error, ErrorKind, Pool, Value};

use crate::common::temp_db;

/// SQL that runs a statement, then hides a second one behind a NUL byte.
const INSERT_THEN_NUL: &str = "INSERT INTO t VALUES (1)\0; DELETE FROM t";

fn assert_nul_error<T: std::fmt::Debug>(what: &str, r: Result<T, Error>) {
    let e = r.expect_err(what);
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{what}: {e}");
    assert!(e.message().contains("NUL byte"), "{what}: {e}");
}

/// SQLite stops reading SQL at a NUL byte: `execute("INSERT ...\0; DELETE ...")` ran the insert, returned Ok and
/// even passed the one-statement check. Every entry point that prepares SQL must refuse it instead, and run
/// nothing.
#[test]
fn a_nul_byte_in_sql_is_an_error_not_a_truncation() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x)").unwrap();

    assert_nul_error("execute", conn.execute(INSERT_THEN_NUL, ()));
    assert_nul_error("prepare", conn.prepare(INSERT_THEN_NUL));
    assert_nul_error("prepare_cached", conn.prepare_cached(INSERT_THEN_NUL));
    assert_nul_error("execute_batch", conn.execute_batch(INSERT_THEN_NUL));
    assert_nul_error("execute_batch, NUL in a later statement", conn.execute_batch("INSERT INTO t VALUES (1); \0"));
    assert_nul_error("execute_many", conn.execute_many(INSERT_THEN_NUL, [params![], params![]]));
    assert_nul_error("query", conn.query("SELECT 1\0; DELETE FROM t", ()));
    assert_nul_error("query_one", conn.query_one("SELECT 1;\0", ()));
    assert_nul_error("query_map", conn.query_map("SELECT 1 \0", (), |r| r.get::<i64>(0)));
    assert_nul_error("NUL inside a string literal", conn.execute("INSERT INTO t VALUES ('a\0b')", ()));
    let e = conn.execute(INSERT_THEN_NUL, ()).unwrap_err();
    assert_eq!(e.offset(), Some(24), "the error points at the NUL: {e:?}");

    let n: i64 = conn.query_one("SELECT count(*) FROM t", ()).unwrap().get(0).unwrap();
    assert_eq!(n, 0, "a statement before the NUL ran");
    // A NUL in a bound value is data, not SQL.
    conn.execute("INSERT INTO t VALUES (?1)", params!["a\0b"]).unwrap();
    let s: String = conn.query_one("SELECT x FROM t", ()).unwrap().get(0).unwrap();
    assert_eq!(s, "a\0b");
}

/// The async handles prepare through the blocking connection, so they refuse a NUL byte in SQL as well.
#[test]
fn a_nul_byte_in_sql_is_an_error_on_the_async_handles() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
        assert_nul_error("execute", pool.execute(INSERT_THEN_NUL, params![]).await);
        assert_nul_error("execute_batch", pool.execute_batch(INSERT_THEN_NUL).await);
        assert_nul_error("execute_many", pool.execute_many(INSERT_THEN_NUL, [params![]]).await);
        assert_nul_error("query", pool.query("SELECT 1\0; DELETE FROM t", params![]).await);
        assert_nul_error("query_one", pool.query_one("SELECT 1\0", params![]).await);
        assert_nul_error("query_row", pool.query_row("SELECT 1\0", params![], |r| r.get::<i64>(0)).await);
        let tx = pool.begin().await.unwrap();
        assert_nul_error("execute in a transaction", tx.execute(INSERT_THEN_NUL, params![]).await);
        tx.rollback().await.unwrap();
        let n: i64 = pool.query_one("SELECT count(*) FROM t", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(n, 0, "a statement before the NUL ran");
        pool.close().await.unwrap();
    });
}

/// Open a pool with two readers on `path` (URIs as `uri` says), write a row, and report whether it runs as an
/// on-disk database should: WAL mode and reader threads.
async fn pool_runs_on_disk(path: &std::path::Path, uri: bool) -> (String, usize) {
    let pool = Pool::builder().readers(2).uri(uri).open(path).await.unwrap();
    pool.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").await.unwrap();
    let mode: String = pool.query_one("PRAGMA journal_mode", params![]).await.unwrap().get(0).unwrap();
    let readers = pool.stats().readers;
    pool.close().await.unwrap();
    (mode, readers)
}

/// A pool took any path containing `mode=memory` (or starting with `file::memory:`) for an in-memory database,
/// URIs asked for or not: it opened the file but ran it without WAL and without readers. A path is a path.
#[test]
fn a_path_containing_mode_memory_is_a_file_with_wal_and_readers() {
    let dir = tempfile::tempdir().unwrap();
    let in_dir = dir.path().join("mode=memory");
    std::fs::create_dir(&in_dir).unwrap();
    for path in [in_dir.join("app.db"), dir.path().join("x?mode=memory")] {
        let (mode, readers) = futures::executor::block_on(pool_runs_on_disk(&path, false));
        assert_eq!(mode, "wal", "{}", path.display());
        assert!(readers > 0, "{} runs without readers", path.display());
        assert!(path.is_file(), "{} was not created", path.display());
    }
}

/// SQLite (built with `SQLITE_USE_URI`) reads every name that starts with `file:` as a URI, whatever the open
/// flags: with URIs off, the relative path `file:app.db?mode=memory` opened a memory database and no file. It
/// names a file; with URIs on, it is the memory database it spells.
#[test]
fn a_relative_path_starting_with_file_colon_is_a_file_unless_uris_are_on() {
    let dir = tempfile::tempdir().unwrap();
    let _cwd = crate::common::CWD_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let old = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let result = std::panic::catch_unwind(|| {
        let name = std::path::Path::new("file:app.db?mode=memory");
        let conn = Connection::open(name).unwrap();
        conn.execute_batch("CREATE TABLE blocking (x)").unwrap();
        drop(conn);
        assert!(dir.path().join(name).is_file(), "the blocking connection created no file {name:?}");

        let (mode, readers) = futures::executor::block_on(pool_runs_on_disk(name, false));
        assert_eq!((mode.as_str(), readers > 0), ("wal", true), "the pool on {name:?}");

        // With URIs on, the same name is a memory database: one connection, no file.
        let uri = std::path::Path::new("file:other.db?mode=memory");
        let (mode, readers) = futures::executor::block_on(pool_runs_on_disk(uri, true));
        assert_eq!((mode.as_str(), readers), ("memory", 0), "the pool on the URI {uri:?}");
        assert!(!dir.path().join("other.db").exists() && !dir.path().join(uri).exists());
    });
    std::env::set_current_dir(old).unwrap();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

/// TEXT that is not valid UTF-8 (`CAST(x'ff' AS TEXT)`, or text another program wrote) could not be read at all:
/// a query holding it failed, and not even `get::<Vec<u8>>` or `get::<Value>` could read it. Now a `Vec<u8>` gets
/// its bytes, a `Value` the text with U+FFFD for each invalid sequence, and a `String` a clear error naming the
/// column.
#[test]
fn text_that_is_not_utf8_reads_as_bytes_or_lossy_text_not_an_error() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (CAST(x'ff41' AS TEXT))").unwrap();

    let row = conn.query_one("SELECT CAST(x'ff' AS TEXT)", ()).unwrap();
    assert_eq!(row.get::<Vec<u8>>(0).unwrap(), [0xff]);

    // Owned rows (query, query_one) keep the bytes for typed reads; their values hold the text lossily.
    let rows = conn.query("SELECT x, typeof(x) AS kind FROM t", ()).unwrap();
    let row = rows.first().unwrap();
    assert_eq!(row.get::<String>("kind").unwrap(), "text");
    assert_eq!(row.get::<Vec<u8>>("x").unwrap(), [0xff, b'A']);
    assert_eq!(row.get::<Option<Vec<u8>>>(0).unwrap(), Some(vec![0xff, b'A']));
    assert_eq!(row.get::<Value>(0).unwrap(), Value::Text("\u{FFFD}A".into()));
    assert_eq!(row.values()[0], Value::Text("\u{FFFD}A".into()));
    let e = row.get::<String>(0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeConversion, "{e}");
    assert!(e.message().contains("column 0 (\"x\")") && e.message().contains("not valid UTF-8"), "{e}");
    assert_eq!(row.get::<i64>(0).unwrap_err().kind(), ErrorKind::TypeConversion);

    // Borrowed rows read straight from SQLite.
    conn.query_row("SELECT x FROM t", (), |r| {
        assert_eq!(r.get::<Vec<u8>>(0)?, [0xff, b'A']);
        assert_eq!(r.get::<Value>(0)?, Value::Text("\u{FFFD}A".into()));
        let e = r.get::<String>(0).unwrap_err();
        assert!(e.kind() == ErrorKind::TypeConversion && e.message().contains("\"x\""), "{e}");
        let e = r.get_ref(0).unwrap_err();
        assert!(e.kind() == ErrorKind::TypeConversion && e.message().contains("not valid UTF-8"), "{e}");
        Ok(())
    })
    .unwrap();
    let all: Vec<Vec<u8>> = conn.query_map("SELECT x FROM t", (), |r| r.get(0)).unwrap();
    assert_eq!(all, [vec![0xff, b'A']]);
    // Valid text is untouched, and reads as bytes as before.
    let row = conn.query_one("SELECT 'héllo'", ()).unwrap();
    assert_eq!(row.get::<String>(0).unwrap(), "héllo");
    assert_eq!(row.get::<Vec<u8>>(0).unwrap(), "héllo".as_bytes());
}

/// The async handles build rows on the worker (or inline), and streams pack them into chunks: each keeps the bytes
/// of TEXT that is not UTF-8 just as the blocking rows do.
#[test]
fn text_that_is_not_utf8_reads_through_the_pool_and_streams() {
    use futures::StreamExt;
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::open(&path).await.unwrap();
        pool.execute_batch(
            "CREATE TABLE t (n INTEGER, x);
             WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 600)
             INSERT INTO t SELECT n, CAST(x'ff' AS TEXT) || n FROM c",
        )
        .await
        .unwrap();
        let expected = |i: i64| [&[0xff][..], i.to_string().as_bytes()].concat();

        let row = pool.query_one("SELECT CAST(x'ff' AS TEXT)", params![]).await.unwrap();
        assert_eq!(row.get::<Vec<u8>>(0).unwrap(), [0xff]);
        let rows = pool.query("SELECT n, x FROM t ORDER BY n", params![]).await.unwrap();
        assert_eq!(rows.len(), 600);
        for row in &rows {
            assert_eq!(row.get::<Vec<u8>>(1).unwrap(), expected(row.get(0).unwrap()));
        }
        let mut stream = pool.stream("SELECT n, x FROM t ORDER BY n", params![]);
        let mut seen = 0;
        while let Some(row) = stream.next().await {
            let row = row.unwrap();
            assert_eq!(row.get::<Vec<u8>>(1).unwrap(), expected(row.get(0).unwrap()));
            assert_eq!(row.get::<Value>("x").unwrap(), Value::Text(format!("\u{FFFD}{}", seen + 1)));
            assert_eq!(row.get::<String>(1).unwrap_err().kind(), ErrorKind::TypeConversion);
            seen += 1;
        }
        assert_eq!(seen, 600, "the stream ended early");
        pool.close().await.unwrap();
    });
}
