//! Worker threads: each owns one blocking connection and runs the jobs sent to it.
//!
//! A job crosses threads like this: the async method builds a [`Job`] with a reply [`Completer`], pushes it onto a
//! bounded crossbeam queue (waiting asynchronously while the queue is full), and awaits the [`reply::Reply`]. The
//! worker takes the job ([`park`] says how it waits), checks that the caller still wants it, runs it under
//! `catch_unwind` with the job's interrupt token set, and completes the reply, which wakes the caller.

pub(crate) mod job;
pub(crate) mod park;
pub(crate) mod reply;
pub(crate) mod stream;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

pub(crate) use job::{Job, QueryReply};
use park::{Next, SpinPolicy, SpinToken, WorkerSpin};
pub(crate) use reply::Completer;

use crate::blocking::Connection;
use crate::ffi::InterruptHandle;
use crate::{Error, ErrorKind, Result};

/// Settings the workers read.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub statement_timeout: Option<Duration>,
    pub slow_threshold: Option<Duration>,
    pub spin: bool,
}

/// Counters of one worker, readable from the pool.
#[derive(Debug, Default)]
pub(crate) struct WorkerStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub jobs: AtomicU64,
}

/// Callers waiting for room in a full queue.
#[derive(Debug, Default)]
pub(crate) struct SpaceWaiters {
    waiting: AtomicUsize,
    wakers: Mutex<Vec<Waker>>,
}

impl SpaceWaiters {
    fn register(&self, waker: &Waker) {
        let mut w = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        w.push(waker.clone());
        self.waiting.store(w.len(), Ordering::Release);
    }

