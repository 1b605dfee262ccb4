//! [`Pool`]: one writer and N readers under WAL, and the [`PoolBuilder`] that opens pools and connections.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::blocking::{self, OpenOptions};
use crate::client::{async_methods, handle_methods, OwnedRoute};
use crate::ffi::InterruptHandle;
use crate::worker::{self, Config, Core, Job, Shared};
use crate::{Error, ErrorKind, Result};

/// How `synchronous` is set on the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// `OFF`: no syncs; a power loss can corrupt the database.
    Off,
    /// `NORMAL`: in WAL mode, durable against application crashes; a power loss may lose the last commits.
    Normal,
    /// `FULL`: sync at every commit.
    Full,
}

/// Options for opening a [`Pool`] or an async [`Connection`](crate::Connection).
///
/// ```
/// # async fn demo() -> asqlite::Result<()> {
/// use std::time::Duration;
/// let pool = asqlite::Pool::builder()
///     .readers(4)
///     .busy_timeout(Duration::from_secs(5))
///     .statement_timeout(Duration::from_secs(30))
///     .open("app.db")
///     .await?;
/// # pool.close().await }
/// ```
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    readers: Option<usize>,
    busy_timeout: Duration,
    cache_capacity: usize,
    queue_capacity: usize,
    statement_timeout: Option<Duration>,
    slow_threshold: Option<Duration>,
    synchronous: Synchronous,
    foreign_keys: bool,
    read_only: bool,
    create: bool,
    uri: bool,
    spin: bool,
    inline_reads: bool,
}

impl Default for PoolBuilder {
    fn default() -> Self {
        PoolBuilder {
            readers: None,
            busy_timeout: blocking::DEFAULT_BUSY_TIMEOUT,
            cache_capacity: blocking::DEFAULT_STATEMENT_CACHE_CAPACITY,
            queue_capacity: 1024,
            statement_timeout: None,
            slow_threshold: None,
            synchronous: Synchronous::Normal,
            foreign_keys: true,
            read_only: false,
            create: true,
            uri: false,
            spin: true,
            inline_reads: true,
        }
    }
}

impl PoolBuilder {
    /// Defaults: readers = the machine's parallelism (at most 4), busy timeout 5 s, 128 cached statements per
    /// connection, queues of 1024 jobs, `synchronous = NORMAL`, `foreign_keys = ON`, files created if missing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of reader threads (0: the writer serves reads too).
    pub fn readers(mut self, n: usize) -> Self {
        self.readers = Some(n);
        self
    }

