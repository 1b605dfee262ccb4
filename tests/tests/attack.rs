//! What a hostile review of the rebuilt worker core broke, one test per bug, each named after what broke.
//!
//! Small programs against the core (cancellation at every poll, interrupts and timeouts mid-transaction, SQL text
//! that ends transactions, savepoints, re-entrant closures, streams, opens and closes) found these: a closure or
//! decoder that blocked on its own pool, connection or transaction deadlocked its worker forever (and a query-layer
//! `run_sync` closure that blocked on its own engine connection, the connection's lock); a closure that
//! merely returned an error of kind `Panicked` got its transaction rolled back and aborted; a `COMMIT` run through
//! `query_row` committed but was reported as rolled back by SQLite; writes made by read-shaped calls
//! (`INSERT ... RETURNING` through `query`, `query_row`, `query_map`, `stream`) went into a deleted database file
//! that the writer refuses writes to; a caller's waker that panics killed the transaction it was woken from, or, for
//! a caller waiting for room in a full queue, the worker and so the whole pool; a user value whose `Drop` panics on
//! the writer ended the transaction it was dropped in; and a call waiting for another connection's lock could be
//! neither cancelled, nor interrupted, nor stopped by the statement timeout, holding its worker for the whole busy
//! timeout. A later review found that a temp table made through a pool with the name of a main table was read
//! from the main table by the pool's reads (not fixed: the test is ignored), and that a point read of a large blob
//! counted as cheap and ran on the caller's thread. A third found that an opener's waker that panicked when a worker
//! signalled its open killed that worker. The attacks that found nothing are not kept here.

use std::future::Future;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use asqlite::{params, Error, ErrorKind, Pool};
use futures::StreamExt;

use crate::common::{temp_db, within};

/// Run `f` on its own thread, failing the test if it hangs (see [`within`]).
fn no_hang<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(what, Duration::from_secs(30), f)
}

fn block_on<F: Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

/// Poll `f` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    std::pin::Pin::new(f).poll(&mut Context::from_waker(&waker))
}

async fn count(pool: &Pool) -> i64 {
    pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap()
}

fn assert_waits_for_itself(out: asqlite::Result<impl std::fmt::Debug>, what: &str) {
    let e = out.expect_err(what);
    assert_eq!(e.kind(), ErrorKind::Misuse, "{what}: {e}");
    assert!(e.to_string().contains("wait for itself"), "{what}: {e}");
}

/// A closure (or decoder) that blocks on a call that only its own worker could run waited for itself forever:
/// `call` on a `Connection` or a pool's writer, `query_map` on a pool's one reader, `call` inside a transaction, and
/// `close()`. Such a call now fails at once; the worker, the transaction and the pool go on.
#[test]
fn a_closure_that_blocks_on_its_own_worker_fails_instead_of_deadlocking() {
    let (_dir, path) = temp_db();
    no_hang("a closure blocking on its own worker", move || {
        block_on(async {
            let conn = asqlite::Connection::open(path.with_extension("conn.db")).await.unwrap();
            let inner = conn.clone();
            let out = conn.call(move |_| block_on(inner.execute("SELECT 1", params![])).map(drop)).await;
            assert_waits_for_itself(out, "a call on the connection's own worker");
            let inner = conn.clone();
            let out = conn.call(move |_| block_on(inner.query_one("SELECT 2", params![])).map(drop)).await;
            assert_waits_for_itself(out, "a read on the connection's own worker");
            conn.close().await.unwrap();

            let pool = Pool::builder().readers(1).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
            let inner = pool.clone();
            let out =
                pool.call(move |_| block_on(inner.execute("INSERT INTO t VALUES (1)", params![])).map(drop)).await;
            assert_waits_for_itself(out, "a write from the writer's own closure");
            let inner = pool.clone();
            let out = pool
                .query_map("SELECT 1", params![], move |_| {
                    block_on(inner.query_one("SELECT 3 WHERE 1 = 1", params![])).map(drop)
                })
                .await;
            assert_waits_for_itself(out, "a read from the one reader's own decoder");
            // A call another worker serves is fine: a read from the writer's closure goes to the reader.
            let inner = pool.clone();
            let n: i64 = pool
                .call(move |_| block_on(inner.query_one("SELECT 4", params![]))?.get(0))
                .await
                .expect("a read from the writer's closure runs on the reader");
            assert_eq!(n, 4);

            let tx = pool.begin().await.unwrap();
            tx.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
            let inner: asqlite::Client = (*tx).clone();
            let out = tx.call(move |_| block_on(inner.execute("INSERT INTO t VALUES (2)", params![])).map(drop)).await;
            assert_waits_for_itself(out, "a call into the transaction from its own closure");
            let inner = pool.clone();
            let out = tx.call(move |_| block_on(inner.begin()).map(drop)).await;
            assert_waits_for_itself(out, "a begin from a transaction's closure");
            // The transaction goes on.
            tx.execute("INSERT INTO t VALUES (3)", params![]).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(count(&pool).await, 2);

            let inner = pool.clone();
            let out = pool.call(move |_| block_on(inner.close())).await;
            assert_waits_for_itself(out, "close() awaited inside the pool's own closure");
            assert_eq!(pool.execute("SELECT 1", params![]).await.unwrap_err().kind(), ErrorKind::Closed);
            pool.close().await.unwrap();
        });
    });
}

