//! The async driver under concurrency, cancellation and faults.
//!
//! These tests guard against the bugs async SQLite drivers are known for: lost wake-ups that hang a caller, a
//! cancelled future that interrupts a neighbour's statement or leaves a transaction open, "database is locked"
//! surfacing under ordinary concurrency, reads that miss committed writes, and workers that die on a panic.

use std::sync::Arc;
use std::time::Duration;

use asqlite::{params, Connection, ErrorKind, Pool, TransactionBehavior};
use futures::StreamExt;

use crate::common::{ran_here, temp_db};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap()
}

async fn counter_pool(path: &std::path::Path) -> Pool {
    let pool = Pool::builder().readers(2).open(path).await.unwrap();
    pool.execute_batch("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)").await.unwrap();
    pool
}

#[test]
fn readers_see_every_committed_write() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = counter_pool(&path).await;
        assert_eq!(pool.stats().readers, 2);
        for i in 0..200i64 {
            pool.execute("INSERT INTO c (n) VALUES (?1)", params![i]).await.unwrap();
            // Straight after the write is acknowledged, any reader must see it.
            let n: i64 = pool.query_one("SELECT count(*) FROM c", params![]).await.unwrap().get(0).unwrap();
            assert_eq!(n, i + 1);
        }
        pool.close().await.unwrap();
    });
}

#[test]
fn a_read_that_writes_goes_to_the_writer() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = counter_pool(&path).await;
        let row = pool.query_one("INSERT INTO c (n) VALUES (7) RETURNING id, n", params![]).await.unwrap();
        assert_eq!(row.get::<i64>("n").unwrap(), 7);
        let ids: Vec<i64> =
            pool.query_map("INSERT INTO c (n) VALUES (8) RETURNING id", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(ids.len(), 1);
        assert_eq!(pool.query("SELECT * FROM c", params![]).await.unwrap().len(), 2);
        // A closure on a reader cannot write.
        let err = pool.read(|c| c.execute("INSERT INTO c (n) VALUES (9)", params![])).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReadOnly);
        pool.close().await.unwrap();
    });
}

#[test]
fn many_tasks_mixing_reads_and_writes_get_exact_counts() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = counter_pool(&path).await;
        pool.execute("INSERT INTO c (id, n) VALUES (1, 0)", params![]).await.unwrap();
        let mut tasks = Vec::new();
        for t in 0..64 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    match (t + i) % 4 {
                        0 => {
                            pool.execute("UPDATE c SET n = n + 1 WHERE id = 1", params![]).await.unwrap();
                        }
                        1 => {
                            let tx = pool.begin().await.unwrap();
                            tx.execute("UPDATE c SET n = n + 1 WHERE id = 1", params![]).await.unwrap();
                            tx.commit().await.unwrap();
                        }
                        2 => {
                            pool.call(|c| c.execute("UPDATE c SET n = n + 1 WHERE id = 1", params![])).await.unwrap();
                        }
                        _ => {
                            let n: i64 = pool
                                .query_one("SELECT n FROM c WHERE id = 1", params![])
                                .await
                                .unwrap()
                                .get(0)
                                .unwrap();
                            assert!((0..=64 * 25).contains(&n));
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let n: i64 = pool.query_one("SELECT n FROM c WHERE id = 1", params![]).await.unwrap().get(0).unwrap();
        // 3 of every 4 operations increment.
        assert_eq!(n, 64 * 25 * 3 / 4);
        pool.close().await.unwrap();
    });
}

