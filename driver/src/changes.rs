//! [`Pool::changes`]: a stream of committed row changes.
//!
//! On the pool's writer, where every write runs, the driver's own data hooks (chained with any the application
//! sets, see [`blocking::Connection::update_hook`](crate::blocking::Connection::update_hook)) collect the row
//! changes of the open transaction and hold them back until it commits:
//!
//! - the update hook notes each change (operation, database, table, rowid) with the statement that made it;
//! - a statement that fails inside a transaction loses its changes (SQLite undid them), a `ROLLBACK TO` a savepoint
//!   loses those made since the savepoint, and a rolled-back transaction loses all (the rollback hook);
//! - at the commit hook the changes wait for the commit to reach the WAL (SQLite calls the WAL hook once it has,
//!   with the write lock released) and are published then; in a journal mode other than WAL, at the commit hook.
//!
//! Every subscriber gets every committed change, in commit order. Each has a bounded queue: a subscriber that
//! falls behind does not make the writer wait or memory grow; the changes that found its queue full are counted,
//! and the subscriber reads a [`Lagged`] item with that count where they would have been, then the changes that
//! came after. A transaction that changes more rows than the driver holds back (65,536) is reported the same way.
//!
//! The update hook has SQLite's limits: no changes for `WITHOUT ROWID` tables, for rows a `REPLACE` deletes, or for
//! a `DELETE` without `WHERE` (truncate optimization), and none for the schema.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

use futures::Stream;

use crate::worker::{Core, Job};
use crate::Pool;

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

/// One committed row change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Change {
    /// What happened.
    pub operation: Operation,
    /// The database: `main`, `temp` or an attached name.
    pub database: Arc<str>,
    /// The table.
    pub table: Arc<str>,
    /// The row's rowid.
    pub rowid: i64,
}

/// A subscriber fell behind: this many changes did not fit its queue and are lost to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lagged {
    /// How many changes were missed.
    pub missed: u64,
}

impl std::fmt::Display for Lagged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the change feed's subscriber fell behind and missed {} changes", self.missed)
    }
}

impl std::error::Error for Lagged {}

/// The queue length of a subscriber made by [`Pool::changes`].
pub const DEFAULT_CHANGES_CAPACITY: usize = 1024;

enum Entry {
    Change(Change),
    Lagged(u64),
}

struct SubState {
    queue: VecDeque<Entry>,
    waker: Option<Waker>,
    closed: bool,
}

struct Sub {
    state: Mutex<SubState>,
    capacity: usize,
}

impl Sub {
    fn lock(&self) -> std::sync::MutexGuard<'_, SubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SubState {
    /// Queue one change, or count it as missed when the queue is full (at most one `Lagged` entry past the
    /// capacity, at the back, where the missed changes belong).
    fn push(&mut self, change: &Change, capacity: usize) {
        if self.queue.len() < capacity {
            self.queue.push_back(Entry::Change(change.clone()));
        } else {
            self.missed(1);
        }
    }

    fn missed(&mut self, n: u64) {
        match self.queue.back_mut() {
            Some(Entry::Lagged(m)) => *m += n,
            _ => self.queue.push_back(Entry::Lagged(n)),
        }
    }
}

/// What the subscribers of one pool share with its writer's feed.
#[derive(Default)]
struct HubShared {
    subs: Mutex<Vec<Weak<Sub>>>,
    closed: AtomicBool,
}

