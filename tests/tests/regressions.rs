//! Regression tests, each named after what broke (found in review of the async driver).
//!
//! Each guards a promise users rely on: cancelled work does not commit, ending a savepoint or transaction does
//! not depend on the caller staying, no caller hangs when its job is discarded, and every job leaves its
//! connection as it found it.

use std::time::Duration;

use asqlite::{named_params, params, ErrorKind, Pool};
use futures::StreamExt;

use crate::common::temp_db;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn pool_with_table(path: &std::path::Path) -> Pool {
    let pool = Pool::open(path).await.unwrap();
    pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
    pool
}

async fn count(pool: &Pool) -> i64 {
    pool.query_one("SELECT count(*) FROM t", params![]).await.unwrap().get(0).unwrap()
}

#[test]
fn cancelled_execute_many_mid_run_commits_nothing() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool_with_table(&path).await;
        let mut cancelled = 0;
        for _ in 0..5 {
            let sets: Vec<_> = (0..300_000).map(|i| params![i]).collect();
            let run = pool.execute_many("INSERT INTO t VALUES (?1)", sets);
            if tokio::time::timeout(Duration::from_millis(30), run).await.is_err() {
                cancelled += 1;
                // Whatever the worker did with it is settled before the next call on the writer.
                let n: i64 = pool.call(|c| c.query_one("SELECT count(*) FROM t", params![])?.get(0)).await.unwrap();
                assert_eq!(n, 0, "a cancelled execute_many committed rows");
            } else {
                pool.execute_batch("DELETE FROM t").await.unwrap();
            }
        }
        assert!(cancelled > 0, "the calls were never cancelled mid-run");
        pool.close().await.unwrap();
    });
}

#[test]
fn savepoint_rollback_dropped_before_it_runs_still_rolls_back() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool_with_table(&path).await;
        let mut tx = pool.begin().await.unwrap();
        let sp = tx.savepoint().await.unwrap();
        sp.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
        drop(sp.rollback()); // never polled

        let sp = tx.savepoint().await.unwrap();
        sp.execute("INSERT INTO t VALUES (2)", params![]).await.unwrap();
        // Keep the writer busy, then give up on the rollback while it is queued.
        let busy = sp.call(|_| {
            std::thread::sleep(Duration::from_millis(150));
            Ok(())
        });
        let _ = tokio::time::timeout(Duration::from_millis(10), busy).await;
        let _ = tokio::time::timeout(Duration::from_millis(10), sp.rollback()).await;
        tx.commit().await.unwrap();
        assert_eq!(count(&pool).await, 0, "a rolled-back savepoint's rows were committed");
        pool.close().await.unwrap();
    });
}

#[test]
fn sibling_savepoints_never_share_a_name() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool_with_table(&path).await;
        // Savepoints opened one after another get distinct names, so ending one can never end another (siblings
        // open side by side no longer compile: a savepoint borrows its transaction mutably).
        let mut tx = pool.begin().await.unwrap();
        let a = tx.savepoint().await.unwrap();
        a.commit().await.unwrap();
        let b = tx.savepoint().await.unwrap();
        b.execute("INSERT INTO t VALUES (42)", params![]).await.unwrap();
        drop(b); // rolled back
        let c = tx.savepoint().await.unwrap();
        c.execute("INSERT INTO t VALUES (43)", params![]).await.unwrap();
        c.commit().await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&pool).await, 1, "a dropped savepoint rolled back a newer one, or kept its rows");
        pool.close().await.unwrap();
    });
}

#[test]
fn jobs_discarded_after_a_panic_in_a_transaction_leave_no_call_in_flight() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool_with_table(&path).await;
        let tx = pool.begin().await.unwrap();
        let (a, b) = tokio::join!(
            tx.call(|_| -> asqlite::Result<()> {
                std::thread::sleep(Duration::from_millis(20));
                panic!("boom")
            }),
            tx.execute("INSERT INTO t VALUES (1)", params![])
        );
        assert_eq!(a.unwrap_err().kind(), ErrorKind::Panicked);
        assert_eq!(b.unwrap_err().kind(), ErrorKind::TransactionAborted);
        drop(tx);
        assert_eq!(pool.stats().in_flight, 0);
        pool.close().await.unwrap();
    });
}

