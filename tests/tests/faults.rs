//! Faults: crashes, full disks, corrupt and vanishing files, oversized values.
//!
//! The bugs these guard against: an acknowledged commit lost (or a half transaction kept) when the process dies,
//! a panic or hang instead of an error when the disk fills or the file is not a database, and a pool that stops
//! working after one of those errors.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use asqlite::blocking::Connection as SyncConnection;
use asqlite::{params, ErrorKind, Pool};

use crate::common::temp_db;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap()
}

/// Kill a writer child with SIGKILL at random moments; after each kill every acknowledged batch must be there in
/// full, no batch may be partial, and the database must pass `integrity_check`.
#[test]
fn sigkill_loses_no_acknowledged_commit_and_keeps_no_partial_one() {
    let (_dir, path) = temp_db();
    kill_writer_rounds(&path, &[], 12, 0x2545_F491_4F6C_DD1D, |_| {}, |_| SyncConnection::open(&path).unwrap());
}

/// `rounds` times: start `crash_writer PATH args...` (`tests/src/bin/crash_writer.rs`), let it acknowledge at least
/// one batch, run `while_running(round)`, SIGKILL it at a random moment, then check the database through
/// `reopen(round)`: `integrity_check` ok, every acknowledged batch there in full, no batch partial.
pub(crate) fn kill_writer_rounds(
    path: &std::path::Path,
    args: &[&str],
    rounds: usize,
    mut seed: u64,
    while_running: impl Fn(usize),
    reopen: impl Fn(usize) -> SyncConnection,
) {
    let exe = env!("CARGO_BIN_EXE_crash_writer");
    let mut total_acked = 0;
    for round in 0..rounds {
        let mut child =
            Command::new(exe).arg(path).args(args).stdout(Stdio::piped()).spawn().expect("spawn the writer");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut parts = line.split_whitespace().skip(1).map(|p| p.parse::<i64>().unwrap());
                let (batch, size) = (parts.next().unwrap(), parts.next().unwrap());
                if tx.send((batch, size)).is_err() {
                    break;
                }
            }
        });
        // Let the child get going (the first round also creates the table), then kill it mid-stream.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let first = rx.recv_timeout(Duration::from_secs(30)).expect("the writer acknowledged nothing");
        while_running(round);
        std::thread::sleep(Duration::from_millis(5 + seed % 60));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let acked: Vec<(i64, i64)> = std::iter::once(first).chain(rx.try_iter()).collect();
        total_acked += acked.len();

        let conn = reopen(round);
        let check: String = conn.query_one("PRAGMA integrity_check", params![]).unwrap().get(0).unwrap();
        assert_eq!(check, "ok", "round {round}");
        for (batch, size) in &acked {
            let n: i64 = conn
                .query_one("SELECT count(*) FROM batches WHERE batch = ?1", params![batch])
                .unwrap()
                .get(0)
                .unwrap();
            assert_eq!(n, *size, "round {round}: acknowledged batch {batch} lost rows");
        }
        let partial = conn
            .query(
                "SELECT batch, count(*), max(size) FROM batches GROUP BY batch HAVING count(*) != max(size)",
                params![],
            )
            .unwrap();
        assert!(partial.is_empty(), "round {round}: partial batches survived:\n{partial}");
    }
    assert!(total_acked > rounds, "the writer must have made progress");
}

#[test]
fn a_full_database_is_a_clear_error_and_the_pool_recovers() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x BLOB)").await.unwrap();
        // A size limit stands in for a full disk: SQLite reports both as SQLITE_FULL.
        let pages: i64 = pool.query_one("PRAGMA page_count", params![]).await.unwrap().get(0).unwrap();
        pool.execute_batch(&format!("PRAGMA max_page_count = {}", pages + 4)).await.unwrap();
        let blob = vec![7u8; 64 * 1024];
        let err = pool
            .execute_many("INSERT INTO t VALUES (?1)", (0..10).map(move |_| params![blob.clone()]))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Full, "{err}");
        assert!(err.to_string().contains("full"), "{err}");
        // The failed batch left nothing behind, and the pool still works once there is room.
        assert_eq!(pool.query("SELECT * FROM t", params![]).await.unwrap().len(), 0);
        pool.execute_batch("PRAGMA max_page_count = 1000000").await.unwrap();
        pool.execute("INSERT INTO t VALUES (x'00')", params![]).await.unwrap();
        assert_eq!(pool.query("SELECT * FROM t", params![]).await.unwrap().len(), 1);
        pool.close().await.unwrap();
    });
}

