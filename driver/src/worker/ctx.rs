//! What a worker does with one job: run it guarded (interrupt token, deadline, panics, leftover transactions),
//! pass writes found on a reader to the writer, and serve a transaction's own channel.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::park::{Next, WorkerSpin};
use super::{stream, Completer, Core, Job, QueryReply};
use crate::blocking::Connection;
use crate::{Error, ErrorKind, Result};

/// What a worker knows while it runs one job.
pub(crate) struct Ctx<'a> {
    pub core: &'a Core,
    pub id: usize,
    pub reader: bool,
    pub in_tx: bool,
    /// The queue this worker serves now (a transaction's own channel inside one): a paused stream checks it to
    /// see whether someone waits for the connection.
    /// None for a read run inline on the caller's thread.
    pub queue: Option<&'a Receiver<Job>>,
    pub(super) panicked: Cell<bool>,
    pub(super) settled: Cell<bool>,
    /// Refuse writes once the database file is deleted or moved (the writer of a file database).
    guard_file: bool,
    /// Whether the job now running writes.
    write_job: Cell<bool>,
    /// Hold replies back until [`Ctx::publish`] (a reader, which publishes once it has let go of its connection).
    pub(super) defer: bool,
    deferred: Cell<Option<super::reply::Filled>>,
    /// The span of the job now running.
    #[cfg(feature = "tracing")]
    span: std::cell::RefCell<tracing::Span>,
}