#[test]
fn a_stream_whose_job_is_discarded_wakes_with_an_error() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool_with_table(&path).await;
        let tx = pool.begin().await.unwrap();
        let mut s = tx.stream("SELECT x FROM t", params![]);
        let call = tx.call(|_| -> asqlite::Result<()> {
            std::thread::sleep(Duration::from_millis(50));
            panic!("boom")
        });
        let (call, item) = tokio::join!(call, async {
            tokio::task::yield_now().await;
            tokio::time::timeout(Duration::from_secs(20), s.next()).await
        });
        assert_eq!(call.unwrap_err().kind(), ErrorKind::Panicked);
        let item = item.expect("the stream never woke");
        let e = item.expect("the stream ended without saying why").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted, "a stream behind a rolled-back transaction: {e}");
        // The rolled-back transaction holds the writer until its handle goes, as any transaction does.
        drop(tx);
        pool.close().await.unwrap();
    });
}

#[test]
fn dropping_a_transaction_rolls_back_even_with_an_unpolled_stream_alive() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool_with_table(&path).await;
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
        let s = tx.stream("SELECT x FROM t", params![]);
        drop(tx);
        let write = tokio::time::timeout(Duration::from_secs(20), pool.execute("INSERT INTO t VALUES (2)", params![]));
        write.await.expect("the writer stayed in the dropped transaction").unwrap();
        drop(s);
        assert_eq!(count(&pool).await, 1);
        pool.close().await.unwrap();
    });
}

#[test]
fn a_reader_passing_a_write_to_a_full_writer_queue_never_blocks() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::builder().readers(1).queue_capacity(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
        let tx = pool.begin().await.unwrap(); // the writer serves only the transaction now
        let p1 = pool.clone();
        let w = tokio::spawn(async move { p1.execute("INSERT INTO t VALUES (1)", params![]).await });
        tokio::time::sleep(Duration::from_millis(50)).await; // the writer queue is full
        let p2 = pool.clone();
        let f = tokio::spawn(async move { p2.query("INSERT INTO t VALUES (2) RETURNING x", params![]).await });
        tokio::time::sleep(Duration::from_millis(50)).await; // the reader has passed it on
        let read = tokio::time::timeout(Duration::from_secs(20), pool.query("SELECT 1", params![])).await;
        assert!(read.is_ok(), "the reader is stuck forwarding a write");
        tx.commit().await.unwrap();
        w.await.unwrap().unwrap();
        f.await.unwrap().unwrap();
        assert_eq!(count(&pool).await, 2);
        pool.close().await.unwrap();
    });
}

#[test]
fn a_job_that_leaves_a_transaction_open_is_rolled_back_with_an_error() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
        // On a reader: BEGIN is "read-only" to SQLite, and would pin the reader's snapshot.
        let err = pool.query("BEGIN", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Misuse);
        pool.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
        assert_eq!(count(&pool).await, 1, "a reader does not see a committed write");
        // On the writer: the open transaction would leak into other callers' jobs.
        let err = pool.execute("BEGIN", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Misuse);
        pool.execute("INSERT INTO t VALUES (2)", params![]).await.unwrap();
        let other = asqlite::blocking::Connection::open(&path).unwrap();
        let n: i64 = other.query_one("SELECT count(*) FROM t", params![]).unwrap().get(0).unwrap();
        assert_eq!(n, 2, "a write was left uncommitted inside a leaked transaction");
        pool.close().await.unwrap();
    });
}

