//! [`RowStream`]: rows of a query as a `futures::Stream`.

use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll};

use crossbeam_channel::{Receiver, TryRecvError};
use futures::Stream;

use crate::client::OwnedRoute;
use crate::worker::reply::{self, Ticket};
use crate::worker::stream::spill::Spill;
use crate::worker::stream::{Chunk, ChunkRows, StreamLink, StreamSink, WakeOnDrop, CHUNKS_IN_FLIGHT};
use crate::worker::{Job, Shared};
use crate::{Params, Result, Row};

/// The rows of a query, produced on the worker in chunks over a bounded channel and yielded one at a time.
///
/// A chunk carries 256 rows packed (one list of cells, one buffer for their text, one for their blobs; fewer rows
/// once it holds 128 KiB), and each [`Row`] is made from it on the consumer's thread: the worker allocates a few
/// times per chunk, not per row, and no per-row allocation crosses threads to be freed. Nothing is sent until the
/// stream is first polled.
///
/// # Memory
///
/// A stream holds a few chunks, however many rows the query returns and whatever its consumer does: the worker
/// waits while the consumer has two unread chunks. If meanwhile another call waits for that worker (the consumer
/// writes each row back through the same [`Connection`](crate::Connection) or transaction, or keeps more streams
/// paused than the pool has readers), waiting on could deadlock, so the worker *spills*: it reads the rest of the
/// result at once, keeps the first four chunks in memory and writes the others to an anonymous temporary file,
/// resets the statement (releasing its read snapshot) and serves the call. The stream then yields the spilled rows
/// in order, reading the file back one chunk at a time on the thread that polls it. They are still the rows of the
/// one statement run, from its one snapshot.
///
/// The file is made in [`std::env::temp_dir`] (`TMPDIR` on Unix chooses it; a RAM-backed `tmpfs` there holds the
/// rows in memory after all), is unlinked at once where the system allows it, and is gone when the stream is
/// finished or dropped. It takes about as much disk as the rest of the result. If it cannot be created or written
/// (a full disk), the stream yields every row set aside before the failure, then the error (of kind
/// [`ErrorKind::Full`](crate::ErrorKind::Full) or [`ErrorKind::Io`](crate::ErrorKind::Io)), and ends: rows are
/// never dropped silently.
///
/// # Cancel safety
///
/// Dropping the stream at any point is safe: a query not yet started is skipped, a running one is interrupted, and
/// its statement is reset, releasing its read snapshot.
#[must_use = "streams do nothing unless polled"]
pub struct RowStream {
    shared: Arc<Shared>,
    route: OwnedRoute,
    pending: Option<Job>,
    rx: Receiver<Result<Chunk>>,
    link: Arc<StreamLink>,
    ticket: Ticket<()>,
    buf: ChunkRows,
    /// The rows the worker set aside, taken from the link once the channel is drained and disconnected.
    spilled: Option<Spill>,
    done: bool,
    /// Spins in a row that ran out without a chunk, and chances to spin left to skip because of them.
    spin_fails: u32,
    spin_skip: u32,
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream").field("done", &self.done).finish_non_exhaustive()
    }
}

impl RowStream {
    pub(crate) fn new(shared: Arc<Shared>, route: OwnedRoute, sql: &str, params: Params) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(CHUNKS_IN_FLIGHT);
        let link = Arc::new(StreamLink::default());
        let (completer, ticket) = reply::channel();
        let sink = StreamSink { reply: completer, tx, link: WakeOnDrop(Arc::clone(&link)) };
        let job = Job::Stream { sql: sql.into(), params, sink };
        RowStream {
            shared,
            route,
            pending: Some(job),
            rx,
            link,
            ticket,
            buf: ChunkRows::default(),
            spilled: None,
            done: false,
            spin_fails: 0,
            spin_skip: 0,
        }
    }

    fn finish(&mut self, item: Option<Result<Row>>) -> Poll<Option<Result<Row>>> {
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        Poll::Ready(item)
    }

    /// Take the next row from the buffer or the channel, without registering interest.
    fn try_next(&mut self) -> Option<Option<Result<Row>>> {
        loop {
            if let Some(row) = self.buf.next() {
                return Some(Some(Ok(row)));
            }
            match self.rx.try_recv() {
                Ok(Ok(chunk)) => self.buf = chunk.into_rows(),
                Ok(Err(e)) => return Some(Some(Err(e))),
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    // Rows the worker spilled to free its connection come after the channel's (the worker set them
                    // aside before it disconnected).
                    let link = &self.link;
                    let spilled = self.spilled.get_or_insert_with(|| {
                        std::mem::take(&mut *link.spilled.lock().unwrap_or_else(PoisonError::into_inner))
                    });
                    match spilled.next() {
                        Some(Ok(chunk)) => {
                            self.buf = chunk.into_rows();
                            continue;
                        }
                        Some(Err(e)) => return Some(Some(Err(e))),
                        None => {}
                    }
                    // Finished, or dropped unrun because the pool closed: the ticket tells which.
                    return Some(match self.ticket.try_take() {
                        Some(Err(e)) => Some(Err(e)),
                        _ => None,
                    });
                }
            }
        }
    }
}

impl RowStream {
    /// Wait briefly for the next chunk before yielding, as a call's future waits for its reply (see the crate docs
    /// on latency): a chunk comes every few tens of microseconds, and parking between them would cost a thread
    /// wake-up per chunk. Only while no other call of the pool is in flight (the executor then has nothing else
    /// to run); a spin that runs out makes the next `2^n` chances park instead.
    fn spin_for_chunk(&mut self) -> Option<Option<Result<Row>>> {
        let core = &self.shared.core;
        if !core.config.spin || core.in_flight.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            return None;
        }
        if self.spin_skip > 0 {
            self.spin_skip -= 1;
            return None;
        }
        let deadline = std::time::Instant::now() + crate::worker::park::MAX_WAITER_SPIN;
        let found = crate::worker::park::spin_until(deadline, || self.try_next());
        if found.is_some() {
            self.spin_fails = 0;
        } else {
            self.spin_fails = self.spin_fails.saturating_add(1);
            self.spin_skip = crate::worker::park::backoff(self.spin_fails);
        }
        found
    }
}

/// Send a stream's job if it is not sent yet (nothing to do once it is): `Pending` while its queue is full. Once
/// sent, the stream lets go of its route, so it does not keep a transaction's channel open.
pub(crate) fn poll_start(
    shared: &Arc<Shared>,
    route: &mut OwnedRoute,
    pending: &mut Option<Job>,
    cx: &mut Context<'_>,
) -> Poll<Result<()>> {
    if pending.is_none() {
        return Poll::Ready(Ok(()));
    }
    let sent = shared.poll_send(route.as_route(), pending, cx);
    if let Poll::Ready(Ok(())) = sent {
        *route = OwnedRoute::Write;
    }
    sent
}

impl Stream for RowStream {
    type Item = Result<Row>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Row>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match poll_start(&this.shared, &mut this.route, &mut this.pending, cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return this.finish(Some(Err(e))),
            Poll::Ready(Ok(())) => {}
        }
        if let Some(item) = this.try_next() {
            return this.finish(item);
        }
        if let Some(item) = this.spin_for_chunk() {
            return this.finish(item);
        }
        this.link.waker.register(cx.waker());
        match this.try_next() {
            Some(item) => this.finish(item),
            None => Poll::Pending,
        }
    }
}

impl Drop for RowStream {
    fn drop(&mut self) {
        if self.pending.is_none() {
            self.ticket.cancel(&self.shared);
        }
    }
}
