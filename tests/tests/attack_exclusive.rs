//! Attacks on `process_exclusive` (SQLite's `unix-excl` VFS): a writer killed mid-stream, checkpoints under
//! concurrent reads, pools opened, dropped and abandoned in a loop, two pools of one process on one file, and URIs
//! and memory databases that could quietly undo the lock. The other process is `tests/src/bin/other_process.rs`
//! (SQLite's default locking, no busy timeout) or `tests/src/bin/crash_writer.rs`.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use asqlite::blocking::OpenOptions;
use asqlite::{params, ErrorKind, Pool};

use crate::common::temp_db;
use crate::exclusive::other_process;

/// Wait (a closing pool's workers finish on their own threads) until another process reads `expected`.
fn other_process_reads_within(path: &Path, expected: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = other_process("read", path);
        if got == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: the other process still gets {got:?}, not {expected:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap()
}

fn wal_size(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(Path::new(&wal)).map_or(0, |m| m.len())
}

/// A process-exclusive writer keeps its WAL index in memory only, so after SIGKILL the next open must rebuild it
/// from the WAL file alone: every acknowledged batch there in full, no partial one, `integrity_check` ok, whether
/// the next connection is process-exclusive or not. While the writer runs, nobody else gets in.
#[test]
fn a_sigkilled_process_exclusive_writer_loses_no_acknowledged_commit_and_keeps_no_partial_one() {
    let (_dir, path) = temp_db();
    crate::faults::kill_writer_rounds(
        &path,
        &["exclusive"],
        8,
        0x9E37_79B9_7F4A_7C15,
        |round| assert_eq!(other_process("read", &path), "error Busy", "round {round}: another process got in"),
        |round| OpenOptions::new().process_exclusive(round % 2 == 0).open(&path).unwrap(),
    );
}

/// The background checkpointer and `wal_checkpoint(TRUNCATE)` while three tasks read without pause: every read
/// sees whole transactions (each inserts +i and -i) and never goes back in time, the WAL stays bounded, and a final
/// TRUNCATE empties it.
#[test]
fn checkpoints_under_concurrent_reads_on_a_process_exclusive_pool_keep_the_wal_bounded_and_every_read_whole() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::builder()
            .readers(2)
            .process_exclusive(true)
            .pragma("wal_autocheckpoint", 50)
            .open(&path)
            .await
            .unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL, pad BLOB)").await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..3 {
            let (pool, stop) = (pool.clone(), Arc::clone(&stop));
            readers.push(tokio::spawn(async move {
                let (mut last, mut reads) = (0_i64, 0_u64);
                while !stop.load(Ordering::Relaxed) {
                    let (n, sum): (i64, i64) = pool
                        .query_row("SELECT count(*), coalesce(sum(amount), 0) FROM t", params![], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })
                        .await
                        .unwrap();
                    assert!(sum == 0 && n % 2 == 0, "a read saw half a transaction: {n} rows, sum {sum}");
                    assert!(n >= last, "a read went back in time: {n} rows after {last}");
                    last = n;
                    reads += 1;
                    tokio::task::yield_now().await;
                }
                reads
            }));
        }
        let mut max_wal = 0;
        for i in 0..600_i64 {
            let tx = pool.begin().await.unwrap();
            tx.execute("INSERT INTO t (amount, pad) VALUES (?1, zeroblob(3000))", params![i]).await.unwrap();
            tx.execute("INSERT INTO t (amount, pad) VALUES (?1, zeroblob(3000))", params![-i]).await.unwrap();
            tx.commit().await.unwrap();
            if i % 50 == 49 {
                // Busy is fine while readers hold snapshots; an error is not.
                pool.query_row("PRAGMA wal_checkpoint(TRUNCATE)", params![], |r| r.get::<i64>(0)).await.unwrap();
            }
            max_wal = max_wal.max(wal_size(&path));
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.await.unwrap() > 0, "a reader never read");
        }
        assert!(pool.stats().background_checkpoints > 0, "no background checkpoint ran");
        // Measured about 0.9 MB; without checkpoints it would pass 7 MB.
        assert!(max_wal < 4 << 20, "the WAL grew to {max_wal} bytes");
        let done: (i64, i64, i64) = pool
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .await
            .unwrap();
        assert_eq!(done, (0, 0, 0), "the final checkpoint did not empty the WAL");
        assert_eq!(wal_size(&path), 0);
        let n: i64 = pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(n, 1200);
        pool.close().await.unwrap();
    });
    assert_eq!(other_process("read", &path), "read 1200");
}

