//! [`ArrowStream`]: a query's rows as a `futures::Stream` of record batches, built on the worker and handed over
//! one at a time, with the memory bounds and the escape from deadlock of [`RowStream`](crate::RowStream).
//!
//! The worker builds a batch of `batch_rows` rows and offers it over a channel of one: it waits while the consumer
//! holds the previous one unread, so at most three batches exist at once (the consumer's, the one in the channel,
//! the one being built). While it waits it watches its own queue: if a job waits for this worker (the consumer
//! writes through the same [`Connection`](crate::Connection) or transaction between batches, or pauses more
//! streams than the pool has readers), waiting on could deadlock, so it *spills* as a row stream does: the unsent
//! batch stays in memory, the rest of the rows are read at once into packed chunks (four in memory, the others in
//! an anonymous temporary file; see [`RowStream`](crate::RowStream#memory)), the statement is reset and the
//! worker serves the job. The consumer then gets the unsent batch, and batches built on its own thread from the
//! spilled rows, with the same column types (the builder's state travels with the rows). Memory stays at a batch
//! and a few chunks however long the result; a paused stream costs disk, not memory.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use arrow_array::RecordBatch;
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use futures::task::AtomicWaker;
use futures::Stream;

use super::batch::BatchBuilder;
use super::blocking::ArrowBatches;
use super::{ArrowJob, ArrowOptions};
use crate::blocking::Connection;
use crate::client::OwnedRoute;
use crate::worker::ctx::Ctx;
use crate::worker::reply::{self, Completer, Ticket};
use crate::worker::stream::spill::Spill;
use crate::worker::stream::{deliver, Chunk, ChunkRows, Delivery};
use crate::worker::{Job, Shared};
use crate::{Params, Result};

/// Batches in the channel between the worker and the consumer.
const BATCHES_IN_FLIGHT: usize = 1;

/// What the consumer and the worker share: the consumer's waker, and what the worker set aside to free its
/// connection (taken by the consumer once the channel is drained and disconnected).
#[derive(Debug, Default)]
pub(crate) struct ArrowLink {
    waker: AtomicWaker,
    rest: Mutex<Option<Rest>>,
}

/// Wakes the consumer when dropped, however the sink goes (run, skipped, or discarded with a closed queue).
pub(crate) struct WakeOnDrop(Arc<ArrowLink>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.waker.wake();
    }
}

/// The worker's end of an Arrow stream. Fields drop in order: the reply is marked abandoned (if unrun), the
/// channel disconnects, then the consumer is woken to see both.
pub(crate) struct ArrowSink {
    reply: Completer<()>,
    tx: Sender<Result<RecordBatch>>,
    link: WakeOnDrop,
    batch_rows: usize,
    options: ArrowOptions,
}

/// What comes after everything sent through the channel: the item that could not be sent, then the spilled rows
/// made into batches on the consumer's thread, then the error that ended them, if any.
#[derive(Debug)]
pub(crate) struct Rest {
    unsent: VecDeque<Result<RecordBatch>>,
    rows: Spill,
    /// The chunk being filled (worker) or read (consumer).
    filling: Option<Chunk>,
    reading: ChunkRows,
    builder: Option<BatchBuilder>,
    batch_rows: usize,
    /// The error to give after the batch of the rows before it.
    pending: Option<crate::Error>,
}

impl Rest {
    fn new(unsent: Result<RecordBatch>, batch_rows: usize) -> Self {
        Rest {
            unsent: VecDeque::from([unsent]),
            rows: Spill::default(),
            filling: None,
            reading: ChunkRows::default(),
            builder: None,
            batch_rows,
            pending: None,
        }
    }

    /// Set aside the rest of the rows of `batches` (worker side): no type checks here, the consumer makes the
    /// batches.
    fn spill(&mut self, batches: &mut ArrowBatches<'_, '_>) -> Result<()> {
        if let Some(e) = batches.pending.take() {
            self.unsent.push_back(Err(e));
            return Ok(());
        }
        self.builder = batches.builder.take();
        while let Some(row) = batches.cursor.next()? {
            let c = self.filling.get_or_insert_with(|| Chunk::new(row.shared_columns()));
            c.push(&row)?;
            if c.is_full() {
                if let Some(full) = self.filling.take() {
                    self.rows.push(Ok(full));
                }
                if !self.rows.is_open() {
                    break; // the spill file failed: its error ends the rows
                }
            }
        }
        Ok(())
    }

