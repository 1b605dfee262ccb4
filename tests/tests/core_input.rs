//! Regression tests for input the driver core took the wrong way, each named after what broke.
//!
//! Each guards a promise about what the caller hands over: SQL text is run whole or refused (SQLite reads only up
//! to a NUL byte, so a NUL silently cut statements off), a path is a path (URI options count only when URIs were
//! asked for), and what SQLite stores can be read back (TEXT that is not UTF-8 could not be read at all).

use asqlite::blocking::Connection;
use asqlite::{params, Error, ErrorKind, Pool};

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
