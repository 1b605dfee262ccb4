//! Per-connection state in a pool: temp tables, `ATTACH`, pragmas and `last_insert_rowid()`.
//!
//! The bug these guard against: a pool is one writer and N readers, each its own SQLite connection, and SQLite keeps
//! some state per connection. Before the fix, a temp table made through the pool lived on the writer while reads of
//! it went to readers ("no such table"); `ATTACH` sent as a read (as the query layer sends `text()`) attached one
//! random reader, so reads of the attached database worked on that reader and failed on the others; `PRAGMA
//! foreign_keys = OFF` through the engine changed a reader and not the writer, where writes run; and `SELECT
//! last_insert_rowid()` or `changes()` through the pool answered 0 from a reader that never wrote. Each case must
//! now either work as it would on one connection or fail every time with an error that says why and what to use
//! instead: never work on one reader and fail on the next. So every test runs its calls many times, on four
//! readers, with reads issued concurrently so that several readers serve them.

use std::path::Path;

use asqlite::{params, ErrorKind, Pool};
use asqlite_query::prelude::*;
use futures::StreamExt;

use crate::common::temp_db;

const ROUNDS: usize = 20;

/// Concurrent copies of a read, so that the readers share them out.
const SPREAD: usize = 12;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn pool(path: &Path) -> Pool {
    let pool = Pool::builder().readers(4).open(path).await.unwrap();
    pool.execute_batch("CREATE TABLE IF NOT EXISTS owners (id INTEGER PRIMARY KEY, name TEXT)").await.unwrap();
    pool.execute_batch(
        "CREATE TABLE IF NOT EXISTS cars (id INTEGER PRIMARY KEY, make TEXT, owner_id INTEGER REFERENCES owners (id))",
    )
    .await
    .unwrap();
    pool
}

/// A second database file holding `other (x)` with the values 1, 2, 3.
fn other_db(dir: &Path) -> String {
    let path = dir.join("other.db");
    let c = asqlite::blocking::Connection::open(&path).unwrap();
    c.execute_batch("CREATE TABLE IF NOT EXISTS other (x); DELETE FROM other; INSERT INTO other VALUES (1), (2), (3)")
        .unwrap();
    path.to_string_lossy().into_owned()
}

/// Run `SPREAD` copies of `sql` at once and return each one's first column of its first row.
async fn spread_i64(pool: &Pool, sql: &str) -> Vec<asqlite::Result<i64>> {
    let calls = (0..SPREAD).map(|_| async move { pool.query_one(sql, params![]).await.and_then(|r| r.get(0)) });
    futures::future::join_all(calls).await
}

/// Every result is `Ok(want)`.
fn all_equal(got: &[asqlite::Result<i64>], want: i64, what: &str) {
    for (i, r) in got.iter().enumerate() {
        match r {
            Ok(v) => assert_eq!(*v, want, "{what}: call {i} read {v}"),
            Err(e) => panic!("{what}: call {i} failed: {e}"),
        }
    }
}

/// A slow tail that keeps a reader busy, so that concurrent copies of a read land on different readers.
const SLOW: &str =
    "(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 20000) SELECT count(*) - 20000 FROM c)";

