//! When threads spin and when they park.
//!
//! Waking a parked thread costs tens of microseconds on small virtual machines; a point query costs about five.
//! So both ends of a call spin for a short while before they sleep, and both adapt:
//!
//! - The **worker**, once its queue is empty, polls the queue for up to [`MAX_WORKER_SPIN`] before it parks, but
//!   only while jobs have recently been arriving in quick succession (an average gap below that bound); an idle
//!   worker parks at once, so an idle pool uses no CPU. Among the readers, which share one queue, at most one
//!   spins at a time; the others park.
//! - The **caller's future**, on its first poll, spins on the reply for up to [`MAX_WAITER_SPIN`] when recent
//!   replies came back within that time and no other call of the same pool is in flight. With other calls in
//!   flight the executor has other work, so the future registers its waker and returns `Pending` at once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};

/// The longest a worker polls its empty queue before parking.
pub const MAX_WORKER_SPIN: Duration = Duration::from_micros(200);
/// The longest a future spins on its reply before returning `Pending`.
pub const MAX_WAITER_SPIN: Duration = Duration::from_micros(50);

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The caller-side policy, shared by all calls of one pool.
#[derive(Debug)]
pub(crate) struct SpinPolicy {
    /// Moving average of the time from send to reply, in nanoseconds.
    latency_ns: AtomicU64,
    enabled: bool,
}

impl SpinPolicy {
    pub fn new(enabled: bool) -> Self {
        SpinPolicy { latency_ns: AtomicU64::new(0), enabled }
    }

    /// Fold one observed reply latency into the average (racy updates are fine: it is a hint).
    pub fn record(&self, latency: Duration) {
        let old = self.latency_ns.load(Ordering::Relaxed);
        let new = old - old / 4 + nanos(latency) / 4;
        self.latency_ns.store(new, Ordering::Relaxed);
    }

    /// How long to spin for a reply, given the calls of the pool now in flight (this one included).
    #[inline]
    pub fn waiter_budget(&self, in_flight: usize) -> Option<Duration> {
        if !self.enabled || in_flight > 1 {
            return None;
        }
        let avg = Duration::from_nanos(self.latency_ns.load(Ordering::Relaxed));
        (avg < MAX_WAITER_SPIN).then(|| (avg * 2 + Duration::from_micros(5)).min(MAX_WAITER_SPIN))
    }
}

/// One worker's idle policy.
#[derive(Debug)]
pub(crate) struct WorkerSpin {
    /// Moving average of the idle gap between jobs, in nanoseconds.
    gap_ns: u64,
    enabled: bool,
}

/// Readers share one queue; this token lets only one of them spin at a time.
#[derive(Debug, Default)]
pub(crate) struct SpinToken(AtomicBool);

impl SpinToken {
    fn acquire(&self) -> bool {
        !self.0.swap(true, Ordering::Acquire)
    }
    fn release(&self) {
        self.0.store(false, Ordering::Release);
    }
}

/// The result of waiting for a job.
pub(crate) enum Next<T> {
    Job(T),
    Disconnected,
}

impl WorkerSpin {
    pub fn new(enabled: bool) -> Self {
        // Start as if idle: the first jobs after start-up teach the worker to spin.
        WorkerSpin { gap_ns: nanos(MAX_WORKER_SPIN) * 4, enabled }
    }

    fn record_gap(&mut self, gap: Duration) {
        let g = nanos(gap).min(nanos(MAX_WORKER_SPIN) * 8);
        self.gap_ns = self.gap_ns - self.gap_ns / 4 + g / 4;
    }

    /// Take the next job: at once if one is queued; else spin a while if jobs have been coming fast; else park.
    pub fn next<T>(&mut self, rx: &Receiver<T>, token: Option<&SpinToken>) -> Next<T> {
        match rx.try_recv() {
            Ok(job) => {
                self.record_gap(Duration::ZERO);
                return Next::Job(job);
            }
            Err(TryRecvError::Disconnected) => return Next::Disconnected,
            Err(TryRecvError::Empty) => {}
        }
        let idle_since = Instant::now();
        let spin = self.enabled && self.gap_ns < nanos(MAX_WORKER_SPIN) && token.is_none_or(SpinToken::acquire);
        if spin {
            let deadline = idle_since + MAX_WORKER_SPIN;
            let mut i = 0u32;
            let found = loop {
                match rx.try_recv() {
                    Ok(job) => break Some(Ok(job)),
                    Err(TryRecvError::Disconnected) => break Some(Err(())),
                    Err(TryRecvError::Empty) => {}
                }
                std::hint::spin_loop();
                i += 1;
                if i % 32 == 0 && Instant::now() >= deadline {
                    break None;
                }
            };
            if let Some(t) = token {
                t.release();
            }
            match found {
                Some(Ok(job)) => {
                    self.record_gap(idle_since.elapsed());
                    return Next::Job(job);
                }
                Some(Err(())) => return Next::Disconnected,
                None => {}
            }
        }
        match rx.recv() {
            Ok(job) => {
                self.record_gap(idle_since.elapsed());
                Next::Job(job)
            }
            Err(_) => Next::Disconnected,
        }
    }
}