/// The query layer's `run_sync` runs its closure on the writer while it holds the engine connection's lock: a
/// closure that blocked on that connection again (`block_on(conn.execute(..))`) waited for the lock forever, where
/// the driver's own check cannot see it. It fails at once now, and the connection goes on.
#[test]
fn an_engine_run_sync_closure_that_blocks_on_its_connection_fails_instead_of_deadlocking() {
    use asqlite_query::prelude::*;
    let (_dir, path) = temp_db();
    no_hang("a run_sync closure blocking on its connection", move || {
        block_on(async {
            let engine = create_async_engine(&format!("sqlite:///{}", path.display())).await.unwrap();
            engine.pool().execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
            let conn = engine.connect().await.unwrap();
            let inner = conn.clone();
            let out = conn.run_sync(move |_| block_on(inner.execute(text("INSERT INTO t VALUES (1)"))).map(drop)).await;
            let e = out.expect_err("a call from inside run_sync on its own connection");
            assert_eq!(e.driver_kind(), Some(ErrorKind::Misuse), "{e}");
            conn.execute(text("INSERT INTO t VALUES (2)")).await.unwrap();
            conn.commit().await.unwrap();
            assert_eq!(count(engine.pool()).await, 1);
            engine.dispose().await.unwrap();
        });
    });
}

/// A closure that returned an error of kind `Panicked` (passed on from another pool, or made by the user) had its
/// transaction rolled back and aborted as if it had panicked half-way: the kind of an error decided it, not a panic.
/// Only a panic caught in the closure aborts the transaction now.
#[test]
fn a_closure_returning_an_error_of_kind_panicked_does_not_roll_back_its_transaction() {
    let (_dir, path) = temp_db();
    block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
        let other = Pool::open_in_memory().await.unwrap();
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
        // Another pool's decoder panicked; this closure only passes its error on.
        let e = tx
            .call(move |_| {
                block_on(other.query_row("SELECT 1", params![], |_| -> asqlite::Result<i64> { panic!("elsewhere") }))
            })
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Panicked);
        let e = tx.call(|_| Err::<(), _>(Error::new(ErrorKind::Panicked, "made up"))).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Panicked);
        tx.execute("INSERT INTO t VALUES (2)", params![]).await.expect("the transaction was aborted by an error value");
        tx.commit().await.unwrap();
        assert_eq!(count(&pool).await, 2);

        // A closure that does panic still aborts its transaction.
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO t VALUES (3)", params![]).await.unwrap();
        let e = tx.call(|_| -> asqlite::Result<()> { panic!("really") }).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Panicked);
        let e = tx.execute("INSERT INTO t VALUES (4)", params![]).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
        assert_eq!(tx.commit().await.unwrap_err().kind(), ErrorKind::TransactionAborted);
        assert_eq!(count(&pool).await, 2);
        pool.close().await.unwrap();
    });
}

