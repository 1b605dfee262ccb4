//! The reply slot: a one-shot channel from a worker back to the awaiting future, which also carries the job's
//! cancellation state.
//!
//! One allocation per job holds the state, the value and the waker. The future may spin on the state for a short,
//! adaptive while before it registers its waker (see [`super::park`]); the worker checks the state before running
//! a job, so a future dropped while its job is queued makes the worker skip it, and a future dropped while its job
//! runs interrupts exactly that job.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::task::AtomicWaker;

use super::park::SpinPolicy;
use super::Shared;
use crate::{Error, ErrorKind, Result};

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const READY: u8 = 2;
const CANCELLED: u8 = 3;
const ABANDONED: u8 = 4;
/// The value is stored but not yet published (the worker still holds the connection; see [`Filled`]).
const FILLED: u8 = 5;

struct Slot<T> {
    state: AtomicU8,
    /// The index of the worker running the job, for interrupting it.
    runner: AtomicUsize,
    sent_at: Instant,
    value: Mutex<Option<Result<T>>>,
    waker: AtomicWaker,
}

/// The worker's end: start the job, then complete it. Dropping it without completing tells the caller the worker
/// is gone.
pub(crate) struct Completer<T> {
    slot: Arc<Slot<T>>,
}

/// The caller's end, without a borrow of the pool: polls the result and cancels.
pub(crate) struct Ticket<T> {
    slot: Arc<Slot<T>>,
    finished: bool,
}

pub(crate) fn channel<T>() -> (Completer<T>, Ticket<T>) {
    let slot = Arc::new(Slot {
        state: AtomicU8::new(QUEUED),
        runner: AtomicUsize::new(usize::MAX),
        sent_at: Instant::now(),
        value: Mutex::new(None),
        waker: AtomicWaker::new(),
    });
    (Completer { slot: Arc::clone(&slot) }, Ticket { slot, finished: false })
}

impl<T> Completer<T> {
    /// Claim the job for worker `runner`. False if the caller has gone: skip the job.
    #[inline]
    pub fn start(&self, runner: usize) -> bool {
        self.slot.runner.store(runner, Ordering::Relaxed);
        self.slot.state.compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// A token naming this job to the connection's interrupt handle while it runs.
    pub fn token(&self) -> u64 {
        token_of(&self.slot)
    }

    /// Store the result and note the latency, but wake the caller only when the returned handle is published: a
    /// reader publishes after it has let go of its connection, so a caller that goes on to run a read inline finds
    /// the connection free.
    #[inline]
    pub fn fill(self, value: Result<T>, spin: &SpinPolicy) -> Filled
    where
        T: Send + 'static,
    {
        spin.record(self.slot.sent_at.elapsed());
        *self.slot.value.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
        let s = &self.slot.state;
        // A cancelled job stays cancelled (publishing then finds nothing to do); the drop of `self` below finds
        // FILLED or CANCELLED and does nothing.
        let _ = s.compare_exchange(RUNNING, FILLED, Ordering::AcqRel, Ordering::Acquire).is_ok()
            || s.compare_exchange(QUEUED, FILLED, Ordering::AcqRel, Ordering::Acquire).is_ok();
        Filled(Arc::clone(&self.slot) as Arc<dyn Publish>)
    }

    /// Hand the result over, note the latency in `spin`, and wake the caller.
    #[inline]
    pub fn complete(self, value: Result<T>, spin: &SpinPolicy) {
        spin.record(self.slot.sent_at.elapsed());
        *self.slot.value.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
        let s = &self.slot.state;
        if s.compare_exchange(RUNNING, READY, Ordering::AcqRel, Ordering::Acquire).is_ok()
            || s.compare_exchange(QUEUED, READY, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            wake(&self.slot.waker);
        }
        // Otherwise the caller cancelled, and the value goes with the slot. Either way the job is settled, so the
        // drop below must not mark it abandoned: it only finds READY or CANCELLED now and does nothing.
    }
}

/// A reply whose value is stored, to be published (made ready, its caller woken) later.
pub(crate) struct Filled(Arc<dyn Publish>);

impl Filled {
    pub fn publish(self) {
        self.0.publish();
    }
}

trait Publish: Send + Sync {
    fn publish(&self);
}

impl<T: Send> Publish for Slot<T> {
    fn publish(&self) {
        if self.state.compare_exchange(FILLED, READY, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            wake(&self.waker);
        }
    }
}

/// Wake the caller from a worker. The waker is the caller's executor's code: one that panics must not unwind
/// through the worker (out of a transaction it serves, or out of a `Drop` during another unwind, which would abort).
pub(crate) fn wake(waker: &AtomicWaker) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
}

