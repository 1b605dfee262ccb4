//! Process-exclusive locking (`PoolBuilder::process_exclusive`, SQLite's `unix-excl` VFS): every connection of the
//! pool sees every commit at once, the WAL index lives in the process (no `-shm` file), the checkpoints run and the
//! data outlives the pool; another process can neither read the file while the pool is open nor keep the pool from
//! telling it so; asking for it on a read-only pool or connection is an error. The other process is
//! `tests/src/bin/other_process.rs`, which uses SQLite's default locking.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use asqlite::blocking::OpenOptions;
use asqlite::{params, ErrorKind, JournalMode, Pool};

use crate::common::temp_db;

/// What another process (`tests/src/bin/other_process.rs`) gets: `read <n>` or `error <kind>`.
pub(crate) fn other_process(mode: &str, path: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_other_process")).arg(mode).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn shm_exists(path: &std::path::Path) -> bool {
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    std::path::Path::new(&shm).exists()
}

#[test]
fn a_process_exclusive_pool_sees_each_commit_on_every_connection_and_keeps_its_wal_index_in_memory() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder()
            .readers(2)
            .process_exclusive(true)
            .pragma("wal_autocheckpoint", 20)
            .open(&path)
            .await
            .unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)").await.unwrap();
        for i in 0..400_i64 {
            pool.execute("INSERT INTO t (id, v) VALUES (?1, zeroblob(2000))", params![i]).await.unwrap();
            // Right after the commit, on the caller's thread and on both readers' threads at once.
            let reads = (0..3).map(|_| pool.query_row("SELECT count(*) FROM t", params![], |r| r.get::<i64>(0)));
            for n in futures::future::join_all(reads).await {
                assert_eq!(n.unwrap(), i + 1);
            }
        }
        // Each reader on its own, by name.
        pool.call_each(|c| {
            let n: i64 = c.query_row("SELECT count(*) FROM t", (), |r| r.get(0))?;
            assert_eq!(n, 400);
            Ok(())
        })
        .await
        .unwrap();
        assert!(!shm_exists(&path), "the WAL index is in a -shm file: the pool is not process-exclusive");
        assert!(pool.stats().background_checkpoints > 0, "no checkpoint ran");
        let (log, done): (i64, i64) =
            pool.query_row("PRAGMA wal_checkpoint(TRUNCATE)", params![], |r| Ok((r.get(1)?, r.get(2)?))).await.unwrap();
        assert_eq!(log, done, "the checkpoint could not copy every frame");
        pool.close().await.unwrap();
    });
    // The rows are in the file, for a pool with SQLite's usual locking.
    let pool = futures::executor::block_on(Pool::builder().readers(1).open(&path)).unwrap();
    let n: i64 =
        futures::executor::block_on(pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0))).unwrap();
    assert_eq!(n, 400);
    futures::executor::block_on(pool.close()).unwrap();
}

#[test]
fn another_process_cannot_read_the_file_of_a_process_exclusive_pool_until_it_closes() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(2).process_exclusive(true).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2);").await.unwrap();
        // Reads through every kind of connection first: none of them may give the lock up.
        let n: i64 = pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(n, 2);
        pool.call_each(|c| c.query_row("SELECT count(*) FROM t", (), |r| r.get::<i64>(0)).map(drop)).await.unwrap();
        assert_eq!(other_process("read", &path), "error Busy");
        pool.execute("INSERT INTO t VALUES (3)", params![]).await.unwrap();
        assert_eq!(other_process("read", &path), "error Busy");
        pool.close().await.unwrap();
    });
    assert_eq!(other_process("read", &path), "read 3");
    // A pool with SQLite's usual locking shares the file with the other process.
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        assert_eq!(other_process("read", &path), "read 3");
        pool.close().await.unwrap();
    });
}

#[test]
fn a_process_exclusive_pool_does_not_open_while_another_process_has_the_file_open() {
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);").await.unwrap();
        pool.close().await.unwrap();
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_other_process"))
        .arg("hold")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "holding");
    let opened = futures::executor::block_on(
        Pool::builder().readers(1).process_exclusive(true).busy_timeout(Duration::from_millis(100)).open(&path),
    );
    let err = opened.expect_err("a process-exclusive pool opened on a file another process holds");
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(err.to_string().contains("another process"), "the error does not say why: {err}");
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    // Once the other process is gone, it opens.
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).process_exclusive(true).open(&path).await.unwrap();
        let n: i64 = pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
        assert_eq!(n, 1);
        pool.close().await.unwrap();
    });
}

#[test]
fn process_exclusive_on_a_read_only_pool_or_connection_is_an_error() {
    let (_dir, path) = temp_db();
    drop(OpenOptions::new().open(&path).unwrap());
    let err = futures::executor::block_on(Pool::builder().read_only(true).process_exclusive(true).open(&path))
        .expect_err("a read-only pool cannot hold the process's lock");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("process_exclusive"), "{err}");
    let err = OpenOptions::new().read_only(true).process_exclusive(true).open(&path).expect_err("read-only");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    // In memory there is no file to lock: the option changes nothing.
    let pool = futures::executor::block_on(Pool::builder().process_exclusive(true).open(":memory:")).unwrap();
    let one: i64 = futures::executor::block_on(pool.query_row("SELECT 1", params![], |r| r.get(0))).unwrap();
    assert_eq!(one, 1);
    futures::executor::block_on(pool.close()).unwrap();
}