/// `COMMIT` (or `END`) run through `query_row` or `query_one` commits the transaction, finds no row, and was
/// reported as "the transaction was rolled back by SQLite" with kind `NoRows`: a caller who believed it would run
/// the transaction again and apply it twice. Now it fails as any COMMIT in SQL text does, with kind
/// `TransactionAborted` and a reason that says the SQL text ended it, maybe committing it.
#[test]
fn a_commit_in_sql_text_run_by_query_row_is_not_reported_as_a_roll_back() {
    let (_dir, path) = temp_db();
    block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
        for (i, end) in ["COMMIT", "END"].into_iter().enumerate() {
            let tx = pool.begin().await.unwrap();
            tx.execute("INSERT INTO t VALUES (?1)", params![i64::try_from(i).unwrap()]).await.unwrap();
            let e = if i == 0 {
                tx.query_row(end, params![], |_| Ok(())).await.unwrap_err()
            } else {
                tx.query_one(end, params![]).await.map(drop).unwrap_err()
            };
            assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
            assert!(!e.to_string().contains("rolled back"), "a commit reported as a roll-back: {e}");
            assert!(e.to_string().contains("in the SQL text"), "{e}");
            assert_eq!(count(&pool).await, i64::try_from(i).unwrap() + 1, "the COMMIT in SQL text did commit");
            let e = tx.commit().await.unwrap_err();
            assert!(!e.to_string().contains("rolled back"), "{e}");
        }
        pool.close().await.unwrap();
    });

    let mut conn = asqlite::blocking::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute("INSERT INTO t VALUES (1)", ()).unwrap();
    let e = tx.query_row("COMMIT", (), |_| Ok(())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionAborted, "{e}");
    assert!(!e.to_string().contains("rolled back"), "{e}");
    assert!(tx.commit().is_err());
    let n: i64 = conn.query_row("SELECT count(*) FROM t", (), |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
}

/// Once the database file is deleted, the writer refuses writes (they would be lost at close), but only for the
/// calls that write by their kind (`execute`, `execute_batch`, `execute_many`, `call`): an `INSERT ... RETURNING`
/// sent through `query`, `query_row`, `query_map` or `stream` wrote into the deleted file and returned Ok. A
/// read-shaped call whose statement writes is refused the same way now, in a transaction too.
#[test]
fn writes_returning_rows_are_refused_once_the_database_file_is_deleted() {
    let (_dir, path) = temp_db();
    block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
        pool.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
        let tx = pool.begin().await.unwrap();
        std::fs::remove_file(&path).unwrap();
        let refused = |out: asqlite::Result<()>, what: &str| {
            let e = out.expect_err(what);
            assert_eq!(e.kind(), ErrorKind::ReadOnly, "{what}: {e}");
            assert!(e.to_string().contains("deleted or moved"), "{what}: {e}");
        };
        let returning = "INSERT INTO t VALUES (2) RETURNING x";
        refused(tx.query(returning, params![]).await.map(drop), "query in a transaction");
        tx.rollback().await.unwrap();
        refused(pool.execute("INSERT INTO t VALUES (2)", params![]).await.map(drop), "execute");
        refused(pool.query(returning, params![]).await.map(drop), "query");
        refused(pool.query_row(returning, params![], |r| r.get::<i64>(0)).await.map(drop), "query_row");
        refused(pool.query_map(returning, params![], |r| r.get::<i64>(0)).await.map(drop), "query_map");
        let streamed: Vec<_> = pool.stream(returning, params![]).collect().await;
        refused(streamed.into_iter().collect::<asqlite::Result<Vec<_>>>().map(drop), "stream");
        refused(pool.query("DELETE FROM t RETURNING x", params![]).await.map(drop), "a delete through query");
        // Reads still answer.
        assert_eq!(count(&pool).await, 1);
        pool.close().await.unwrap();
    });
}

/// A waker that panics when woken, as a buggy executor's might; it first says it was woken, so a test can wait for
/// the worker to wake it before polling again (which would register another waker in its place).
struct PanickingWaker(std::sync::Mutex<mpsc::Sender<()>>);

impl futures::task::ArcWake for PanickingWaker {
    fn wake_by_ref(this: &std::sync::Arc<Self>) {
        let _ = this.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(());
        panic!("PanickingWaker woken");
    }
}

/// A panicking waker, and what tells when it was woken.
fn panicking_waker() -> (std::task::Waker, mpsc::Receiver<()>) {
    let (woken, wakes) = mpsc::channel();
    (futures::task::waker(std::sync::Arc::new(PanickingWaker(std::sync::Mutex::new(woken)))), wakes)
}

