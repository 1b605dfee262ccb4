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
//! - Spinning must pay for itself. Callers measure the latency of sequential calls made spinning and made
//!   parking, use the better mode and try the other one call in eight; workers spin only while spinning is the
//!   better mode, and a worker whose spin found nothing skips its next `2^n` chances (`n` fruitless spins in a
//!   row, capped at 1024). On a machine too busy to run both sides at once, spinning would only steal time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};

/// The longest a worker polls its empty queue before parking.
pub const MAX_WORKER_SPIN: Duration = Duration::from_micros(200);
/// Spinning threads yield their CPU this often (in polls), so a spinner never starves the thread it waits for
/// when both share one CPU.
pub const YIELD_EVERY: u32 = 128;

/// The longest a future spins on its reply before returning `Pending`.
pub const MAX_WAITER_SPIN: Duration = Duration::from_micros(50);

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The caller-side policy, shared by all calls of one pool.
///
/// Whether spinning pays depends on the machine: with a core to spare it saves a wake-up per call; on a machine
/// whose cores are busy it steals the time the worker needs. So the policy measures instead of guessing: it keeps
/// the average latency of sequential calls made spinning and of calls made parking, uses the better mode, and
/// tries the other one call in eight to notice when the machine changes.
#[derive(Debug)]
pub(crate) struct SpinPolicy {
    /// Moving average of the time from send to reply on the worker, in nanoseconds: no spinning for slow calls.
    latency_ns: AtomicU64,
    /// Moving averages of whole-call latency seen by callers that spun and that parked (0 = not measured yet).
    spin_ns: AtomicU64,
    park_ns: AtomicU64,
    calls: AtomicU64,
    enabled: bool,
}

/// Fold `sample` into a moving average kept in `avg` (racy updates are fine: it is a hint).
fn fold(avg: &AtomicU64, sample: Duration) {
    let old = avg.load(Ordering::Relaxed);
    let new = if old == 0 { nanos(sample).max(1) } else { old - old / 8 + nanos(sample) / 8 };
    avg.store(new, Ordering::Relaxed);
}

impl SpinPolicy {
    pub fn new(enabled: bool) -> Self {
        SpinPolicy {
            latency_ns: AtomicU64::new(0),
            spin_ns: AtomicU64::new(0),
            park_ns: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            enabled,
        }
    }

    /// Fold one job's latency (send to completion, seen by the worker) into the average.
    pub fn record(&self, latency: Duration) {
        let old = self.latency_ns.load(Ordering::Relaxed);
        self.latency_ns.store(old - old / 4 + nanos(latency) / 4, Ordering::Relaxed);
    }

    /// Whether spinning has been measured to be the better mode (or not measured against yet).
    pub fn prefers_spin(&self) -> bool {
        let (spin, park) = (self.spin_ns.load(Ordering::Relaxed), self.park_ns.load(Ordering::Relaxed));
        self.enabled && (park == 0 || spin <= park)
    }

    /// Decide how a call waits for its reply, given the calls of the pool now in flight (this one included):
    /// `Some(true)` spin (for [`MAX_WAITER_SPIN`] at most), `Some(false)` park; both are measured. `None`: park,
    /// unmeasured (other calls in flight give the executor other work, or the calls are slow anyway).
    #[inline]
    pub fn decide(&self, in_flight: usize) -> Option<bool> {
        if !self.enabled || in_flight > 1 {
            return None;
        }
        if Duration::from_nanos(self.latency_ns.load(Ordering::Relaxed)) >= MAX_WAITER_SPIN {
            return None;
        }
        let explore = self.calls.fetch_add(1, Ordering::Relaxed) % 8 == 7;
        Some(self.prefers_spin() != explore)
    }

    /// A call decided by [`SpinPolicy::decide`] took `latency` in all.
    pub fn observe(&self, spun: bool, latency: Duration) {
        fold(if spun { &self.spin_ns } else { &self.park_ns }, latency);
    }
}

/// After `fails` fruitless spins in a row, skip this many chances to spin (doubling, capped).
fn backoff(fails: u32) -> u32 {
    1u32 << fails.min(10)
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
    pub fn next<T>(&mut self, rx: &Receiver<T>, token: Option<&SpinToken>, policy: &SpinPolicy) -> Next<T> {
        match rx.try_recv() {
            Ok(job) => {
                self.record_gap(Duration::ZERO);
                return Next::Job(job);
            }
            Err(TryRecvError::Disconnected) => return Next::Disconnected,
            Err(TryRecvError::Empty) => {}
        }
        let idle_since = Instant::now();
        let mut spin = self.enabled && self.gap_ns < nanos(MAX_WORKER_SPIN) && policy.prefers_spin();
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
                if i % YIELD_EVERY == 0 {
                    // Let a runnable thread that shares this CPU (perhaps the caller) make progress.
                    std::thread::yield_now();
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