#[test]
fn named_parameters_differing_only_in_prefix_bind_separately() {
    let conn = asqlite::blocking::Connection::open_in_memory().unwrap();
    let row = conn.query_one("SELECT :a, @a", named_params! {":a" => 1, "@a" => 2}).unwrap();
    assert_eq!((row.get::<i64>(0).unwrap(), row.get::<i64>(1).unwrap()), (1, 2));
    // A bare key still matches any prefix; two keys that could both fill one placeholder are an error.
    let row = conn.query_one("SELECT :a, @b", named_params! {"a" => 1, "b" => 2}).unwrap();
    assert_eq!(row.get::<i64>(1).unwrap(), 2);
    let err = conn.query_one("SELECT $a", named_params! {":a" => 1, "@a" => 2}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ParameterName);
    let err = conn.query_one("SELECT :a", named_params! {":a" => 1, ":a" => 2}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ParameterName);
}

#[test]
fn concurrent_closes_all_wait_for_the_workers() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool_with_table(&path).await;
        let slow = pool.clone();
        let job = tokio::spawn(async move {
            slow.call(|c| {
                std::thread::sleep(Duration::from_millis(100));
                c.execute("INSERT INTO t VALUES (1)", params![]).map(drop)
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let (a, b) = tokio::join!(pool.close(), pool.close());
        a.unwrap();
        b.unwrap();
        job.await.unwrap().unwrap();
        // Both closes returned only after the writer closed the file: a fresh connection sees the row.
        let other = asqlite::blocking::Connection::open(&path).unwrap();
        let n: i64 = other.query_one("SELECT count(*) FROM t", params![]).unwrap().get(0).unwrap();
        assert_eq!(n, 1);
    });
}

#[test]
fn column_names_follow_a_schema_change_at_once() {
    let conn = asqlite::blocking::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (a, b); INSERT INTO t VALUES (1, 2)").unwrap();
    assert_eq!(conn.query("SELECT * FROM t", params![]).unwrap().columns(), ["a", "b"]);
    conn.execute_batch("ALTER TABLE t ADD COLUMN c DEFAULT 3").unwrap();
    let rows = conn.query("SELECT * FROM t", params![]).unwrap();
    assert_eq!(rows.columns(), ["a", "b", "c"]);
    assert_eq!(rows.first().unwrap().get::<i64>("c").unwrap(), 3);
    conn.execute_batch("ALTER TABLE t RENAME COLUMN a TO z").unwrap();
    let rows = conn.query("SELECT * FROM t", params![]).unwrap();
    assert_eq!(rows.columns(), ["z", "b", "c"]);
    assert_eq!(rows.first().unwrap().get::<i64>("z").unwrap(), 1);
    // Through query_map and a cursor too.
    let z: Vec<i64> = conn.query_map("SELECT * FROM t", params![], |r| r.get("z")).unwrap();
    assert_eq!(z, [1]);
}

#[test]
fn writing_each_streamed_row_through_the_same_connection_does_not_deadlock() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let conn = asqlite::Connection::open(&path).await.unwrap();
        conn.execute_batch("CREATE TABLE t (x); CREATE TABLE u (x)").await.unwrap();
        conn.execute_many("INSERT INTO t VALUES (?1)", (0..3000).map(|i| params![i])).await.unwrap();
        let copy = async {
            let mut s = conn.stream("SELECT x FROM t ORDER BY x", params![]);
            let mut n = 0i64;
            while let Some(row) = s.next().await {
                let x: i64 = row.unwrap().get(0).unwrap();
                assert_eq!(x, n, "rows arrive in order, spilled or not");
                conn.execute("INSERT INTO u VALUES (?1)", params![x]).await.unwrap();
                n += 1;
            }
            n
        };
        let n = tokio::time::timeout(Duration::from_secs(60), copy).await.expect("deadlock");
        assert_eq!(n, 3000);

        // The same inside a transaction.
        let tx = conn.begin().await.unwrap();
        let mut s = tx.stream("SELECT x FROM t", params![]);
        let mut n = 0;
        while let Some(row) = s.next().await {
            tx.execute("INSERT INTO u VALUES (?1)", params![row.unwrap().get::<i64>(0).unwrap()]).await.unwrap();
            n += 1;
        }
        drop(s);
        tx.commit().await.unwrap();
        assert_eq!(n, 3000);
        let total: i64 = conn.query_one("SELECT count(*) FROM u", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(total, 6000);
        conn.close().await.unwrap();
    });
}