/// Replies inside a transaction wake their callers from the transaction's loop: a waker that panicked there (on
/// the reply to `begin`, or on a chunk of a stream in the transaction) unwound out of the loop or failed the stream
/// as if a closure had panicked, so the transaction was rolled back behind the caller's back (its `begin` and
/// writes had returned Ok) and every later call failed. Workers wake callers under `catch_unwind` now, and the
/// transaction goes on.
#[test]
fn a_waker_that_panics_inside_a_transaction_does_not_roll_it_back() {
    let (_dir, path) = temp_db();
    no_hang("a panicking waker in a transaction", move || {
        block_on(async {
            let pool = Pool::builder().readers(1).spin(false).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
            // Each time the worker first waits for `go`, so the panicking waker is the one it wakes.
            let (go, wait) = mpsc::channel::<()>();
            let mut busy = Box::pin(pool.call(move |_| wait.recv().map_err(|_| Error::new(ErrorKind::Closed, "gone"))));
            assert!(poll_once(&mut busy).is_pending());
            let mut begin = Box::pin(pool.begin());
            let (waker, woken) = panicking_waker();
            assert!(begin.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
            go.send(()).unwrap();
            woken.recv().unwrap();
            busy.await.unwrap();
            let tx = begin.await.unwrap();
            tx.execute("INSERT INTO t VALUES (1)", params![]).await.expect("the transaction died with begin's waker");

            let (go, wait) = mpsc::channel::<()>();
            let mut call = Box::pin(tx.call(move |c| {
                let _ = wait.recv();
                c.execute("INSERT INTO t VALUES (2)", params![]).map(drop)
            }));
            let (waker, woken) = panicking_waker();
            assert!(call.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
            go.send(()).unwrap();
            woken.recv().unwrap();
            call.await.unwrap();
            tx.execute("INSERT INTO t VALUES (3)", params![]).await.expect("the transaction died with a call's waker");

            let (go, wait) = mpsc::channel::<()>();
            let mut busy = Box::pin(tx.call(move |_| wait.recv().map_err(|_| Error::new(ErrorKind::Closed, "gone"))));
            assert!(poll_once(&mut busy).is_pending());
            let mut rows = tx.stream("SELECT x FROM t ORDER BY x", params![]);
            let (waker, woken) = panicking_waker();
            assert!(rows.poll_next_unpin(&mut Context::from_waker(&waker)).is_pending());
            go.send(()).unwrap();
            woken.recv().unwrap();
            busy.await.unwrap();
            let xs: Vec<i64> = rows
                .map(|r| r.and_then(|r| r.get(0)))
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<asqlite::Result<_>>()
                .expect("the stream failed with its consumer's waker");
            assert_eq!(xs, [1, 2, 3]);
            tx.execute("INSERT INTO t VALUES (4)", params![])
                .await
                .expect("the transaction died with a stream's waker");
            tx.commit().await.unwrap();
            assert_eq!(count(&pool).await, 4);
            pool.close().await.unwrap();
        });
    });
}

/// A caller waiting for room in a full queue is woken by the worker that takes a job: a waker that panicked there
/// killed the worker thread (outside any job's guard), and with it the pool (the last reader gone, the writer
/// stopped too; every later call failed as closed). Now the panic is caught and the worker goes on.
#[test]
fn a_waker_that_panics_while_waiting_for_room_in_a_full_queue_does_not_kill_the_worker() {
    let (_dir, path) = temp_db();
    no_hang("a panicking waker on a full queue", move || {
        block_on(async {
            let pool = Pool::builder().readers(1).spin(false).queue_capacity(1).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
            // The one reader runs `busy` until told to go; `queued` then fills the queue, so `third` must wait for
            // room, with the panicking waker.
            let (started, running) = mpsc::channel::<()>();
            let (go, wait) = mpsc::channel::<()>();
            let mut busy = Box::pin(pool.read(move |_| {
                started.send(()).unwrap();
                let _ = wait.recv();
                Ok(0)
            }));
            assert!(poll_once(&mut busy).is_pending());
            running.recv().unwrap();
            let mut queued = Box::pin(pool.read(|_| Ok(1)));
            assert!(poll_once(&mut queued).is_pending());
            let mut third = Box::pin(pool.read(|_| Ok(2)));
            let (waker, woken) = panicking_waker();
            assert!(third.as_mut().poll(&mut Context::from_waker(&waker)).is_pending(), "the queue was not full");
            go.send(()).unwrap();
            woken.recv().unwrap();
            assert_eq!(busy.await.unwrap(), 0);
            assert_eq!(queued.await.expect("the reader died"), 1);
            assert_eq!(third.await.expect("the reader died"), 2);
            assert_eq!(pool.read(|_| Ok(3)).await.unwrap(), 3);
            assert_eq!(pool.stats().dead_workers, 0);
            pool.close().await.unwrap();
        });
    });
}

/// A value whose `Drop` panics, as a buggy user type might.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("PanicsOnDrop dropped");
        }
    }
}

