//! Online backup of a pool: [`Pool::backup_to`], [`Pool::backup_to_with`] and [`Pool::vacuum_into`].
//!
//! A file database is copied by a connection of its own, opened read-only on a thread of its own for the copy:
//! no worker of the pool is held, and no write waits. The copy holds one read snapshot for its whole length (see
//! [`blocking::Connection::backup_to`](crate::blocking::Connection::backup_to)), so it is consistent however much
//! is written meanwhile; under WAL the writer goes on writing (the WAL grows until the copy ends). An in-memory
//! database has one connection and no file to open again, so its copy runs on its worker, in one step.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::blocking::{self, BackupProgress, OpenOptions};
use crate::{Error, ErrorKind, Pool, Result};

/// How [`Pool::backup_to_with`] copies: pages per step, a pause between steps, and a progress callback.
pub struct BackupOptions {
    pages_per_step: usize,
    pause: Duration,
    progress: Option<Box<dyn FnMut(BackupProgress) + Send>>,
}

impl std::fmt::Debug for BackupOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupOptions")
            .field("pages_per_step", &self.pages_per_step)
            .field("pause", &self.pause)
            .finish_non_exhaustive()
    }
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions { pages_per_step: 256, pause: Duration::ZERO, progress: None }
    }
}

impl BackupOptions {
    /// 256 pages per step (1 MiB with 4 KiB pages), no pause (the copying thread yields between steps), no
    /// progress callback.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pages copied per step (0: all in one step).
    pub fn pages_per_step(mut self, pages: usize) -> Self {
        self.pages_per_step = pages;
        self
    }

    /// Sleep this long between steps, to leave the disk to others.
    pub fn pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// Call `f` after each step, on the copying thread.
    pub fn progress(mut self, f: impl FnMut(BackupProgress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(f));
        self
    }
}

/// Sets its flag when dropped: the future that started a copy went away.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Run `f` on a thread of its own; resolves with its result.
pub(crate) async fn on_own_thread<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = futures::channel::oneshot::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(crate::worker::catch(f));
        })
        .map_err(|e| Error::new(ErrorKind::Sqlite, format!("could not start a thread: {e}")).with_source(e))?;
    rx.await.unwrap_or_else(|_| Err(Error::new(ErrorKind::Panicked, format!("the {name} thread stopped"))))
}

/// A read-only connection of its own on the pool's database file.
pub(crate) fn open_side(path: &Path) -> Result<blocking::Connection> {
    OpenOptions::new().read_only(true).create(false).open(path)
}

impl Pool {
    /// The pool's database file; None for an in-memory database.
    pub(crate) async fn file(&self) -> Result<Option<PathBuf>> {
        Ok(self.read(|c| Ok(c.path())).await?.map(PathBuf::from))
    }

    /// Copy the live database to the file at `path` (created, or overwritten), online and in steps: see
    /// [`backup_to_with`](Self::backup_to_with).
    ///
    /// # Cancel safety
    ///
    /// As [`backup_to_with`](Self::backup_to_with).
    pub async fn backup_to(&self, path: impl AsRef<Path>) -> Result<()> {
        self.backup_to_with(path, BackupOptions::new()).await
    }

    /// Copy the live database to the file at `path` (created, or overwritten) with SQLite's online backup, in
    /// steps, on a connection and thread of its own: no worker of the pool is held and writes go on meanwhile (see
    /// the [module docs](crate::backup)). The copy is a consistent snapshot of the database as of its start,
    /// a database file of its own that opens and passes `PRAGMA integrity_check`.
    ///
    /// ```
    /// use asqlite::BackupOptions;
    /// # fn main() -> asqlite::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # futures::executor::block_on(async {
    /// let pool = asqlite::Pool::open(dir.path().join("app.db")).await?;
    /// pool.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").await?;
    /// pool.backup_to(dir.path().join("copy.db")).await?;
    /// let options = BackupOptions::new().pages_per_step(64).progress(|p| println!("{} pages left", p.remaining));
    /// pool.backup_to_with(dir.path().join("copy2.db"), options).await?;
    /// # pool.close().await })
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropped before it ends, the copy stops at its next step and the destination is left as it was (a new file
    /// is left empty).
    pub async fn backup_to_with(&self, path: impl AsRef<Path>, options: BackupOptions) -> Result<()> {
        let dst = path.as_ref().to_path_buf();
        let BackupOptions { pages_per_step, pause, progress } = options;
        let mut progress = progress.unwrap_or_else(|| Box::new(|_| {}));
        let Some(src) = self.file().await? else {
            // An in-memory database: its one connection copies itself, in one step.
            return self.call(move |c| c.backup_to(&dst, 0, progress)).await;
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(Arc::clone(&cancel));
        on_own_thread("asqlite-backup", move || {
            let from = open_side(&src)?;
            let to = blocking::Connection::open(&dst)?;
            blocking::copy_database(&from, &to, pages_per_step, pause, |p| {
                progress(p);
                !cancel.load(Ordering::SeqCst)
            })
        })
        .await
    }

    /// Write a compacted copy of the live database to the new file `path` with `VACUUM INTO`: one statement,
    /// smaller output than a backup (free pages are dropped), and a consistent snapshot; it runs on a read-only
    /// connection and thread of its own, holding no worker of the pool. The file must not exist yet.
    ///
    /// # Cancel safety
    ///
    /// Dropped before it ends, the copy still runs to its end on its thread.
    pub async fn vacuum_into(&self, path: impl AsRef<Path>) -> Result<()> {
        let dst = path.as_ref().to_string_lossy().into_owned();
        let Some(src) = self.file().await? else {
            return self.call(move |c| c.execute("VACUUM INTO ?1", crate::params![dst]).map(drop)).await;
        };
        on_own_thread("asqlite-vacuum", move || {
            let conn = open_side(&src)?;
            conn.execute("VACUUM INTO ?1", crate::params![dst]).map(drop)
        })
        .await
    }
}