    /// The last rows, or the error that ended them (worker side).
    fn end(&mut self, error: Option<crate::Error>) {
        if let Some(c) = self.filling.take().filter(|c| !c.is_empty()) {
            self.rows.push(Ok(c));
        }
        if let Some(e) = error {
            self.rows.push(Err(e));
        }
    }

    /// The next batch (consumer side): the unsent item, then batches of the spilled rows.
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        if let Some(item) = self.unsent.pop_front() {
            return Some(item);
        }
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        loop {
            if let Some(row) = self.reading.next() {
                let r = row.as_row_ref();
                let b = match &mut self.builder {
                    Some(b) => b,
                    None => match BatchBuilder::new(r.columns(), |_| None, &ArrowOptions::default()) {
                        Ok(b) => self.builder.insert(b),
                        Err(e) => return Some(Err(e)),
                    },
                };
                if let Err(e) = b.push(&r) {
                    return self.last(Some(e));
                }
                if b.len() >= self.batch_rows {
                    return Some(b.finish());
                }
                continue;
            }
            match self.rows.next() {
                Some(Ok(chunk)) => self.reading = chunk.into_rows(),
                Some(Err(e)) => return self.last(Some(e)),
                None => return self.last(None),
            }
        }
    }

    /// The batch of the rows left (if any), then `end`.
    fn last(&mut self, end: Option<crate::Error>) -> Option<Result<RecordBatch>> {
        self.reading = ChunkRows::default();
        self.rows = Spill::default();
        match self.builder.as_mut().filter(|b| b.len() > 0) {
            Some(b) => {
                self.pending = end;
                Some(b.finish())
            }
            None => end.map(Err),
        }
    }
}

/// Run the query on the worker and feed its batches to the consumer (see the module docs).
pub(crate) fn run(ctx: &Ctx<'_>, conn: &mut Connection, sql: &str, params: Params, sink: ArrowSink) {
    let ArrowSink { reply, tx, link, batch_rows, options } = sink;
    if !reply.start(ctx.id) {
        return;
    }
    let mut rest: Option<Rest> = None;
    let out = ctx.guarded_without_deadline(conn, reply.token(), |c| {
        let mut stmt = c.prepare_cached(sql)?;
        let mut batches = stmt.arrow_batches_with(params, batch_rows, &options)?;
        while let Some(item) = batches.next() {
            match deliver(ctx, &tx, &link.0.waker, item) {
                Delivery::Sent => {}
                Delivery::ConsumerGone => return Ok(()),
                Delivery::Spill(unsent) => {
                    // Read the rest now, so the statement is reset before the waiting job runs.
                    let r = rest.insert(Rest::new(unsent, batch_rows));
                    return r.spill(&mut batches);
                }
            }
        }
        Ok(())
    });
    match &mut rest {
        Some(r) => r.end(out.err()),
        None => {
            if let Err(e) = out {
                // Failed before the first batch (a bad statement or parameters), or while spilling.
                if let Delivery::Spill(unsent) = deliver(ctx, &tx, &link.0.waker, Err(e)) {
                    rest = Some(Rest::new(unsent, batch_rows));
                }
            }
        }
    }
    if rest.is_some() {
        *link.0.rest.lock().unwrap_or_else(PoisonError::into_inner) = rest;
    }
    // Settle the reply before disconnecting, so the consumer can tell a finished stream from an abandoned one.
    ctx.settle(conn);
    reply.complete(Ok(()), &ctx.core.spin);
    drop(tx);
    drop(link); // wakes the consumer to see the end
}