/// The closure of a call its caller gave up on is dropped unrun on the writer; inside a transaction, a `Drop` that
/// panicked there unwound out of the transaction's loop: the transaction was rolled back, every later call failed,
/// and so did `rollback()` (which the docs promise succeeds). No statement was half-way, so the transaction now
/// goes on, as the worker's own loop goes on outside transactions.
#[test]
fn a_panicking_drop_on_the_writer_inside_a_transaction_does_not_end_it() {
    let (_dir, path) = temp_db();
    no_hang("a panicking drop in a transaction", move || {
        block_on(async {
            let pool = Pool::builder().readers(1).spin(false).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
            for commit in [true, false] {
                let tx = pool.begin().await.unwrap();
                tx.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
                let (go, wait) = mpsc::channel::<()>();
                let mut busy = Box::pin(tx.call(move |_| {
                    let _ = wait.recv();
                    Ok(())
                }));
                assert!(poll_once(&mut busy).is_pending());
                let doomed = PanicsOnDrop;
                let mut cancelled = Box::pin(tx.call(move |_| {
                    let _keep = &doomed;
                    Ok(())
                }));
                assert!(poll_once(&mut cancelled).is_pending());
                drop(cancelled); // queued behind `busy`: skipped, and its closure dropped on the writer
                go.send(()).unwrap();
                busy.await.unwrap();
                tx.execute("INSERT INTO t VALUES (2)", params![]).await.expect("the transaction died with the drop");
                if commit {
                    tx.commit().await.unwrap();
                } else {
                    tx.rollback().await.expect("rollback failed");
                }
            }
            assert_eq!(count(&pool).await, 2);
            pool.close().await.unwrap();
        });
    });
}

/// A call waiting for another connection's write lock sits in SQLite's busy handler, where neither an interrupt
/// nor the progress handler reaches it: a dropped future, `Pool::interrupt` and the statement timeout all waited
/// out the whole busy timeout (here a minute), holding the writer meanwhile. The busy handler now gives up when the
/// call is interrupted or past its deadline: the caller gets `Interrupted` or `Timeout`, and the writer is free.
#[test]
fn a_call_waiting_for_a_lock_stops_when_cancelled_interrupted_or_timed_out() {
    let (_dir, path) = temp_db();
    no_hang("a call waiting for a lock", move || {
        block_on(async {
            let setup = Pool::open(&path).await.unwrap();
            setup.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
            setup.close().await.unwrap();
            let holder = asqlite::blocking::Connection::open(&path).unwrap();
            holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (9)").unwrap();
            let minute = Duration::from_secs(60);

            let pool = Pool::builder().readers(1).busy_timeout(minute).statement_timeout(Duration::from_millis(100));
            let pool = pool.open(&path).await.unwrap();
            let e = pool.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
            let e = pool.begin().await.map(drop).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
            pool.close().await.unwrap();

            let pool = Pool::builder().readers(1).busy_timeout(minute).open(&path).await.unwrap();
            // Dropped while it waits (or before it starts): either way the writer is free at once.
            let mut write = Box::pin(pool.execute("INSERT INTO t VALUES (1)", params![]));
            assert!(poll_once(&mut write).is_pending());
            std::thread::sleep(Duration::from_millis(50));
            drop(write);
            pool.call(|_| Ok(())).await.unwrap();

            let interrupter = pool.clone();
            let (stop, stopped) = mpsc::channel::<()>();
            let repeat = std::thread::spawn(move || {
                while stopped.recv_timeout(Duration::from_millis(10)).is_err() {
                    interrupter.interrupt();
                }
            });
            let e = pool.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap_err();
            stop.send(()).unwrap();
            repeat.join().unwrap();
            assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");

            holder.execute_batch("ROLLBACK").unwrap();
            pool.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
            assert_eq!(count(&pool).await, 1);
            pool.close().await.unwrap();
        });
    });
}