    /// How long a statement waits for another connection's lock before failing with
    /// [`ErrorKind::Busy`](crate::ErrorKind::Busy).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Prepared statements kept per connection.
    pub fn statement_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Jobs each queue holds before callers wait (asynchronously) for room. At least 1.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Interrupt any call that runs longer than this on its worker, failing it with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout). The time counts per call: one statement, a whole batch,
    /// a whole `execute_many` or closure. Streams are not subject to it (their time includes the consumer's).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// Log a warning (with the `tracing` feature) for jobs slower than this.
    pub fn slow_statement_threshold(mut self, threshold: Duration) -> Self {
        self.slow_threshold = Some(threshold);
        self
    }

    /// The writer's `synchronous` setting (default `NORMAL`).
    pub fn synchronous(mut self, mode: Synchronous) -> Self {
        self.synchronous = mode;
        self
    }

    /// Enforce foreign keys (default on).
    pub fn foreign_keys(mut self, on: bool) -> Self {
        self.foreign_keys = on;
        self
    }

    /// Open every connection read-only (writes fail with [`ErrorKind::ReadOnly`](crate::ErrorKind::ReadOnly)).
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Create the file if it is missing (default true).
    pub fn create(mut self, yes: bool) -> Self {
        self.create = yes;
        self
    }

    /// Interpret the path as a `file:` URI. Only then do URI options count: `file::memory:` or `?mode=memory` open
    /// an in-memory database (one connection, no WAL); off (the default), a path is a file name whatever it holds.
    pub fn uri(mut self, yes: bool) -> Self {
        self.uri = yes;
        self
    }

    /// Let threads spin briefly before parking (default on; see the crate docs on latency). Off trades latency
    /// for the least CPU.
    pub fn spin(mut self, yes: bool) -> Self {
        self.spin = yes;
        self
    }

    /// Let cheap reads (`query`, `query_one`, `query_opt`) run on the calling thread when a connection is free
    /// (default on): a reader's for a pool; for a lone [`Connection`](crate::Connection), its one connection, when
    /// no earlier call waits in its queue. A point query then costs what it costs in a synchronous driver, instead
    /// of two trips between threads. Only reads whose last run on that connection was small (by SQLite's count of
    /// virtual-machine steps) run so; one that runs longer than 50 µs anyway, or finds the database locked, is
    /// stopped and handed to the worker. Off, every call goes to the worker threads. See the crate docs on latency.
    pub fn inline_reads(mut self, yes: bool) -> Self {
        self.inline_reads = yes;
        self
    }

    /// Open a pool on `path`.
    pub async fn open(&self, path: impl AsRef<Path>) -> Result<Pool> {
        let readers = self.readers.unwrap_or_else(default_readers);
        Ok(Pool { shared: Arc::new(self.start(path.as_ref(), readers, "pool").await?) })
    }

    /// Open one async connection (one worker thread) on `path`.
    pub async fn open_connection(&self, path: impl AsRef<Path>) -> Result<crate::Connection> {
        Ok(crate::Connection::from_shared(Arc::new(self.start(path.as_ref(), 0, "connection").await?)))
    }

    fn options(&self, read_only: bool) -> OpenOptions {
        OpenOptions::new()
            .read_only(read_only)
            .create(self.create)
            .uri(self.uri)
            .busy_timeout(self.busy_timeout)
            .statement_cache_capacity(self.cache_capacity)
    }

    async fn start(&self, path: &Path, readers: usize, what: &'static str) -> Result<Shared> {
        let memory = blocking::is_memory(path, self.uri);
        let readers = if memory { 0 } else { readers };
        let inline = self.inline_reads;
        let config = Config {
            statement_timeout: self.statement_timeout,
            slow_threshold: self.slow_threshold,
            spin: self.spin,
            inline,
        };
        let (core, wrx, rrx) = Core::new(config, readers, self.queue_capacity);
        let core = Arc::new(core);
        let deadline_checks = self.statement_timeout.map(|_| 1000);
        // An inline read's budget is a deadline too: a lone connection's worker serves the reads.
        let writer_checks =
            if inline && readers == 0 { Some(worker::inline::DEADLINE_CHECK_STEPS) } else { deadline_checks };

        let writer_opts = self.options(self.read_only);
        let settings = self.clone();
        let writer_path = path.to_path_buf();
        let open_writer = move || -> Result<blocking::Connection> {
            let conn = writer_opts.open(&writer_path)?;
            if !memory && !settings.read_only {
                let mode: String = conn.pragma_update_and_check("journal_mode", "WAL").map_err(|e| {
                    let hint =
                        if e.kind() == ErrorKind::ReadOnly { " (open it with read_only(true) to read it)" } else { "" };
                    e.context(format_args!("cannot switch {} to WAL mode{hint}", writer_path.display()))
                })?;
                if !mode.eq_ignore_ascii_case("wal") {
                    return Err(Error::new(
                        ErrorKind::Sqlite,
                        format!("could not switch {} to WAL mode (it stays in {mode} mode)", writer_path.display()),
                    ));
                }
                let sync = match settings.synchronous {
                    Synchronous::Off => "OFF",
                    Synchronous::Normal => "NORMAL",
                    Synchronous::Full => "FULL",
                };
                conn.pragma_update("synchronous", sync)?;
            }
            if settings.foreign_keys {
                conn.pragma_update("foreign_keys", true)?;
            }
            conn.raw.set_deadline_checks(writer_checks);
            Ok(conn)
        };
        let mut handles = vec![spawn(format!("asqlite-{what}-writer"), open_writer, wrx, &core, 0, false).await?];

        if let Some(rrx) = rrx {
            for id in 1..=readers {
                let opts = self.options(true);
                let p = path.to_path_buf();
                // An inline read's budget is a deadline too.
                let checks = if inline { Some(worker::inline::DEADLINE_CHECK_STEPS) } else { deadline_checks };
                let open_reader = move || -> Result<blocking::Connection> {
                    let conn = opts.open(&p)?;
                    conn.raw.set_deadline_checks(checks);
                    Ok(conn)
                };
                match spawn(format!("asqlite-{what}-reader-{id}"), open_reader, rrx.clone(), &core, id, true).await {
                    Ok(h) => handles.push(h),
                    Err(e) => {
                        // The readers that never started count as gone; the started ones get close jobs; the last
                        // to stop closes the writer.
                        for _ in id..=readers {
                            core.reader_gone();
                        }
                        if let Some(q) = &core.reader_queue {
                            for _ in 1..id {
                                let _ = q.force_send(Job::Close);
                                core.readers_lead.job_queued();
                            }
                        }
                        return Err(e);
                    }
                }
            }
        }
        Ok(Shared::new(core, handles.into_boxed_slice(), what))
    }
}