#[test]
fn a_temp_table_made_through_the_pool_was_missing_on_the_readers() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool(&path).await;
        pool.execute_batch("CREATE TEMP TABLE scratch (x INTEGER)").await.unwrap();
        let count = format!("SELECT count(*) + {SLOW} FROM scratch");
        for i in 0..ROUNDS {
            let i = i64::try_from(i).unwrap();
            pool.execute("INSERT INTO scratch VALUES (?1)", params![i]).await.unwrap();
            // A write sent as a read (RETURNING) goes to the writer, where the table is.
            let back: i64 = pool
                .query_one("INSERT INTO scratch VALUES (?1) RETURNING x", params![-i])
                .await
                .expect("a write with RETURNING to a temp table")
                .get(0)
                .unwrap();
            assert_eq!(back, -i);
            let n = 2 * (i + 1);
            all_equal(&spread_i64(&pool, &count).await, n, "count of a temp table");
            let rows = pool.query("SELECT x FROM scratch", params![]).await.expect("query of a temp table");
            assert_eq!(rows.len(), usize::try_from(n).unwrap());
            let xs: Vec<i64> = pool.query_map("SELECT x FROM scratch", params![], |r| r.get(0)).await.unwrap();
            assert_eq!(xs.len(), usize::try_from(n).unwrap());
            let m: i64 = pool.query_row("SELECT max(x) FROM scratch", params![], |r| r.get(0)).await.unwrap();
            assert_eq!(m, i);
            let streamed: Vec<_> = pool.stream("SELECT x FROM scratch", params![]).collect().await;
            assert_eq!(streamed.len(), usize::try_from(n).unwrap());
            assert!(streamed.iter().all(Result::is_ok));
            // A reader has no temp schema of its own to answer from.
            let e = pool
                .read(|c| c.query_one("SELECT count(*) FROM temp.sqlite_master", params![])?.get::<i64>(0))
                .await
                .expect_err("a reader read the temp schema");
            assert!(e.to_string().contains("reader"), "{e}");
        }
        pool.execute_batch("DROP TABLE scratch").await.unwrap();
        for r in spread_i64(&pool, &count).await {
            let e = r.expect_err("the temp table is gone");
            assert!(e.to_string().contains("no such table"), "{e}");
        }
        pool.close().await.unwrap();
    });
}

#[test]
fn last_insert_rowid_and_changes_through_the_pool_read_zero_from_a_reader() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool(&path).await;
        for i in 0..ROUNDS {
            let done = pool.execute("INSERT INTO owners (name) VALUES (?1)", params![format!("o{i}")]).await.unwrap();
            all_equal(
                &spread_i64(&pool, "SELECT last_insert_rowid()").await,
                done.last_insert_rowid(),
                "last_insert_rowid()",
            );
            all_equal(&spread_i64(&pool, "SELECT changes()").await, 1, "changes() after one insert");
            let n = i64::try_from(i + 1).unwrap();
            pool.execute("UPDATE owners SET name = name || '!'", params![]).await.unwrap();
            all_equal(&spread_i64(&pool, "SELECT changes()").await, n, "changes() after an update");
            let total: i64 = pool.query_one("SELECT total_changes()", params![]).await.unwrap().get(0).unwrap();
            assert!(total >= n, "total_changes() read {total}");
        }
        pool.close().await.unwrap();
    });
}

#[test]
fn an_attached_database_was_readable_on_one_reader_only() {
    let (dir, path) = temp_db();
    let other = other_db(dir.path());
    rt().block_on(async {
        let pool = pool(&path).await;
        let read = format!("SELECT sum(x) + {SLOW} FROM aux.other");
        for _ in 0..ROUNDS {
            // Sent as a read, as the query layer sends `text()`.
            pool.query("ATTACH ?1 AS aux", params![other.clone()]).await.expect("ATTACH");
            all_equal(&spread_i64(&pool, &read).await, 6, "a read of the attached database");
            // A table name found only in the attached database.
            all_equal(&spread_i64(&pool, "SELECT count(*) FROM other").await, 3, "an unqualified read of it");
            pool.execute("DETACH aux", params![]).await.expect("DETACH");
            for r in spread_i64(&pool, &read).await {
                let e = r.expect_err("detached");
                assert!(e.to_string().contains("no such table"), "{e}");
            }
        }
        pool.execute_batch(&format!("ATTACH '{other}' AS aux")).await.unwrap();
        all_equal(&spread_i64(&pool, &read).await, 6, "a read after ATTACH through execute_batch");
        pool.close().await.unwrap();
    });
}

