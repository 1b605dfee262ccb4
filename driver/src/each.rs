//! [`Pool::call_each`]: run a closure on every connection of a pool; and the memory figures of the pool's
//! statistics, read from every connection.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, TryLockError};

use crate::worker::{catch, Core};
use crate::{blocking, Error, ErrorKind, Pool, Result};

impl Pool {
    /// Run `f` on every connection of the pool, the writer first, then each reader, one after the other: for what
    /// must hold on every connection, such as [SQL functions and collations](blocking::functions) (a statement may
    /// run on any of them, or inline on a caller's thread with a reader's connection), hooks or settings.
    ///
    /// Each connection is taken from its worker between two jobs, so this waits for the job each one runs (a
    /// transaction holds the writer until it ends) and for nothing queued. It runs on a thread of its own; the
    /// first error (or panic, as [`ErrorKind::Panicked`]) stops it and is returned, and a transaction `f` leaves
    /// open is rolled back. A lone [`Connection`](crate::Connection) has one connection.
    ///
    /// ```
    /// use asqlite::blocking::FunctionFlags;
    /// # fn main() -> asqlite::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # futures::executor::block_on(async {
    /// let pool = asqlite::Pool::builder().readers(2).open(dir.path().join("app.db")).await?;
    /// pool.call_each(|c| c.create_scalar_function("twice", 1, FunctionFlags::DETERMINISTIC, |ctx| Ok(ctx.get::<i64>(0)? * 2)))
    ///     .await?;
    /// let x: i64 = pool.query_one("SELECT twice(21)", ()).await?.get(0)?; // on a reader
    /// assert_eq!(x, 42);
    /// # pool.close().await })
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Once polled, it runs to the end whether or not the future is kept.
    pub async fn call_each<F>(&self, f: F) -> Result<()>
    where
        F: Fn(&mut blocking::Connection) -> Result<()> + Send + Sync + 'static,
    {
        let shared = crate::Client::shared(self);
        if shared.is_closed() {
            return Err(shared.closed_error());
        }
        let core = Arc::clone(&shared.core);
        let (tx, rx) = futures::channel::oneshot::channel();
        std::thread::Builder::new()
            .name("asqlite-call-each".into())
            .spawn(move || {
                let _ = tx.send(run_each(&core, &f));
            })
            .map_err(|e| Error::new(ErrorKind::Sqlite, format!("could not start a thread: {e}")).with_source(e))?;
        rx.await.unwrap_or_else(|_| Err(Error::new(ErrorKind::Panicked, "call_each's thread stopped")))
    }
}

fn run_each(core: &Core, f: &(dyn Fn(&mut blocking::Connection) -> Result<()> + Sync)) -> Result<()> {
    for (i, slot) in core.conns.iter().enumerate() {
        let mut guard = crate::worker::lock_for_use(slot);
        let Some(conn) = guard.as_mut() else { continue };
        let out = catch(|| f(conn));
        if !conn.is_autocommit() {
            let _ = conn.execute_cleanup("ROLLBACK");
        }
        let which = if i == 0 { "the writer".to_owned() } else { format!("reader {i}") };
        out.map_err(|e| e.context(format_args!("call_each on {which}")))?;
    }
    Ok(())
}

/// The last memory figures read from each connection (a connection busy with a job keeps its last ones).
#[derive(Debug)]
pub(crate) struct MemoryFigures {
    per_conn: Box<[[AtomicI64; 4]]>,
}

/// Memory figures summed over a pool's connections, and SQLite's process-wide ones.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MemoryTotals {
    pub cache: i64,
    pub schema: i64,
    pub statements: i64,
    pub cache_writes: i64,
    pub process_used: i64,
    pub process_high_water: i64,
}

impl MemoryFigures {
    pub fn new(conns: usize) -> Self {
        MemoryFigures { per_conn: (0..conns).map(|_| Default::default()).collect() }
    }

    /// Read the figures of every connection that is free now (without waiting for one), and sum them.
    pub fn totals(&self, core: &Core) -> MemoryTotals {
        for (slot, cells) in core.conns.iter().zip(self.per_conn.iter()) {
            let guard = match slot.try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => continue,
            };
            if let Some(conn) = guard.as_ref() {
                let m = conn.memory_use();
                for (cell, v) in cells.iter().zip([m.cache, m.schema, m.statements, m.cache_writes]) {
                    cell.store(v, Ordering::Relaxed);
                }
            }
        }
        let sum = |k: usize| self.per_conn.iter().map(|c| c[k].load(Ordering::Relaxed)).sum();
        let (process_used, process_high_water) = crate::ffi::status(libsqlite3_sys::SQLITE_STATUS_MEMORY_USED);
        MemoryTotals {
            cache: sum(0),
            schema: sum(1),
            statements: sum(2),
            cache_writes: sum(3),
            process_used,
            process_high_water,
        }
    }
}