/// `count(*)` walks the whole table inside one virtual-machine instruction: its step count says "cheap" and the
/// progress handler (which runs between instructions) cannot stop it. It must still never run on the caller's
/// thread once a worker has seen how much it reads.
#[test]
fn a_count_over_a_big_table_never_runs_on_the_callers_thread() {
    use futures::FutureExt;
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        // Without spinning, a call that goes to a worker is never ready at its first poll.
        let pool = Pool::builder().readers(1).spin(false).open(&path).await.unwrap();
        pool.execute_batch(
            "CREATE TABLE big (x INTEGER); \
             WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1000000) \
             INSERT INTO big SELECT i FROM k",
        )
        .await
        .unwrap();
        let count = "SELECT count(*) FROM big";
        for _ in 0..5 {
            let n: i64 = pool.query_one(count, params![]).await.unwrap().get(0).unwrap();
            assert_eq!(n, 1_000_000);
        }
        assert!(
            !crate::common::ran_here(&pool, count, params![]).await,
            "a count over a million rows ran on the caller's thread"
        );
        // A point query stays inline.
        let point = "SELECT x FROM big WHERE rowid = ?1";
        for _ in 0..5 {
            pool.query_one(point, params![3]).await.unwrap();
        }
        let row = pool.query_one(point, params![7]).now_or_never().expect("a warm point query runs inline").unwrap();
        assert_eq!(row.get::<i64>(0).unwrap(), 7);
        pool.close().await.unwrap();
    });
}
/// A read stopped inline (out of budget) and run again on a worker is one job, not two.
#[test]
fn a_read_handed_from_the_callers_thread_to_a_worker_counts_as_one_job() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).spin(false).open(&path).await.unwrap();
        let q = "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < ?1) SELECT count(*) FROM k";
        for _ in 0..5 {
            pool.query_one(q, params![3]).await.unwrap();
        }
        let before = pool.stats().jobs;
        let n: i64 = pool.query_one(q, params![2_000_000]).await.unwrap().get(0).unwrap();
        assert_eq!(n, 2_000_000);
        assert_eq!(pool.stats().jobs - before, 1, "one call, counted as {} jobs", pool.stats().jobs - before);
        pool.close().await.unwrap();
    });
}

/// `PRAGMA busy_timeout` replaces SQLite's busy handler: a lone connection's read run on the caller's thread must
/// still fail at once on a locked database (and go to the worker), not sleep out the timeout there.
#[test]
fn an_inline_read_does_not_wait_for_a_lock_after_pragma_busy_timeout() {
    use std::future::Future;
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        // A rollback-journal database (a read-only connection leaves the journal mode alone), where a writer's
        // exclusive lock keeps readers out.
        asqlite::blocking::Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .unwrap();
        let conn = asqlite::Connection::builder().read_only(true).spin(false).open(&path).await.unwrap();
        let point = "SELECT x FROM t WHERE rowid = 1";
        for _ in 0..5 {
            conn.query_one(point, params![]).await.unwrap();
        }
        let n: i64 = conn.query_one("PRAGMA busy_timeout", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(n, 5000, "the pragma reads back the builder's busy timeout");
        conn.execute_batch("PRAGMA busy_timeout = 4000").await.unwrap();
        let n: i64 = conn.query_one("PRAGMA busy_timeout", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(n, 4000, "the pragma reads back what was set");
        // Another connection takes the database for itself.
        let holder = asqlite::blocking::Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE; INSERT INTO t VALUES (2)").unwrap();
        let started = std::time::Instant::now();
        let mut read = Box::pin(conn.query_one(point, params![]));
        let first = futures::future::poll_fn(|cx| std::task::Poll::Ready(read.as_mut().poll(cx).is_ready())).await;
        let took = started.elapsed();
        assert!(took < Duration::from_millis(2000), "the first poll slept {took:?} on the caller's thread");
        let _ = first;
        holder.execute_batch("COMMIT").unwrap();
        drop(holder);
        let x: i64 = read.await.unwrap().get(0).unwrap();
        assert_eq!(x, 1);
        conn.close().await.unwrap();
    });
}

