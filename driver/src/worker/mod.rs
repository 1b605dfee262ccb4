//! Worker threads: each owns one blocking connection and runs the jobs sent to it.
//!
//! A job crosses threads like this: the async method builds a [`Job`] with a reply [`Completer`], enqueues it
//! ([`queue`]: callers wait asynchronously while the queue is full), and awaits the [`reply::Reply`]. The worker
//! takes the job ([`park`] says how it waits), checks that the caller still wants it, runs it under
//! `catch_unwind` with the job's interrupt token set ([`ctx`]), and completes the reply, which wakes the caller.

pub(crate) mod ctx;
pub(crate) mod inline;
pub(crate) mod job;
pub(crate) mod park;
pub(crate) mod queue;
pub(crate) mod reentry;
pub(crate) mod reply;
pub(crate) mod shared;
pub(crate) mod stream;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crossbeam_utils::CachePadded;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crossbeam_channel::Receiver;

use ctx::{Ctx, Outcome};
pub(crate) use job::{Job, QueryReply};
use park::{Leadership, Next, SpinPolicy, WorkerSpin};
use queue::Queue;
pub(crate) use reply::Completer;
pub(crate) use shared::{Route, Shared};

use crate::blocking::Connection;
use crate::{Error, ErrorKind, Result};

/// Settings the workers read.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub statement_timeout: Option<Duration>,
    pub slow_threshold: Option<Duration>,
    pub spin: bool,
    /// Let cheap reads run on the caller's thread when a reader connection is free (see [`inline`]).
    pub inline: bool,
}

/// A worker's connection slot, on cache lines of its own (two threads reading inline on two connections lock two
/// slots at every read).
pub(crate) type Slot = CachePadded<Mutex<Option<Connection>>>;

/// Counters of one worker, readable from the pool. Each worker's sit on cache lines of their own: two threads
/// reading inline on two connections would otherwise write the same line at every read.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct WorkerStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub jobs: AtomicU64,
    /// Of `jobs`, the reads run inline on a caller's thread.
    pub inline: AtomicU64,
}

/// State shared by the workers of a pool and its handles.
#[derive(Debug)]
pub(crate) struct Core {
    pub spin: SpinPolicy,
    /// Calls sent and not yet settled (counted by the callers).
    pub in_flight: AtomicUsize,
    pub stats: Box<[WorkerStats]>,
    pub config: Config,
    pub writer: Queue,
    pub reader_queue: Option<Queue>,
    pub readers: usize,
    /// How the readers take turns at their shared queue.
    pub readers_lead: Leadership,
    /// Every worker's connection, by worker id (the writer's first): each worker locks its own for every job, and
    /// a caller may borrow a free one for a cheap read ([`inline`]). None until the worker has opened it, and after
    /// close.
    pub conns: Box<[Slot]>,
    /// Readers still running; the last one to stop sends the writer its close job.
    alive_readers: AtomicUsize,
    /// Set when the writer has stopped, with the closers waiting for it.
    stopped: AtomicBool,
    /// Checkpoints run by the writer's checkpointer thread (`ffi::checkpoint`).
    pub checkpoints: Arc<AtomicU64>,
    /// Worker threads that died of a panic outside any job's guard.
    pub dead_workers: AtomicUsize,
    stop_waiters: Mutex<Vec<Waker>>,
    /// The pool's change feed ([`crate::changes`]).
    pub changes: crate::changes::Hub,
    /// The last memory figures read from each connection, for the pool's statistics ([`crate::each`]).
    pub memory: crate::each::MemoryFigures,
}