#[test]
fn a_corrupt_file_is_a_clear_error() {
    let (_dir, path) = temp_db();
    std::fs::write(&path, b"this is not a database, just some text that is long enough to look like a header...")
        .unwrap();
    rt().block_on(async {
        let err = Pool::open(&path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
        assert!(err.to_string().contains("not a database"), "{err}");
    });
    let err = SyncConnection::open(&path).and_then(|c| c.query("SELECT * FROM sqlite_master", params![])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
}

#[test]
fn a_file_deleted_while_open_fails_writes_clearly() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = Pool::open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
        pool.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
        std::fs::remove_file(&path).unwrap();
        let err = pool.execute("INSERT INTO t VALUES (2)", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");
        assert!(err.to_string().contains("deleted or moved"), "{err}");
        let err = pool.begin().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");
        let err = pool.call(|c| c.execute_batch("DELETE FROM t")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err}");
        // The pool answers (with errors or data), never hangs, and closes cleanly.
        let _ = pool.query("SELECT * FROM t", params![]).await;
        pool.close().await.unwrap();
    });
}

#[test]
fn text_larger_than_the_limit_is_too_big() {
    let conn = SyncConnection::open_in_memory().unwrap();
    conn.set_length_limit(1000);
    conn.execute_batch("CREATE TABLE t (x)").unwrap();
    let err = conn.execute("INSERT INTO t VALUES (?1)", params!["x".repeat(1001)]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooBig, "{err}");
    let err = conn.query("SELECT zeroblob(5000)", params![]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooBig, "{err}");
    // The limit covers a whole row, header included: a value a little under it fits.
    conn.execute("INSERT INTO t VALUES (?1)", params!["x".repeat(900)]).unwrap();
}

#[test]
fn a_busy_writer_gets_a_busy_error_not_a_hang() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let a = Pool::open(&path).await.unwrap();
        a.execute_batch("CREATE TABLE t (x)").await.unwrap();
        let b = Pool::builder().busy_timeout(Duration::from_millis(100)).open(&path).await.unwrap();
        let tx = a.begin().await.unwrap(); // holds the write lock
        let err = b.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
        tx.rollback().await.unwrap();
        b.execute("INSERT INTO t VALUES (1)", params![]).await.unwrap();
        a.close().await.unwrap();
        b.close().await.unwrap();
    });
}

/// Run `fault_probe` as an unprivileged user when we are root (root bypasses file permissions).
fn probe(scenario: &str, path: &std::path::Path) -> String {
    let exe = env!("CARGO_BIN_EXE_fault_probe");
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", exe]);
        c
    } else {
        Command::new(exe)
    };
    let out = cmd.arg(scenario).arg(path).output().expect("run fault_probe");
    assert!(out.status.success(), "fault_probe failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn read_only_files_and_directories_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o777);

    // A read-only database file in a writable directory: writing fails clearly; read-only mode reads.
    let ro_file = dir.path().join("ro.db");
    SyncConnection::open(&ro_file).unwrap().execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (0)").unwrap();
    chmod(&ro_file, 0o444);
    let out = probe("open", &ro_file);
    assert!(out.starts_with("err ReadOnly"), "{out}");
    assert!(out.contains("readonly") || out.contains("read-only"), "{out}");
    let out = probe("read_only_read", &ro_file);
    assert_eq!(out, "ok read 1; write ReadOnly");

    // A read-only directory: a new database cannot be created there.
    let ro_dir = dir.path().join("locked");
    std::fs::create_dir(&ro_dir).unwrap();
    chmod(&ro_dir, 0o555);
    let out = probe("open", &ro_dir.join("new.db"));
    assert!(out.starts_with("err CantOpen"), "{out}");
    assert!(out.contains("new.db"), "the error names the file: {out}");
}