#[test]
fn transactions_read_their_writes_commit_and_roll_back() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = counter_pool(&path).await;
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO c (n) VALUES (1)", params![]).await.unwrap();
        // Inside: visible. Outside (readers): not yet.
        assert_eq!(tx.query("SELECT * FROM c", params![]).await.unwrap().len(), 1);
        assert_eq!(pool.query("SELECT * FROM c", params![]).await.unwrap().len(), 0);
        let streamed: Vec<_> = tx.stream("SELECT n FROM c", params![]).collect().await;
        assert_eq!(streamed.len(), 1);
        tx.commit().await.unwrap();
        assert_eq!(pool.query("SELECT * FROM c", params![]).await.unwrap().len(), 1);

        let tx = pool.begin_with(TransactionBehavior::Deferred).await.unwrap();
        tx.execute("INSERT INTO c (n) VALUES (2)", params![]).await.unwrap();
        tx.rollback().await.unwrap();
        {
            let tx = pool.begin().await.unwrap();
            tx.execute("INSERT INTO c (n) VALUES (3)", params![]).await.unwrap();
            // dropped: rolled back
        }
        // The writer serves other calls again after the dropped transaction.
        pool.execute("INSERT INTO c (n) VALUES (4)", params![]).await.unwrap();
        let ns: Vec<i64> = pool.query_map("SELECT n FROM c ORDER BY id", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(ns, [1, 4]);

        // Savepoints: released, rolled back, dropped.
        let mut tx = pool.begin().await.unwrap();
        let mut sp = tx.savepoint().await.unwrap();
        sp.execute("INSERT INTO c (n) VALUES (10)", params![]).await.unwrap();
        let inner = sp.savepoint().await.unwrap();
        inner.execute("INSERT INTO c (n) VALUES (11)", params![]).await.unwrap();
        inner.rollback().await.unwrap();
        sp.commit().await.unwrap();
        {
            let sp = tx.savepoint().await.unwrap();
            sp.execute("INSERT INTO c (n) VALUES (12)", params![]).await.unwrap();
        }
        tx.execute("INSERT INTO c (n) VALUES (13)", params![]).await.unwrap();
        tx.commit().await.unwrap();
        let ns: Vec<i64> = pool.query_map("SELECT n FROM c ORDER BY id", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(ns, [1, 4, 10, 13]);
        pool.close().await.unwrap();
    });
}

#[test]
fn a_panicking_closure_is_an_error_and_the_worker_lives() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = counter_pool(&path).await;
        let err = pool
            .call(|c| -> asqlite::Result<()> {
                c.execute_batch("BEGIN; INSERT INTO c (n) VALUES (1)")?;
                panic!("boom");
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Panicked);
        assert!(err.message().contains("boom"), "{err}");
        // The transaction the closure opened was rolled back, and the writer still works.
        pool.execute("INSERT INTO c (n) VALUES (2)", params![]).await.unwrap();
        let ns: Vec<i64> = pool.query_map("SELECT n FROM c", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(ns, [2]);

        // A panic in a query_map decoder on a reader.
        let err = pool
            .query_map("SELECT n FROM c", params![], |_| -> asqlite::Result<i64> { panic!("decoder") })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Panicked);

        // A panic inside an explicit transaction rolls it back: its later calls fail, and so does its commit.
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO c (n) VALUES (3)", params![]).await.unwrap();
        let err = tx.call(|_| -> asqlite::Result<()> { panic!("in tx") }).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Panicked);
        let err = tx.execute("INSERT INTO c (n) VALUES (4)", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TransactionAborted);
        assert_eq!(tx.commit().await.unwrap_err().kind(), ErrorKind::TransactionAborted);
        let ns: Vec<i64> = pool.query_map("SELECT n FROM c", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(ns, [2]);
        pool.close().await.unwrap();
    });
}

#[test]
fn close_finishes_queued_jobs_and_fails_later_calls() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = counter_pool(&path).await;
        let mut tasks = Vec::new();
        for i in 0..200 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move { pool.execute("INSERT INTO c (n) VALUES (?1)", params![i]).await }));
        }
        tokio::task::yield_now().await;
        pool.close().await.unwrap();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(e.kind(), ErrorKind::Closed, "{e}"),
            }
        }
        // Every acknowledged insert is on disk.
        let sync = asqlite::blocking::Connection::open(&path).unwrap();
        let n: i64 = sync.query_one("SELECT count(*) FROM c", params![]).unwrap().get(0).unwrap();
        assert_eq!(n, ok);
        let clone = pool.clone();
        let err = clone.query("SELECT 1", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert!(err.to_string().contains("closed"), "{err}");
        assert!(clone.begin().await.is_err());
        assert!(clone.stream("SELECT 1", params![]).next().await.unwrap().is_err());
        pool.close().await.unwrap(); // twice is fine
    });
}

