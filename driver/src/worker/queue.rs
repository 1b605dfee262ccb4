//! A job queue: an unbounded crossbeam channel with admission control on top.
//!
//! Callers are admitted while fewer than `capacity` jobs wait, and otherwise wait asynchronously for a worker to
//! take one. Jobs the system itself must enqueue (a reader passing a write to the writer, close and roll-back jobs
//! sent from `Drop`) bypass the bound, so no thread ever blocks on a full queue.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use crossbeam_channel::{Receiver, Sender};

use super::Job;

#[derive(Debug)]
pub(crate) struct Queue {
    tx: Sender<Job>,
    queued: AtomicUsize,
    capacity: usize,
    waiting: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

/// The queue was closed: every worker reading it is gone (the job is dropped, telling its caller).
pub(crate) struct Disconnected;

impl Queue {
    pub fn new(capacity: usize) -> (Queue, Receiver<Job>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let queue = Queue {
            tx,
            queued: AtomicUsize::new(0),
            capacity: capacity.max(1),
            waiting: AtomicBool::new(false),
            wakers: Mutex::new(Vec::new()),
        };
        (queue, rx)
    }

    /// Jobs waiting to be taken. (SeqCst, like the updates: a caller that reads 0 here and then locks a worker's
    /// connection must see the lock the worker took before it counted its job as taken.)
    pub fn len(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Enqueue `job` if there is room; otherwise register the waker and return `Pending`, keeping the job.
    pub fn poll_send(&self, job: &mut Option<Job>, cx: &mut Context<'_>) -> Poll<Result<(), Disconnected>> {
        loop {
            let queued = self.queued.load(Ordering::SeqCst);
            if queued >= self.capacity {
                {
                    let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
                    if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                        wakers.push(cx.waker().clone());
                    }
                    self.waiting.store(true, Ordering::SeqCst);
                }
                // A worker that took a job before we registered is seen here (SeqCst on both sides).
                if self.queued.load(Ordering::SeqCst) >= self.capacity {
                    return Poll::Pending;
                }
                continue;
            }
            if self.queued.compare_exchange(queued, queued + 1, Ordering::SeqCst, Ordering::Relaxed).is_ok() {
                let Some(j) = job.take() else { return Poll::Ready(Ok(())) };
                return Poll::Ready(self.tx.send(j).map_err(|_| {
                    self.queued.fetch_sub(1, Ordering::SeqCst);
                    Disconnected
                }));
            }
        }
    }

    /// Enqueue past the bound: for jobs the system must not lose or block on.
    pub fn force_send(&self, job: Job) -> Result<(), Disconnected> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        self.tx.send(job).map_err(|_| {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            Disconnected
        })
    }

    /// A worker took a job: make room and wake the callers waiting for it.
    #[inline]
    pub fn taken(&self) {
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) {
            let wakers = {
                let mut w = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
                self.waiting.store(false, Ordering::SeqCst);
                std::mem::take(&mut *w)
            };
            // Callers' wakers, woken on a worker's thread: one that panics must not take the worker down.
            wakers.into_iter().for_each(super::reply::wake_caught);
        }
    }
}