#[test]
fn pragma_foreign_keys_off_through_the_pool_changed_a_reader_not_the_writer() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool(&path).await;
        for i in 0..ROUNDS {
            let i = i64::try_from(i).unwrap();
            // Sent as a read (`query`), as the query layer sends `text()`.
            pool.query("PRAGMA foreign_keys = OFF", params![]).await.expect("PRAGMA foreign_keys = OFF");
            all_equal(&spread_i64(&pool, "PRAGMA foreign_keys").await, 0, "foreign_keys after OFF");
            pool.execute("INSERT INTO cars (make, owner_id) VALUES ('orphan', ?1)", params![1000 + i])
                .await
                .expect("foreign keys are off");
            pool.execute("PRAGMA foreign_keys = ON", params![]).await.expect("PRAGMA foreign_keys = ON");
            all_equal(&spread_i64(&pool, "PRAGMA foreign_keys").await, 1, "foreign_keys after ON");
            let e = pool
                .execute("INSERT INTO cars (make, owner_id) VALUES ('orphan', ?1)", params![2000 + i])
                .await
                .expect_err("foreign keys are on");
            assert_eq!(e.kind(), ErrorKind::ForeignKeyViolation, "{e}");
        }
        pool.close().await.unwrap();
    });
}

#[test]
fn pragma_foreign_keys_inside_a_transaction_was_silently_ignored() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool(&path).await;
        for _ in 0..ROUNDS {
            let tx = pool.begin().await.unwrap();
            let e = tx.execute("PRAGMA foreign_keys = OFF", params![]).await.expect_err("a no-op in a transaction");
            assert!(e.to_string().contains("inside a transaction"), "{e}");
            let e = tx.execute_batch("PRAGMA foreign_keys = OFF").await.expect_err("a no-op in a transaction");
            assert!(e.to_string().contains("inside a transaction"), "{e}");
            tx.rollback().await.unwrap();
            let fk: i64 = pool.query_one("PRAGMA foreign_keys", params![]).await.unwrap().get(0).unwrap();
            assert_eq!(fk, 1);
        }
        pool.close().await.unwrap();
    });
}

#[test]
fn a_connection_pragma_through_the_pool_changed_one_connection_only() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool(&path).await;
        pool.execute("INSERT INTO owners (name) VALUES ('Ann')", params![]).await.unwrap();
        let like = "SELECT count(*) FROM owners WHERE name LIKE 'ann'";
        for _ in 0..ROUNDS {
            for e in [
                pool.execute("PRAGMA case_sensitive_like = ON", params![]).await.map(drop),
                pool.execute_batch("PRAGMA case_sensitive_like = ON").await,
                pool.query("PRAGMA case_sensitive_like = ON", params![]).await.map(drop),
                pool.call(|c| c.execute_batch("PRAGMA cache_size = 10")).await,
                pool.read(|c| c.execute_batch("PRAGMA case_sensitive_like = ON")).await,
            ] {
                let e = e.expect_err("a pragma that would change one connection of the pool");
                assert!(e.to_string().contains("PoolBuilder"), "{e}");
            }
            all_equal(&spread_i64(&pool, like).await, 1, "LIKE stays case-insensitive everywhere");
        }
        // Reading a connection setting is fine, on any connection.
        all_equal(&spread_i64(&pool, "PRAGMA cache_size").await, -2000, "cache_size");
        pool.close().await.unwrap();
    });
}

#[test]
fn a_reader_closure_left_temp_tables_and_attachments_on_its_reader() {
    let (dir, path) = temp_db();
    let other = other_db(dir.path());
    rt().block_on(async {
        let pool = pool(&path).await;
        for _ in 0..ROUNDS {
            let calls = (0..SPREAD).map(|_| {
                let other = other.clone();
                let pool = pool.clone();
                async move {
                    let temp = pool.read(|c| c.execute_batch("CREATE TEMP TABLE mine (x)")).await;
                    let attach = pool.read(move |c| c.execute("ATTACH ?1 AS aux", params![other]).map(drop)).await;
                    let rowid = pool.read(|c| c.query_one("SELECT last_insert_rowid()", params![]).map(drop)).await;
                    [temp, attach, rowid]
                }
            });
            for outcome in futures::future::join_all(calls).await.into_iter().flatten() {
                let e = outcome.expect_err("per-connection state on a reader");
                assert!(e.to_string().contains("reader"), "{e}");
            }
        }
        pool.close().await.unwrap();
    });
}