/// Forty pools on one path, one after the other, closed or just dropped; then sixty opens abandoned after 0 to 59
/// polls: once they are all gone another process reads every row, so none of them left the lock behind.
#[test]
fn reopening_and_abandoning_process_exclusive_pools_in_a_loop_leaks_no_lock() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        for i in 0..40_i64 {
            let pool = Pool::builder().readers(2).process_exclusive(true).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)").await.unwrap();
            pool.execute("INSERT INTO t VALUES (?1)", params![i]).await.unwrap();
            if i % 10 == 0 {
                assert_eq!(other_process("read", &path), "error Busy", "pool {i}");
            }
            if i % 3 == 0 {
                drop(pool);
            } else {
                pool.close().await.unwrap();
            }
        }
    });
    other_process_reads_within(&path, "read 40", "after forty pools");
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for polls in 0..60 {
        let builder = Pool::builder().readers(2).process_exclusive(true);
        let mut open = Box::pin(builder.open(&path));
        for _ in 0..polls {
            if let Poll::Ready(pool) = Pin::as_mut(&mut open).poll(&mut cx) {
                drop(pool.unwrap());
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        drop(open);
    }
    other_process_reads_within(&path, "read 40", "after the abandoned opens");
    // And the file is still the process's to lock.
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).process_exclusive(true).open(&path).await.unwrap();
        assert_eq!(other_process("read", &path), "error Busy");
        pool.close().await.unwrap();
    });
}

/// A process-exclusive pool first, then a pool with the usual locking on the same file (WAL): both see each
/// other's commits, and the file stays locked to other processes until the last of them closes, whichever closes
/// first.
#[test]
fn a_plain_pool_opened_after_a_process_exclusive_one_shares_its_lock_until_the_last_closes() {
    for exclusive_closes_first in [true, false] {
        let (_dir, path) = temp_db();
        futures::executor::block_on(async {
            let excl = Pool::builder().readers(2).process_exclusive(true).open(&path).await.unwrap();
            excl.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);").await.unwrap();
            let plain = Pool::builder().readers(2).open(&path).await.unwrap();
            plain.execute("INSERT INTO t VALUES (2)", params![]).await.unwrap();
            let count = "SELECT count(*) FROM t";
            assert_eq!(excl.query_row(count, params![], |r| r.get::<i64>(0)).await.unwrap(), 2);
            excl.execute("INSERT INTO t VALUES (3)", params![]).await.unwrap();
            assert_eq!(plain.query_row(count, params![], |r| r.get::<i64>(0)).await.unwrap(), 3);
            assert_eq!(other_process("read", &path), "error Busy");
            let (first, last) = if exclusive_closes_first { (&excl, &plain) } else { (&plain, &excl) };
            first.close().await.unwrap();
            last.execute("INSERT INTO t VALUES (4)", params![]).await.unwrap();
            assert_eq!(last.query_row(count, params![], |r| r.get::<i64>(0)).await.unwrap(), 4);
            assert_eq!(other_process("read", &path), "error Busy", "exclusive closed first: {exclusive_closes_first}");
            last.close().await.unwrap();
        });
        other_process_reads_within(&path, "read 4", "after both pools closed");
    }
}

/// Two process-exclusive pools on one file, one of them with its writer busy in a transaction while the other
/// writes: the second waits (busy timeout) rather than breaking in, and the survivor of a close keeps the lock.
#[test]
fn two_process_exclusive_pools_on_one_file_take_turns_to_write_and_either_may_close_first() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let a = Pool::builder().readers(1).process_exclusive(true).open(&path).await.unwrap();
        let b = Pool::builder()
            .readers(1)
            .process_exclusive(true)
            .busy_timeout(Duration::from_millis(100))
            .open(&path)
            .await
            .unwrap();
        a.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)").await.unwrap();
        let tx = a.begin_with(asqlite::TransactionBehavior::Immediate).await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
        let err = b.execute("INSERT INTO t VALUES (2)", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
        tx.commit().await.unwrap();
        b.execute("INSERT INTO t VALUES (2)", params![]).await.unwrap();
        a.close().await.unwrap();
        let n: i64 = b.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(n, 2);
        assert_eq!(other_process("read", &path), "error Busy");
        b.close().await.unwrap();
    });
    other_process_reads_within(&path, "read 2", "after both pools closed");
}

/// A `file:` URI that would make SQLite open the file without the process's lock is an error with
/// process_exclusive, for a pool and a connection: `vfs=unix` (the URI's VFS wins over the one the driver passes),
/// `mode=ro` (a read-only handle cannot take the lock), `nolock=1`, `immutable=1`. Before the fix the pool opened
/// and another process read the file meanwhile. `vfs=unix-excl` and a false `nolock` are fine.
#[test]
fn process_exclusive_with_a_uri_that_would_undo_the_lock_is_an_error() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1)").await.unwrap();
        pool.close().await.unwrap();
        for query in ["vfs=unix", "vfs=unix-none", "mode=ro", "nolock=1", "immutable=true", "cache=shared&vfs=unix"] {
            let uri = format!("file:{}?{query}", path.display());
            let opened = Pool::builder().readers(1).uri(true).process_exclusive(true).open(&uri).await;
            let err = opened.map(|_| other_process("read", &path)).expect_err(&format!("{query}: the pool opened"));
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{query}: {err}");
            assert!(err.to_string().contains("process_exclusive"), "{query}: {err}");
            let err = OpenOptions::new().uri(true).process_exclusive(true).open(&uri).map(drop).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{query}: {err}");
        }
        for query in ["vfs=unix-excl", "nolock=0", "nolock=no&vfs=unix-excl"] {
            let uri = format!("file:{}?{query}", path.display());
            let pool = Pool::builder().readers(1).uri(true).process_exclusive(true).open(&uri).await.unwrap();
            let n: i64 = pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
            assert_eq!(n, 1, "{query}");
            assert_eq!(other_process("read", &path), "error Busy", "{query}");
            pool.close().await.unwrap();
        }
    });
}

