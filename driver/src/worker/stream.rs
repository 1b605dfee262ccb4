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
use crate::blocking::{Connection, NonUtf8Text, Row, RowRef};
use crate::ffi::Column;
use crate::{Params, Result, Value, ValueRef};

/// Rows per chunk.
pub(crate) const CHUNK_ROWS: usize = 256;
/// Chunks buffered between the worker and the consumer.
pub(crate) const CHUNKS_IN_FLIGHT: usize = 2;

/// Rows as they cross to the consumer, packed: one list of cells, one buffer for all their text and one for all
/// their blobs, so the worker allocates a few times per chunk rather than per row, and nothing it allocated per
/// row is freed on the other thread. The consumer makes each [`Row`] (its values, and a share of the column names)
/// on its own thread.
#[derive(Debug)]
pub(crate) struct Chunk {
    columns: Arc<[String]>,
    rows: usize,
    cells: Vec<Cell>,
    text: String,
    blobs: Vec<u8>,
}

/// One value of a packed row: text and blobs as ranges of the chunk's buffers.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
    Blob(usize, usize),
    /// TEXT that is not UTF-8, kept with the blobs (see [`Value`](crate::Value#text-that-is-not-utf-8) on how it
    /// reads).
    NonUtf8Text(usize, usize),
}