#[test]
fn random_cancellations_leave_consistent_data_and_a_working_pool() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = counter_pool(&path).await;
        pool.execute("INSERT INTO c (id, n) VALUES (1, 0)", params![]).await.unwrap();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut cancelled, mut finished) = (0, 0);
        for _ in 0..3000 {
            let pick = next() % 4;
            let wait = Duration::from_micros(next() % 300);
            let p = pool.clone();
            // Each job moves one unit between two rows: a half-done job would break the sum.
            let fut = async move {
                match pick {
                    0 => {
                        let tx = p.begin().await?;
                        tx.execute("UPDATE c SET n = n + 1 WHERE id = 1", params![]).await?;
                        tx.execute("INSERT INTO c (n) VALUES (-1)", params![]).await?;
                        tx.commit().await
                    }
                    1 => p
                        .execute_many(
                            "INSERT INTO c (n) VALUES (?1)",
                            vec![params![1], params![-1], params![2], params![-2]],
                        )
                        .await
                        .map(drop),
                    2 => p.query("SELECT sum(n) FROM c", params![]).await.map(drop),
                    _ => {
                        let mut s = p.stream("SELECT n FROM c", params![]);
                        while let Some(r) = s.next().await {
                            r?;
                        }
                        Ok(())
                    }
                }
            };
            match tokio::time::timeout(wait, fut).await {
                Err(_) => cancelled += 1,
                Ok(_) => finished += 1,
            }
        }
        // Both paths must have been exercised for the test to mean anything.
        assert!(cancelled > 100 && finished > 100, "cancelled {cancelled}, finished {finished}");
        let sum: i64 = pool.query_one("SELECT sum(n) FROM c", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(sum, 0);
        // Still fully working: a write, a read, a transaction.
        pool.execute("INSERT INTO c (n) VALUES (0)", params![]).await.unwrap();
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO c (n) VALUES (0)", params![]).await.unwrap();
        tx.commit().await.unwrap();
        let sync = asqlite::blocking::Connection::open(&path).unwrap();
        let ok: String = sync.query_one("PRAGMA integrity_check", params![]).unwrap().get(0).unwrap();
        assert_eq!(ok, "ok");
        pool.close().await.unwrap();
    });
}

#[test]
fn dropping_a_running_query_interrupts_only_it() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let conn = Connection::open(&path).await.unwrap();
        let slow = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r";
        let res = tokio::time::timeout(Duration::from_millis(100), conn.query(slow, params![])).await;
        assert!(res.is_err(), "the endless query cannot finish");
        // The interrupted query is gone: the next call runs at once and is not interrupted.
        let n: i64 = conn.query_one("SELECT 41 + 1", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(n, 42);
        conn.close().await.unwrap();
    });
}

#[test]
fn statement_timeout_stops_long_queries_with_a_clear_error() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::builder().statement_timeout(Duration::from_millis(50)).open(&path).await.unwrap();
        let slow = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r";
        let err = pool.query(slow, params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.to_string().contains("timeout"), "{err}");
        assert_eq!(pool.query_one("SELECT 1", params![]).await.unwrap().get::<i64>(0).unwrap(), 1);
        pool.close().await.unwrap();
    });
}

#[test]
fn two_pools_on_one_file_never_report_locked() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let a = counter_pool(&path).await;
        let b = counter_pool(&path).await;
        a.execute("INSERT INTO c (id, n) VALUES (1, 0)", params![]).await.unwrap();
        let mut tasks = Vec::new();
        for t in 0..32 {
            let pool = if t % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                for _ in 0..20 {
                    if t % 3 == 0 {
                        let tx = pool.begin().await?;
                        tx.execute("UPDATE c SET n = n + 1 WHERE id = 1", params![]).await?;
                        tx.commit().await?;
                    } else {
                        pool.execute("UPDATE c SET n = n + 1 WHERE id = 1", params![]).await?;
                    }
                }
                Ok::<(), asqlite::Error>(())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let n: i64 = b.query_one("SELECT n FROM c WHERE id = 1", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(n, 32 * 20);
        a.close().await.unwrap();
        b.close().await.unwrap();
    });
}

#[test]
fn a_full_queue_makes_callers_wait_not_fail() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::builder().readers(1).queue_capacity(2).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
        let pool = Arc::new(pool);
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let pool = Arc::clone(&pool);
                tokio::spawn(async move {
                    pool.execute("INSERT INTO t VALUES (?1)", params![i]).await.unwrap();
                    pool.query("SELECT count(*) FROM t", params![]).await.unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let n: i64 = pool.query_one("SELECT count(*) FROM t", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(n, 100);
        pool.close().await.unwrap();
    });
}