/// As [`wake`], for a waker of a caller waiting for something else (room in a queue, the workers to stop).
pub(crate) fn wake_caught(waker: std::task::Waker) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
}

fn token_of<T>(slot: &Arc<Slot<T>>) -> u64 {
    // The slot's address is unique among live jobs, and the slot lives while the worker holds the completer.
    Arc::as_ptr(slot) as usize as u64
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        let s = &self.slot.state;
        if s.compare_exchange(RUNNING, ABANDONED, Ordering::AcqRel, Ordering::Acquire).is_ok()
            || s.compare_exchange(QUEUED, ABANDONED, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            wake(&self.slot.waker);
        }
    }
}

impl<T> Ticket<T> {
    /// The result, if the worker has settled the job.
    #[inline]
    pub fn try_take(&mut self) -> Option<Result<T>> {
        match self.slot.state.load(Ordering::Acquire) {
            READY => {
                self.finished = true;
                let v = self.slot.value.lock().unwrap_or_else(PoisonError::into_inner).take();
                Some(v.unwrap_or_else(|| Err(Error::new(ErrorKind::Closed, "the worker gave no reply"))))
            }
            ABANDONED => {
                self.finished = true;
                Some(Err(Error::new(
                    ErrorKind::Closed,
                    "the connection closed before the job finished (the pool was closed or its worker stopped)",
                )))
            }
            _ => None,
        }
    }

    /// Register the waker, then look once more (so a completion in between is not missed).
    pub fn poll_registered(&mut self, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Some(v) = self.try_take() {
            return Poll::Ready(v);
        }
        self.slot.waker.register(cx.waker());
        match self.try_take() {
            Some(v) => Poll::Ready(v),
            None => Poll::Pending,
        }
    }

    /// The caller is going away: skip the job if it is queued, interrupt it if it runs.
    pub fn cancel(&mut self, shared: &Shared) {
        if self.finished {
            return;
        }
        self.finished = true;
        let s = &self.slot.state;
        if s.compare_exchange(QUEUED, CANCELLED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            return; // the worker will skip the job
        }
        if s.compare_exchange(RUNNING, CANCELLED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            shared.interrupt(self.slot.runner.load(Ordering::Relaxed), token_of(&self.slot));
        }
    }
}

/// A future of a job's result, borrowing the pool it was sent to.
///
/// Once the job is sent it counts as a call in flight (which the spin policy reads) until the reply settles or
/// the future is dropped.
pub(crate) struct Reply<'a, T> {
    ticket: Ticket<T>,
    shared: &'a Shared,
    cancel_on_drop: bool,
    counted: bool,
    /// Whether the future has been polled (the spin decision is made on the first poll).
    polled: bool,
}

impl<'a, T> Reply<'a, T> {
    pub fn new(ticket: Ticket<T>, shared: &'a Shared, cancel_on_drop: bool) -> Self {
        Reply { ticket, shared, cancel_on_drop, counted: false, polled: false }
    }

    /// The job is on its way: count the call in flight.
    pub fn sent(&mut self) {
        self.shared.core.in_flight.fetch_add(1, Ordering::AcqRel);
        self.counted = true;
    }

    fn uncount(&mut self) {
        if std::mem::take(&mut self.counted) {
            self.shared.core.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn settled(&mut self, v: Result<T>) -> Poll<Result<T>> {
        self.uncount();
        Poll::Ready(v)
    }
}

impl<T> Future for Reply<'_, T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        if let Some(v) = this.ticket.try_take() {
            return this.settled(v);
        }
        // On the first poll, the policy says whether to spin briefly: waking a parked task can cost more than a
        // point query, but spinning on a busy machine steals the worker's time.
        if !this.polled {
            this.polled = true;
            if this.shared.core.spin.decide(this.shared.core.in_flight.load(Ordering::Relaxed)) {
                let deadline = this.ticket.slot.sent_at + super::park::MAX_WAITER_SPIN;
                let found = super::park::spin_until(deadline, || this.ticket.try_take());
                this.shared.core.spin.spun(found.is_some());
                if let Some(v) = found {
                    return this.settled(v);
                }
            }
        }
        match this.ticket.poll_registered(cx) {
            Poll::Ready(v) => this.settled(v),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for Reply<'_, T> {
    fn drop(&mut self) {
        self.uncount();
        if self.cancel_on_drop {
            self.ticket.cancel(self.shared);
        }
    }
}
