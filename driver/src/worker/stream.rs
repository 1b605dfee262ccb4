//! The worker's side of a row stream: rows go out in chunks over a bounded channel, so memory stays flat however
//! many rows the query returns.

use std::sync::Arc;

use crossbeam_channel::Sender;
use futures::task::AtomicWaker;

use super::reply::Completer;
use super::Ctx;
use crate::blocking::{Connection, Row};
use crate::{Params, Result};

/// Rows per chunk.
pub(crate) const CHUNK_ROWS: usize = 256;
/// Chunks buffered between the worker and the consumer.
pub(crate) const CHUNKS_IN_FLIGHT: usize = 2;

/// What the consumer and the worker share: the consumer's waker.
#[derive(Debug, Default)]
pub(crate) struct StreamLink {
    pub waker: AtomicWaker,
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

/// Run the query and feed its rows to the consumer. The worker blocks while both chunks are unread; a consumer
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
                if tx.send(Ok(full)).is_err() {
                    return Ok(()); // the consumer is gone
                }
                link.0.waker.wake();
            }
        }
        if !chunk.is_empty() {
            let _ = tx.send(Ok(chunk));
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
