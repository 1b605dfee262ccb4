//! A pool's checkpoints run on a thread of their own (`ffi/checkpoint.rs`), not on the write that crosses the
//! WAL's threshold: the WAL stays bounded as SQLite keeps it, every write lands, the threshold a user sets holds,
//! and closing the pool leaves no checkpointer thread behind.

use asqlite::{params, ErrorKind, Pool};

use crate::common::temp_db;

/// Bytes of a WAL holding `pages` frames of 4 KiB pages.
fn wal_bytes(pages: u64) -> u64 {
    32 + pages * (24 + 4096)
}

fn wal_len(path: &std::path::Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn a_pools_wal_stays_bounded_by_its_threshold_with_checkpoints_off_the_writer() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(2).pragma("wal_autocheckpoint", 50).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)").await.unwrap();
        let mut largest = 0;
        for i in 0..3000_i64 {
            // One page of new data per transaction, and reads between them holding snapshots now and then.
            pool.execute("INSERT INTO t (id, v) VALUES (?1, zeroblob(3000))", params![i]).await.unwrap();
            if i % 7 == 0 {
                let n: i64 =
                    pool.query_row("SELECT count(*) FROM t WHERE id <= ?1", params![i], |r| r.get(0)).await.unwrap();
                assert_eq!(n, i + 1);
            }
            largest = largest.max(wal_len(&path));
        }
        // SQLite's own bound is the threshold plus what accumulates while readers hold the WAL; the writer
        // checkpoints itself at four times it. Without any checkpoint the WAL would hold 3000+ pages.
        assert!(largest <= wal_bytes(4 * 50 + 60), "the WAL grew to {largest} bytes");
        let n: i64 = pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(n, 3000);
        // ~60 thresholds' worth of pages went through the WAL: the checkpointer ran (a request coming while one
        // runs waits as one), and the writer did not have to.
        let ran = pool.stats().background_checkpoints;
        assert!(ran >= 5, "the checkpointer ran {ran} checkpoints");
        pool.close().await.unwrap();
    });
    // Everything is in the database file once the pool is closed.
    let pool = futures::executor::block_on(Pool::builder().readers(1).open(&path)).unwrap();
    let n: i64 =
        futures::executor::block_on(pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0))).unwrap();
    assert_eq!(n, 3000);
    futures::executor::block_on(pool.close()).unwrap();
}

#[test]
fn a_threshold_of_zero_turns_a_pools_automatic_checkpoints_off() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).pragma("wal_autocheckpoint", 0).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)").await.unwrap();
        for i in 0..400_i64 {
            pool.execute("INSERT INTO t (id, v) VALUES (?1, zeroblob(3000))", params![i]).await.unwrap();
        }
        assert!(wal_len(&path) >= wal_bytes(400), "something checkpointed: the WAL holds {} bytes", wal_len(&path));
        assert_eq!(pool.stats().background_checkpoints, 0);
        pool.close().await.unwrap();
    });
}

#[test]
fn setting_wal_autocheckpoint_through_a_pool_points_to_the_ways_that_work() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)").await.unwrap();
        let e = pool.execute_batch("PRAGMA wal_autocheckpoint = 10").await.unwrap_err();
        assert!(e.message().contains("set_wal_autocheckpoint") && e.message().contains("PoolBuilder::pragma"), "{e}");
        assert_ne!(e.kind(), ErrorKind::Sqlite, "{e}");
        // Through the writer's connection, the new threshold holds: at 0, nothing checkpoints any more.
        pool.call(|c| c.set_wal_autocheckpoint(0)).await.unwrap();
        pool.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
        for i in 0..1200_i64 {
            pool.execute("INSERT INTO t (id, v) VALUES (?1, zeroblob(3000))", params![i]).await.unwrap();
        }
        assert!(wal_len(&path) >= wal_bytes(1200), "the threshold set through call did not hold");
        pool.close().await.unwrap();
    });
}
