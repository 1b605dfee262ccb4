//! When threads spin and when they park.
//!
//! Waking a parked thread costs tens of microseconds on small virtual machines; a point query costs about five.
//! So both ends of a call spin for a short while before they sleep, and both adapt:
//!
//! - The **worker**, once its queue is empty, polls the queue for up to [`MAX_WORKER_SPIN`] before it parks, but
//!   only while jobs have recently been arriving in quick succession (an average gap below that bound); an idle
//!   worker parks at once, so an idle pool uses no CPU. Among the readers, which share one queue, one leads
//!   (waits for the next job) and the others follow (sleep until the leader is busy and work is queued), so a
//!   sender wakes no one while the leader waits.
//! - The **caller's future**, on its first poll, spins on the reply for up to [`MAX_WAITER_SPIN`] when recent
//!   replies came back within that time and no other call of the same pool is in flight. With other calls in
//!   flight the executor has other work, so the future registers its waker and returns `Pending` at once.
//! - Both sides back off: a spin that ran out without finding its job or reply skips the next `2^n` chances to
//!   spin (`n` fruitless spins in a row, capped at 1024), and spinners yield their CPU every 128 polls. On a
//!   machine too busy to run both sides at once, spinning would only steal time.

use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
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
/// A call spins on its reply when it is the only call of the pool in flight (otherwise the executor has other
/// work) and recent jobs finished within [`MAX_WAITER_SPIN`]. A spin that runs out without the reply means the
/// worker could not get a CPU in time: the next `2^n` calls park instead (`n` such spins in a row, capped), so on a
/// machine too busy to run both sides, spinning stops stealing the worker's time.
#[derive(Debug)]
pub(crate) struct SpinPolicy {
    /// Moving average of the time from send to reply on the worker, in nanoseconds: no spinning for slow calls.
    latency_ns: AtomicU64,
    fails: AtomicU32,
    skip: AtomicU32,
    enabled: bool,
}

impl SpinPolicy {
    pub fn new(enabled: bool) -> Self {
        SpinPolicy { latency_ns: AtomicU64::new(0), fails: AtomicU32::new(0), skip: AtomicU32::new(0), enabled }
    }

    /// Fold one job's latency (send to completion, seen by the worker) into the average.
    pub fn record(&self, latency: Duration) {
        let old = self.latency_ns.load(Ordering::Relaxed);
        self.latency_ns.store(old - old / 4 + nanos(latency) / 4, Ordering::Relaxed);
    }

    /// Whether a call should spin for its reply, given the calls of the pool now in flight (this one included).
    #[inline]
    pub fn decide(&self, in_flight: usize) -> bool {
        if !self.enabled || in_flight > 1 {
            return false;
        }
        if self.skip.load(Ordering::Relaxed) > 0 {
            self.skip.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        Duration::from_nanos(self.latency_ns.load(Ordering::Relaxed)) < MAX_WAITER_SPIN
    }

    /// Whether a spin found its reply.
    pub fn spun(&self, found: bool) {
        if found {
            self.fails.store(0, Ordering::Relaxed);
        } else {
            let fails = self.fails.fetch_add(1, Ordering::Relaxed) + 1;
            self.skip.store(backoff(fails), Ordering::Relaxed);
        }
    }
}

/// After `fails` fruitless spins in a row, skip this many chances to spin (doubling, capped).
pub(crate) fn backoff(fails: u32) -> u32 {
    1u32 << fails.min(10)
}

/// Poll `f` until it yields something or `deadline` passes (the clock is read every 64 polls), yielding the CPU
/// every [`YIELD_EVERY`] polls: how a caller waits briefly for its reply or its next chunk before parking.
pub(crate) fn spin_until<T>(deadline: Instant, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let mut i = 0u32;
    loop {
        std::hint::spin_loop();
        if let Some(v) = f() {
            return Some(v);
        }
        i += 1;
        if i % 64 == 0 && Instant::now() >= deadline {
            return None;
        }
        if i % YIELD_EVERY == 0 {
            std::thread::yield_now();
        }
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

/// Readers share one queue, and take turns at it: one *leader* waits for the next job (spinning, then blocked on
/// the queue), the others wait as *followers* on a condition variable. So a sender wakes nobody while the leader is
/// waiting, which is always the case for sequential calls; it wakes a follower only when the leader is busy with a
/// job, which is when a second reader can help.
#[derive(Debug, Default)]
pub(crate) struct Leadership {
    held: AtomicBool,
    /// The leader is waiting for a job: a job queued now needs no wake-up.
    waiting: AtomicBool,
    parked: AtomicUsize,
    lock: Mutex<()>,
    followers: Condvar,
}

impl Leadership {
    fn try_lead(&self) -> bool {
        !self.held.swap(true, Ordering::SeqCst)
    }

    fn step_down(&self) {
        self.held.store(false, Ordering::SeqCst);
    }

    /// A job was queued for the readers: if no leader is waiting for it, wake a follower to take the lead.
    #[inline]
    pub fn job_queued(&self) {
        fence(Ordering::SeqCst);
        if !self.waiting.load(Ordering::SeqCst) {
            self.wake_one();
        }
    }

    fn wake_one(&self) {
        if self.parked.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.followers.notify_one();
        }
    }

    /// Wait as a follower until woken (or, as a safety net, a while), unless there is no leader.
    fn follow(&self) {
        let guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.parked.fetch_add(1, Ordering::SeqCst);
        if self.held.load(Ordering::SeqCst) {
            let _ = self.followers.wait_timeout(guard, FOLLOWER_NAP).unwrap_or_else(PoisonError::into_inner);
        }
        self.parked.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long a follower sleeps before it looks for the lead again without being woken.
const FOLLOWER_NAP: Duration = Duration::from_millis(50);

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

    /// Take the next job as one of the readers sharing `rx`: lead (wait for it) or follow (wait for a turn).
    pub fn next_shared<T>(&mut self, rx: &Receiver<T>, lead: &Leadership) -> Next<T> {
        loop {
            if lead.try_lead() {
                lead.waiting.store(true, Ordering::SeqCst);
                let next = self.next(rx);
                lead.waiting.store(false, Ordering::SeqCst);
                lead.step_down();
                fence(Ordering::SeqCst);
                // Busy now: if more work is queued (or the queue closed), another reader should take the lead.
                if !rx.is_empty() || matches!(next, Next::Disconnected) {
                    lead.wake_one();
                }
                return next;
            }
            lead.follow();
        }
    }

    /// Take the next job: at once if one is queued; else spin a while if jobs have been coming fast; else park.
    pub fn next<T>(&mut self, rx: &Receiver<T>) -> Next<T> {
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