/// What became of a job.
#[derive(PartialEq, Eq)]
pub(super) enum Outcome {
    Done,
    Forwarded,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        core: &'a Core,
        id: usize,
        reader: bool,
        in_tx: bool,
        guard_file: bool,
        queue: Option<&'a Receiver<Job>>,
    ) -> Self {
        Ctx {
            core,
            id,
            reader,
            in_tx,
            queue,
            panicked: Cell::new(false),
            settled: Cell::new(false),
            guard_file,
            write_job: Cell::new(false),
            defer: false,
            deferred: Cell::new(None),
            #[cfg(feature = "tracing")]
            span: std::cell::RefCell::new(tracing::Span::none()),
        }
    }

    /// Wake the caller of a reply held back by `defer`.
    pub(super) fn publish(&self) {
        if let Some(filled) = self.deferred.take() {
            filled.publish();
        }
    }

    /// Record a field on the running job's span.
    #[cfg(feature = "tracing")]
    fn record(&self, field: &str, value: u64) {
        self.span.borrow().record(field, value);
    }

    /// Run `f` for the job answering to `reply`, unless its caller has gone.
    #[inline]
    pub fn exec<R: Send + 'static>(
        &self,
        conn: &mut Connection,
        reply: Completer<R>,
        f: impl FnOnce(&mut Connection) -> Result<R>,
    ) {
        self.exec_counted(conn, reply, f, |_| None);
    }

    /// As [`Ctx::exec`]; `rows` tells how many rows the result holds, for the tracing span.
    #[inline]
    pub fn exec_counted<R: Send + 'static>(
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
        if self.defer {
            self.publish();
            self.deferred.set(Some(reply.fill(out, &self.core.spin)));
        } else {
            reply.complete(out, &self.core.spin);
        }
    }

    /// Account for the finished job (once): counters first, so they are exact when the caller wakes.
    pub(crate) fn settle(&self, conn: &Connection) {
        if self.settled.replace(true) {
            return;
        }
        if !self.reader {
            crate::conn_state::writer_job_done(conn);
        }
        if let Some(stats) = self.core.stats.get(self.id) {
            let c = conn.cache_stats();
            stats.hits.store(c.hits, Ordering::Relaxed);
            stats.misses.store(c.misses, Ordering::Relaxed);
            stats.jobs.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Settle the job if its handler did not, and get ready for the next.
    pub(super) fn finish_job(&self, conn: &Connection) {
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
        let (out, fired) = self.guarded_raw(conn, token, timeout, None, f);
        match (timeout, fired) {
            (Some(t), true) => out.map_err(|e| timed_out(e, t)),
            _ => out,
        }
    }

    /// Run `f` for a read on the caller's thread (reader connection borrowed, see [`super::inline`]), stopping it
    /// after `budget`. None if the budget ran out or the database was locked: the read was stopped and should run on
    /// a worker instead (a read has no effects, so running it again is safe). A statement timeout shorter than the
    /// budget applies as usual.
    pub fn inline<R>(
        &self,
        conn: &mut Connection,
        sql: &str,
        budget: Duration,
        f: impl FnOnce(&mut Connection) -> Result<R>,
    ) -> Option<Result<R>> {
        #[cfg(feature = "tracing")]
        let _entered = self.enter_span(Some(sql));
        #[cfg(not(feature = "tracing"))]
        let _ = sql;
        let user = self.core.config.statement_timeout.filter(|t| *t <= budget);
        // A lock held elsewhere fails the read at once instead of blocking this thread for the busy timeout, and a
        // value longer than the cap fails it before it is read: a large value is read in one step, which no deadline
        // check interrupts (and its bytes copied out after). The set-up stays until the worker runs a job.
        let capped = conn.raw.begin_inline(super::inline::INLINE_MAX_VALUE);
        let (out, fired) = match user {
            Some(t) => self.guarded_raw(conn, 0, Some(t), None, f),
            None => self.guarded_raw(conn, 0, None, Some(budget), f),
        };
        let out = match (user, fired) {
            (Some(t), true) => Some(out.map_err(|e| timed_out(e, t))),
            // Out of budget, locked, or a value too long to read here: a worker runs it again, waiting as long as
            // the pool allows.
            (None, true) => None,
            _ if out.as_ref().is_err_and(|e| e.kind() == ErrorKind::Busy) => None,
            _ if capped && out.as_ref().is_err_and(|e| e.kind() == ErrorKind::TooBig) => None,
            _ => Some(out),
        };
        if out.is_some() {
            self.finish_job(conn);
            if let Some(stats) = self.core.stats.get(self.id) {
                stats.inline.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            // Not a job yet: the worker that runs it again counts it.
            self.settled.set(false);
            self.panicked.set(false);
        }
        out
    }

    /// Run `f` guarded; also says whether the deadline (`timeout` from now, or `budget` from the progress
    /// handler's first call) fired. Token 0 (a read run inline) leaves the interrupt token alone: no caller can
    /// cancel a call that runs on its own thread.
    fn guarded_raw<R>(
        &self,
        conn: &mut Connection,
        token: u64,
        timeout: Option<Duration>,
        budget: Option<Duration>,
        f: impl FnOnce(&mut Connection) -> Result<R>,
    ) -> (Result<R>, bool) {
        if let Some(e) = conn.tx.aborted() {
            // SQLite ended the transaction this job was sent to: it must not run, least of all in autocommit.
            return (Err(e), false);
        }
        // A `PRAGMA busy_timeout` run by an earlier job put SQLite's busy handler in place of ours, which alone stops
        // waiting for a lock when the call is cancelled or past its deadline.
        conn.raw.restore_busy_handler();
        if self.guard_file && self.write_job.get() && conn.raw.has_moved() {
            return (Err(moved_error(conn)), false);
        }
        // The clock is read only when something needs it: a deadline, the slow-call threshold or a span.
        let timed = timeout.is_some() || self.core.config.slow_threshold.is_some() || cfg!(feature = "tracing");
        let started = timed.then(Instant::now);
        if token != 0 {
            conn.raw.set_interrupt_token(token);
        }
        if let (Some(t), Some(start)) = (timeout, started) {
            conn.raw.set_deadline(Some(start + t));
        }
        if let Some(b) = budget {
            conn.raw.set_lazy_deadline(b);
        }
        // Only a panic caught here counts as one: a closure that returns an error of kind `Panicked` (passed on
        // from elsewhere) did not stop half-way through its work.
        let mut out = match catch_unwind(AssertUnwindSafe(|| f(conn))) {
            Ok(out) => out,
            Err(payload) => {
                self.panicked.set(true);
                Err(super::panicked(payload.as_ref()))
            }
        };
        if token != 0 {
            conn.raw.set_interrupt_token(0);
        }
        let mut fired = false;
        if timeout.is_some() || budget.is_some() {
            // The deadline stops a statement (interrupted) or its wait for a lock (busy).
            fired = conn.raw.deadline_fired()
                && out.as_ref().is_err_and(|e| matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::Busy));
            conn.raw.set_deadline(None);
        }
        // Outside an explicit transaction a job must leave the connection as it found it: a transaction left open
        // (a panicking closure, `execute("BEGIN")`) would pin a reader's snapshot or leak into other callers' jobs.
        if !self.in_tx {
            // A blocking transaction the closure leaked (`mem::forget`) must not leave its checks behind.
            conn.tx.free();
        }
        if !self.in_tx && !conn.is_autocommit() {
            let _ = conn.execute_cleanup("ROLLBACK");
            if out.is_ok() {
                out = Err(Error::new(
                    ErrorKind::Misuse,
                    "the call left a transaction open, so it was rolled back; use begin() for transactions",
                ));
            }
        }
        if let Some(start) = started {
            let took = start.elapsed();
            #[cfg(feature = "tracing")]
            self.record("duration_us", u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
            if self.core.config.slow_threshold.is_some_and(|threshold| took >= threshold) {
                slow(took, self.core.config.slow_threshold.unwrap_or_default());
            }
        }
        (out, fired)
    }

    /// Open the span of the job about to run.
    #[cfg(feature = "tracing")]
    fn enter_span(&self, sql: Option<&str>) -> tracing::span::EnteredSpan {
        let span = tracing::info_span!(
            "asqlite.statement",
            sql = sql.unwrap_or("<closure>"),
            worker = self.id,
            rows = tracing::field::Empty,
            duration_us = tracing::field::Empty,
        );
        *self.span.borrow_mut() = span.clone();
        span.entered()
    }

    /// Whether a reader should pass the statement to the writer: it writes, or needs the writer's state.
    fn must_forward(&self, conn: &Connection, sql: &str) -> bool {
        self.reader && crate::conn_state::reader_must_forward(conn, sql)
    }

    pub(super) fn handle(&self, conn: &mut Connection, job: Job) -> Outcome {
        if let Some(sql) = job.sql() {
            if self.must_forward(conn, sql) {
                // Past the writer queue's bound, so a reader never blocks on it.
                return match self.core.writer.force_send(job) {
                    Ok(()) => Outcome::Forwarded,
                    Err(_) => Outcome::Done, // the writer is gone: dropping the job tells its caller
                };
            }
        }
        #[cfg(feature = "tracing")]
        let _entered = self.enter_span(job.sql());
        let len = |n: usize| u64::try_from(n).ok();
        self.write_job.set(match &job {
            Job::Execute { .. } | Job::ExecuteBatch { .. } | Job::ExecuteMany { .. } | Job::Call(_) => true,
            // A read-shaped call writes too when its statement does (`INSERT ... RETURNING`).
            Job::Query { sql, .. }
            | Job::QueryMap { sql, .. }
            | Job::QueryRow { sql, .. }
            | Job::Stream { sql, .. } => self.guard_file && conn.statement_writes(sql),
            _ => false,
        });
        match job {
            Job::Execute { sql, params, reply } => {
                self.exec_counted(conn, reply, |c| c.execute(&sql, params), |d| Some(d.rows_affected()));
            }
            Job::ExecuteBatch { sql, reply } => self.exec(conn, reply, |c| c.execute_batch(&sql)),
            Job::ExecuteMany { sql, sets, reply } => {
                self.exec_counted(conn, reply, |c| sets.run(c, &sql), |n| Some(*n));
            }
            Job::Query { sql, params, reply } => match reply {
                QueryReply::All(r) => self.exec_counted(conn, r, |c| c.query(&sql, params), |rs| len(rs.len())),
                QueryReply::Packed(r) => {
                    self.exec_counted(conn, r, |c| c.query_packed(&sql, params), |rs| len(rs.len()));
                }
                QueryReply::One(r) => self.exec_counted(conn, r, |c| c.query_one(&sql, params), |_| Some(1)),
                QueryReply::Opt(r) => {
                    self.exec_counted(conn, r, |c| c.query_opt(&sql, params), |o| Some(u64::from(o.is_some())));
                }
            },
            Job::QueryMap { sql, params, job } => job.run(conn, self, &sql, params),
            Job::QueryRow { sql, params, job } => job.run(conn, self, &sql, params),
            Job::Stream { sql, params, sink } => stream::run(self, conn, &sql, params, sink),
            #[cfg(feature = "arrow")]
            Job::Arrow { sql, params, job } => (*job).run(self, conn, &sql, params),
            Job::Call(job) => job.run(conn, self),
            Job::Begin { reply, .. } => {
                self.exec(conn, reply, |_| Err(Error::new(ErrorKind::Misuse, "a transaction is already open")))
            }
            Job::EndTx { reply, .. } => {
                self.exec(conn, reply, |_| Err(Error::new(ErrorKind::Misuse, "no transaction is open")))
            }
            Job::Setup(f) => {
                let _ = super::catch(|| {
                    f(conn);
                    Ok(())
                });
            }
            Job::Close => {}
        }
        Outcome::Done
    }

    /// Begin a transaction and serve its channel until it commits, rolls back or its handle is dropped.
    pub(super) fn transaction(
        &self,
        conn: &mut Connection,
        begin_sql: &str,
        jobs: Receiver<Job>,
        reply: Completer<()>,
    ) {
        if !reply.start(self.id) {
            return;
        }
        let tx = Ctx::new(self.core, self.id, false, true, self.guard_file, Some(&jobs));
        tx.write_job.set(true);
        let begun = tx.guarded(conn, reply.token(), |c| c.execute_batch(begin_sql));
        let ok = begun.is_ok();
        if ok {
            // From here on every statement checks that SQLite still has the transaction open.
            conn.tx.open();
        }
        self.settle(conn);
        reply.complete(begun, &self.core.spin);
        if !ok {
            return;
        }
        let mut spin = WorkerSpin::new(self.core.config.spin);
        loop {
            let job = match spin.next(&jobs) {
                Next::Job(job) => job,
                Next::Disconnected => break,
            };
            match job {
                Job::EndTx { commit, reply } => {
                    // Started or not, the transaction ends here: the handle is consumed by commit/rollback.
                    let run = reply.start(self.id);
                    let commit = commit && run;
                    tx.write_job.set(commit);
                    // Aborted by SQLite: a commit fails with the reason, a roll-back has nothing left to do.
                    let mut out = match conn.tx.aborted() {
                        Some(e) => {
                            conn.tx.free();
                            if commit {
                                Err(e)
                            } else {
                                Ok(())
                            }
                        }
                        None => tx.guarded(conn, reply.token(), |c| crate::blocking::transaction::end(c, commit)),
                    };
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
                    // A panic that escapes the job (a user value whose `Drop` panics: the closure of a job its caller
                    // gave up on, or a result nobody waits for) struck outside any statement: the transaction is as
                    // the job left it, and goes on, as the worker's loop goes on outside transactions.
                    let _ = catch_unwind(AssertUnwindSafe(|| tx.handle(conn, other)));
                    let panicked = tx.panicked.get();
                    tx.finish_job(conn);
                    if panicked && conn.tx.aborted().is_none() {
                        // A closure panicked half-way through its work: the transaction is rolled back now, and
                        // like one SQLite ended, the handle's later calls fail until it is dropped or ended.
                        let _ = conn.execute_cleanup("ROLLBACK");
                        conn.tx.abort("a closure panicked in it, so it was rolled back");
                    }
                }
            }
        }
        // Dropped handle, failed COMMIT or a panic: whatever is still open is rolled back.
        conn.tx.free();
        if !conn.is_autocommit() {
            let _ = conn.execute_cleanup("ROLLBACK");
        }
    }
}

/// The error of a call stopped by the statement timeout `t`.
#[cold]
fn timed_out(e: Error, t: Duration) -> Error {
    if !matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::Busy) {
        return e;
    }
    let sql = e.sql().unwrap_or("").to_owned();
    Error::new(ErrorKind::Timeout, format!("the call ran longer than the statement timeout of {t:?} and was stopped"))
        .with_sql(&sql)
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
