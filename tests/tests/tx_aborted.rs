//! A transaction that SQLite has ended never turns into autocommit.
//!
//! SQLite rolls back a whole transaction when a statement in it is interrupted (a dropped future, the statement
//! timeout), fills the database, or hits `OR ROLLBACK`; a `COMMIT` written in SQL text ends it too. The bug: the
//! handle went on accepting writes, which then ran in autocommit: each was visible to other connections at once,
//! survived `rollback()` and drop, `commit()` answered "no transaction is active", and the rows written before the
//! failure were silently gone. Now every later call on that `Transaction`, `Savepoint`, blocking transaction or
//! engine connection fails with `ErrorKind::TransactionAborted`, `commit()` fails, and nothing runs outside it.
//! The soak test at the end injects such faults into random transactions and checks all-or-nothing throughout.

use std::time::Duration;

use asqlite::{params, ErrorKind, Pool};

use crate::common::temp_db;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// A statement that runs until it is interrupted.
const ENDLESS_INSERT: &str =
    "WITH RECURSIVE r(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM r) INSERT INTO t (x) SELECT i FROM r";

async fn open(path: &std::path::Path, builder: asqlite::PoolBuilder) -> Pool {
    let pool = builder.open(path).await.unwrap();
    pool.execute_batch("CREATE TABLE IF NOT EXISTS t (x INTEGER UNIQUE)").await.unwrap();
    pool
}

async fn count(pool: &Pool) -> i64 {
    pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap()
}

/// After SQLite ended the transaction: a write through the handle fails with `TransactionAborted` and is not
/// visible anywhere; commit fails; nothing of the transaction is left.
async fn assert_aborted(pool: &Pool, tx: asqlite::Transaction) {
    let e = tx.execute("INSERT INTO t (x) VALUES (-1)", params![]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
    let e = tx.query_row("SELECT count(*) FROM t", params![], |r| r.get::<i64>(0)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
    let e = tx.call(|_| Ok(())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionAborted, "a closure ran in an aborted transaction");
    assert_eq!(count(pool).await, 0, "a write through an aborted transaction autocommitted");
    let e = tx.commit().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
    assert_eq!(count(pool).await, 0);
    // The writer serves new work as before.
    pool.execute("INSERT INTO t (x) VALUES (100)", params![]).await.unwrap();
    assert_eq!(count(pool).await, 1);
}

#[test]
fn a_transaction_interrupted_by_the_statement_timeout_refuses_later_writes() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = open(&path, Pool::builder().statement_timeout(Duration::from_millis(100))).await;
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t (x) VALUES (1)", params![]).await.unwrap();
        let e = tx.execute(ENDLESS_INSERT, params![]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert_aborted(&pool, tx).await;
        pool.close().await.unwrap();
    });
}

#[test]
fn a_transaction_whose_execute_future_was_dropped_refuses_later_writes() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = open(&path, Pool::builder()).await;
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t (x) VALUES (1)", params![]).await.unwrap();
        // Dropped while it runs: the driver interrupts it, and SQLite rolls the transaction back.
        let _ = tokio::time::timeout(Duration::from_millis(100), tx.execute(ENDLESS_INSERT, params![])).await;
        assert_aborted(&pool, tx).await;
        pool.close().await.unwrap();
    });
}

#[test]
fn a_transaction_whose_execute_many_future_was_dropped_is_all_or_nothing() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = open(&path, Pool::builder()).await;
        for round in 0..5 {
            let tx = pool.begin().await.unwrap();
            tx.execute("INSERT INTO t (x) VALUES (1)", params![]).await.unwrap();
            // Each row is cheap, but the set is endless: only the cancellation stops it. Seen between two rows,
            // it rolls back the batch's savepoint and the transaction goes on; seen inside a statement, SQLite
            // rolls back the whole transaction. Either way nothing may run outside it.
            let rows = (10_i64..).map(|i| params![i]);
            let many = tx.execute_many("INSERT INTO t (x) VALUES (?1)", rows);
            let _ = tokio::time::timeout(Duration::from_millis(50 + round * 10), many).await;
            let later = tx.execute("INSERT INTO t (x) VALUES (2)", params![]).await;
            assert_eq!(count(&pool).await, 0, "a write of the transaction is visible before its commit");
            let committed = tx.commit().await;
            let n = count(&pool).await;
            match (later, committed) {
                (Ok(_), Ok(())) => assert_eq!(n, 2, "the cancelled batch left rows, or the transaction lost some"),
                (Err(e), Err(c)) => {
                    assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
                    assert_eq!(c.kind(), ErrorKind::TransactionAborted, "{c}");
                    assert_eq!(n, 0, "rows of an aborted transaction survived");
                }
                (later, committed) => panic!("inconsistent: later write {later:?}, commit {committed:?}"),
            }
            pool.execute_batch("DELETE FROM t").await.unwrap();
        }
        pool.close().await.unwrap();
    });
}