#[test]
fn streams_are_bounded_and_release_their_snapshot_when_dropped() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
        pool.execute_many("INSERT INTO t VALUES (?1)", (0..20_000).map(|i| params![i])).await.unwrap();
        let mut s = pool.stream("SELECT x FROM t ORDER BY x", params![]);
        let mut expect = 0i64;
        while let Some(row) = s.next().await {
            assert_eq!(row.unwrap().get::<i64>(0).unwrap(), expect);
            expect += 1;
        }
        assert_eq!(expect, 20_000);

        // Take a few rows, then drop the stream: its reader must let go of the WAL snapshot.
        let mut s = pool.stream("SELECT x FROM t", params![]);
        for _ in 0..3 {
            s.next().await.unwrap().unwrap();
        }
        drop(s);
        // With one reader, this query runs only once the dropped stream has released the reader.
        assert_eq!(pool.query("SELECT count(*) FROM t", params![]).await.unwrap().len(), 1);
        pool.execute("INSERT INTO t VALUES (-1)", params![]).await.unwrap();
        let busy: i64 =
            pool.call(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", params![], |r| r.get(0))).await.unwrap();
        assert_eq!(busy, 0, "a reader still holds a snapshot");

        // Errors in a stream arrive as items.
        let mut bad = pool.stream("SELECT nope FROM t", params![]);
        let err = bad.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Syntax);
        assert!(bad.next().await.is_none());
        pool.close().await.unwrap();
    });
}

#[test]
fn memory_pool_uses_one_connection() {
    futures::executor::block_on(async {
        let pool = Pool::open_in_memory().await.unwrap();
        assert_eq!(pool.stats().readers, 0);
        pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
        pool.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
        // Reads see the same private database.
        assert_eq!(pool.query("SELECT * FROM t", params![]).await.unwrap().len(), 1);
        pool.close().await.unwrap();
    });
}

#[test]
fn stats_count_cache_hits_and_jobs() {
    futures::executor::block_on(async {
        let conn = Connection::open_in_memory().await.unwrap();
        for _ in 0..10 {
            conn.query("SELECT 1", params![]).await.unwrap();
        }
        let s = conn.stats();
        assert_eq!(s.cache_misses, 1);
        assert_eq!(s.cache_hits, 9);
        assert_eq!(s.jobs, 10);
        assert_eq!(s.in_flight, 0);
        conn.close().await.unwrap();
    });
}

#[test]
fn bad_input_through_the_async_api_is_an_error() {
    let (dir, path) = temp_db();
    rt().block_on(async {
        let err = Pool::open(dir.path().join("missing/dir/x.db")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CantOpen);
        let pool = counter_pool(&path).await;
        let err = pool.query("SELEC 1", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Syntax);
        assert_eq!(err.sql(), Some("SELEC 1"));
        let err = pool.execute("INSERT INTO c (n) VALUES (?1)", params![1, 2]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ParameterCount);
        let err = pool.execute("INSERT INTO c (n) VALUES (NULL)", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotNullViolation);
        let err = pool.query_one("SELECT n FROM c", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NoRows);
        let err = pool.query_map("SELECT 'x'", params![], |r| r.get::<i64>(0)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeConversion);
        pool.close().await.unwrap();
    });
}

