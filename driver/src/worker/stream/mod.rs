//! The worker's side of a row stream: rows go out in chunks ([`chunk`]) over a bounded channel, so memory stays
//! flat however many rows the query returns.
//!
//! While the consumer is behind, the worker waits for room. If meanwhile a job waits for this very connection
//! (the consumer writing row by row on a single [`Connection`](crate::Connection) or inside a transaction, or more
//! paused streams than readers), waiting on would deadlock or starve it: the worker then *spills*, reading the
//! rest of the rows at once and setting them aside for the stream ([`spill`]: a few chunks in memory, the rest in a
//! temporary file), resets the statement and moves on to the waiting job.

pub(crate) mod chunk;
pub(crate) mod spill;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crossbeam_channel::{SendTimeoutError, Sender};
use futures::task::AtomicWaker;

pub(crate) use chunk::{Chunk, ChunkRows};
use spill::Spill;

use super::reply::Completer;
use super::Ctx;
use crate::blocking::Connection;
use crate::{Params, Result};

/// Chunks buffered between the worker and the consumer.
pub(crate) const CHUNKS_IN_FLIGHT: usize = 2;

/// What the consumer and the worker share: the consumer's waker, and the rows spilled to free the connection.
#[derive(Debug, Default)]
pub(crate) struct StreamLink {
    pub waker: AtomicWaker,
    /// What comes after everything sent through the channel: set by the worker before it disconnects the channel,
    /// taken by the consumer once it sees the channel disconnected.
    pub spilled: Mutex<Spill>,
}

/// How long the worker waits for the consumer between checks of its own queue.
const PAUSE_SLICE: Duration = Duration::from_millis(1);

/// What became of an item offered to a stream's consumer.
pub(crate) enum Delivery<T> {
    Sent,
    ConsumerGone,
    /// Not sent: a job waits for this worker, so the rest must be set aside.
    Spill(Result<T>),
}

/// Wakes the consumer when dropped, however the sink goes (run, skipped, or discarded with a closed queue).
pub(crate) struct WakeOnDrop(pub Arc<StreamLink>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        super::reply::wake(&self.0.waker);
    }
}

/// The worker's end of a stream. Fields drop in order: the reply is marked abandoned (if unrun), the channel
/// disconnects, then the consumer is woken to see both.
pub(crate) struct StreamSink {
    pub reply: Completer<()>,
    pub tx: Sender<Result<Chunk>>,
    pub link: WakeOnDrop,
}

/// Send one chunk (or the error that ended the rows), waiting while the consumer is behind; give it back to spill
/// if a job waits for this worker (maybe the consumer's own, which then cannot drain the channel).
/// (Also the Arrow stream's: its items are record batches.)
pub(crate) fn deliver<T>(ctx: &Ctx<'_>, tx: &Sender<Result<T>>, waker: &AtomicWaker, item: Result<T>) -> Delivery<T> {
    let mut item = item;
    loop {
        match tx.send_timeout(item, PAUSE_SLICE) {
            Ok(()) => {
                super::reply::wake(waker);
                return Delivery::Sent;
            }
            Err(SendTimeoutError::Disconnected(_)) => return Delivery::ConsumerGone,
            Err(SendTimeoutError::Timeout(back)) => {
                if ctx.queue.is_some_and(|q| !q.is_empty()) {
                    return Delivery::Spill(back);
                }
                item = back;
            }
        }
    }
}

/// Run the query and feed its rows to the consumer. The worker waits while both chunks are unread; a consumer
/// that drops the stream disconnects the channel (or interrupts the statement), which ends the loop and resets the
/// statement.
pub(crate) fn run(ctx: &Ctx<'_>, conn: &mut Connection, sql: &str, params: Params, sink: StreamSink) {
    let StreamSink { reply, tx, link } = sink;
    if !reply.start(ctx.id) {
        return;
    }
    // The chunk being filled; what it holds when the rows end (or fail) goes out after the statement is reset.
    let mut chunk: Option<Chunk> = None;
    // Everything after the first chunk that could not be sent, in order.
    let mut spill = Spill::default();
    let out = ctx.guarded_without_deadline(conn, reply.token(), |c| {
        let mut stmt = c.prepare_cached(sql)?;
        let mut cursor = stmt.cursor(params)?;
        while let Some(row) = cursor.next()? {
            let c = chunk.get_or_insert_with(|| Chunk::new(row.shared_columns()));
            c.push(&row)?;
            if !c.is_full() {
                continue;
            }
            let Some(full) = chunk.take() else { continue };
            if spill.is_empty() {
                match deliver(ctx, &tx, &link.0.waker, Ok(full)) {
                    Delivery::Sent => {}
                    Delivery::ConsumerGone => return Ok(()),
                    // Read the rest now, so the statement is reset before the waiting job runs.
                    Delivery::Spill(unsent) => spill.push(unsent),
                }
            } else {
                spill.push(Ok(full));
                if !spill.is_open() {
                    return Ok(()); // the spill file failed: its error ends the rows
                }
            }
        }
        Ok(())
    });
    // The rows read before the end, or before an error (none lost), then the error: in order, and spilled after
    // the channel's chunks if a job waits for this worker.
    let tail = chunk.filter(|c| !c.is_empty()).map(Ok).into_iter().chain(out.err().map(Err));
    for item in tail {
        if !spill.is_empty() {
            spill.push(item);
        } else if let Delivery::Spill(unsent) = deliver(ctx, &tx, &link.0.waker, item) {
            spill.push(unsent);
        }
    }
    if !spill.is_empty() {
        *link.0.spilled.lock().unwrap_or_else(PoisonError::into_inner) = spill;
    }
    // Settle the reply before disconnecting, so the consumer can tell a finished stream from an abandoned one.
    ctx.settle(conn);
    reply.complete(Ok(()), &ctx.core.spin);
    drop(tx);
    drop(link); // wakes the consumer to see the end
}