    /// Called by a worker each time it takes a job: room has been made.
    #[inline]
    fn wake_all(&self) {
        if self.waiting.load(Ordering::Acquire) == 0 {
            return;
        }
        let wakers = {
            let mut w = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
            self.waiting.store(0, Ordering::Release);
            std::mem::take(&mut *w)
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// State shared by the workers of a pool and its handles.
#[derive(Debug)]
pub(crate) struct Core {
    pub spin: SpinPolicy,
    pub in_flight: AtomicUsize,
    pub space: SpaceWaiters,
    pub stats: Box<[WorkerStats]>,
    pub config: Config,
    reader_token: SpinToken,
    /// Where readers send a job whose statement turns out to write.
    writer_tx: Sender<Job>,
}

impl Core {
    pub fn new(config: Config, workers: usize, writer_tx: Sender<Job>) -> Self {
        Core {
            spin: SpinPolicy::new(config.spin),
            in_flight: AtomicUsize::new(0),
            space: SpaceWaiters::default(),
            stats: (0..workers).map(|_| WorkerStats::default()).collect(),
            config,
            reader_token: SpinToken::default(),
            writer_tx,
        }
    }

    fn job_done(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

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

/// The handle side of a pool: its queues, its workers' interrupt handles, and the closing protocol.
pub(crate) struct Shared {
    pub core: Arc<Core>,
    writer_tx: Sender<Job>,
    reader_tx: Option<Sender<Job>>,
    readers: usize,
    interrupts: Box<[InterruptHandle]>,
    closed: AtomicBool,
    /// Senders between their check of `closed` and the end of their send.
    sending: AtomicUsize,
    what: &'static str,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("readers", &self.readers).field("closed", &self.is_closed()).finish()
    }
}

impl Shared {
    pub fn new(
        core: Arc<Core>,
        writer_tx: Sender<Job>,
        reader_tx: Option<Sender<Job>>,
        readers: usize,
        interrupts: Box<[InterruptHandle]>,
        what: &'static str,
    ) -> Self {
        Shared {
            core,
            writer_tx,
            reader_tx,
            readers,
            interrupts,
            closed: AtomicBool::new(false),
            sending: AtomicUsize::new(0),
            what,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub fn readers(&self) -> usize {
        self.readers
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

    #[inline]
    pub fn spin_budget(&self) -> Option<Duration> {
        self.core.spin.waiter_budget(self.core.in_flight.load(Ordering::Relaxed))
    }

    pub fn queue_depths(&self) -> (usize, usize) {
        (self.writer_tx.len(), self.reader_tx.as_ref().map_or(0, Sender::len))
    }

    /// Try to enqueue `job` on `route`; `Pending` (with the waker registered) while the queue is full.
    pub fn poll_send(&self, route: Route<'_>, job: &mut Option<Job>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let Some(j) = job.take() else { return Poll::Ready(Ok(())) };
        if let Route::Tx(tx) = route {
            self.core.in_flight.fetch_add(1, Ordering::AcqRel);
            return Poll::Ready(tx.send(j).map_err(|_| {
                self.core.job_done();
                Error::new(
                    ErrorKind::Closed,
                    "the transaction is no longer open (it ended, or was rolled back after a panic)",
                )
            }));
        }
        let queue = match (route, &self.reader_tx) {
            (Route::Read, Some(r)) => r,
            _ => &self.writer_tx,
        };
        self.sending.fetch_add(1, Ordering::SeqCst);
        if self.closed.load(Ordering::SeqCst) {
            self.sending.fetch_sub(1, Ordering::SeqCst);
            return Poll::Ready(Err(self.closed_error()));
        }
        self.core.in_flight.fetch_add(1, Ordering::AcqRel);
        let mut result = queue.try_send(j);
        if let Err(TrySendError::Full(j)) = result {
            // Register first, then retry, so a worker that makes room in between is not missed.
            self.core.space.register(cx.waker());
            result = queue.try_send(j);
        }
        self.sending.fetch_sub(1, Ordering::SeqCst);
        match result {
            Ok(()) => Poll::Ready(Ok(())),
            Err(TrySendError::Full(j)) => {
                self.core.job_done();
                *job = Some(j);
                Poll::Pending
            }
            Err(TrySendError::Disconnected(_)) => {
                self.core.job_done();
                Poll::Ready(Err(self.closed_error()))
            }
        }
    }

    /// Send a job made around a fresh reply, and await the reply.
    pub async fn submit<T>(&self, route: Route<'_>, make: impl FnOnce(Completer<T>) -> Job) -> Result<T> {
        let (completer, ticket) = reply::channel();
        let reply = reply::Reply { ticket, shared: self };
        let mut job = Some(make(completer));
        futures::future::poll_fn(|cx| self.poll_send(route, &mut job, cx)).await?;
        reply.await
    }

    /// Close: finish every job queued so far, close the readers, then the writer; later calls fail.
    pub async fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // Wait out senders that checked `closed` before we set it, so their jobs queue before the close jobs.
        while self.sending.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
        if let Some(rtx) = &self.reader_tx {
            let mut replies = Vec::with_capacity(self.readers);
            for _ in 0..self.readers {
                let (completer, ticket) = reply::channel();
                self.core.in_flight.fetch_add(1, Ordering::AcqRel);
                if rtx.send(Job::Close { reply: completer }).is_ok() {
                    replies.push(reply::Reply { ticket, shared: self });
                } else {
                    self.core.job_done();
                }
            }
            for r in replies {
                r.await?;
            }
        }
        let (completer, ticket) = reply::channel();
        self.core.in_flight.fetch_add(1, Ordering::AcqRel);
        if self.writer_tx.send(Job::Close { reply: completer }).is_ok() {
            reply::Reply { ticket, shared: self }.await?;
        } else {
            self.core.job_done();
        }
        Ok(())
    }
}

impl Drop for Shared {
    /// The last handle is gone without `close`: tell the workers to stop once their queues drain.
    fn drop(&mut self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        let close = |queue: &Sender<Job>| {
            let (completer, _ticket) = reply::channel();
            self.core.in_flight.fetch_add(1, Ordering::AcqRel);
            if queue.send(Job::Close { reply: completer }).is_err() {
                self.core.job_done();
            }
        };
        if let Some(rtx) = &self.reader_tx {
            (0..self.readers).for_each(|_| close(rtx));
        }
        close(&self.writer_tx);
    }
}

/// Run `f`, turning a panic into an error.
pub(crate) fn catch<R>(f: impl FnOnce() -> Result<R>) -> Result<R> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic payload".to_owned());
        Err(Error::new(ErrorKind::Panicked, format!("the closure panicked: {msg}")))
    })
}

/// What a worker knows while it runs one job.
pub(crate) struct Ctx<'a> {
    pub core: &'a Core,
    pub id: usize,
    pub reader: bool,
    pub in_tx: bool,
    panicked: Cell<bool>,
    settled: Cell<bool>,
    /// Refuse writes once the database file is deleted or moved (the writer of a file database).
    guard_file: bool,
    /// Whether the job now running writes.
    write_job: Cell<bool>,
    /// The span of the job now running.
    #[cfg(feature = "tracing")]
    span: std::cell::RefCell<tracing::Span>,
}

/// What became of a job.
#[derive(PartialEq, Eq)]
enum Outcome {
    Done,
    Forwarded,
}

impl<'a> Ctx<'a> {
    fn new(core: &'a Core, id: usize, reader: bool, in_tx: bool, guard_file: bool) -> Self {
        Ctx {
            core,
            id,
            reader,
            in_tx,
            panicked: Cell::new(false),
            settled: Cell::new(false),
            guard_file,
            write_job: Cell::new(false),
            #[cfg(feature = "tracing")]
            span: std::cell::RefCell::new(tracing::Span::none()),
        }
    }

    /// Record a field on the running job's span.
    #[cfg(feature = "tracing")]
    fn record(&self, field: &str, value: u64) {
        self.span.borrow().record(field, value);
    }

    /// Run `f` for the job answering to `reply`, unless its caller has gone.
    #[inline]
    pub fn exec<R>(&self, conn: &mut Connection, reply: Completer<R>, f: impl FnOnce(&mut Connection) -> Result<R>) {
        self.exec_counted(conn, reply, f, |_| None);
    }

    /// As [`Ctx::exec`]; `rows` tells how many rows the result holds, for the tracing span.
    #[inline]
    pub fn exec_counted<R>(
        &self,
        conn: &mut Connection,
        reply: Completer<R>,
        f: impl FnOnce(&mut Connection) -> Result<R>,
        rows: impl FnOnce(&R) -> Option<u64>,
    ) {
        if !reply.start(self.id) {
            return;
        }
        let out = self.guarded(conn, reply.token(), f);
        #[cfg(feature = "tracing")]
        if let Some(n) = out.as_ref().ok().and_then(rows) {
            self.record("rows", n);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = rows;
        self.settle(conn);
        reply.complete(out, &self.core.spin);
    }

    /// Account for the finished job (once): counters first, so they are exact when the caller wakes.
    fn settle(&self, conn: &Connection) {
        if self.settled.replace(true) {
            return;
        }
        if let Some(stats) = self.core.stats.get(self.id) {
            let c = conn.cache_stats();
            stats.hits.store(c.hits, Ordering::Relaxed);
            stats.misses.store(c.misses, Ordering::Relaxed);
            stats.jobs.fetch_add(1, Ordering::Relaxed);
        }
        self.core.job_done();
    }

    /// Settle the job if its handler did not, and get ready for the next.
    fn finish_job(&self, conn: &Connection) {
        self.settle(conn);
        self.settled.set(false);
        self.panicked.set(false);
    }

    /// Run `f` with the job's interrupt token and deadline set, catching panics. After a panic outside an explicit
    /// transaction, any transaction the closure left open is rolled back.
    pub fn guarded<R>(
        &self,
        conn: &mut Connection,
        token: u64,
        f: impl FnOnce(&mut Connection) -> Result<R>,
    ) -> Result<R> {
        self.guarded_with(conn, token, self.core.config.statement_timeout, f)
    }

    /// As [`Ctx::guarded`], without the statement timeout: a stream's time includes its consumer's.
    pub fn guarded_without_deadline<R>(
        &self,
        conn: &mut Connection,
        token: u64,
        f: impl FnOnce(&mut Connection) -> Result<R>,
    ) -> Result<R> {
        self.guarded_with(conn, token, None, f)
    }

    fn guarded_with<R>(
        &self,
        conn: &mut Connection,
        token: u64,
        timeout: Option<Duration>,
        f: impl FnOnce(&mut Connection) -> Result<R>,
    ) -> Result<R> {
        if self.guard_file && self.write_job.get() && conn.raw.has_moved() {
            return Err(moved_error(conn));
        }
        let started = Instant::now();
        conn.raw.set_interrupt_token(token);
        if let Some(t) = timeout {
            conn.raw.set_deadline(Some(started + t));
        }
        let mut out = catch(|| f(conn));
        conn.raw.set_interrupt_token(0);
        if let Some(t) = timeout {
            if conn.raw.deadline_fired() {
                if let Err(e) = &out {
                    if e.kind() == ErrorKind::Interrupted {
                        let sql = e.sql().unwrap_or("").to_owned();
                        out = Err(Error::new(
                            ErrorKind::Timeout,
                            format!("the statement ran longer than the statement timeout of {t:?} and was stopped"),
                        )
                        .with_sql(&sql));
                    }
                }
            }
            conn.raw.set_deadline(None);
        }
        if let Err(e) = &out {
            if e.kind() == ErrorKind::Panicked {
                self.panicked.set(true);
                if !self.in_tx && !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
            }
        }
        #[cfg(feature = "tracing")]
        self.record("duration_us", u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        if let Some(threshold) = self.core.config.slow_threshold {
            let took = started.elapsed();
            if took >= threshold {
                slow(took, threshold);
            }
        }
        out
    }

    /// Whether a reader should pass the statement to the writer because it writes.
    fn must_forward(&self, conn: &Connection, sql: &str) -> bool {
        self.reader && conn.statement_writes(sql)
    }

    fn handle(&self, conn: &mut Connection, job: Job) -> Outcome {
        if let Some(sql) = job.sql() {
            if self.must_forward(conn, sql) {
                // The writer never sends to the readers' queue, so this cannot deadlock.
                return match self.core.writer_tx.send(job) {
                    Ok(()) => Outcome::Forwarded,
                    Err(_) => Outcome::Done, // the writer is gone: dropping the job tells its caller
                };
            }
        }
        #[cfg(feature = "tracing")]
        let _entered = {
            let span = tracing::info_span!(
                "asqlite.statement",
                sql = job.sql().unwrap_or("<closure>"),
                worker = self.id,
                rows = tracing::field::Empty,
                duration_us = tracing::field::Empty,
            );
            *self.span.borrow_mut() = span.clone();
            span.entered()
        };
        let len = |n: usize| u64::try_from(n).ok();
        self.write_job.set(matches!(
            job,
            Job::Execute { .. } | Job::ExecuteBatch { .. } | Job::ExecuteMany { .. } | Job::Call(_)
        ));
        match job {
            Job::Execute { sql, params, reply } => {
                self.exec_counted(conn, reply, |c| c.execute(&sql, params), |d| Some(d.rows_affected()));
            }
            Job::ExecuteBatch { sql, reply } => self.exec(conn, reply, |c| c.execute_batch(&sql)),
            Job::ExecuteMany { sql, sets, reply } => {
                self.exec_counted(conn, reply, |c| c.execute_many(&sql, sets), |n| Some(*n));
            }
            Job::Query { sql, params, reply } => match reply {
                QueryReply::All(r) => self.exec_counted(conn, r, |c| c.query(&sql, params), |rs| len(rs.len())),
                QueryReply::One(r) => self.exec_counted(conn, r, |c| c.query_one(&sql, params), |_| Some(1)),
                QueryReply::Opt(r) => {
                    self.exec_counted(conn, r, |c| c.query_opt(&sql, params), |o| Some(u64::from(o.is_some())));
                }
            },
            Job::QueryMap { sql, params, job } => job.run(conn, self, &sql, params),
            Job::Stream { sql, params, sink } => stream::run(self, conn, &sql, params, sink),
            Job::Call(job) => job.run(conn, self),
            Job::Begin { reply, .. } => {
                self.exec(conn, reply, |_| Err(Error::new(ErrorKind::Misuse, "a transaction is already open")))
            }
            Job::EndTx { reply, .. } => {
                self.exec(conn, reply, |_| Err(Error::new(ErrorKind::Misuse, "no transaction is open")))
            }
            Job::Close { reply } => reply.complete(Ok(()), &self.core.spin),
        }
        Outcome::Done
    }

    /// Begin a transaction and serve its channel until it commits, rolls back or its handle is dropped.
    fn transaction(&self, conn: &mut Connection, begin_sql: &str, jobs: Receiver<Job>, reply: Completer<()>) {
        if !reply.start(self.id) {
            return;
        }
        self.write_job.set(true);
        let begun = self.guarded(conn, reply.token(), |c| c.execute_batch(begin_sql));
        let ok = begun.is_ok();
        self.settle(conn);
        reply.complete(begun, &self.core.spin);
        if !ok {
            return;
        }
        let tx = Ctx::new(self.core, self.id, false, true, self.guard_file);
        let mut spin = WorkerSpin::new(self.core.config.spin);
        loop {
            let job = match spin.next(&jobs, None) {
                Next::Job(job) => job,
                Next::Disconnected => break,
            };
            match job {
                Job::EndTx { commit, reply } => {
                    // Started or not, the transaction ends here: the handle is consumed by commit/rollback.
                    let run = reply.start(self.id);
                    let sql = if commit && run { "COMMIT" } else { "ROLLBACK" };
                    tx.write_job.set(sql == "COMMIT");
                    let mut out = tx.guarded(conn, reply.token(), |c| c.execute_batch(sql));
                    if out.is_ok() && !conn.is_autocommit() {
                        out = Err(Error::new(ErrorKind::Sqlite, "the transaction is still open after COMMIT"));
                    }
                    tx.settle(conn);
                    if run {
                        reply.complete(out, &self.core.spin);
                    }
                    break;
                }
                other => {
                    tx.handle(conn, other);
                    let panicked = tx.panicked.get();
                    tx.finish_job(conn);
                    if panicked {
                        break;
                    }
                }
            }
        }
        // Dropped handle, failed COMMIT or a panic: whatever is still open is rolled back.
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

#[cold]
fn moved_error(conn: &Connection) -> Error {
    Error::from_sqlite(
        libsqlite3_sys::SQLITE_READONLY_DBMOVED,
        format!(
            "the database file {} was deleted or moved while open; writes are refused because they would be lost",
            conn.path().unwrap_or_default()
        ),
        None,
        None,
    )
}

#[cold]
fn slow(took: Duration, threshold: Duration) {
    #[cfg(feature = "tracing")]
    tracing::warn!(?took, ?threshold, "slow statement");
    #[cfg(not(feature = "tracing"))]
    let _ = (took, threshold);
}

/// The thread body of a worker.
pub(crate) fn run(mut conn: Connection, rx: Receiver<Job>, core: Arc<Core>, id: usize, reader: bool) {
    let guard_file = !reader && conn.path().is_some();
    let ctx = Ctx::new(&core, id, reader, false, guard_file);
    let mut spin = WorkerSpin::new(core.config.spin);
    let token = reader.then_some(&core.reader_token);
    loop {
        let job = match spin.next(&rx, token) {
            Next::Job(job) => job,
            Next::Disconnected => return,
        };
        core.space.wake_all();
        let outcome = match job {
            Job::Close { reply } => {
                ctx.settle(&conn);
                drop(conn);
                reply.complete(Ok(()), &core.spin);
                return;
            }
            Job::Begin { behavior, jobs, reply } => {
                // The transaction's own jobs are settled inside; the Begin job itself counts once, here.
                ctx.transaction(&mut conn, behavior.begin_sql(), jobs, reply);
                Outcome::Done
            }
            other => ctx.handle(&mut conn, other),
        };
        match outcome {
            Outcome::Done => ctx.finish_job(&conn),
            Outcome::Forwarded => {
                ctx.settled.set(false);
                ctx.panicked.set(false);
            }
        }
    }
}