/// A read known to be cheap on a free reader connection runs at its first poll, on the caller's thread; new,
/// heavy and writing statements go to the workers, and `inline_reads(false)` sends every call there.
#[test]
fn cheap_reads_run_inline_and_the_rest_go_to_the_workers() {
    use futures::FutureExt;
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        // Without spinning, a call that goes to a worker is never ready at its first poll.
        let pool = Pool::builder().readers(2).spin(false).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)").await.unwrap();
        pool.execute_many("INSERT INTO c (n) VALUES (?1)", (0..1000i64).map(|i| params![i])).await.unwrap();
        let point = "SELECT n FROM c WHERE id = ?1";
        // Until a reader has run it, the statement's cost is unknown: it goes to a worker.
        for _ in 0..20 {
            let n: i64 = pool.query_one(point, params![5]).await.unwrap().get(0).unwrap();
            assert_eq!(n, 4);
        }
        let row = pool.query_one(point, params![7]).now_or_never().expect("a warm point query runs inline").unwrap();
        assert_eq!(row.get::<i64>(0).unwrap(), 6);
        let none = pool.query_opt(point, params![5000]).now_or_never().expect("inline").unwrap();
        assert!(none.is_none());
        // Wrong input gets the same errors inline as on a worker.
        let e = pool.query_one(point, params![1, 2]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ParameterCount);
        let e = pool.query_one(point, params![100_000]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoRows);

        // A scan takes thousands of steps: never inline, however warm.
        let scan = "SELECT sum(n) FROM c WHERE n >= ?1";
        for _ in 0..20 {
            let s: i64 = pool.query_one(scan, params![0]).await.unwrap().get(0).unwrap();
            assert_eq!(s, 499_500);
        }
        assert!(!ran_here(&pool, scan, params![0]).await, "a scan ran on the caller's thread");

        // A statement cheap last time but heavy this time starts inline, runs out of its budget, and finishes on
        // a worker with the right answer.
        let count =
            "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < ?1) SELECT count(*) FROM k";
        for _ in 0..20 {
            let n: i64 = pool.query_one(count, params![3]).await.unwrap().get(0).unwrap();
            assert_eq!(n, 3);
        }
        // Cheap last time (so it starts here), heavy now: it runs out of its budget and finishes on a worker.
        assert!(ran_here(&pool, count, params![3]).await);
        assert!(!ran_here(&pool, count, params![2_000_000]).await, "the budget did not hand the read over");
        let n: i64 = pool.query_one(count, params![2_000_000]).await.unwrap().get(0).unwrap();
        assert_eq!(n, 2_000_000);

        // A read that writes is never run inline: it goes to the writer.
        let ret = "INSERT INTO c (n) VALUES (?1) RETURNING id";
        let id: i64 = pool.query_one(ret, params![1]).await.unwrap().get(0).unwrap();
        assert_eq!(id, 1001);
        pool.close().await.unwrap();
        let e = pool.query_one(point, params![7]).now_or_never().expect("a closed pool fails at once").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Closed);

        let off = Pool::builder().readers(2).spin(false).inline_reads(false).open(&path).await.unwrap();
        for _ in 0..20 {
            off.query_one(point, params![5]).await.unwrap();
        }
        assert!(!ran_here(&off, point, params![7]).await, "inline_reads(false) ran a read on the caller's thread");
        off.close().await.unwrap();
    });
}

/// A lone connection runs cheap reads inline too, but never ahead of a call sent before them: a read made while a
/// write is queued or running waits for it, and sees it.
#[test]
fn a_connection_reads_inline_but_never_overtakes_a_queued_write() {
    use futures::FutureExt;
    use std::future::Future;
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let conn = Connection::builder().spin(false).open(&path).await.unwrap();
        conn.execute_batch("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO c (n) VALUES (0)")
            .await
            .unwrap();
        let point = "SELECT n FROM c WHERE id = 1";
        for _ in 0..20 {
            conn.query_one(point, params![]).await.unwrap();
        }
        let row = conn.query_one(point, params![]).now_or_never().expect("a warm read runs inline").unwrap();
        assert_eq!(row.get::<i64>(0).unwrap(), 0);
        for i in 1..=300i64 {
            let mut write = Box::pin(conn.execute("UPDATE c SET n = ?1 WHERE id = 1", params![i]));
            // Sent (queued, running or done), not awaited.
            let first = futures::future::poll_fn(|cx| std::task::Poll::Ready(write.as_mut().poll(cx))).await;
            let n: i64 = conn.query_one(point, params![]).await.unwrap().get(0).unwrap();
            assert_eq!(n, i, "a read overtook the write sent before it");
            // A write already done at its first poll must not be polled again.
            match first {
                std::task::Poll::Ready(done) => done.unwrap(),
                std::task::Poll::Pending => write.await.unwrap(),
            };
        }
        conn.close().await.unwrap();
    });
}

/// The async `execute_many` takes tuple rows too, from an iterator moved to the writer.
#[test]
fn execute_many_takes_tuple_rows_across_threads() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = counter_pool(&path).await;
        let rows: Vec<(i64, String)> = (0..1000).map(|i| (i, format!("row {i}"))).collect();
        pool.execute_batch("CREATE TABLE r (id INTEGER PRIMARY KEY, label TEXT NOT NULL)").await.unwrap();
        let n = pool.execute_many("INSERT INTO r (id, label) VALUES (?1, ?2)", rows).await.unwrap();
        assert_eq!(n, 1000);
        let label: String =
            pool.query_one("SELECT label FROM r WHERE id = 999", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(label, "row 999");
        pool.close().await.unwrap();
    });
}