#[test]
fn a_transaction_rolled_back_by_or_rollback_refuses_later_writes() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = open(&path, Pool::builder()).await;
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t (x) VALUES (1)", params![]).await.unwrap();
        let e = tx.execute("INSERT OR ROLLBACK INTO t (x) VALUES (1)", params![]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UniqueViolation, "the statement's own error keeps its kind: {e}");
        assert!(e.to_string().contains("rolled back"), "the error does not say the transaction is gone: {e}");
        assert_aborted(&pool, tx).await;
        pool.close().await.unwrap();
    });
}

#[test]
fn a_commit_written_in_sql_text_ends_the_transaction_handle() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = open(&path, Pool::builder()).await;
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t (x) VALUES (1)", params![]).await.unwrap();
        // The user's own COMMIT commits row 1, but what follows in the batch must not run in autocommit.
        let e = tx.execute_batch("COMMIT; INSERT INTO t (x) VALUES (2)").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
        assert_eq!(count(&pool).await, 1, "the statement after COMMIT ran in autocommit");
        let e = tx.execute("INSERT INTO t (x) VALUES (3)", params![]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
        assert_eq!(count(&pool).await, 1);
        assert_eq!(tx.commit().await.unwrap_err().kind(), ErrorKind::TransactionAborted);
        pool.close().await.unwrap();
    });
}

#[test]
fn a_transaction_aborted_through_a_savepoint_refuses_writes_through_both() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = open(&path, Pool::builder()).await;
        let mut tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t (x) VALUES (1)", params![]).await.unwrap();
        let sp = tx.savepoint().await.unwrap();
        sp.execute("INSERT INTO t (x) VALUES (2)", params![]).await.unwrap();
        sp.execute("INSERT OR ROLLBACK INTO t (x) VALUES (2)", params![]).await.unwrap_err();
        let e = sp.execute("INSERT INTO t (x) VALUES (3)", params![]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
        // Rolling back to a savepoint of a transaction SQLite already rolled back has nothing to do.
        sp.rollback().await.unwrap();
        assert_aborted(&pool, tx).await;
        pool.close().await.unwrap();
    });
}

#[test]
fn a_rollback_after_sqlite_rolled_back_succeeds_and_the_writer_goes_on() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = open(&path, Pool::builder()).await;
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t (x) VALUES (1)", params![]).await.unwrap();
        tx.execute("INSERT OR ROLLBACK INTO t (x) VALUES (1)", params![]).await.unwrap_err();
        tx.rollback().await.unwrap();
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t (x) VALUES (1)", params![]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&pool).await, 1);
        pool.close().await.unwrap();
    });
}

#[test]
fn a_transaction_that_filled_the_database_is_all_or_nothing() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = open(&path, Pool::builder()).await;
        pool.execute_batch("CREATE TABLE big (b BLOB)").await.unwrap();
        let pages: i64 = pool.query_row("PRAGMA page_count", params![], |r| r.get(0)).await.unwrap();
        // A limit on the writer's connection: a few pages more than the database has now.
        pool.call(move |c| c.execute_batch(&format!("PRAGMA max_page_count = {}", pages + 8))).await.unwrap();
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t (x) VALUES (1)", params![]).await.unwrap();
        let mut full = None;
        for _ in 0..100 {
            if let Err(e) = tx.execute("INSERT INTO big (b) VALUES (zeroblob(4000))", params![]).await {
                full = Some(e);
                break;
            }
        }
        let full = full.expect("the database never filled");
        assert_eq!(full.kind(), ErrorKind::Full, "{full}");
        // SQLite may roll the transaction back or keep it; either way nothing runs outside it.
        let later = tx.execute("INSERT INTO t (x) VALUES (2)", params![]).await;
        assert_eq!(count(&pool).await, 0, "a write of the transaction is visible before its commit");
        let committed = tx.commit().await;
        let n = count(&pool).await;
        match (later, committed) {
            (Ok(_), Ok(())) => assert_eq!(n, 2, "the transaction committed only part of its rows"),
            (Err(e), Err(c)) => {
                assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
                assert_eq!(c.kind(), ErrorKind::TransactionAborted, "{c}");
                assert_eq!(n, 0, "rows of an aborted transaction survived");
            }
            (later, committed) => panic!("inconsistent: later write {later:?}, commit {committed:?}"),
        }
        pool.close().await.unwrap();
    });
}

