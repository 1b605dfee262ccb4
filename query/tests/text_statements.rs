//! `text()` statements through the engine run where they mean to run, and what they change is seen by what follows.
//!
//! The bug guarded against: outside a transaction, the engine offers a `text()` statement to one of the pool's
//! readers first, to learn whether it writes. A reader's schema can be older than the writer's (it reloads it when
//! it next reads), so a reader could refuse a statement the writer would run, or judge by a schema that is gone:
//! run through the engine, SQLite's sqllogictest scripts lost records such as a `CREATE INDEX` after a `DROP TABLE`
//! ("index already exists"), a `DROP VIEW` of a TEMP view ("no such view") and a `REINDEX` of a new index. Each
//! statement here runs as its own transaction (commit-as-you-go, then commit), as those scripts run them, on a file
//! database with readers whose schema is made stale on purpose.

use asqlite_query::prelude::*;
use asqlite_query::Engine;
use futures::future::join_all;

async fn engine(dir: &tempfile::TempDir) -> Engine {
    let url = format!("sqlite:///{}?readers=2", dir.path().join("slt.db").display());
    create_async_engine(&url).await.unwrap()
}

/// Run one statement as its own unit of work, as a script does.
async fn exec(engine: &Engine, sql: &str) -> asqlite_query::Result<QueryResult> {
    let conn = engine.connect().await?;
    let r = conn.execute(text(sql)).await?;
    conn.commit().await?;
    Ok(r)
}

/// Let every reader load the schema as it is now, so that the next schema change leaves them stale.
async fn load_schema_on_every_reader(engine: &Engine, sql: &str) {
    for _ in 0..4 {
        let reads = (0..16).map(|_| engine.pool().query(sql, ()));
        for r in join_all(reads).await {
            r.unwrap();
        }
    }
}

async fn ints(engine: &Engine, sql: &str) -> Vec<i64> {
    exec(engine, sql).await.unwrap().scalars::<i64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_index_after_drop_table_on_a_stale_reader_schema() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir).await;
    exec(&engine, "CREATE TABLE t1 (a INTEGER, b TEXT)").await.unwrap();
    exec(&engine, "CREATE INDEX t1i1 ON t1 (a)").await.unwrap();
    exec(&engine, "INSERT INTO t1 VALUES (1, 'x'), (2, 'y')").await.unwrap();
    load_schema_on_every_reader(&engine, "SELECT a FROM t1 WHERE a = 1").await;
    exec(&engine, "DROP TABLE t1").await.unwrap();
    exec(&engine, "CREATE TABLE t1 (a INTEGER, b TEXT)").await.unwrap();
    // The readers still know t1i1: the index exists to them, not to the writer.
    exec(&engine, "CREATE INDEX t1i1 ON t1 (b)").await.unwrap();
    exec(&engine, "INSERT INTO t1 VALUES (3, 'z')").await.unwrap();
    assert_eq!(ints(&engine, "SELECT a FROM t1 WHERE b = 'z'").await, [3]);
    let sql: String =
        exec(&engine, "SELECT sql FROM sqlite_master WHERE name = 't1i1'").await.unwrap().scalar().unwrap();
    assert!(sql.ends_with("(b)"), "{sql}");
    engine.dispose().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_view_of_a_temp_view() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir).await;
    exec(&engine, "CREATE TABLE t1 (a INTEGER)").await.unwrap();
    exec(&engine, "INSERT INTO t1 VALUES (1), (2), (3)").await.unwrap();
    exec(&engine, "CREATE TEMP VIEW v1 AS SELECT a FROM t1 WHERE a > 1").await.unwrap();
    assert_eq!(ints(&engine, "SELECT a FROM v1 ORDER BY a").await, [2, 3]);
    exec(&engine, "DROP VIEW v1").await.unwrap();
    let err = exec(&engine, "SELECT a FROM v1").await.unwrap_err();
    assert_eq!(err.driver_kind(), Some(asqlite::ErrorKind::NoSuchTable), "{err}");
    // A TEMP view that shadows nothing, dropped by its qualified name, and a temp table.
    exec(&engine, "CREATE TEMP VIEW v2 AS SELECT count(*) AS n FROM t1").await.unwrap();
    assert_eq!(ints(&engine, "SELECT n FROM temp.v2").await, [3]);
    exec(&engine, "DROP VIEW temp.v2").await.unwrap();
    exec(&engine, "CREATE TEMP TABLE scratch (x)").await.unwrap();
    exec(&engine, "INSERT INTO scratch VALUES (7)").await.unwrap();
    assert_eq!(ints(&engine, "SELECT x FROM scratch").await, [7]);
    exec(&engine, "DROP TABLE scratch").await.unwrap();
    engine.dispose().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_of_a_new_index() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir).await;
    exec(&engine, "CREATE TABLE t1 (a INTEGER, b TEXT)").await.unwrap();
    exec(&engine, "INSERT INTO t1 VALUES (1, 'x'), (2, 'y')").await.unwrap();
    load_schema_on_every_reader(&engine, "SELECT a FROM t1").await;
    exec(&engine, "CREATE INDEX t1b ON t1 (b)").await.unwrap();
    // The readers have not seen t1b yet.
    exec(&engine, "REINDEX t1b").await.unwrap();
    exec(&engine, "REINDEX t1").await.unwrap();
    exec(&engine, "REINDEX").await.unwrap();
    assert_eq!(ints(&engine, "SELECT a FROM t1 INDEXED BY t1b WHERE b = 'y'").await, [2]);
    engine.dispose().await.unwrap();
}

/// The reader's verdict on `IF [NOT] EXISTS` depends on its schema: a stale reader sees a no-op (a read) where the
/// writer has a table to drop or create.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_exists_statements_judged_by_a_stale_reader() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir).await;
    exec(&engine, "CREATE TABLE keep (a)").await.unwrap();
    load_schema_on_every_reader(&engine, "SELECT a FROM keep").await;
    exec(&engine, "CREATE TABLE t2 (a)").await.unwrap();
    exec(&engine, "INSERT INTO t2 VALUES (1)").await.unwrap();
    // The readers do not know t2: DROP TABLE IF EXISTS t2 is a no-op to them.
    exec(&engine, "DROP TABLE IF EXISTS t2").await.unwrap();
    let n: i64 = exec(&engine, "SELECT count(*) FROM sqlite_master WHERE name = 't2'").await.unwrap().scalar().unwrap();
    assert_eq!(n, 0, "t2 was dropped");
    load_schema_on_every_reader(&engine, "SELECT a FROM keep").await;
    exec(&engine, "CREATE TABLE t3 (a)").await.unwrap();
    load_schema_on_every_reader(&engine, "SELECT a FROM t3").await;
    exec(&engine, "DROP TABLE t3").await.unwrap();
    // The readers still know t3: CREATE TABLE IF NOT EXISTS t3 is a no-op to them.
    exec(&engine, "CREATE TABLE IF NOT EXISTS t3 (b)").await.unwrap();
    exec(&engine, "INSERT INTO t3 (b) VALUES (5)").await.unwrap();
    assert_eq!(ints(&engine, "SELECT b FROM t3").await, [5]);
    exec(&engine, "CREATE INDEX IF NOT EXISTS t3b ON t3 (b)").await.unwrap();
    assert_eq!(ints(&engine, "SELECT count(*) FROM sqlite_master WHERE name = 't3b'").await, [1]);
    engine.dispose().await.unwrap();
}