/// Streamed rows (packed into chunks on the worker, rebuilt on the consumer) equal the rows `query` returns, for
/// every type, empty text and blobs, and across chunk boundaries.
#[test]
fn streamed_rows_equal_queried_rows_for_every_type() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = counter_pool(&path).await;
        pool.execute_batch("CREATE TABLE v (id INTEGER PRIMARY KEY, i, r, t, b, n)").await.unwrap();
        let rows = (0..1000i64).map(|k| {
            let text = if k % 7 == 0 {
                String::new()
            } else {
                format!("{k} ✓ 日本 {}", "x".repeat(usize::try_from(k % 40).unwrap()))
            };
            let blob = if k % 5 == 0 {
                Vec::new()
            } else {
                vec![u8::try_from(k % 256).unwrap(); usize::try_from(k % 33).unwrap()]
            };
            (k, k * -3, f64::from(i32::try_from(k).unwrap()) / 7.0, text, blob, None::<i64>)
        });
        pool.execute_many("INSERT INTO v VALUES (?1, ?2, ?3, ?4, ?5, ?6)", rows.collect::<Vec<_>>()).await.unwrap();
        let sql = "SELECT id, i, r, t, b, n, NULL AS z FROM v ORDER BY id";
        let queried: Vec<asqlite::Row> = pool.query(sql, params![]).await.unwrap().into_vec();
        let streamed: Vec<asqlite::Row> = pool.stream(sql, params![]).map(|r| r.unwrap()).collect::<Vec<_>>().await;
        assert_eq!(queried.len(), 1000);
        assert_eq!(streamed, queried);
        assert_eq!(streamed[999].get::<String>("t").unwrap(), queried[999].get::<String>("t").unwrap());
        assert_eq!(streamed[10].get::<Vec<u8>>("b").unwrap(), Vec::<u8>::new());
        pool.close().await.unwrap();
    });
}

/// `query_row` decodes the first row with the caller's closure, inline for a cheap read and on a worker otherwise,
/// with the same answers and errors either way.
#[test]
fn query_row_decodes_in_place_inline_or_on_a_worker() {
    use futures::FutureExt;
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(2).spin(false).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE c (id INTEGER PRIMARY KEY, make TEXT NOT NULL, n INTEGER)").await.unwrap();
        pool.execute_many("INSERT INTO c (make, n) VALUES (?1, ?2)", (0..100i64).map(|i| (format!("car {i}"), i)))
            .await
            .unwrap();
        let sql = "SELECT make, n FROM c WHERE id = ?1";
        let decode = |r: &asqlite::RowRef<'_>| Ok((r.get::<String>(0)?, r.get::<i64>("n")?));
        // The first run of a statement goes to a worker; later ones run inline.
        assert_eq!(pool.query_row(sql, params![1], decode).await.unwrap(), ("car 0".to_owned(), 0));
        for _ in 0..20 {
            pool.query_row(sql, params![2], decode).await.unwrap();
        }
        let inline = pool.query_row(sql, params![50], decode).now_or_never().expect("inline").unwrap();
        assert_eq!(inline, ("car 49".to_owned(), 49));
        let e = pool.query_row(sql, params![1000], decode).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoRows);
        let e = pool.query_row(sql, params![1], |r| r.get::<i64>(0)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeConversion);
        // A panicking decoder is an error, inline or not, and the pool goes on.
        let e = pool.query_row(sql, params![1], |_| -> asqlite::Result<()> { panic!("decoder") }).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Panicked);
        let heavy = "SELECT count(*), sum(n) FROM c WHERE n >= ?1";
        let (count, sum): (i64, i64) = pool.query_row(heavy, params![0], |r| Ok((r.get(0)?, r.get(1)?))).await.unwrap();
        assert_eq!((count, sum), (100, 4950));
        // A statement that writes goes to the writer.
        let id: i64 =
            pool.query_row("INSERT INTO c (make) VALUES ('new') RETURNING id", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(id, 101);
        assert_eq!(pool.query_row(sql, params![2], decode).await.unwrap().1, 1);
        // Inside a transaction it runs on the transaction's connection and sees its writes.
        let tx = pool.begin().await.unwrap();
        tx.execute("UPDATE c SET make = 'changed' WHERE id = 2", params![]).await.unwrap();
        assert_eq!(tx.query_row(sql, params![2], decode).await.unwrap().0, "changed");
        tx.rollback().await.unwrap();
        assert_eq!(pool.query_row(sql, params![2], decode).await.unwrap().0, "car 1");
        pool.close().await.unwrap();
    });
}
