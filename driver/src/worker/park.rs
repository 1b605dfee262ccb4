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
//! - Both sides back off: after a spin that found nothing, the next `2^n` chances to spin are skipped (`n` fruitless
//!   spins in a row, capped at 1024). On a machine too busy to run the other side promptly, spinning would only
//!   steal its time.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
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
    /// Spins in a row that ran out without a reply, and how many calls to skip spinning for because of them.
    fails: AtomicU32,
    skip: AtomicU32,
    enabled: bool,
}

/// After `fails` fruitless spins in a row, skip spinning for this many calls (doubling, capped): on a machine
/// where the worker cannot get a core, spinning only steals the time it needs.
fn backoff(fails: u32) -> u32 {
    1u32 << fails.min(10)
}

impl SpinPolicy {
    pub fn new(enabled: bool) -> Self {
        SpinPolicy { latency_ns: AtomicU64::new(0), fails: AtomicU32::new(0), skip: AtomicU32::new(0), enabled }
    }

    /// Whether the last spin found its reply.
    pub fn spun(&self, found: bool) {
        if found {
            self.fails.store(0, Ordering::Relaxed);
        } else {
            let fails = self.fails.fetch_add(1, Ordering::Relaxed) + 1;
            self.skip.store(backoff(fails), Ordering::Relaxed);
        }
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
        if self.skip.load(Ordering::Relaxed) > 0 {
            self.skip.fetch_sub(1, Ordering::Relaxed);
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
    /// Fruitless spins in a row, and idle periods left to park at once because of them.
    fails: u32,
    skip: u32,
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
        WorkerSpin { gap_ns: nanos(MAX_WORKER_SPIN) * 4, fails: 0, skip: 0, enabled }
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
        let mut spin = self.enabled && self.gap_ns < nanos(MAX_WORKER_SPIN);
        if spin && self.skip > 0 {
            self.skip -= 1;
            spin = false;
        }
        let spin = spin && token.is_none_or(SpinToken::acquire);
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
                    self.fails = 0;
                    self.record_gap(idle_since.elapsed());
                    return Next::Job(job);
                }
                Some(Err(())) => return Next::Disconnected,
                None => {
                    self.fails += 1;
                    self.skip = backoff(self.fails);
                }
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
