//! Cheap reads run on the caller's thread on a leased reader connection, and the lease ends before user code runs.
//!
//! The bugs: a `query_row` decoder ran while its caller still held the reader connection. A decoder that read the
//! pool again (a synchronous helper doing `block_on(pool.query_one(..))`) deadlocked: its job went to the worker
//! whose connection the caller held, and that worker blocked on it forever. A decoder that slept stalled every
//! other task's reads on that reader. And `SELECT count(*) FROM t` (one virtual-machine step that walks the whole
//! table, out of the progress handler's reach) could run inline after the table grew, holding the caller's
//! thread for as long as the walk took.

use std::sync::mpsc;
use std::time::Duration;

use asqlite::{params, Pool};

use crate::common::{ran_here, temp_db, within};

/// Generous: these guard against a hang, they measure nothing.
const HANG: Duration = Duration::from_secs(20);

async fn pool_with_rows(path: &std::path::Path, readers: usize) -> Pool {
    let pool = Pool::builder().readers(readers).open(path).await.unwrap();
    pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").await.unwrap();
    pool.execute_many("INSERT INTO t (v) VALUES (?1)", (0..100).map(|i| params![format!("v{i}")])).await.unwrap();
    pool
}

/// Run `f` on its own thread, failing the test if it hangs (see [`within`]).
fn without_hanging(what: &str, f: impl FnOnce() + Send + 'static) {
    within(what, HANG, f);
}

#[test]
fn a_row_decoder_that_reads_the_pool_again_does_not_deadlock() {
    let (dir, path) = temp_db();
    without_hanging("a decoder reading the pool", move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let pool = pool_with_rows(&path, 2).await;
            let point = "SELECT v FROM t WHERE id = ?1";
            for _ in 0..5 {
                pool.query_one(point, params![1]).await.unwrap();
            }
            assert!(ran_here(&pool, point, params![1]).await, "the warm point query did not run inline");
            for i in 1..=50_i64 {
                let inner = pool.clone();
                let (outer, nested): (String, String) = pool
                    .query_row(point, params![i], move |r| {
                        // A synchronous helper that reads the pool while decoding; a statement new to every
                        // connection, so it goes to the readers' queue.
                        let sql = format!("SELECT v FROM t WHERE id = ?1 AND {i} = {i}");
                        let nested = futures::executor::block_on(inner.query_one(&sql, params![i + 1]))?;
                        Ok((r.get(0)?, nested.get(0)?))
                    })
                    .await
                    .unwrap();
                assert_eq!((outer, nested), (format!("v{}", i - 1), format!("v{i}")));
            }
            pool.close().await.unwrap();
        });
        drop(dir);
    });
}

#[test]
fn a_blocked_row_decoder_does_not_stall_other_reads() {
    let (dir, path) = temp_db();
    without_hanging("a read while another's decoder blocks", move || {
        futures::executor::block_on(async {
            // One reader: if the decoder held its connection, no other read could run until it returned.
            let pool = pool_with_rows(&path, 1).await;
            let point = "SELECT v FROM t WHERE id = ?1";
            for _ in 0..5 {
                pool.query_one(point, params![1]).await.unwrap();
            }
            let (read_done, wait_for_read) = mpsc::channel::<String>();
            let other = pool.clone();
            let v: String = pool
                .query_row(point, params![1], move |r| {
                    // While this decoder waits, another thread reads through the same pool.
                    std::thread::spawn(move || {
                        let row = futures::executor::block_on(other.query_one(point, params![2])).unwrap();
                        let _ = read_done.send(row.get(0).unwrap());
                    });
                    let got = wait_for_read.recv_timeout(HANG).expect("the other read waited for this decoder");
                    assert_eq!(got, "v1");
                    r.get(0)
                })
                .await
                .unwrap();
            assert_eq!(v, "v0");
            pool.close().await.unwrap();
        });
        drop(dir);
    });
}

#[test]
fn a_panicking_row_decoder_on_the_callers_thread_is_an_error_and_the_pool_goes_on() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = pool_with_rows(&path, 2).await;
        let point = "SELECT v FROM t WHERE id = ?1";
        for _ in 0..5 {
            pool.query_one(point, params![1]).await.unwrap();
        }
        let e = pool.query_row(point, params![1], |_| -> asqlite::Result<()> { panic!("decoder") }).await.unwrap_err();
        assert_eq!(e.kind(), asqlite::ErrorKind::Panicked);
        let v: String = pool.query_row(point, params![3], |r| r.get(0)).await.unwrap();
        assert_eq!(v, "v2");
        pool.close().await.unwrap();
    });
}