fn default_readers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}

/// Start a worker thread that opens its connection with `open`; resolves once it is open.
async fn spawn<F>(
    name: String,
    open: F,
    rx: crossbeam_channel::Receiver<Job>,
    core: &Arc<Core>,
    id: usize,
    reader: bool,
) -> Result<InterruptHandle>
where
    F: FnOnce() -> Result<blocking::Connection> + Send + 'static,
{
    let (ready_tx, ready_rx) = futures::channel::oneshot::channel();
    let core = Arc::clone(core);
    std::thread::Builder::new()
        .name(name)
        .spawn(move || match worker::catch(open) {
            Ok(conn) => {
                let _ = ready_tx.send(Ok(conn.raw.interrupt_handle()));
                worker::run(conn, rx, core, id, reader);
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
            }
        })
        .map_err(|e| Error::new(ErrorKind::Sqlite, format!("could not start a worker thread: {e}")).with_source(e))?;
    ready_rx.await.unwrap_or_else(|_| Err(Error::new(ErrorKind::Closed, "the worker thread stopped while opening")))
}

/// Counters of a pool, for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Reader threads (0: the writer serves reads).
    pub readers: usize,
    /// Jobs waiting in the writer's queue.
    pub writer_queue: usize,
    /// Jobs waiting in the readers' shared queue.
    pub reader_queue: usize,
    /// Jobs sent to the workers and not yet finished (reads run inline are never in flight).
    pub in_flight: usize,
    /// Statement-cache hits, summed over the connections.
    pub cache_hits: u64,
    /// Statement-cache misses, summed over the connections.
    pub cache_misses: u64,
    /// Calls run, summed over the connections: on their workers, or inline on a caller's thread.
    pub jobs: u64,
}

pub(crate) fn stats_of(shared: &Shared) -> PoolStats {
    let (writer_queue, reader_queue) = shared.queue_depths();
    let core = &shared.core;
    let sum = |f: fn(&worker::WorkerStats) -> u64| core.stats.iter().map(f).sum();
    PoolStats {
        readers: shared.readers(),
        writer_queue,
        reader_queue,
        in_flight: core.in_flight.load(Ordering::Relaxed),
        cache_hits: sum(|s| s.hits.load(Ordering::Relaxed)),
        cache_misses: sum(|s| s.misses.load(Ordering::Relaxed)),
        jobs: sum(|s| s.jobs.load(Ordering::Relaxed)),
    }
}

/// A pool of SQLite connections on one database file: one writer thread and N reader threads, under WAL.
///
/// Writes, closures ([`call`](Pool::call)) and transactions ([`begin`](Pool::begin)) run on the writer, one at a
/// time; reads go to a shared queue that any idle reader takes from. A statement sent as a read that turns out to
/// write is passed to the writer. An in-memory database uses a single connection.
///
/// `Pool` is a cheap handle: clone it freely. After [`close`](Pool::close), every clone's calls fail with
/// [`ErrorKind::Closed`](crate::ErrorKind::Closed); when the last clone drops, the workers finish their queued jobs
/// and stop.
#[derive(Clone, Debug)]
pub struct Pool {
    shared: Arc<Shared>,
}

impl Pool {
    /// Open a pool on `path` (created if missing) with the default options.
    pub async fn open(path: impl AsRef<Path>) -> Result<Pool> {
        PoolBuilder::new().open(path).await
    }

    /// Open a pool on a private in-memory database (one connection).
    pub async fn open_in_memory() -> Result<Pool> {
        PoolBuilder::new().open(":memory:").await
    }

    /// Options for opening a pool.
    pub fn builder() -> PoolBuilder {
        PoolBuilder::new()
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn write_route(&self) -> OwnedRoute {
        OwnedRoute::Write
    }

    fn read_route(&self) -> OwnedRoute {
        OwnedRoute::Read
    }

    async_methods!("pool");

    handle_methods!("pool");
}
