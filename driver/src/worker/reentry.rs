//! Calls that would wait for the thread making them.
//!
//! Application code runs on worker threads: closures (`call`, `query_map`), SQL functions, collations and hooks.
//! If such code sends a job to a queue that only its own thread serves and waits for the answer
//! (`futures::executor::block_on(pool.execute(..))` inside a function running on the writer), the job can never
//! run: the thread that would run it is the one waiting. So each worker thread notes which pool it serves, and a
//! call sent from it to a queue it alone serves fails at once with [`ErrorKind::Misuse`] instead of hanging:
//!
//! - from the writer: writes, closures and transactions (the writer's queue and a transaction's channel), and reads
//!   of a pool without readers;
//! - from a reader: reads of a pool whose only reader it is.
//!
//! Reads from the writer go to the readers and are fine, and so are reads from a reader while the pool has others
//! (another reader serves them; if every reader waits like this at once, they still deadlock: keep such calls off
//! hot paths). A read that a reader passes to the writer (it uses per-connection state) is not seen here.

use std::cell::Cell;

use super::{Core, Route};
use crate::{Error, ErrorKind};

thread_local! {
    /// The core (by address) and worker id this thread serves.
    static ON_WORKER: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

fn addr(core: &Core) -> usize {
    std::ptr::from_ref(core) as usize
}

/// Marks the current thread as a worker of a pool while it lives.
pub(crate) struct OnWorker;

impl OnWorker {
    pub fn enter(core: &Core, id: usize) -> Self {
        ON_WORKER.with(|w| w.set(Some((addr(core), id))));
        OnWorker
    }
}

impl Drop for OnWorker {
    fn drop(&mut self) {
        ON_WORKER.with(|w| w.set(None));
    }
}

/// The worker of `core` this thread is, if any.
pub(crate) fn on_worker(core: &Core) -> Option<usize> {
    let (at, id) = ON_WORKER.with(Cell::get)?;
    (at == addr(core)).then_some(id)
}

/// The error for a call sent to `route` from a worker thread of `core` that alone serves it; None if the call may
/// go.
#[inline]
pub(crate) fn would_wait_for_itself(core: &Core, route: Route<'_>) -> Option<Error> {
    let (at, id) = ON_WORKER.with(Cell::get)?;
    if at != addr(core) {
        return None;
    }
    let writer = id == 0;
    let own = match route {
        Route::Write | Route::Tx(_) => writer,
        Route::Read if core.reader_queue.is_none() => writer,
        Route::Read => !writer && core.readers == 1,
    };
    own.then(|| {
        let who = if writer { "writer" } else { "only reader" };
        Error::new(
            ErrorKind::Misuse,
            format!(
                "a call to the pool was made from code running on the pool's {who} thread (a closure, decoder, SQL \
                 function or hook) and would wait for itself forever: only that thread could run it; use the \
                 blocking connection the code is given, or make the call after the code returns"
            ),
        )
    })
}