impl Chunk {
    fn new(columns: &Arc<[String]>) -> Self {
        Chunk {
            columns: Arc::clone(columns),
            rows: 0,
            cells: Vec::with_capacity(CHUNK_ROWS * columns.len()),
            text: String::new(),
            blobs: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.rows
    }

    fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Copy the current row of a statement in.
    fn push(&mut self, row: &RowRef<'_>) -> Result<()> {
        for i in 0..self.columns.len() {
            let cell = match row.column(i) {
                Column::Value(ValueRef::Null) => Cell::Null,
                Column::Value(ValueRef::Integer(v)) => Cell::Integer(v),
                Column::Value(ValueRef::Real(v)) => Cell::Real(v),
                Column::Value(ValueRef::Text(t)) => {
                    self.text.push_str(t);
                    Cell::Text(self.text.len() - t.len(), self.text.len())
                }
                Column::Value(ValueRef::Blob(b)) => {
                    self.blobs.extend_from_slice(b);
                    Cell::Blob(self.blobs.len() - b.len(), self.blobs.len())
                }
                Column::NonUtf8Text(b) => {
                    self.blobs.extend_from_slice(b);
                    Cell::NonUtf8Text(self.blobs.len() - b.len(), self.blobs.len())
                }
            };
            self.cells.push(cell);
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows, made on the consumer's side.
    pub fn into_rows(self) -> ChunkRows {
        ChunkRows { next: 0, chunk: Some(self) }
    }
}

/// The rows of a chunk, one at a time.
#[derive(Debug, Default)]
pub(crate) struct ChunkRows {
    chunk: Option<Chunk>,
    next: usize,
}

impl Iterator for ChunkRows {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        let chunk = self.chunk.as_ref()?;
        let width = chunk.columns.len();
        if self.next >= chunk.rows {
            return None;
        }
        let cells = chunk.cells.get(self.next * width..(self.next + 1) * width)?;
        self.next += 1;
        let mut non_utf8 = None;
        let values: Box<[Value]> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| match *c {
                Cell::Null => Value::Null,
                Cell::Integer(v) => Value::Integer(v),
                Cell::Real(v) => Value::Real(v),
                Cell::Text(a, b) => Value::Text(chunk.text.get(a..b).unwrap_or_default().to_owned()),
                Cell::Blob(a, b) => Value::Blob(chunk.blobs.get(a..b).unwrap_or_default().to_vec()),
                Cell::NonUtf8Text(a, b) => {
                    NonUtf8Text::note(&mut non_utf8, i, chunk.blobs.get(a..b).unwrap_or_default())
                }
            })
            .collect();
        Some(Row::from_parts(Arc::clone(&chunk.columns), values, non_utf8))
    }
}

/// What the consumer and the worker share: the consumer's waker, and the rows spilled to free the connection.
#[derive(Debug, Default)]
pub(crate) struct StreamLink {
    pub waker: AtomicWaker,
    /// Chunks that come after everything sent through the channel, and the error that ended the rows, if any.
    pub spilled: Mutex<VecDeque<Result<Chunk>>>,
}

/// How long the worker waits for the consumer between checks of its own queue.
const PAUSE_SLICE: Duration = Duration::from_millis(1);

enum Delivery {
    Sent,
    ConsumerGone,
    Spill(Result<Chunk>),
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
    pub tx: Sender<Result<Chunk>>,
    pub link: WakeOnDrop,
}

/// Send one chunk (or the error that ended the rows), waiting while the consumer is behind; give it back to spill
/// if a job waits for this worker (maybe the consumer's own, which then cannot drain the channel).
fn deliver(ctx: &Ctx<'_>, tx: &Sender<Result<Chunk>>, link: &StreamLink, item: Result<Chunk>) -> Delivery {
    let mut item = item;
    loop {
        match tx.send_timeout(item, PAUSE_SLICE) {
            Ok(()) => {
                link.waker.wake();
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
/// that drops the stream disconnects the channel, which ends the loop and resets the statement.
pub(crate) fn run(ctx: &Ctx<'_>, conn: &mut Connection, sql: &str, params: Params, sink: StreamSink) {
    let StreamSink { reply, tx, link } = sink;
    if !reply.start(ctx.id) {
        return;
    }
    // The chunk being filled; what it holds when the rows end (or fail) is sent after the statement is reset.
    let mut chunk: Option<Chunk> = None;
    let out = ctx.guarded_without_deadline(conn, reply.token(), |c| {
        let mut stmt = c.prepare_cached(sql)?;
        let mut cursor = stmt.cursor(params)?;
        while let Some(row) = cursor.next()? {
            let full = {
                let c = chunk.get_or_insert_with(|| Chunk::new(row.shared_columns()));
                c.push(&row)?;
                c.len() == CHUNK_ROWS
            };
            if full {
                let Some(full) = chunk.take() else { continue };
                match deliver(ctx, &tx, &link.0, Ok(full)) {
                    Delivery::Sent => {}
                    Delivery::ConsumerGone => return Ok(()),
                    Delivery::Spill(unsent) => {
                        let mut spilled = VecDeque::from([unsent]);
                        let rest = (|| -> Result<()> {
                            while let Some(row) = cursor.next()? {
                                let c = chunk.get_or_insert_with(|| Chunk::new(row.shared_columns()));
                                c.push(&row)?;
                                if c.len() == CHUNK_ROWS {
                                    spilled.extend(chunk.take().map(Ok));
                                }
                            }
                            Ok(())
                        })();
                        // The rows read before an error, then the error: the consumer, who waits for this
                        // connection, cannot make room in the channel for it.
                        spilled.extend(chunk.take().filter(|c| !c.is_empty()).map(Ok));
                        spilled.extend(rest.err().map(Err));
                        *link.0.spilled.lock().unwrap_or_else(PoisonError::into_inner) = spilled;
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    });
    // The rows read before the end, or before an error (none lost), then the error: in order, and spilled after
    // the channel's chunks if a job waits for this worker.
    let tail = chunk.filter(|c| !c.is_empty()).map(Ok).into_iter().chain(out.err().map(Err));
    let mut spilled = false;
    for item in tail {
        let unsent = if spilled {
            Some(item)
        } else {
            match deliver(ctx, &tx, &link.0, item) {
                Delivery::Spill(unsent) => Some(unsent),
                Delivery::Sent | Delivery::ConsumerGone => None,
            }
        };
        if let Some(unsent) = unsent {
            link.0.spilled.lock().unwrap_or_else(PoisonError::into_inner).push_back(unsent);
            spilled = true;
        }
    }
    // Settle the reply before disconnecting, so the consumer can tell a finished stream from an abandoned one.
    ctx.settle(conn);
    reply.complete(Ok(()), &ctx.core.spin);
    drop(tx);
    drop(link); // wakes the consumer to see the end
}
