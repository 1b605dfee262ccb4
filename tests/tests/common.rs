//! Helpers shared by the test modules.

use std::path::PathBuf;

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