/// A pool without readers (and an in-memory one) is one connection: it keeps every kind of state, settings too.
#[test]
fn a_pool_of_one_connection_keeps_all_its_state() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let file = Pool::builder().readers(0).open(&path).await.unwrap();
        let memory = Pool::open_in_memory().await.unwrap();
        for pool in [file, memory] {
            pool.execute_batch("CREATE TEMP TABLE scratch (name TEXT); INSERT INTO scratch VALUES ('Ann')")
                .await
                .unwrap();
            pool.query("PRAGMA case_sensitive_like = ON", params![]).await.expect("a setting on one connection");
            pool.execute("PRAGMA cache_size = 100", params![]).await.expect("a setting on one connection");
            for _ in 0..ROUNDS {
                all_equal(&spread_i64(&pool, "SELECT count(*) FROM scratch WHERE name LIKE 'ann'").await, 0, "LIKE");
                all_equal(&spread_i64(&pool, "PRAGMA cache_size").await, 100, "cache_size");
                all_equal(&spread_i64(&pool, "SELECT last_insert_rowid()").await, 1, "last_insert_rowid()");
            }
            pool.close().await.unwrap();
        }
    });
}

async fn engine(path: &Path) -> Engine {
    Engine::from_pool(pool(path).await)
}

/// `SPREAD` concurrent reads of `sql` through engine connections, each the first column of the first row.
async fn engine_spread(engine: &Engine, sql: &str) -> Vec<asqlite_query::Result<i64>> {
    let calls = (0..SPREAD).map(|_| async move {
        let conn = engine.connect().await?;
        conn.scalar::<i64, _>(text(sql)).await
    });
    futures::future::join_all(calls).await
}

fn engine_all_equal(got: &[asqlite_query::Result<i64>], want: i64, what: &str) {
    for (i, r) in got.iter().enumerate() {
        match r {
            Ok(v) => assert_eq!(*v, want, "{what}: call {i} read {v}"),
            Err(e) => panic!("{what}: call {i} failed: {e}"),
        }
    }
}

#[test]
fn engine_attach_was_readable_on_one_reader_only() {
    let (dir, path) = temp_db();
    let other = other_db(dir.path());
    rt().block_on(async {
        let engine = engine(&path).await;
        let read = format!("SELECT sum(x) + {SLOW} FROM aux.other");
        for _ in 0..ROUNDS {
            let conn = engine.connect().await.unwrap();
            conn.execute(text(&format!("ATTACH '{other}' AS aux"))).await.expect("ATTACH through the engine");
            engine_all_equal(&engine_spread(&engine, &read).await, 6, "a read of the attached database");
            let aux = Table::new("other", &MetaData::new(), [Column::new("x", Integer)]);
            let n = conn.execute(select(&aux)).await.expect("a select of a table found only there").len();
            assert_eq!(n, 3);
            conn.execute(text("DETACH aux")).await.expect("DETACH through the engine");
            conn.commit().await.unwrap();
            for r in engine_spread(&engine, &read).await {
                let e = r.expect_err("detached");
                assert!(e.to_string().contains("no such table"), "{e}");
            }
        }
        engine.dispose().await.unwrap();
    });
}