#[test]
fn a_blocking_connection_with_process_exclusive_shares_the_file_with_this_process_only() {
    let (_dir, path) = temp_db();
    let wal = OpenOptions::new().process_exclusive(true).journal_mode(JournalMode::Wal);
    let a = wal.open(&path).unwrap();
    a.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);").unwrap();
    let b = OpenOptions::new().process_exclusive(true).open(&path).unwrap(); // the file is in WAL mode now
    b.execute("INSERT INTO t VALUES (2)", ()).unwrap();
    let n: i64 = a.query_row("SELECT count(*) FROM t", (), |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
    assert_eq!(other_process("read", &path), "error Busy");
    drop((a, b));
    assert_eq!(other_process("read", &path), "read 2");
}

#[test]
fn an_engine_url_with_process_exclusive_locks_the_file_for_its_process() {
    use asqlite_query::prelude::*;
    let (_dir, path) = temp_db();
    futures::executor::block_on(async {
        let url = format!("sqlite:///{}?process_exclusive=on", path.display());
        let engine = create_async_engine(&url).await.unwrap();
        let conn = engine.begin().await.unwrap();
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)")).await.unwrap();
        conn.execute(text("INSERT INTO t VALUES (1), (2), (3), (4)")).await.unwrap();
        conn.commit().await.unwrap();
        let conn = engine.connect().await.unwrap();
        let n: i64 = conn.scalar(text("SELECT count(*) FROM t")).await.unwrap();
        assert_eq!(n, 4);
        assert!(!shm_exists(&path));
        assert_eq!(other_process("read", &path), "error Busy");
        drop(conn);
        engine.dispose().await.unwrap();
    });
    assert_eq!(other_process("read", &path), "read 4");
}

/// The bug (found by attack): outside WAL, a connection of this process opened without the option, reading between
/// the exclusive connection's transactions, replaced the process's lock with its own and dropped it; another
/// process could then hold the file while the exclusive connection went on writing with no lock at all. Outside
/// WAL the option is now refused.
#[test]
fn process_exclusive_outside_wal_is_an_error() {
    let (_dir, path) = temp_db();
    let err = OpenOptions::new().process_exclusive(true).open(&path).map(drop).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("WAL"), "{err}");
    let err = OpenOptions::new().process_exclusive(true).journal_mode(JournalMode::Delete).open(&path).map(drop);
    assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidInput);
    for mode in [JournalMode::Delete, JournalMode::Truncate, JournalMode::Persist] {
        let opened = futures::executor::block_on(
            Pool::builder().readers(0).journal_mode(mode).process_exclusive(true).open(&path),
        );
        assert_eq!(opened.map(drop).unwrap_err().kind(), ErrorKind::InvalidInput, "{mode}");
    }
    // In WAL mode it opens, and the file is locked for this process.
    let conn = OpenOptions::new().process_exclusive(true).journal_mode(JournalMode::Wal).open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)").unwrap();
    assert_eq!(other_process("read", &path), "error Busy");
}

/// The bug (seen while attacking the option): a pool with readers on a `file:` URI asking for `mode=rw` or
/// `mode=rwc` did not open ("access mode not allowed"): the readers open read-only, and SQLite refuses a URI that
/// asks for more than the open's flags. The readers now open the URI with `mode=ro`.
#[test]
fn a_pool_with_readers_opens_a_uri_that_asks_for_read_write() {
    let (_dir, path) = temp_db();
    for mode in ["rwc", "rw"] {
        let uri = format!("file:{}?mode={mode}&cache=private", path.display());
        futures::executor::block_on(async {
            let pool = Pool::builder().readers(2).uri(true).open(&uri).await.unwrap();
            pool.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)", params![]).await.unwrap();
            pool.execute("INSERT INTO t DEFAULT VALUES", params![]).await.unwrap();
            pool.call_each(|c| c.query_row("SELECT count(*) FROM t", (), |r| r.get::<i64>(0)).map(drop)).await.unwrap();
            let err = pool.call_each(|c| c.execute("INSERT INTO t DEFAULT VALUES", ()).map(drop)).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ReadOnly, "a reader wrote: {err}");
            pool.close().await.unwrap();
        });
    }
}

/// Found in review: the check of a URI before the open reads its parameters as this crate does, and SQLite reads
/// some of them otherwise (`nolock=1x` is true to SQLite). SQLite's own answer after the open now counts too: the
/// VFS the file is open through, a read-only handle, `nolock` and `immutable`.
#[test]
fn a_uri_that_undoes_the_lock_as_only_sqlite_reads_it_is_an_error_too() {
    let (_dir, path) = temp_db();
    drop(OpenOptions::new().journal_mode(JournalMode::Wal).open(&path).unwrap());
    for query in ["nolock=1x", "immutable=1.0", "nolock=2abc"] {
        let uri = format!("file:{}?{query}", path.display());
        let options = OpenOptions::new().uri(true).process_exclusive(true);
        let err = options.open(&uri).map(drop).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{query}: {err}");
        let opened =
            futures::executor::block_on(Pool::builder().readers(1).uri(true).process_exclusive(true).open(&uri));
        assert_eq!(opened.map(drop).unwrap_err().kind(), ErrorKind::InvalidInput, "{query}");
        // Without the option the URI opens as SQLite reads it.
        drop(OpenOptions::new().uri(true).open(&uri).unwrap());
    }
}