#[test]
fn count_star_over_a_table_that_grew_never_runs_on_the_callers_thread() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = pool_with_rows(&path, 2).await;
        let count = "SELECT count(*) FROM t";
        // Cheap while the table is small...
        for _ in 0..5 {
            let n: i64 = pool.query_row(count, params![], |r| r.get(0)).await.unwrap();
            assert_eq!(n, 100);
        }
        // ...but one `Count` step walks the whole table, and no progress handler can stop it half-way: however
        // cheap its last run, it goes to a worker.
        assert!(!ran_here(&pool, count, params![]).await, "count(*) ran on the caller's thread");
        pool.execute_many("INSERT INTO t (v) VALUES (?1)", (0..50_000).map(|i| params![format!("w{i}")]))
            .await
            .unwrap();
        let before = pool.stats().inline_reads;
        let n: i64 = pool.query_row(count, params![], |r| r.get(0)).await.unwrap();
        assert_eq!(n, 50_100);
        assert_eq!(pool.stats().inline_reads, before, "count(*) over the grown table ran inline");
        // A point query still runs inline, and is counted.
        let point = "SELECT v FROM t WHERE id = ?1";
        for _ in 0..5 {
            pool.query_one(point, params![1]).await.unwrap();
        }
        let before = pool.stats().inline_reads;
        assert!(ran_here(&pool, point, params![2]).await);
        assert_eq!(pool.stats().inline_reads, before + 1);
        pool.close().await.unwrap();
    });
}

#[test]
fn a_cheap_query_map_runs_inline_and_its_decoder_reads_the_pool_again_without_deadlock() {
    let (dir, path) = temp_db();
    without_hanging("a query_map decoder reading the pool", move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let pool = pool_with_rows(&path, 2).await;
            let range = "SELECT id, v FROM t WHERE id BETWEEN ?1 AND ?1 + 4 ORDER BY id";
            for _ in 0..5 {
                pool.query_map(range, params![1], |r| r.get::<i64>(0)).await.unwrap();
            }
            // Warm on every reader, so the next one runs on the caller's thread and is counted there.
            let before = pool.stats().inline_reads;
            let ids = pool.query_map(range, params![10], |r| r.get::<i64>(0)).await.unwrap();
            assert_eq!(ids, vec![10, 11, 12, 13, 14]);
            assert_eq!(pool.stats().inline_reads, before + 1, "a warm 5-row query_map did not run inline");
            for i in 1..=20_i64 {
                let inner = pool.clone();
                let rows: Vec<(String, String)> = pool
                    .query_map(range, params![i], move |r| {
                        let sql = format!("SELECT v FROM t WHERE id = ?1 AND {i} = {i}");
                        let id: i64 = r.get(0)?;
                        let nested = futures::executor::block_on(inner.query_one(&sql, params![id]))?;
                        Ok((r.get(1)?, nested.get(0)?))
                    })
                    .await
                    .unwrap();
                assert_eq!(rows.len(), 5);
                for (k, (outer, nested)) in rows.iter().enumerate() {
                    assert_eq!(outer, nested);
                    assert_eq!(*outer, format!("v{}", i - 1 + i64::try_from(k).unwrap()));
                }
            }
            pool.close().await.unwrap();
        });
        drop(dir);
    });
}

#[test]
fn a_query_map_decoder_that_fails_or_panics_inline_is_an_error_and_the_pool_goes_on() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = pool_with_rows(&path, 2).await;
        let range = "SELECT id, v FROM t WHERE id BETWEEN ?1 AND ?1 + 4 ORDER BY id";
        for _ in 0..5 {
            pool.query_map(range, params![1], |r| r.get::<i64>(0)).await.unwrap();
        }
        let before = pool.stats().inline_reads;
        let e = pool
            .query_map(range, params![1], |r| -> asqlite::Result<()> {
                if r.get::<i64>(0)? == 3 {
                    panic!("decoder");
                }
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(e.kind(), asqlite::ErrorKind::Panicked);
        // A decoder's own error comes back as it was (a wrong type here).
        let e = pool.query_map(range, params![1], |r| r.get::<i64>(1)).await.unwrap_err();
        assert_eq!(e.kind(), asqlite::ErrorKind::TypeConversion, "{e}");
        assert_eq!(pool.stats().inline_reads, before + 2, "the failing decoders did not run inline");
        let v: Vec<String> = pool.query_map(range, params![96], |r| r.get(1)).await.unwrap();
        assert_eq!(v, ["v95", "v96", "v97", "v98", "v99"]);
        pool.close().await.unwrap();
    });
}