/// Reading `PRAGMA busy_timeout` puts SQLite's own busy handler in place (so that the pragma reports the timeout in
/// force), and it stayed there: the next call waiting for a lock could no longer be stopped by the statement
/// timeout (it waited out the whole busy timeout). Found when the pool's own setup read the pragma. Every job now
/// puts the driver's handler back first.
#[test]
fn a_pragma_busy_timeout_read_does_not_make_lock_waits_unstoppable() {
    let (_dir, path) = temp_db();
    no_hang("a call waiting for a lock after PRAGMA busy_timeout", move || {
        block_on(async {
            let setup = Pool::open(&path).await.unwrap();
            setup.execute_batch("CREATE TABLE t (x INTEGER)").await.unwrap();
            setup.close().await.unwrap();
            let pool = Pool::builder()
                .readers(1)
                .busy_timeout(Duration::from_secs(60))
                .statement_timeout(Duration::from_millis(100))
                .open(&path)
                .await
                .unwrap();
            let ms: i64 = pool.call(|c| c.query_row("PRAGMA busy_timeout", (), |r| r.get(0))).await.unwrap();
            assert_eq!(ms, 60_000, "the pragma reports the timeout in force");
            let holder = asqlite::blocking::Connection::open(&path).unwrap();
            holder.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (9)").unwrap();
            let e = pool.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
            holder.execute_batch("ROLLBACK").unwrap();
            pool.close().await.unwrap();
        });
    });
}

/// A temp table made through a pool lives on the writer; one with the name of a main table shadows it there only.
/// The pool's reads of that name ran on the readers, which have no temp table and answered from the main table,
/// while the writer (`call`, a transaction) answered from the temp one: the same statement read different tables
/// depending on where it ran. The readers refuse what they cannot find, but here they find a table of that name.
#[test]
fn a_temp_table_shadowing_a_main_table_was_read_from_the_main_table_by_the_pools_reads() {
    let (_dir, path) = temp_db();
    no_hang("reads of a shadowed table", move || {
        block_on(async {
            let pool = Pool::builder().readers(2).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('main')").await.unwrap();
            let sql = "SELECT v FROM t";
            // Warm on the readers, as a running application's would be.
            for _ in 0..4 {
                let v: String = pool.query_row(sql, params![], |r| r.get(0)).await.unwrap();
                assert_eq!(v, "main");
            }
            pool.execute_batch("CREATE TEMP TABLE t (v TEXT); INSERT INTO temp.t VALUES ('temp')").await.unwrap();
            let on_writer: String = pool.call(move |c| c.query_one(sql, params![])?.get(0)).await.unwrap();
            assert_eq!(on_writer, "temp");
            let one: String = pool.query_one(sql, params![]).await.unwrap().get(0).unwrap();
            let row: String = pool.query_row(sql, params![], |r| r.get(0)).await.unwrap();
            let map: Vec<String> = pool.query_map(sql, params![], |r| r.get(0)).await.unwrap();
            assert_eq!((one.as_str(), row.as_str(), map), ("temp", "temp", vec!["temp".to_owned()]));
            // Dropped, the main table answers again everywhere.
            pool.execute_batch("DROP TABLE temp.t").await.unwrap();
            for _ in 0..4 {
                let v: String = pool.query_row(sql, params![], |r| r.get(0)).await.unwrap();
                assert_eq!(v, "main");
            }
            // A temp view shadows as a temp table does.
            pool.execute_batch("CREATE TEMP VIEW t AS SELECT 'view' AS v").await.unwrap();
            let map: Vec<String> = pool.query_map(sql, params![], |r| r.get(0)).await.unwrap();
            assert_eq!(map, ["view"]);
            pool.close().await.unwrap();
        })
    });
}