/// A `query_row` decoder runs once, and what it returns is the answer, whatever the error's kind: a decoder that
/// fails with a `Busy` error (say, a lookup of its own in another, locked database) must not make an inline read
/// look "locked" and be handed to a worker after the decoder was used, which answered with a misuse error.
#[test]
fn a_query_row_decoder_error_of_kind_busy_comes_back_as_is() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).spin(false).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO c VALUES (1, 10)")
            .await
            .unwrap();
        let sql = "SELECT n FROM c WHERE id = ?1";
        for _ in 0..5 {
            pool.query_row(sql, params![1], |r| r.get::<i64>(0)).await.unwrap();
        }
        assert!(crate::common::ran_here(&pool, sql, params![1]).await, "a warm point query runs inline");
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let e = pool
            .query_row(sql, params![1], move |_| -> asqlite::Result<i64> {
                seen.fetch_add(1, Ordering::SeqCst);
                Err(asqlite::Error::new(ErrorKind::Busy, "the decoder's own lookup was locked"))
            })
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
        pool.close().await.unwrap();
    });
}

/// A stream whose worker spills its rows (its consumer waits for a call on the same connection) and then hits an
/// error while reading the rest must still free the connection: the error may not wait for room in a channel
/// the blocked consumer will never drain.
#[test]
fn a_stream_that_fails_while_spilling_does_not_hang_its_connection() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let conn = asqlite::Connection::open(&path).await.unwrap();
        conn.execute_batch(
            "CREATE TABLE t (x INTEGER); \
             WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 5000) \
             INSERT INTO t SELECT i FROM k",
        )
        .await
        .unwrap();
        // Row 4000 fails (an integer overflow) while the worker spills; row 900 while it fills a chunk, with the
        // channel full. Either way every row before the failing one comes, then the error.
        for bad in [4000, 900] {
            let sql = format!("SELECT CASE WHEN x = {bad} THEN abs(x - x - 9223372036854775807 - 1) ELSE x END FROM t");
            let work = async {
                let mut s = conn.stream(&sql, params![]);
                let first = s.next().await.unwrap().unwrap();
                assert_eq!(first.get::<i64>(0).unwrap(), 1);
                tokio::time::sleep(Duration::from_millis(50)).await; // the worker fills the channel
                conn.execute("INSERT INTO t VALUES (-1)", params![]).await.unwrap();
                let mut rows = 1;
                let mut error = None;
                while let Some(r) = s.next().await {
                    match r {
                        Ok(row) => {
                            rows += 1;
                            assert_eq!(row.get::<i64>(0).unwrap(), rows, "rows in order, none lost");
                        }
                        Err(e) => {
                            error = Some(e);
                            break;
                        }
                    }
                }
                (rows, error)
            };
            let (rows, error) = tokio::time::timeout(Duration::from_secs(20), work).await.expect("the connection hung");
            let error = error.expect("the overflow is reported");
            assert_eq!(rows, bad - 1, "every row before the failing one");
            assert!(error.to_string().contains("integer overflow"), "{error}");
        }
        conn.close().await.unwrap();
    });
}