impl Core {
    /// A core and the receiving ends of its writer and reader queues.
    pub fn new(config: Config, readers: usize, capacity: usize) -> (Core, Receiver<Job>, Option<Receiver<Job>>) {
        let (writer, wrx) = Queue::new(capacity);
        let (reader_queue, rrx) = if readers > 0 {
            let (q, rx) = Queue::new(capacity);
            (Some(q), Some(rx))
        } else {
            (None, None)
        };
        let core = Core {
            spin: SpinPolicy::new(config.spin),
            in_flight: AtomicUsize::new(0),
            stats: (0..=readers).map(|_| WorkerStats::default()).collect(),
            config,
            writer,
            reader_queue,
            readers,
            readers_lead: Leadership::default(),
            conns: (0..=readers).map(|_| CachePadded::new(Mutex::new(None))).collect(),
            alive_readers: AtomicUsize::new(readers),
            stopped: AtomicBool::new(false),
            checkpoints: Arc::new(AtomicU64::new(0)),
            dead_workers: AtomicUsize::new(0),
            stop_waiters: Mutex::new(Vec::new()),
            changes: crate::changes::Hub::default(),
            memory: crate::each::MemoryFigures::new(readers + 1),
        };
        (core, wrx, rrx)
    }

    /// Queue the close jobs: one per reader (the last reader out closes the writer), or the writer's directly.
    /// They queue behind every job already sent, which therefore still runs.
    pub fn send_close(&self) {
        match &self.reader_queue {
            Some(q) => {
                for _ in 0..self.readers {
                    if q.force_send(Job::Close).is_err() {
                        self.reader_gone();
                    }
                    self.readers_lead.job_queued();
                }
            }
            None => self.close_writer(),
        }
    }

    /// An open that will not finish (its future was dropped, or a worker failed to open) undoes itself: the
    /// `spawned` readers whose threads started get close jobs (those that failed to open have counted themselves
    /// gone), the rest count as gone, and the writer is told to stop once no reader is left.
    pub fn abandon_start(&self, spawned: usize) {
        if self.readers == 0 {
            self.close_writer();
            return;
        }
        for _ in spawned..self.readers {
            self.reader_gone();
        }
        if let Some(q) = &self.reader_queue {
            for _ in 0..spawned {
                if q.force_send(Job::Close).is_err() {
                    break; // every reader is gone already
                }
                self.readers_lead.job_queued();
            }
        }
    }

    fn close_writer(&self) {
        if self.writer.force_send(Job::Close).is_err() {
            self.writer_stopped();
        }
    }

    /// A reader stopped (or never started); after the last one, the writer is told to stop.
    pub fn reader_gone(&self) {
        if self.alive_readers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close_writer();
        }
    }

    fn writer_stopped(&self) {
        let wakers = {
            let mut w = self.stop_waiters.lock().unwrap_or_else(PoisonError::into_inner);
            self.stopped.store(true, Ordering::SeqCst);
            std::mem::take(&mut *w)
        };
        wakers.into_iter().for_each(reply::wake_caught);
    }

    /// Ready once every worker has stopped.
    pub fn poll_stopped(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.stopped.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        let mut w = self.stop_waiters.lock().unwrap_or_else(PoisonError::into_inner);
        if self.stopped.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if !w.iter().any(|x| x.will_wake(cx.waker())) {
            w.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Run `f`, turning a panic into an error.
pub(crate) fn catch<R>(f: impl FnOnce() -> Result<R>) -> Result<R> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(panicked(payload.as_ref())))
}

/// The error a caught panic becomes.
#[cold]
pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned());
    Error::new(ErrorKind::Panicked, format!("the closure panicked: {msg}"))
}

/// The worker of `core` this thread is, if any: code running on it (a closure, decoder, SQL function or hook) must
/// not wait for a job only this thread could run (see [`reentry`]).
pub(crate) fn serving(core: &Core) -> Option<usize> {
    reentry::on_worker(core)
}