/// A read of one large value counted as cheap: the value is read in one virtual-machine step, out of the inline
/// budget's reach, and its overflow pages straight from the file, past the page cache whose pages count towards a
/// read's cost. So a point read of a multi-megabyte blob (`query_row`, and `query_map`, which now runs inline too)
/// ran on the caller's thread, read and copied whole there, and did again every time. An inline read now stops at a
/// value longer than a few pages and goes to a worker, and the bytes a run read count towards its cost.
#[test]
fn a_point_read_of_a_large_blob_ran_on_the_callers_thread() {
    let (_dir, path) = temp_db();
    no_hang("reads of a large blob", move || {
        block_on(async {
            const BIG: i64 = 8_000_000;
            let pool = Pool::builder().readers(2).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)").await.unwrap();
            pool.execute("INSERT INTO t (id, b) VALUES (1, randomblob(?1)), (2, x'01')", params![BIG]).await.unwrap();
            // The blob's pages in the database file, where SQLite reads overflow pages directly.
            pool.call(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")).await.unwrap();
            let sql = "SELECT b FROM t WHERE id = ?1";
            for _ in 0..6 {
                let b: Vec<u8> = pool.query_row(sql, params![2], |r| r.get(0)).await.unwrap();
                assert_eq!(b, [1]);
            }
            assert!(crate::common::ran_here(&pool, sql, params![2]).await, "the control did not run inline");
            // Right after a cheap run of the same statement.
            assert!(
                !crate::common::ran_here(&pool, sql, params![1]).await,
                "an 8 MB blob was read on the caller's thread"
            );
            // After runs that read it.
            for _ in 0..6 {
                let lens = pool.query_map(sql, params![1], |r| r.get::<Vec<u8>>(0).map(|b| b.len())).await.unwrap();
                assert_eq!(lens, [usize::try_from(BIG).unwrap()]);
            }
            let before = pool.stats().inline_reads;
            let lens = pool.query_map(sql, params![1], |r| r.get::<Vec<u8>>(0).map(|b| b.len())).await.unwrap();
            assert_eq!(lens, [usize::try_from(BIG).unwrap()]);
            let b: Vec<u8> = pool.query_row(sql, params![1], |r| r.get(0)).await.unwrap();
            assert_eq!(i64::try_from(b.len()).unwrap(), BIG);
            assert_eq!(pool.stats().inline_reads, before, "the large blob was read inline");
            // The inline read's length limit refuses a long parameter too: such a read runs on a worker, and answers.
            let point = "SELECT id FROM t WHERE id = 2 AND (b = ?1 OR b IS NOT NULL)";
            for _ in 0..6 {
                let ids: Vec<i64> = pool.query_map(point, params![vec![1u8]], |r| r.get(0)).await.unwrap();
                assert_eq!(ids, [2]);
            }
            let before = pool.stats().inline_reads;
            let ids: Vec<i64> = pool.query_map(point, params![vec![1u8]], |r| r.get(0)).await.unwrap();
            assert_eq!((ids, pool.stats().inline_reads), (vec![2], before + 1), "the control did not run inline");
            let long = vec![7u8; 200_000];
            let ids: Vec<i64> = pool.query_map(point, params![long], |r| r.get(0)).await.unwrap();
            assert_eq!((ids, pool.stats().inline_reads), (vec![2], before + 1));
            pool.close().await.unwrap();
        })
    });
}

/// An open resolves when each worker has put its connection in its slot, which the worker signals from its own
/// thread by waking the opener: a waker that panicked there unwound out of the worker before its loop began, so
/// the open succeeded with a dead writer (every call: "pool is closed") or a dead reader. Workers wake the opener
/// under `catch_unwind` now, as they wake callers of jobs.
#[test]
fn a_waker_that_panics_when_a_worker_signals_the_open_does_not_kill_the_worker() {
    let (_dir, path) = temp_db();
    no_hang("an open woken through a panicking waker", move || {
        for readers in [0, 2] {
            let builder = Pool::builder().readers(readers).spin(false);
            let mut open = Box::pin(builder.open(&path));
            // Every worker (the writer, then each reader) wakes the panicking waker once it has opened.
            let pool = loop {
                let (waker, woken) = panicking_waker();
                match open.as_mut().poll(&mut Context::from_waker(&waker)) {
                    Poll::Ready(pool) => break pool.unwrap(),
                    Poll::Pending => woken.recv().unwrap(),
                }
            };
            block_on(async {
                pool.execute_batch("CREATE TABLE IF NOT EXISTS t (x INTEGER); INSERT INTO t VALUES (1)").await.unwrap();
                for _ in 0..20 {
                    assert!(count(&pool).await >= 1);
                }
                let n: Vec<i64> =
                    pool.query_map("SELECT x FROM t WHERE x > ?1", params![0], |r| r.get(0)).await.unwrap();
                assert!(!n.is_empty());
                let stats = pool.stats();
                assert_eq!((stats.readers, stats.dead_workers), (readers, 0));
                pool.close().await.unwrap();
            });
        }
    });
}