#[test]
fn a_blocking_transaction_rolled_back_by_sqlite_refuses_later_writes() {
    let (_dir, path) = temp_db();
    let mut conn = asqlite::blocking::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)").unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute("INSERT INTO t (x) VALUES (1)", ()).unwrap();
    tx.execute("INSERT OR ROLLBACK INTO t (x) VALUES (1)", ()).unwrap_err();
    let e = tx.execute("INSERT INTO t (x) VALUES (2)", ()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
    assert_eq!(tx.commit().unwrap_err().kind(), ErrorKind::TransactionAborted);
    let n: i64 = conn.query_row("SELECT count(*) FROM t", (), |r| r.get(0)).unwrap();
    assert_eq!(n, 0, "a write through an aborted blocking transaction autocommitted");
    // The connection is free again once the transaction is gone.
    conn.execute("INSERT INTO t (x) VALUES (3)", ()).unwrap();

    // A savepoint that began the transaction holds it the same way.
    let mut sp = conn.savepoint().unwrap();
    sp.execute("INSERT INTO t (x) VALUES (4)", ()).unwrap();
    sp.execute("INSERT OR ROLLBACK INTO t (x) VALUES (4)", ()).unwrap_err();
    assert_eq!(sp.execute("INSERT INTO t (x) VALUES (5)", ()).unwrap_err().kind(), ErrorKind::TransactionAborted);
    assert_eq!(sp.savepoint().unwrap_err().kind(), ErrorKind::TransactionAborted);
    assert_eq!(sp.commit().unwrap_err().kind(), ErrorKind::TransactionAborted);
    let n: i64 = conn.query_row("SELECT count(*) FROM t", (), |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

/// A batch checks the transaction before its first row only: a row that SQLite rolls the transaction back on
/// ends the batch there, and no later row runs in autocommit.
#[test]
fn a_batch_rolled_back_by_sqlite_midway_runs_no_later_row() {
    let (_dir, path) = temp_db();
    let mut conn = asqlite::blocking::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)").unwrap();
    let tx = conn.transaction().unwrap();
    let rows = [(1,), (2,), (1,), (3,), (4,)];
    tx.execute_many("INSERT OR ROLLBACK INTO t (x) VALUES (?1)", rows).unwrap_err();
    let e = tx.execute("INSERT INTO t (x) VALUES (5)", ()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
    drop(tx);
    let n: i64 = conn.query_row("SELECT count(*) FROM t", (), |r| r.get(0)).unwrap();
    assert_eq!(n, 0, "a row after the one that rolled the transaction back autocommitted");
}

#[test]
fn an_engine_transaction_rolled_back_by_sqlite_refuses_later_statements() {
    use asqlite_query::prelude::*;
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let url = format!("sqlite:///{}", path.display());
        let engine = create_async_engine(&url).await.unwrap();
        engine.pool().execute_batch("CREATE TABLE t (x INTEGER UNIQUE)").await.unwrap();
        let conn = engine.begin().await.unwrap();
        conn.execute(text("INSERT INTO t (x) VALUES (1)")).await.unwrap();
        conn.execute(text("INSERT OR ROLLBACK INTO t (x) VALUES (1)")).await.unwrap_err();
        let e = conn.execute(text("INSERT INTO t (x) VALUES (2)")).await.unwrap_err();
        assert!(matches!(&e, asqlite_query::Error::Driver(d) if d.kind() == ErrorKind::TransactionAborted), "{e:?}");
        let n: i64 = engine.pool().query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(n, 0, "a statement of an aborted engine transaction autocommitted");
        conn.commit().await.unwrap_err();
        let n: i64 = engine.pool().query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(n, 0);
        engine.dispose().await.unwrap();
    });
}