/// `query_one` returned the first row and dropped the rest: a lookup by a key that is not unique answered with
/// whichever row came first. `ErrorKind::TooManyRows` existed and was never produced. It fails now, on every path
/// (a worker, a read run inline on the caller's thread, the blocking layer, a transaction), and so does
/// `query_opt`; `query_row` still decodes the first row (rusqlite's `query_row`).
#[test]
fn query_one_took_the_first_of_several_rows() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = pool_with_table(&path).await;
        pool.execute_many("INSERT INTO t VALUES (?1)", vec![(1,), (1,), (2,)]).await.unwrap();
        let sql = "SELECT x FROM t WHERE x = ?1";
        // Twice: the second run is cached and cheap, so it runs inline.
        for _ in 0..2 {
            let err = pool.query_one(sql, params![1]).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TooManyRows, "{err}");
            assert_eq!(err.sql(), Some(sql));
            let err = pool.query_opt(sql, params![1]).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TooManyRows, "{err}");
            let x: i64 = pool.query_one(sql, params![2]).await.unwrap().get(0).unwrap();
            assert_eq!(x, 2);
            assert!(pool.query_opt(sql, params![3]).await.unwrap().is_none());
            assert_eq!(pool.query_one(sql, params![3]).await.unwrap_err().kind(), ErrorKind::NoRows);
            let first: i64 = pool.query_row(sql, params![1], |r| r.get(0)).await.unwrap();
            assert_eq!(first, 1);
        }
        let err = pool.call(move |c| c.query_one(sql, params![1]).map(drop)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooManyRows);
        let tx = pool.begin().await.unwrap();
        assert_eq!(tx.query_one(sql, params![1]).await.unwrap_err().kind(), ErrorKind::TooManyRows);
        tx.rollback().await.unwrap();
        pool.close().await.unwrap();
    });
}

/// `execute` and `query` took `params![..]` but not a tuple, which `execute_many` and rusqlite take: a tuple of
/// `ToSql` values binds by position everywhere now.
#[test]
fn execute_and_query_refused_a_tuple_of_parameters() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE cars (make TEXT, year INTEGER, note TEXT)").await.unwrap();
        let done = pool.execute("INSERT INTO cars VALUES (?1, ?2, ?3)", ("Honda Civic", 2012, None::<String>)).await;
        assert_eq!(done.unwrap().rows_affected(), 1);
        pool.execute("INSERT INTO cars VALUES (?1, ?2, ?3)", (String::from("Kia"), 2020i64, "new")).await.unwrap();
        let rows = pool.query("SELECT make FROM cars WHERE year > ?1 AND make != ?2", (2000, "x")).await.unwrap();
        assert_eq!(rows.len(), 2);
        let row = pool.query_one("SELECT year FROM cars WHERE make = ?1", ("Kia",)).await.unwrap();
        assert_eq!(row.get::<i64>(0).unwrap(), 2020);
        assert!(pool.query_opt("SELECT 1 FROM cars WHERE make = ?1", ("Fiat",)).await.unwrap().is_none());
        let years: Vec<i64> = pool
            .query_map("SELECT year FROM cars WHERE year >= ?1 ORDER BY year", (2012,), |r| r.get(0))
            .await
            .unwrap();
        assert_eq!(years, [2012, 2020]);
        let mut s = pool.stream("SELECT make FROM cars WHERE year = ?1", (2012,));
        assert_eq!(s.next().await.unwrap().unwrap().get::<String>(0).unwrap(), "Honda Civic");
        drop(s);
        // A wrong count is the usual error, and a value that cannot convert is reported when bound.
        let err = pool.execute("INSERT INTO cars VALUES (?1, ?2, ?3)", ("Fiat", 2001)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ParameterCount);
        let err = pool.query("SELECT ?1", (u64::MAX,)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeConversion);
        // The blocking layer takes them too.
        let n: i64 = pool
            .call(|c| {
                c.execute("DELETE FROM cars WHERE make = ?1 AND year = ?2", ("Kia", 2020))?;
                c.query_row("SELECT count(*) FROM cars WHERE year < ?1", (3000,), |r| r.get(0))
            })
            .await
            .unwrap();
        assert_eq!(n, 1);
        pool.close().await.unwrap();
    });
}