/// A query's rows as Arrow record batches of a chosen size; made by
/// [`Client::stream_arrow`](crate::Client::stream_arrow).
///
/// Batches are built on the worker and cross to the consumer whole. Every batch has the first one's schema, and an
/// empty result gives one batch of no rows (see [`arrow`](crate::arrow#streams)). Nothing is sent until the stream
/// is first polled.
///
/// # Memory
///
/// At most three batches exist at once: the one the consumer holds, one waiting for it, and the one being built.
/// When the consumer pauses while another call waits for the stream's worker (it writes through the same
/// [`Connection`](crate::Connection) or transaction between batches, or keeps more streams paused than the pool
/// has readers), the worker does not wait, which could deadlock: it keeps the batch it could not send, sets the
/// rest of the rows aside as a [`RowStream`](crate::RowStream) does (a few packed chunks in memory, the rest in an
/// anonymous temporary file), resets the statement and serves the call. The stream then yields that batch and
/// batches built from the rows set aside, on the thread that polls it, with the same schema: still the rows of
/// the one statement run. If the file cannot be written, the rows saved before the failure come, then the error.
///
/// # Cancel safety
///
/// Dropping the stream at any point is safe: a query not yet started is skipped, a running one is interrupted, and
/// its statement is reset, releasing its read snapshot.
#[must_use = "streams do nothing unless polled"]
pub struct ArrowStream {
    shared: Arc<Shared>,
    route: OwnedRoute,
    pending: Option<Job>,
    rx: Receiver<Result<RecordBatch>>,
    link: Arc<ArrowLink>,
    ticket: Ticket<()>,
    rest: Option<Rest>,
    done: bool,
}

impl std::fmt::Debug for ArrowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrowStream").field("done", &self.done).finish_non_exhaustive()
    }
}

impl ArrowStream {
    pub(crate) fn new(
        shared: Arc<Shared>,
        route: OwnedRoute,
        sql: &str,
        params: Params,
        batch_rows: usize,
        options: ArrowOptions,
    ) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(BATCHES_IN_FLIGHT);
        let link = Arc::new(ArrowLink::default());
        let (completer, ticket) = reply::channel();
        let sink = ArrowSink { reply: completer, tx, link: WakeOnDrop(Arc::clone(&link)), batch_rows, options };
        let job = Job::Arrow { sql: sql.into(), params, job: Box::new(ArrowJob::Stream(sink)) };
        ArrowStream { shared, route, pending: Some(job), rx, link, ticket, rest: None, done: false }
    }

    fn finish(&mut self, item: Option<Result<RecordBatch>>) -> Poll<Option<Result<RecordBatch>>> {
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        Poll::Ready(item)
    }

    /// The next batch from the channel or what was set aside, without registering interest.
    fn try_next(&mut self) -> Option<Option<Result<RecordBatch>>> {
        match self.rx.try_recv() {
            Ok(item) => Some(Some(item)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                // What the worker set aside comes after the channel's batches (it was stored before the disconnect).
                if self.rest.is_none() {
                    self.rest = self.link.rest.lock().unwrap_or_else(PoisonError::into_inner).take();
                }
                if let Some(item) = self.rest.as_mut().and_then(Rest::next) {
                    return Some(Some(item));
                }
                // Finished, or dropped unrun because the pool closed: the ticket tells which.
                Some(match self.ticket.try_take() {
                    Some(Err(e)) => Some(Err(e)),
                    _ => None,
                })
            }
        }
    }
}

impl Stream for ArrowStream {
    type Item = Result<RecordBatch>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<RecordBatch>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match crate::stream::poll_start(&this.shared, &mut this.route, &mut this.pending, cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return this.finish(Some(Err(e))),
            Poll::Ready(Ok(())) => {}
        }
        if let Some(item) = this.try_next() {
            return this.finish(item);
        }
        // A batch takes milliseconds to build: park rather than spin.
        this.link.waker.register(cx.waker());
        match this.try_next() {
            Some(item) => this.finish(item),
            None => Poll::Pending,
        }
    }
}

impl Drop for ArrowStream {
    fn drop(&mut self) {
        if self.pending.is_none() {
            self.ticket.cancel(&self.shared);
        }
    }
}
