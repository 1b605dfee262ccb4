//! Contention and load: several pools and processes on one file, thousands of mixed tasks.
//!
//! The bugs these guard against: "database is locked" reaching callers under default settings (deferred
//! transactions upgrading to writes, a busy handler missing on some path), lost updates between processes, and
//! deadlocks or unbounded memory when many tasks mix reads, writes, streams and transactions.

use std::process::Command;
use std::time::{Duration, Instant};

use asqlite::{params, Pool};
use futures::StreamExt;

use crate::common::temp_db;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap()
}

#[test]
fn two_processes_and_two_pools_count_exactly() {
    let (_dir, path) = temp_db();
    let exe = env!("CARGO_BIN_EXE_contender");
    rt().block_on(async {
        let a = Pool::open(&path).await.unwrap();
        a.execute_batch(
            "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0)",
        )
        .await
        .unwrap();
        let b = Pool::open(&path).await.unwrap();
        let children: Vec<_> =
            (0..2).map(|_| Command::new(exe).arg(&path).arg("150").spawn().expect("spawn a contender")).collect();
        let mut tasks = Vec::new();
        for t in 0..8 {
            let pool = if t % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                for _ in 0..50 {
                    let tx = pool.begin().await?;
                    tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1", params![]).await?;
                    tx.commit().await?;
                }
                Ok::<(), asqlite::Error>(())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        for mut c in children {
            let status = tokio::task::spawn_blocking(move || c.wait()).await.unwrap().unwrap();
            assert!(status.success(), "a contender process failed: {status}");
        }
        let n: i64 = a.query_one("SELECT n FROM counter", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(n, 2 * 150 + 8 * 50);
        a.close().await.unwrap();
        b.close().await.unwrap();
    });
}

/// Thousands of tasks for a bounded time: each moves value between accounts inside a transaction, reads totals,
/// or streams the table. The total never changes, every task finishes, and the pool's queues stay bounded.
#[test]
fn thousands_of_mixed_tasks_finish_with_exact_results() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::builder().readers(2).queue_capacity(64).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER NOT NULL)").await.unwrap();
        pool.execute_many("INSERT INTO acct (id, bal) VALUES (?1, 100)", (0..50).map(|i| params![i])).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut tasks = Vec::new();
        for t in 0..2000u64 {
            let p = pool.clone();
            tasks.push(tokio::spawn(async move {
                let pool = p;
                let mut done = 0u32;
                let mut i = t;
                // At least one operation each, then as many as fit before the deadline (at most 20).
                loop {
                    i = i.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let (from, to) = ((i >> 33) % 50, (i >> 40) % 50);
                    match t % 5 {
                        0 | 1 => {
                            let tx = pool.begin().await?;
                            tx.execute("UPDATE acct SET bal = bal - 1 WHERE id = ?1", params![from]).await?;
                            tx.execute("UPDATE acct SET bal = bal + 1 WHERE id = ?1", params![to]).await?;
                            tx.commit().await?;
                        }
                        2 => {
                            let total: i64 = pool.query_one("SELECT sum(bal) FROM acct", params![]).await?.get(0)?;
                            assert_eq!(total, 5000, "a reader saw a half-applied transfer");
                        }
                        3 => {
                            let mut s = pool.stream("SELECT bal FROM acct", params![]);
                            let mut total = 0i64;
                            while let Some(row) = s.next().await {
                                total += row?.get::<i64>(0)?;
                            }
                            assert_eq!(total, 5000);
                        }
                        _ => {
                            pool.call(move |c| {
                                c.execute_many(
                                    "UPDATE acct SET bal = bal + ?2 WHERE id = ?1",
                                    [params![from, -2], params![to, 2]],
                                )
                            })
                            .await?;
                        }
                    }
                    done += 1;
                    if done >= 20 || Instant::now() >= deadline {
                        break;
                    }
                }
                Ok::<u32, asqlite::Error>(done)
            }));
            if t % 100 == 0 {
                let stats = pool.stats();
                assert!(stats.writer_queue <= 64 && stats.reader_queue <= 64, "{stats:?}");
            }
        }
        let mut ops = 0;
        for t in tasks {
            ops += t.await.unwrap().unwrap();
        }
        assert!(ops >= 2000, "every task ran at least once ({ops} operations)");
        let total: i64 = pool.query_one("SELECT sum(bal) FROM acct", params![]).await.unwrap().get(0).unwrap();
        assert_eq!(total, 5000);
        assert_eq!(pool.stats().in_flight, 0);
        pool.close().await.unwrap();
    });
}