/// The thread body of a worker: take jobs until a close job (or a closed queue), then close the connection.
///
/// The connection lives in [`Core::conns`], locked for each job, so a caller can borrow it between jobs; replies
/// are published once the lock is released. A panic that escapes a job (a user value whose `Drop` panics, dropped
/// where no closure runs) is caught here: any transaction it left open is rolled back and the worker goes on. If
/// the thread dies anyway, its [`Lifeline`] tells the pool, so `close` and later calls fail instead of hanging.
///
/// `ready` runs once the connection is in its slot: the open resolves there, so that what runs right after it on
/// every connection (`call_each`) finds this one.
pub(crate) fn run(conn: Connection, rx: Receiver<Job>, core: Arc<Core>, id: usize, reader: bool, ready: impl FnOnce()) {
    let guard_file = !reader && conn.path().is_some();
    let Some(slot) = core.conns.get(id) else { return };
    *lock(slot) = Some(conn);
    let _lifeline = Lifeline { core: &core, id, reader };
    // Calls made from this thread (a function, hook or closure run here) that would wait for it fail instead.
    let _on_worker = reentry::OnWorker::enter(&core, id);
    // Resolving the open wakes the opener, which runs its waker: user code. It runs with the slot unlocked and
    // this thread known as the worker, and one that panics must not take the worker with it (the open is resolved
    // all the same: the waker is woken after the value is sent).
    let _ = catch_unwind(AssertUnwindSafe(ready));
    let mut ctx = Ctx::new(&core, id, reader, false, guard_file, Some(&rx));
    ctx.defer = true;
    let mut spin = WorkerSpin::new(core.config.spin);
    let queue = if reader { core.reader_queue.as_ref().unwrap_or(&core.writer) } else { &core.writer };
    loop {
        let next = if reader { spin.next_shared(&rx, &core.readers_lead) } else { spin.next(&rx) };
        let job = match next {
            Next::Job(job) => job,
            Next::Disconnected => break,
        };
        if matches!(job, Job::Close) {
            queue.taken();
            break;
        }
        // Lock first, then count the job as taken: a caller that sees an empty queue (and may run a read inline)
        // then finds the connection locked until this job is done, so the read cannot overtake it.
        let mut guard = lock_for_use(slot);
        queue.taken();
        let Some(conn) = guard.as_mut() else { break };
        if reader {
            crate::conn_state::reader_refresh(conn);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| match job {
            Job::Begin { behavior, jobs, reply } => {
                ctx.transaction(conn, behavior.begin_sql(), jobs, reply);
                Outcome::Done
            }
            other => ctx.handle(conn, other),
        }));
        match outcome {
            Ok(Outcome::Done) => ctx.finish_job(conn),
            Ok(Outcome::Forwarded) => {
                ctx.settled.set(false);
                ctx.panicked.set(false);
            }
            Err(_) => {
                // Whatever the job left open goes: the connection is as a new job expects it.
                conn.tx.free();
                if !conn.is_autocommit() {
                    let _ = conn.execute_cleanup("ROLLBACK");
                }
                ctx.finish_job(conn);
            }
        }
        drop(guard);
        publish(&ctx);
    }
    publish(&ctx);
}

/// Wake the caller of the reply held back, if any. Waking runs the caller's waker, which is user code: a waker
/// that panics must not take the worker with it.
fn publish(ctx: &Ctx<'_>) {
    let _ = catch_unwind(AssertUnwindSafe(|| ctx.publish()));
}

/// Ends a worker's life, however it ends: closes its connection (a caller borrowing it finishes first) and tells
/// the pool that the worker is gone, so closing waits for nothing that will never come.
struct Lifeline<'a> {
    core: &'a Core,
    id: usize,
    reader: bool,
}

impl Drop for Lifeline<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.core.dead_workers.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(slot) = self.core.conns.get(self.id) {
            drop(lock(slot).take());
        }
        if self.reader {
            // Hand the lead on: the next reader must take its own close job.
            self.core.readers_lead.job_queued();
            self.core.reader_gone();
        } else {
            self.core.writer_stopped();
        }
    }
}

/// Lock a worker's connection slot (a panic while it was held is caught inside, so poison carries no meaning).
fn lock(slot: &Mutex<Option<Connection>>) -> std::sync::MutexGuard<'_, Option<Connection>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Lock a worker's connection slot to run something of the pool's own on it (a job, `call_each`'s closure): a
/// caller's inline read may have left the connection set up for itself (no waiting for locks, values capped), which
/// is undone first. Inline reads take the slot with `try_lock` and set it up themselves.
pub(crate) fn lock_for_use(slot: &Mutex<Option<Connection>>) -> std::sync::MutexGuard<'_, Option<Connection>> {
    let guard = lock(slot);
    if let Some(conn) = guard.as_ref() {
        conn.raw.end_inline();
    }
    guard
}