/// Faults injected into random transactions over many rounds: each transaction writes rows tagged with its number
/// and ends with commit, rollback or drop, after one of: nothing, an interrupt (a dropped future), the statement
/// timeout, `OR ROLLBACK`, a full database, or a COMMIT in SQL text. Afterwards each transaction's rows are all
/// there (it committed) or none (it did not), and no row of one that did not commit is ever seen by a reader.
#[test]
fn soak_faults_in_random_transactions_are_all_or_nothing() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::builder().statement_timeout(Duration::from_millis(200)).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE r (tx INTEGER, k INTEGER, UNIQUE (tx, k)); CREATE TABLE big (b BLOB)")
            .await
            .unwrap();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        const ROWS: i64 = 5;
        let mut committed = Vec::new();
        let mut unknown = Vec::new();
        for id in 0..120_i64 {
            let tx = pool.begin().await.unwrap();
            for k in 0..ROWS {
                tx.execute("INSERT INTO r (tx, k) VALUES (?1, ?2)", params![id, k]).await.unwrap();
            }
            let fault = rand(7);
            match fault {
                0 => {}
                1 => {
                    let endless = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) \
                                   INSERT INTO big (b) SELECT NULL FROM c";
                    let _ = tokio::time::timeout(Duration::from_millis(20), tx.execute(endless, params![])).await;
                }
                2 => {
                    let endless = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) \
                                   SELECT count(*) FROM c";
                    let _ = tx.execute(endless, params![]).await; // the statement timeout stops it
                }
                3 => {
                    let _ = tx.execute("INSERT OR ROLLBACK INTO r (tx, k) VALUES (?1, 0)", params![id]).await;
                }
                4 => {
                    let pages: i64 = pool.query_row("PRAGMA page_count", params![], |r| r.get(0)).await.unwrap();
                    let _ = tx.execute_batch(&format!("PRAGMA max_page_count = {}", pages + 2)).await;
                    for _ in 0..20 {
                        if tx.execute("INSERT INTO big (b) VALUES (zeroblob(8000))", params![]).await.is_err() {
                            break;
                        }
                    }
                    let _ = tx.execute_batch("PRAGMA max_page_count = 1073741823").await;
                }
                5 => {
                    let _ = tx.execute_batch("COMMIT").await;
                }
                _ => {
                    let _ = tokio::time::timeout(
                        Duration::from_micros(rand(300)),
                        tx.execute("INSERT INTO r (tx, k) VALUES (?1, 99)", params![id]),
                    )
                    .await;
                }
            }
            // Whatever happened, a write now either joins the transaction or fails: never autocommits.
            let extra = tx.execute("INSERT INTO r (tx, k) VALUES (?1, ?2)", params![id, ROWS]).await;
            let visible: i64 =
                pool.query_row("SELECT count(*) FROM r WHERE tx = ?1", params![id], |r| r.get(0)).await.unwrap();
            if fault != 5 {
                assert_eq!(visible, 0, "tx {id} (fault {fault}): rows visible before commit");
            }
            match rand(3) {
                0 => {
                    if tx.commit().await.is_ok() {
                        assert!(extra.is_ok(), "tx {id}: commit succeeded after a refused write");
                        committed.push(id);
                    } else if fault == 5 {
                        unknown.push(id); // the user's own COMMIT committed what came before it
                    }
                }
                1 => {
                    let _ = tx.rollback().await;
                    if fault == 5 {
                        unknown.push(id);
                    }
                }
                _ => {
                    drop(tx);
                    if fault == 5 {
                        unknown.push(id);
                    }
                }
            }
            // Lift the limit of fault 4 (its own reset may have been refused), and let the roll-back of a dropped
            // transaction land before the next round looks.
            pool.execute_batch("PRAGMA max_page_count = 1073741823").await.unwrap();
            pool.execute("INSERT INTO big (b) VALUES (NULL)", params![]).await.unwrap();
        }
        for id in 0..120_i64 {
            let n: i64 =
                pool.query_row("SELECT count(*) FROM r WHERE tx = ?1", params![id], |r| r.get(0)).await.unwrap();
            if committed.contains(&id) {
                let extra: i64 = pool
                    .query_row("SELECT count(*) FROM r WHERE tx = ?1 AND k = 99", params![id], |r| r.get(0))
                    .await
                    .unwrap();
                assert_eq!(n - extra, ROWS + 1, "tx {id} committed only part of its rows");
            } else if unknown.contains(&id) {
                assert!(n == 0 || n >= ROWS, "tx {id}: a COMMIT in SQL text kept part of its rows ({n})");
            } else {
                assert_eq!(n, 0, "tx {id} did not commit but {n} of its rows are there");
            }
        }
        assert!(committed.len() > 5, "too few transactions committed to mean anything: {}", committed.len());
        pool.close().await.unwrap();
    });
}