/// A URI naming `vfs=unix-excl`, without the option, gives a pool the same lock (its readers open read-only through
/// it under the writer's lock) and every connection sees each commit.
#[test]
fn a_uri_naming_unix_excl_without_the_option_locks_the_file_for_the_pool() {
    let (_dir, path) = temp_db();
    let uri = format!("file:{}?vfs=unix-excl", path.display());
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(2).uri(true).open(&uri).await.unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1)").await.unwrap();
        for i in 2..20_i64 {
            pool.execute("INSERT INTO t VALUES (?1)", params![i]).await.unwrap();
            let reads = (0..3).map(|_| pool.query_row("SELECT count(*) FROM t", params![], |r| r.get::<i64>(0)));
            for n in futures::future::join_all(reads).await {
                assert_eq!(n.unwrap(), i);
            }
        }
        assert_eq!(other_process("read", &path), "error Busy");
        pool.close().await.unwrap();
    });
    assert_eq!(other_process("read", &path), "read 19");
}

/// Memory databases in every spelling take process_exclusive as a no-op (even read-only, where a file would be an
/// error); a missing file with create(false) is CantOpen and stays missing.
#[test]
fn process_exclusive_on_memory_databases_changes_nothing_and_a_missing_file_is_cant_open() {
    futures::executor::block_on(async {
        for (name, uri) in [
            (":memory:", false),
            ("", false),
            ("file::memory:", true),
            ("file:attack_exclusive_shared?mode=memory&cache=shared", true),
            ("file:/attack_exclusive?vfs=memdb", true),
        ] {
            let pool = Pool::builder().readers(2).uri(uri).process_exclusive(true).open(name).await;
            let pool = pool.unwrap_or_else(|e| panic!("{name:?}: {e}"));
            pool.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").await.unwrap();
            let n: i64 = pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
            assert_eq!(n, 1, "{name:?}");
            pool.close().await.unwrap();
            let conn = OpenOptions::new().uri(uri).process_exclusive(true).read_only(true).open(name);
            conn.unwrap_or_else(|e| panic!("{name:?} read-only: {e}"));
        }
        let (_dir, path) = temp_db();
        let err = Pool::builder().readers(1).process_exclusive(true).create(false).open(&path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CantOpen, "{err}");
        let err = OpenOptions::new().process_exclusive(true).create(false).open(&path).map(drop).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CantOpen, "{err}");
        assert!(!path.exists(), "a failed open created the file");
    });
}

/// More paused streams than readers on a process-exclusive pool, with a commit while they pause: each stream
/// delivers its own snapshot whole (their readers set rows aside through the in-memory WAL index), a read made
/// meanwhile sees the commit, and the file stays locked for the process throughout.
#[test]
fn more_paused_streams_than_readers_on_a_process_exclusive_pool_keep_their_snapshots() {
    use futures::StreamExt;
    let (_dir, path) = temp_db();
    crate::common::within("streams on an exclusive pool", Duration::from_secs(60), move || {
        futures::executor::block_on(async {
            let pool = Pool::builder().readers(2).process_exclusive(true).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)").await.unwrap();
            pool.execute_many("INSERT INTO t (id) VALUES (?1)", (1..=2000_i64).map(|i| params![i])).await.unwrap();
            let mut streams: Vec<_> = (0..4).map(|_| pool.stream("SELECT id FROM t ORDER BY id", params![])).collect();
            for s in &mut streams {
                let first: i64 = s.next().await.unwrap().unwrap().get(0).unwrap();
                assert_eq!(first, 1);
            }
            pool.execute("INSERT INTO t (id) VALUES (2001)", params![]).await.unwrap();
            let n: i64 = pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
            assert_eq!(n, 2001, "a read made while the streams pause misses the commit");
            assert_eq!(other_process("read", &path), "error Busy");
            for s in &mut streams {
                let mut next = 2;
                while let Some(row) = s.next().await {
                    assert_eq!(row.unwrap().get::<i64>(0).unwrap(), next);
                    next += 1;
                }
                assert_eq!(next, 2001, "a stream's snapshot is not whole");
            }
            drop(streams);
            pool.close().await.unwrap();
        });
    });
}
