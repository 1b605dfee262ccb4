//! Worker threads start, stop and die without leaking or hanging.
//!
//! The bugs: dropping a `Pool::open` or `create_async_engine` future part-way left the workers it had started
//! parked forever (57 cancellations took a process from 4 to 136 threads and 12 to 203 open files); and a worker
//! thread that died (a user value whose `Drop` panicked, dropped on a reader where no closure's guard ran) was
//! never noticed, so `close()` waited for it forever.

use std::sync::mpsc;
use std::time::Duration;

use asqlite::{params, ErrorKind, Pool};
use futures::FutureExt;
use std::future::Future;

use crate::common::temp_db;

const HANG: Duration = Duration::from_secs(30);

#[test]
fn dropped_opens_release_their_threads_and_files() {
    let (_dir, path) = temp_db();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_open_cancel_probe"))
        .arg(&path)
        .output()
        .expect("run open_cancel_probe");
    assert!(out.status.success(), "probe failed: {}", String::from_utf8_lossy(&out.stderr));
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let n: Vec<usize> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    let [threads_before, threads_after, files_before, files_after] = n[..] else { panic!("bad output {line:?}") };
    assert!(threads_after <= threads_before, "abandoned opens leaked threads: {line}");
    assert!(files_after <= files_before, "abandoned opens leaked open files: {line}");
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

#[test]
fn a_panicking_drop_on_a_worker_neither_kills_it_nor_hangs_close() {
    let (_dir, path) = temp_db();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        futures::executor::block_on(async {
            let pool = Pool::builder().readers(1).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").await.unwrap();
            for i in 0..3 {
                // Keep the one reader busy, queue a query_map whose closure holds the value, and give up on it:
                // the reader skips the job and drops the closure outside any closure's guard. (A statement new
                // to the reader, so it cannot run on this thread instead.)
                let busy = pool.read(|_| {
                    std::thread::sleep(Duration::from_millis(100));
                    Ok(())
                });
                let mut busy = Box::pin(busy);
                assert!((&mut busy).now_or_never().is_none());
                let bomb = PanicsOnDrop;
                let fresh = format!("SELECT x FROM t WHERE {i} = {i}");
                let skipped = pool.query_map(&fresh, params![], move |r| {
                    let _keep = &bomb;
                    r.get::<i64>(0)
                });
                assert!(skipped.now_or_never().is_none(), "the reader was not busy");
                busy.await.unwrap();
                // The reader lives on and serves reads.
                let xs: Vec<i64> = pool.query_map("SELECT x FROM t", params![], |r| r.get(0)).await.unwrap();
                assert_eq!(xs, [1]);
            }
            // The writer too: a closure whose captured value panics when the closure is consumed.
            for _ in 0..3 {
                let bomb = PanicsOnDrop;
                let e = pool
                    .call(move |_| {
                        let _keep = &bomb;
                        Ok(())
                    })
                    .await;
                assert_eq!(e.unwrap_err().kind(), ErrorKind::Panicked, "the panic of the closure's drop was lost");
                pool.execute("INSERT INTO t VALUES (2)", params![]).await.unwrap();
            }
            pool.close().await.unwrap();
            let e = pool.query_one("SELECT 1", params![]).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Closed);
        });
        let _ = done.send(());
    });
    finished.recv_timeout(HANG).expect("close hung after a panicking drop on a worker");
}

/// A waker that panics when woken, as a buggy executor's might.
struct PanickingWaker;

impl futures::task::ArcWake for PanickingWaker {
    fn wake_by_ref(_: &std::sync::Arc<Self>) {
        panic!("PanickingWaker woken");
    }
}

#[test]
fn a_waker_that_panics_when_a_worker_wakes_it_does_not_kill_the_worker() {
    let (_dir, path) = temp_db();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        futures::executor::block_on(async {
            let pool = Pool::builder().readers(1).spin(false).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").await.unwrap();
            for i in 0..3 {
                // A statement new to the reader (never inline), polled once with the panicking waker: the reader
                // wakes it when the rows are ready.
                let sql = format!("SELECT x + {i} FROM t");
                let mut call = Box::pin(pool.query_map(&sql, params![], |r| r.get::<i64>(0)));
                let waker = futures::task::waker(std::sync::Arc::new(PanickingWaker));
                let mut cx = std::task::Context::from_waker(&waker);
                if let std::task::Poll::Ready(v) = call.as_mut().poll(&mut cx) {
                    assert_eq!(v.unwrap(), [1 + i]); // too quick to need a wake: nothing to test this round
                    continue;
                }
                // Let the reader finish and wake the panicking waker before anyone polls again.
                std::thread::sleep(Duration::from_millis(200));
                assert_eq!(call.await.unwrap(), [1 + i]);
            }
            // The one reader still serves reads, and the pool closes cleanly.
            let xs: Vec<i64> = pool.query_map("SELECT x FROM t", params![], |r| r.get(0)).await.unwrap();
            assert_eq!(xs, [1]);
            assert_eq!(pool.stats().dead_workers, 0);
            pool.close().await.unwrap();
        });
        let _ = done.send(());
    });
    finished.recv_timeout(HANG).expect("the pool hung after a waker panicked on a worker");
}

#[test]
fn a_blocking_transaction_leaked_in_a_closure_does_not_brick_the_writer() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
        let e = pool
            .call(|c| {
                let tx = c.transaction()?;
                tx.execute("INSERT INTO t VALUES (1)", ())?;
                std::mem::forget(tx);
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Misuse, "{e}");
        // The leaked transaction was rolled back, and the writer takes writes as before.
        pool.execute("INSERT INTO t VALUES (2)", params![]).await.unwrap();
        let xs: Vec<i64> = pool.query_map("SELECT x FROM t", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(xs, [2]);
        pool.close().await.unwrap();
    });
}

/// The bug: an open resolved as soon as each worker had opened its connection, before the worker put it where
/// `call_each` (and inline reads) find it; `call_each` right after the open skipped the readers whose threads were a
/// moment late, so a SQL function registered that way was missing on some readers ("no such function").
#[test]
fn call_each_right_after_open_reaches_every_connection() {
    let (_dir, path) = temp_db();
    // Threads that keep the cores busy, so that a worker is often descheduled between its steps; they stop when
    // the test ends, however it ends.
    struct Burners(std::sync::Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Burners {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    let burners = Burners(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)));
    for _ in 0..4 {
        let stop = std::sync::Arc::clone(&burners.0);
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
    }
    futures::executor::block_on(async {
        for round in 0..100 {
            let pool = Pool::builder().readers(3).open(&path).await.unwrap();
            let visited = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let seen = std::sync::Arc::clone(&visited);
            pool.call_each(move |_| {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
            .await
            .unwrap();
            let visited = visited.load(std::sync::atomic::Ordering::SeqCst);
            pool.close().await.unwrap();
            assert_eq!(visited, 4, "round {round}: call_each skipped a connection");
        }
    });
}