#[test]
fn engine_pragma_foreign_keys_off_changed_nothing() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let engine = engine(&path).await;
        for i in 0..ROUNDS {
            let i = i64::try_from(i).unwrap();
            let conn = engine.connect().await.unwrap();
            conn.execute(text("PRAGMA foreign_keys = OFF")).await.expect("PRAGMA foreign_keys = OFF");
            engine_all_equal(&engine_spread(&engine, "PRAGMA foreign_keys").await, 0, "foreign_keys after OFF");
            conn.execute_with(
                text("INSERT INTO cars (make, owner_id) VALUES ('orphan', :o)"),
                named_params! {"o" => 1000 + i},
            )
            .await
            .expect("foreign keys are off for what follows");
            conn.commit().await.unwrap();
            conn.execute(text("PRAGMA foreign_keys = ON")).await.expect("PRAGMA foreign_keys = ON");
            // Inside a transaction SQLite ignores the pragma: an error says so.
            let tx = engine.begin().await.unwrap();
            let e = tx.execute(text("PRAGMA foreign_keys = OFF")).await.expect_err("ignored inside a transaction");
            assert!(e.to_string().contains("inside a transaction"), "{e}");
            let e = tx
                .execute_with(
                    text("INSERT INTO cars (make, owner_id) VALUES ('orphan', :o)"),
                    named_params! {"o" => 2000 + i},
                )
                .await
                .expect_err("foreign keys are on");
            assert_eq!(e.driver_kind(), Some(ErrorKind::ForeignKeyViolation), "{e}");
            tx.rollback().await.unwrap();
        }
        engine.dispose().await.unwrap();
    });
}

#[test]
fn engine_last_insert_rowid_read_zero_from_a_reader() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let engine = engine(&path).await;
        for i in 0..ROUNDS {
            let conn = engine.connect().await.unwrap();
            let id = conn
                .execute_with(text("INSERT INTO owners (name) VALUES (:n)"), named_params! {"n" => format!("o{i}")})
                .await
                .unwrap()
                .last_insert_rowid();
            conn.commit().await.unwrap();
            engine_all_equal(&engine_spread(&engine, "SELECT last_insert_rowid()").await, id, "last_insert_rowid()");
            engine_all_equal(&engine_spread(&engine, "SELECT changes()").await, 1, "changes()");
        }
        engine.dispose().await.unwrap();
    });
}

#[test]
fn engine_temp_table_was_missing_on_the_readers() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let engine = engine(&path).await;
        let conn = engine.connect().await.unwrap();
        conn.execute(text("CREATE TEMP TABLE scratch (x INTEGER)")).await.unwrap();
        conn.commit().await.unwrap();
        let scratch = Table::new("scratch", &MetaData::new(), [Column::new("x", Integer)]);
        let count = format!("SELECT count(*) + {SLOW} FROM scratch");
        for i in 0..ROUNDS {
            let i = i64::try_from(i).unwrap();
            conn.execute_with(text("INSERT INTO scratch VALUES (:x)"), named_params! {"x" => i}).await.unwrap();
            conn.execute(scratch.insert().values(named_params! {"x" => -i})).await.unwrap();
            conn.commit().await.unwrap();
            engine_all_equal(&engine_spread(&engine, &count).await, 2 * (i + 1), "count of a temp table");
            let rows = conn.execute(select(&scratch)).await.expect("a select of a temp table");
            assert_eq!(rows.len(), usize::try_from(2 * (i + 1)).unwrap());
            let streamed: Vec<_> = conn.stream(select(&scratch)).await.unwrap().collect().await;
            assert!(streamed.iter().all(Result::is_ok), "{:?}", streamed.iter().find(|r| r.is_err()));
            assert_eq!(streamed.len(), usize::try_from(2 * (i + 1)).unwrap());
        }
        engine.dispose().await.unwrap();
    });
}

#[test]
fn engine_connection_pragma_changed_one_connection_only() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let engine = engine(&path).await;
        for _ in 0..ROUNDS {
            let conn = engine.connect().await.unwrap();
            let e = conn.execute(text("PRAGMA case_sensitive_like = ON")).await.expect_err("one connection only");
            assert!(e.to_string().contains("PoolBuilder"), "{e}");
            let tx = engine.begin().await.unwrap();
            let e = tx.execute(text("PRAGMA case_sensitive_like = ON")).await.expect_err("one connection only");
            assert!(e.to_string().contains("PoolBuilder"), "{e}");
        }
        engine.dispose().await.unwrap();
    });
}