#[test]
fn a_query_map_decoder_whose_captured_value_panics_on_drop_inline_is_an_error_not_a_panic_of_the_caller() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                panic!("PanicsOnDrop dropped");
            }
        }
    }
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = pool_with_rows(&path, 1).await;
        let range = "SELECT id FROM t WHERE id BETWEEN ?1 AND ?1 + 4";
        for _ in 0..5 {
            pool.query_map(range, params![1], |r| r.get::<i64>(0)).await.unwrap();
        }
        let before = pool.stats().inline_reads;
        let bomb = PanicsOnDrop;
        let e = pool
            .query_map(range, params![1], move |r| {
                let _keep = &bomb;
                r.get::<i64>(0)
            })
            .await
            .unwrap_err();
        assert_eq!(e.kind(), asqlite::ErrorKind::Panicked);
        assert_eq!(pool.stats().inline_reads, before + 1, "it did not run inline");
        pool.close().await.unwrap();
    });
}

#[test]
fn inline_query_rows_nested_in_a_decoder_big_blobs_and_non_utf8_text_each_decode_their_own_row() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = pool_with_rows(&path, 2).await;
        pool.execute("INSERT INTO t (id, v) VALUES (1000, zeroblob(200000))", params![]).await.unwrap();
        pool.execute("INSERT INTO t (id, v) VALUES (1001, CAST(x'ff00fe41' AS TEXT))", params![]).await.unwrap();
        let point = "SELECT id, v FROM t WHERE id = ?1";
        for _ in 0..5 {
            pool.query_row(point, params![1], |r| r.get::<i64>(0)).await.unwrap();
        }
        let before = pool.stats().inline_reads;
        for i in 1..=30_i64 {
            let inner = pool.clone();
            // The decoder reads the pool again on this thread, inline too: each row stays its own.
            let (outer, nested): (String, String) = pool
                .query_row(point, params![i], move |r| {
                    // Inline, it is ready at its first poll.
                    let nested = futures::FutureExt::now_or_never(inner.query_row(point, params![i + 1], |n| n.get(1)));
                    let nested: String = nested.expect("the nested read did not run inline")?;
                    let outer: String = r.get(1)?;
                    Ok((outer, nested))
                })
                .await
                .unwrap();
            assert_eq!((outer, nested), (format!("v{}", i - 1), format!("v{i}")));
        }
        assert!(pool.stats().inline_reads >= before + 60, "the nested reads did not run inline");
        // A big blob, then a small row: the buffer the blob grew is not handed to the next row's bytes.
        let blob: Vec<u8> = pool.query_row(point, params![1000], |r| r.get(1)).await.unwrap();
        assert_eq!(blob.len(), 200_000);
        assert!(blob.iter().all(|b| *b == 0));
        let v: String = pool.query_row(point, params![7], |r| r.get(1)).await.unwrap();
        assert_eq!(v, "v6");
        let raw: Vec<u8> = pool.query_row(point, params![1001], |r| r.get(1)).await.unwrap();
        assert_eq!(raw, [0xff, 0x00, 0xfe, 0x41]);
        pool.close().await.unwrap();
    });
}

/// Reads run inline leave their reader set up for the next one (no waiting for locks, values capped at the inline
/// limit) until a job takes the connection back. The bug this guards: `call_each` took a reader without undoing
/// that, so its closure could not read a value longer than the inline cap ("too big").
#[test]
fn call_each_after_inline_reads_sees_each_reader_as_its_own_jobs_do() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = pool_with_rows(&path, 2).await;
        pool.execute("INSERT INTO t (id, v) VALUES (1000, zeroblob(200000))", params![]).await.unwrap();
        const POINT: &str = "SELECT id, v FROM t WHERE id = ?1";
        let before = pool.stats().inline_reads;
        // From two threads at once, so that both readers serve some inline.
        let reads = |pool: Pool| async move {
            for i in 0..200 {
                let _: i64 = pool.query_row(POINT, params![1 + i % 50], |r| r.get(0)).await.unwrap();
            }
        };
        let other = std::thread::spawn({
            let pool = pool.clone();
            move || futures::executor::block_on(reads(pool))
        });
        reads(pool.clone()).await;
        other.join().unwrap();
        assert!(pool.stats().inline_reads > before, "no read ran inline");
        let lens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&lens);
        pool.call_each(move |c| {
            let blob: Vec<u8> = c.query_row(POINT, params![1000], |r| r.get(1))?;
            seen.lock().unwrap().push(blob.len());
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(*lens.lock().unwrap(), [200_000; 3]);
        pool.close().await.unwrap();
    });
}
