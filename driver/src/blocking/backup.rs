//! Online backup: copy a live database to a file (or back) page by page, with `sqlite3_backup_*`.
//!
//! A copy in one step locks the source for the whole copy; in steps, other connections may use the source
//! between steps. SQLite restarts a stepped backup whenever another connection writes to the source meanwhile, so
//! under a steady stream of writes it would never finish; the copy here holds one read transaction on the source
//! for its whole length instead, which gives a consistent snapshot and never restarts. In WAL mode that read
//! blocks no writer (the WAL only grows until the copy ends); in the rollback-journal modes writers wait for it.

use std::ffi::CStr;
use std::path::Path;
use std::time::Duration;

use super::Connection;
use crate::ffi::{BackupStep, RawBackup};
use crate::{Error, ErrorKind, Result};

/// How far a backup has come, after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupProgress {
    /// Pages still to copy.
    pub remaining: u32,
    /// Pages in the source database.
    pub page_count: u32,
}

/// How long to wait before trying a locked step again.
const BUSY_PAUSE: Duration = Duration::from_millis(5);

/// Copy `src`'s main database over `dst`'s, `pages_per_step` pages at a time (0: all at once), sleeping `pause`
/// between steps. `progress` is told after each step and returns whether to go on (false cancels the copy, which
/// leaves the destination as it was).
pub(crate) fn copy(
    src: &Connection,
    dst: &Connection,
    pages_per_step: usize,
    pause: Duration,
    mut progress: impl FnMut(BackupProgress) -> bool,
) -> Result<()> {
    let pages = if pages_per_step == 0 { -1 } else { i32::try_from(pages_per_step).unwrap_or(i32::MAX) };
    // Hold one read snapshot of the source across the steps (unless a transaction is open there already).
    let snapshot = src.is_autocommit();
    if snapshot {
        src.execute_batch("BEGIN DEFERRED; SELECT 1 FROM sqlite_schema LIMIT 1")?;
    }
    let out = (|| {
        let main: &CStr = c"main";
        let backup = RawBackup::new(&src.raw, main, &dst.raw, main)?;
        loop {
            let step = backup.step(pages)?;
            let p = BackupProgress { remaining: backup.remaining(), page_count: backup.page_count() };
            if step != BackupStep::Busy && !progress(p) {
                return Err(Error::new(ErrorKind::Cancelled, "the backup was cancelled; the destination is unchanged"));
            }
            match step {
                BackupStep::Done => return Ok(()),
                BackupStep::More if !pause.is_zero() => std::thread::sleep(pause),
                BackupStep::More => std::thread::yield_now(),
                BackupStep::Busy => std::thread::sleep(BUSY_PAUSE.max(pause)),
            }
        }
    })();
    if snapshot && !src.is_autocommit() {
        let _ = src.execute_cleanup("COMMIT");
    }
    out
}

impl Connection {
    /// Copy this connection's main database to the file at `path` (created, or overwritten), `pages_per_step`
    /// pages at a time (0: all in one step), telling `progress` after each step. The copy is a consistent
    /// snapshot (one read transaction held across the steps, so writes by others never restart it). The file is a
    /// database of its own; it opens anywhere.
    ///
    /// ```
    /// # fn main() -> asqlite::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let conn = asqlite::blocking::Connection::open_in_memory()?;
    /// conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)")?;
    /// conn.backup_to(dir.path().join("copy.db"), 100, |p| println!("{} of {} pages left", p.remaining, p.page_count))?;
    /// let copy = asqlite::blocking::Connection::open(dir.path().join("copy.db"))?;
    /// assert_eq!(copy.query_one("SELECT count(*) FROM t", ())?.get::<i64>(0)?, 2);
    /// # Ok(()) }
    /// ```
    pub fn backup_to(
        &self,
        path: impl AsRef<Path>,
        pages_per_step: usize,
        mut progress: impl FnMut(BackupProgress),
    ) -> Result<()> {
        let dst = Connection::open(path.as_ref())?;
        copy(self, &dst, pages_per_step, Duration::ZERO, |p| {
            progress(p);
            true
        })
    }

    /// Replace this connection's main database with a copy of the database file at `path`, `pages_per_step`
    /// pages at a time (0: all in one step). Statements in the cache are dropped first; the schema is read anew.
    pub fn restore_from(
        &mut self,
        path: impl AsRef<Path>,
        pages_per_step: usize,
        mut progress: impl FnMut(BackupProgress),
    ) -> Result<()> {
        let src = super::OpenOptions::new().read_only(true).create(false).open(path.as_ref())?;
        self.flush_statement_cache();
        copy(&src, self, pages_per_step, Duration::ZERO, |p| {
            progress(p);
            true
        })
    }
}