impl HubShared {
    fn subs(&self) -> std::sync::MutexGuard<'_, Vec<Weak<Sub>>> {
        self.subs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hand committed changes (and a count of changes the writer could not hold) to every subscriber.
    fn publish(&self, changes: &[Change], dropped: u64) {
        let mut subs = self.subs();
        subs.retain(|w| w.strong_count() > 0);
        for sub in subs.iter().filter_map(Weak::upgrade) {
            let waker = {
                let mut st = sub.lock();
                for c in changes {
                    st.push(c, sub.capacity);
                }
                if dropped > 0 {
                    st.missed(dropped);
                }
                st.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    /// The writer is gone: every stream ends once it has read what it holds.
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let subs = std::mem::take(&mut *self.subs());
        for sub in subs.iter().filter_map(Weak::upgrade) {
            let waker = {
                let mut st = sub.lock();
                st.closed = true;
                st.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

/// Closes the hub when the writer's feed is dropped (the writer closed its connection).
struct CloseOnDrop(Arc<HubShared>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A pool's change feed: its subscribers, and whether the writer's feed is started.
#[derive(Default)]
pub(crate) struct Hub {
    shared: Arc<HubShared>,
    started: AtomicBool,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("started", &self.started.load(Ordering::Relaxed)).finish_non_exhaustive()
    }
}

impl Hub {
    fn subscribe(&self, core: &Core, closed: bool, capacity: usize) -> Changes {
        let sub = Arc::new(Sub {
            state: Mutex::new(SubState { queue: VecDeque::new(), waker: None, closed: false }),
            capacity: capacity.max(1),
        });
        self.shared.subs().push(Arc::downgrade(&sub));
        if closed || self.shared.closed.load(Ordering::SeqCst) {
            sub.lock().closed = true;
        }
        if !self.started.swap(true, Ordering::SeqCst) {
            // The writer starts the feed before any job queued after this one: writes sent after `changes()`
            // returned are seen.
            // The guard closes the hub when the feed ends: the writer closed its connection, the feed could not
            // start, or the job was dropped unrun (the pool closed first).
            let guard = CloseOnDrop(Arc::clone(&self.shared));
            let job = Job::Setup(Box::new(move |conn| {
                let publish = Box::new(move |changes: Vec<crate::changes::Change>, dropped: u64| {
                    guard.0.publish(&changes, dropped);
                });
                let _ = conn.start_change_feed(publish);
            }));
            if core.writer.force_send(job).is_err() {
                self.shared.close();
            }
        }
        Changes { sub }
    }
}

/// The committed row changes of a pool, as a [`Stream`]: `Ok(Change)` for each change, `Err(Lagged)` where the
/// subscriber fell behind. It ends when the pool closes. Made by [`Pool::changes`]; see the
/// [module docs](crate::changes) for what is reported and when.
pub struct Changes {
    sub: Arc<Sub>,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes").field("queued", &self.sub.lock().queue.len()).finish()
    }
}

impl Changes {
    /// The next item if one is queued now, without waiting: `None` when none is (or the feed has ended).
    pub fn try_next(&mut self) -> Option<Result<Change, Lagged>> {
        let mut st = self.sub.lock();
        match st.queue.pop_front()? {
            Entry::Change(c) => Some(Ok(c)),
            Entry::Lagged(n) => Some(Err(Lagged { missed: n })),
        }
    }
}

impl Stream for Changes {
    type Item = Result<Change, Lagged>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut st = self.sub.lock();
        match st.queue.pop_front() {
            Some(Entry::Change(c)) => Poll::Ready(Some(Ok(c))),
            Some(Entry::Lagged(n)) => Poll::Ready(Some(Err(Lagged { missed: n }))),
            None if st.closed => Poll::Ready(None),
            None => {
                if !st.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    st.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

impl Pool {
    /// Subscribe to the pool's committed row changes: a [`Stream`] of [`Change`]s (operation, table, rowid),
    /// delivered after their transaction commits and never for work rolled back, with a queue of
    /// [`DEFAULT_CHANGES_CAPACITY`] changes (a subscriber that falls further behind reads a [`Lagged`] item). Any
    /// number of subscribers; each sees every change committed after this call (writes sent after it returns).
    ///
    /// ```
    /// use futures::StreamExt;
    /// # fn main() -> asqlite::Result<()> {
    /// # futures::executor::block_on(async {
    /// let pool = asqlite::Pool::open_in_memory().await?;
    /// pool.execute_batch("CREATE TABLE t (x)").await?;
    /// let mut changes = pool.changes();
    /// pool.execute("INSERT INTO t VALUES (1)", ()).await?;
    /// let change = changes.next().await.unwrap().unwrap();
    /// assert_eq!((change.operation, &*change.table, change.rowid), (asqlite::Operation::Insert, "t", 1));
    /// # pool.close().await })
    /// # }
    /// ```
    pub fn changes(&self) -> Changes {
        self.changes_with_capacity(DEFAULT_CHANGES_CAPACITY)
    }

    /// As [`changes`](Self::changes), with a queue of `capacity` changes (at least 1).
    pub fn changes_with_capacity(&self, capacity: usize) -> Changes {
        let shared = crate::Client::shared(self);
        shared.core.changes.subscribe(&shared.core, shared.is_closed(), capacity)
    }
}
