//! The handle side of a pool: routing jobs, admission, the calls in flight, and closing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use crossbeam_channel::Sender;

use super::inline::Tried;
use super::reply::{self, Completer};
use super::{Core, Job, QueryReply};
use crate::blocking::Connection;
use crate::ffi::InterruptHandle;
use crate::{Error, ErrorKind, Params, Result};

/// Where a job goes.
#[derive(Clone, Copy)]
pub(crate) enum Route<'a> {
    /// The writer: writes, closures, transactions.
    Write,
    /// Any idle reader (the writer when the pool has none).
    Read,
    /// An open transaction's channel.
    Tx(&'a Sender<Job>),
}

/// What every handle of one pool (or connection) shares.
pub(crate) struct Shared {
    pub core: Arc<Core>,
    interrupts: Box<[InterruptHandle]>,
    closed: AtomicBool,
    /// Senders between their check of `closed` and the end of their send.
    sending: AtomicUsize,
    what: &'static str,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("readers", &self.readers()).field("closed", &self.is_closed()).finish()
    }
}

impl Shared {
    pub fn new(core: Arc<Core>, interrupts: Box<[InterruptHandle]>, what: &'static str) -> Self {
        Shared { core, interrupts, closed: AtomicBool::new(false), sending: AtomicUsize::new(0), what }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub fn readers(&self) -> usize {
        self.core.readers
    }

    pub fn closed_error(&self) -> Error {
        Error::closed(self.what)
    }

    /// Interrupt the job with `token` if it still runs on worker `runner`.
    pub fn interrupt(&self, runner: usize, token: u64) {
        if let Some(h) = self.interrupts.get(runner) {
            h.interrupt_token(token);
        }
    }

    /// Interrupt whatever runs on every worker.
    pub fn interrupt_all(&self) {
        self.interrupts.iter().for_each(InterruptHandle::interrupt);
    }

    pub fn queue_depths(&self) -> (usize, usize) {
        (self.core.writer.len(), self.core.reader_queue.as_ref().map_or(0, super::queue::Queue::len))
    }

    /// Try to enqueue `job` on `route`; `Pending` (with the waker registered) while the queue is full. On success
    /// the call counts as in flight until its ticket settles.
    pub fn poll_send(&self, route: Route<'_>, job: &mut Option<Job>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Some(e) = super::reentry::would_wait_for_itself(&self.core, route) {
            return Poll::Ready(Err(e));
        }
        if let Route::Tx(tx) = route {
            let Some(j) = job.take() else { return Poll::Ready(Ok(())) };
            return Poll::Ready(tx.send(j).map_err(|_| {
                Error::new(
                    ErrorKind::TransactionAborted,
                    "the transaction is no longer open (it was committed, rolled back or dropped, or its worker \
                     stopped)",
                )
            }));
        }
        let queue = match (route, &self.core.reader_queue) {
            (Route::Read, Some(r)) => r,
            _ => &self.core.writer,
        };
        self.sending.fetch_add(1, Ordering::SeqCst);
        if self.closed.load(Ordering::SeqCst) {
            self.sending.fetch_sub(1, Ordering::SeqCst);
            return Poll::Ready(Err(self.closed_error()));
        }
        let sent = queue.poll_send(job, cx);
        self.sending.fetch_sub(1, Ordering::SeqCst);
        match sent {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => {
                if !std::ptr::eq(queue, &self.core.writer) {
                    self.core.readers_lead.job_queued();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(_)) => Poll::Ready(Err(self.closed_error())),
        }
    }

    /// Run a read on the calling thread if it is cheap and a reader connection is free (see
    /// [`super::inline`]); otherwise give the parameters back, to send the job.
    #[inline]
    pub fn try_inline<R: Send + 'static>(
        &self,
        route: Route<'_>,
        sql: &str,
        params: Params,
        f: impl FnOnce(&mut Connection, &mut Params) -> Result<R>,
    ) -> Tried<R> {
        if matches!(route, Route::Tx(_)) || self.is_closed() {
            return Tried::Declined(params);
        }
        super::inline::try_read(&self.core, sql, params, f)
    }

    /// A read-shaped query (`query`, `query_one`, `query_opt`): inline with `run` if it is cheap and a connection is
    /// free, else a [`Job::Query`] whose reply `reply` wraps.
    pub async fn query<T: Send + 'static>(
        &self,
        route: Route<'_>,
        sql: &str,
        params: Params,
        run: impl FnOnce(&mut Connection, &mut Params) -> Result<T>,
        reply: impl FnOnce(Completer<T>) -> QueryReply,
    ) -> Result<T> {
        let params = match self.try_inline(route, sql, params, run) {
            Tried::Ran(out) => return out,
            Tried::Declined(params) => params,
        };
        self.submit(route, |r| Job::Query { sql: sql.into(), params, reply: reply(r) }).await
    }

    /// Send a job made around a fresh reply, and await the reply. Dropping the future cancels the job.
    pub async fn submit<T>(&self, route: Route<'_>, make: impl FnOnce(Completer<T>) -> Job) -> Result<T> {
        self.submit_with(route, make, true).await
    }

    /// As [`Shared::submit`], but the job runs even if the future is dropped (ending a transaction or a savepoint
    /// must not depend on the caller staying).
    pub async fn submit_uncancellable<T>(&self, route: Route<'_>, make: impl FnOnce(Completer<T>) -> Job) -> Result<T> {
        self.submit_with(route, make, false).await
    }

    async fn submit_with<T>(
        &self,
        route: Route<'_>,
        make: impl FnOnce(Completer<T>) -> Job,
        cancel: bool,
    ) -> Result<T> {
        let (completer, ticket) = reply::channel();
        let mut reply = reply::Reply::new(ticket, self, cancel);
        let mut job = Some(make(completer));
        futures::future::poll_fn(|cx| self.poll_send(route, &mut job, cx)).await?;
        reply.sent();
        reply.await
    }

    /// Close: stop new calls, let every job queued so far finish, and wait until every worker has closed its
    /// connection and stopped. Concurrent and repeated calls all wait for the same end.
    pub async fn close(&self) -> Result<()> {
        if !self.closed.swap(true, Ordering::SeqCst) {
            // Wait out senders that checked `closed` before we set it, so their jobs queue before the close jobs.
            while self.sending.load(Ordering::SeqCst) != 0 {
                std::thread::yield_now();
            }
            self.core.send_close();
        }
        if super::serving(&self.core).is_some() {
            // Inside one of the pool's own jobs: the workers stop only after it, so waiting here would never end.
            return Err(Error::new(
                ErrorKind::Misuse,
                "close() was awaited inside a closure or decoder running on one of the pool's own workers, which \
                 stop only after it returns, so waiting would wait for itself forever; the pool is closing",
            ));
        }
        futures::future::poll_fn(|cx| self.core.poll_stopped(cx)).await;
        match self.core.dead_workers.load(Ordering::SeqCst) {
            0 => Ok(()),
            n => Err(Error::new(
                ErrorKind::Panicked,
                format!("{n} worker thread(s) died of a panic outside any job; their connections were closed"),
            )),
        }
    }
}

impl Drop for Shared {
    /// The last handle is gone without `close`: the workers stop once their queues drain.
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.core.send_close();
        }
    }
}
