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
