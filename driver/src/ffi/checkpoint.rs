//! Checkpoints off the writer's path.
//!
//! In WAL mode SQLite checkpoints from the commit that grows the WAL past its threshold (1000 pages by default):
//! that one commit copies the WAL's pages into the database file and syncs it, milliseconds that land on whichever
//! write happened to cross the line, and that every call queued behind it on the writer waits out too. A pool's
//! writer hands that work to a thread of its own instead, with its own connection, which runs a passive checkpoint
//! (it takes no lock a writer or reader waits for) whenever the writer's WAL hook tells it the WAL has grown past
//! the threshold. The writer still checkpoints itself if the WAL grows to [`BACKSTOP`] times the threshold (the
//! checkpointer cannot keep up, or could not open), so the WAL stays bounded as SQLite keeps it.
//!
//! The checkpointer belongs to the writer's connection: dropping the connection stops it and waits for it, so a
//! closed pool leaves no thread or open file behind.

use std::ffi::c_int;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use libsqlite3_sys as ffi;

use super::RawConnection;

/// The writer checkpoints itself once the WAL holds this many times the threshold.
pub(crate) const BACKSTOP: u32 = 4;

/// A writer's checkpointer thread, and the line to wake it.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wake: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Start a checkpointer thread running `body`, which opens its connection and runs a checkpoint for every
    /// request it receives until the line hangs up.
    pub fn start(name: String, body: impl FnOnce(Receiver<()>) + Send + 'static) -> std::io::Result<Self> {
        // One pending request is enough: a checkpoint copies whatever the WAL holds when it runs.
        let (wake, requests) = crossbeam_channel::bounded::<()>(1);
        let thread = std::thread::Builder::new().name(name).spawn(move || body(requests))?;
        Ok(Checkpointer { wake: Some(wake), thread: Some(thread) })
    }

    /// Ask for a checkpoint; false if the checkpointer is gone (the writer must checkpoint itself).
    pub fn request(&self) -> bool {
        match self.wake.as_ref().map(|w| w.try_send(())) {
            Some(Ok(())) | Some(Err(TrySendError::Full(()))) => true,
            Some(Err(TrySendError::Disconnected(()))) | None => false,
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Hanging up ends the thread's loop once its checkpoint under way, if any, is done.
        drop(self.wake.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl RawConnection {
    /// Run a passive checkpoint of the main database: copy what no reader still needs, waiting for nobody.
    pub(crate) fn checkpoint_passive(&self) {
        let (mut log, mut done): (c_int, c_int) = (0, 0);
        // SAFETY: the connection is live and used on its thread. A null schema name checkpoints every attached
        // database, and the checkpointer's connection attaches none: the main one.
        unsafe {
            ffi::sqlite3_wal_checkpoint_v2(
                self.handle(),
                std::ptr::null(),
                ffi::SQLITE_CHECKPOINT_PASSIVE,
                &mut log,
                &mut done,
            )
        };
    }
}
