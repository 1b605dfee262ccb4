//! Cheap reads on the caller's thread.
//!
//! Handing a point query to a worker costs more than running it: the job and its reply cross cores, and the
//! caller waits (spinning or parked) while the worker runs a statement that takes a microsecond or two. So when a
//! pool's reader connection is free, a read that is known to be cheap runs right where it was called, on that
//! connection, at its first poll, which is what a synchronous driver does.
//!
//! "Known to be cheap": the statement is in that connection's cache, read-only, and its last run took at most
//! [`MAX_INLINE_STEPS`] virtual-machine steps, counting each page it read as a few steps and the bytes of the
//! values it read too (SQLite counts steps and pages, so no clock is read; pages and bytes see the work a single
//! step can do, such as `count(*)` walking a whole table, or reading a large value). Even then the run is stopped
//! after [`INLINE_BUDGET`] (a progress handler checks the time), or at a value longer than [`INLINE_MAX_VALUE`],
//! and handed to a worker, so
//! a caller's thread is never held longer than the spinning it replaces. Everything else, new statements,
//! writes, streams, closures, transactions and slow reads, goes to the workers as before. Reads made while other
//! calls are in flight run inline too: handing a cheap read to an idle reader costs the caller's thread about as
//! much as running it (measured: 64 concurrent tasks offloading to idle readers ran at 0.51 of rusqlite, inline at
//! 0.87), and parallel readers do not scale on the page-cache mutex SQLite shares between connections.

use std::cell::Cell;
use std::sync::{Arc, TryLockError};
use std::time::Duration;

use super::ctx::Ctx;
use super::Core;
use crate::blocking::Cells;
use crate::blocking::Connection;
use crate::{Params, Result};

/// Reads whose last run cost more virtual-machine steps than this go to a worker (a point query takes ~15, and
/// ~15 more for the pages it reads).
pub const MAX_INLINE_STEPS: u32 = 1000;

/// An inline read running longer than this is stopped and run again on a worker.
pub const INLINE_BUDGET: Duration = Duration::from_micros(50);

/// The longest TEXT or BLOB value (in bytes) an inline read reads: one step reads a value whole, out of the
/// progress handler's reach, so a read that meets a longer one stops there and runs on a worker.
pub const INLINE_MAX_VALUE: std::ffi::c_int = 64 * 1024;

/// How often (in virtual-machine steps) a reader's progress handler looks at the clock.
pub const DEADLINE_CHECK_STEPS: u32 = 200;

/// What became of a read offered to run inline.
pub(crate) enum Tried<R> {
    /// It ran here.
    Ran(Result<R>),
    /// It did not: send it to the readers with these parameters (as they were given).
    Declined(Params),
}

/// Run `f(connection, params)` on this thread if a reader connection is free and `sql` is cheap there; otherwise
/// give the parameters back, for the caller to send the job to the readers.
///
/// The connection is leased for `f` alone and handed back before this returns. So `f` must be the driver's own
/// code that copies what it reads into an owned `R` (rows, never a user's decoder): user code runs only after the
/// lease ends, and a worker that wants its connection back waits at most the inline budget, never for user code.
pub(crate) fn try_read<R: Send + 'static>(
    core: &Core,
    sql: &str,
    mut params: Params,
    f: impl FnOnce(&mut Connection, &mut Params) -> Result<R>,
) -> Tried<R> {
    if !core.config.inline {
        return Tried::Declined(params);
    }
    // A pool reads on its readers; a lone connection on its one worker, and only when no call waits in its queue,
    // so that calls still run in the order they were sent.
    let (first, candidates) = if core.readers > 0 {
        (1, core.conns.get(1..).unwrap_or_default())
    } else {
        if core.writer.len() > 0 {
            return Tried::Declined(params);
        }
        (0, core.conns.get(..1).unwrap_or_default())
    };
    // Start at the connection this thread read on last: a connection's page cache and statements stay warm in the
    // caches of the core that keeps using it, instead of moving between cores with every read.
    let n = candidates.len();
    let start = PREFERRED.with(Cell::get) % n.max(1);
    for i in (start..n).chain(0..start) {
        let Some(slot) = candidates.get(i) else { continue };
        let mut guard = match slot.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => continue,
        };
        // None: the reader has not opened it yet, or has closed it (the pool is closing).
        let Some(conn) = guard.as_mut() else { continue };
        crate::conn_state::reader_refresh(conn);
        match conn.cached_read_cost(sql) {
            Some(steps) if steps <= MAX_INLINE_STEPS => {}
            // Heavy here (or a write), or not cached here (or in use): another reader may know better (a cost is
            // measured per connection, and one run's can be stale); if none does, a worker runs it.
            Some(_) | None => continue,
        }
        if params.has_error() {
            return Tried::Declined(params); // the worker reports it
        }
        PREFERRED.with(|p| p.set(i));
        let ctx = Ctx::new(core, first + i, true, false, false, None);
        return match ctx.inline(conn, sql, INLINE_BUDGET, |c| f(c, &mut params)) {
            Some(out) => Tried::Ran(out),
            None => Tried::Declined(params), // binding left them as they were
        };
    }
    Tried::Declined(params)
}

thread_local! {
    /// The reader connection (by its index among the candidates) this thread read on last.
    static PREFERRED: Cell<usize> = const { Cell::new(0) };
    /// The buffer an inline `query_row` copies its row into, reused by the next one on this thread.
    static ROW_BUFFER: Cell<Option<Box<RowBuffer>>> = const { Cell::new(None) };
}

/// Largest buffer kept for the next row (a row with a big blob is copied into a buffer of its own).
const KEPT_ROW_BUFFER: usize = 64 * 1024;

/// One row copied out of a statement, with its column names: what an inline `query_row` decodes once the
/// connection is handed back.
#[derive(Default)]
pub(crate) struct RowBuffer {
    pub cells: Cells,
    /// The names of the last row's columns (shared with the statement, and kept while the next row's statement has
    /// the same ones, so that a row costs no reference count).
    pub columns: Option<Arc<[String]>>,
}

impl RowBuffer {
    /// Keep `columns` as the row's column names.
    #[inline]
    pub fn set_columns(&mut self, columns: &Arc<[String]>) {
        if !self.columns.as_ref().is_some_and(|c| Arc::ptr_eq(c, columns)) {
            self.columns = Some(Arc::clone(columns));
        }
    }
}

/// Run `f` with this thread's row buffer, or with a new one when it is in use (a decoder that reads again on this
/// thread) or gone (a thread's last moments). A buffer that grew big is not kept.
pub(crate) fn with_row_buffer<R>(f: impl FnOnce(&mut RowBuffer) -> R) -> R {
    let mut buf = ROW_BUFFER.try_with(Cell::take).ok().flatten().unwrap_or_default();
    let out = f(&mut buf);
    if buf.cells.capacity_bytes() <= KEPT_ROW_BUFFER {
        let _ = ROW_BUFFER.try_with(|b| b.set(Some(buf)));
    }
    out
}
