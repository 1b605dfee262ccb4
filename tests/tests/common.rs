//! Helpers shared by the test modules.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// A fresh temporary directory and the path of a database file inside it (not yet created).
pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("app.db");
    (dir, path)
}

/// Tests that change the process's working directory hold this lock.
pub static CWD_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether a read of `sql` ran on the calling thread (inline) rather than on a worker: its decoder notes the thread
/// it ran on. Deterministic, unlike checking whether the future was ready at its first poll (a worker can finish
/// before that poll on a busy machine).
pub async fn ran_here(pool: &asqlite::Pool, sql: &str, params: asqlite::Params) -> bool {
    let here = std::thread::current().id();
    pool.query_row(sql, params, |_| Ok(std::thread::current().id())).await.expect("the read") == here
}

/// Run `f` on its own thread and return what it returns, failing the test if it does not finish within `limit`: a
/// hang guard, generous on purpose, not a speed limit. A panic in `f` is passed on as it is.
pub fn within<T: Send + 'static>(what: &str, limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out,
        // The thread panicked: join it to pass its panic on.
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the thread sent nothing and did not panic"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} hung"),
    }
}
