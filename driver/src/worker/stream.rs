//! The worker's side of a row stream: rows go out in chunks over a bounded channel, so memory stays flat however
//! many rows the query returns.
//!
//! While the consumer is behind, the worker waits for room. If meanwhile a job waits for this very connection
//! (the consumer writing row by row on a single [`Connection`](crate::Connection) or inside a transaction, or every
//! reader busy), waiting on would deadlock or starve it: the worker then *spills*, reading the rest of the rows
//! into memory, hands them to the stream, and moves on to the waiting job.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crossbeam_channel::{SendTimeoutError, Sender};
use futures::task::AtomicWaker;

use super::reply::Completer;
use super::Ctx;
use crate::blocking::{Connection, Row};
use crate::{Params, Result};

/// Rows per chunk.
pub(crate) const CHUNK_ROWS: usize = 256;
/// Chunks buffered between the worker and the consumer.
pub(crate) const CHUNKS_IN_FLIGHT: usize = 2;

/// What the consumer and the worker share: the consumer's waker, and the rows spilled to free the connection.
#[derive(Debug, Default)]
pub(crate) struct StreamLink {
    pub waker: AtomicWaker,
    /// Chunks that come after everything sent through the channel.
    pub spilled: Mutex<VecDeque<Vec<Row>>>,
}

/// How long the worker waits for the consumer between checks of its own queue.
const PAUSE_SLICE: Duration = Duration::from_millis(1);

enum Delivery {
    Sent,
    ConsumerGone,
    Spill(Vec<Row>),
}

/// Wakes the consumer when dropped, however the sink goes (run, skipped, or discarded with a closed queue).
pub(crate) struct WakeOnDrop(pub Arc<StreamLink>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.waker.wake();
    }
}

/// The worker's end of a stream. Fields drop in order: the reply is marked abandoned (if unrun), the channel
/// disconnects, then the consumer is woken to see both.
pub(crate) struct StreamSink {
    pub reply: Completer<()>,
    pub tx: Sender<Result<Vec<Row>>>,
    pub link: WakeOnDrop,
}

/// Send one chunk, waiting while the consumer is behind; give it back to spill if a job waits for this worker.
fn deliver(ctx: &Ctx<'_>, tx: &Sender<Result<Vec<Row>>>, link: &StreamLink, chunk: Vec<Row>) -> Delivery {
    let mut chunk = chunk;
    loop {
        match tx.send_timeout(Ok(chunk), PAUSE_SLICE) {
            Ok(()) => {
                link.waker.wake();
                return Delivery::Sent;
            }
            Err(SendTimeoutError::Disconnected(_)) => return Delivery::ConsumerGone,
            Err(SendTimeoutError::Timeout(back)) => {
                chunk = back.unwrap_or_default();
                if ctx.queue.is_some_and(|q| !q.is_empty()) {
                    return Delivery::Spill(chunk);
                }
            }
        }
    }
}

/// Run the query and feed its rows to the consumer. The worker waits while both chunks are unread; a consumer
/// that drops the stream disconnects the channel, which ends the loop and resets the statement.
pub(crate) fn run(ctx: &Ctx<'_>, conn: &mut Connection, sql: &str, params: Params, sink: StreamSink) {
    let StreamSink { reply, tx, link } = sink;
    if !reply.start(ctx.id) {
        return;
    }
    let out = ctx.guarded_without_deadline(conn, reply.token(), |c| {
        let mut stmt = c.prepare_cached(sql)?;
        let mut cursor = stmt.cursor(params)?;
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        while let Some(row) = cursor.next()? {
            chunk.push(row.to_row()?);
            if chunk.len() == CHUNK_ROWS {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                match deliver(ctx, &tx, &link.0, full) {
                    Delivery::Sent => {}
                    Delivery::ConsumerGone => return Ok(()),
                    Delivery::Spill(unsent) => {
                        let mut spilled = VecDeque::from([unsent]);
                        while let Some(row) = cursor.next()? {
                            chunk.push(row.to_row()?);
                            if chunk.len() == CHUNK_ROWS {
                                spilled.push_back(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS)));
                            }
                        }
                        if !chunk.is_empty() {
                            spilled.push_back(chunk);
                        }
                        *link.0.spilled.lock().unwrap_or_else(PoisonError::into_inner) = spilled;
                        return Ok(());
                    }
                }
            }
        }
        if !chunk.is_empty() {
            if let Delivery::Spill(unsent) = deliver(ctx, &tx, &link.0, chunk) {
                link.0.spilled.lock().unwrap_or_else(PoisonError::into_inner).push_back(unsent);
            }
        }
        Ok(())
    });
    if let Err(e) = out {
        let _ = tx.send(Err(e));
    }
    // Settle the reply before disconnecting, so the consumer can tell a finished stream from an abandoned one.
    ctx.settle(conn);
    reply.complete(Ok(()), &ctx.core.spin);
    drop(tx);
    drop(link); // wakes the consumer to see the end
}
