//! [`Pool`]: one writer and N readers under WAL, and the [`PoolBuilder`] that opens pools and connections.

use std::marker::PhantomData;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::blocking::{self, OpenOptions};
use crate::client::{Client, OwnedRoute};
use crate::conn_state::{self, Role};
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

/// Options for opening a [`Pool`] ([`PoolBuilder`]) or an async [`Connection`](crate::Connection)
/// ([`ConnectionBuilder`]): the same settings, and an `open` that gives what the name says.
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
/// let conn: asqlite::Connection = asqlite::Connection::builder().busy_timeout(Duration::from_secs(1)).open("app.db").await?;
/// # conn.close().await?;
/// # pool.close().await }
/// ```
pub struct Builder<T> {
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
    target: PhantomData<fn() -> T>,
}

/// Options for opening a [`Pool`]: `Pool::builder()`.
pub type PoolBuilder = Builder<Pool>;

/// Options for opening an async [`Connection`](crate::Connection): `Connection::builder()`.
pub type ConnectionBuilder = Builder<crate::Connection>;

impl<T> Clone for Builder<T> {
    fn clone(&self) -> Self {
        Builder { target: PhantomData, ..*self }
    }
}

impl<T> std::fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("readers", &self.readers)
            .field("busy_timeout", &self.busy_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("synchronous", &self.synchronous)
            .field("foreign_keys", &self.foreign_keys)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl<T> Default for Builder<T> {
    fn default() -> Self {
        Builder {
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
            target: PhantomData,
        }
    }
}

impl Builder<Pool> {
    /// The number of reader threads (0: the writer serves reads too).
    pub fn readers(mut self, n: usize) -> Self {
        self.readers = Some(n);
        self
    }

    /// Open a pool on `path`.
    pub async fn open(&self, path: impl AsRef<Path>) -> Result<Pool> {
        let readers = self.readers.unwrap_or_else(default_readers);
        Ok(Pool::from_shared(Arc::new(self.start(path.as_ref(), readers, "pool").await?)))
    }

    /// Open one async connection (one worker thread) on `path`, with these settings.
    #[deprecated(note = "use Connection::builder(), whose open() gives a Connection")]
    pub async fn open_connection(&self, path: impl AsRef<Path>) -> Result<crate::Connection> {
        Ok(crate::Connection::from_pool(Pool::from_shared(Arc::new(self.start(path.as_ref(), 0, "connection").await?))))
    }
}

impl Builder<crate::Connection> {
    /// Open one async connection (one worker thread) on `path`.
    pub async fn open(&self, path: impl AsRef<Path>) -> Result<crate::Connection> {
        Ok(crate::Connection::from_pool(Pool::from_shared(Arc::new(self.start(path.as_ref(), 0, "connection").await?))))
    }

    /// The former name of [`open`](Self::open), from when `Connection::builder()` gave a `PoolBuilder`.
    #[deprecated(note = "use open(), which gives a Connection")]
    pub async fn open_connection(&self, path: impl AsRef<Path>) -> Result<crate::Connection> {
        self.open(path).await
    }
}

impl<T> Builder<T> {
    /// Defaults: readers = the machine's parallelism (at most 4), busy timeout 5 s, 128 cached statements per
    /// connection, queues of 1024 jobs, `synchronous = NORMAL`, `foreign_keys = ON`, files created if missing.
    pub fn new() -> Self {
        Self::default()
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
    /// a whole `execute_many` or closure, time spent waiting for another connection's lock included. Streams are
    /// not subject to it (their time includes the consumer's).
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
            if readers > 0 {
                conn_state::seal(&conn, Role::Writer);
            }
            Ok(conn)
        };
        // Until the pool is handed out, dropping this future (or failing) stops every worker started so far.
        let mut starting = Starting { core: &core, spawned_readers: 0, armed: true };
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
                    conn_state::seal(&conn, Role::Reader);
                    Ok(conn)
                };
                let started = spawn(format!("asqlite-{what}-reader-{id}"), open_reader, rrx.clone(), &core, id, true);
                starting.spawned_readers = id; // its thread runs (or ran) from here on, opened or not
                handles.push(started.await?);
            }
        }
        starting.armed = false;
        Ok(Shared::new(Arc::clone(&core), handles.into_boxed_slice(), what))
    }
}

/// An open under way: dropped before it is disarmed (the open future was dropped, or a worker failed to open), it
/// stops the workers started so far, which close their connections (see [`Core::abandon_start`]).
struct Starting<'a> {
    core: &'a Arc<Core>,
    /// Readers whose threads were started.
    spawned_readers: usize,
    armed: bool,
}

impl Drop for Starting<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.core.abandon_start(self.spawned_readers);
        }
    }
}

fn default_readers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}

/// Start a worker thread that opens its connection with `open`; resolves once it is open. The thread runs its
/// worker loop whether or not anyone still waits for it (an abandoned open sends it a close job); a reader that
/// fails to open counts itself gone.
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
    let for_thread = Arc::clone(core);
    let thread = std::thread::Builder::new().name(name).spawn(move || match worker::catch(open) {
        Ok(conn) => {
            let _ = ready_tx.send(Ok(conn.raw.interrupt_handle()));
            worker::run(conn, rx, for_thread, id, reader);
        }
        Err(e) => {
            if reader {
                for_thread.reader_gone();
            }
            let _ = ready_tx.send(Err(e));
        }
    });
    if let Err(e) = thread {
        if reader {
            core.reader_gone();
        }
        return Err(Error::new(ErrorKind::Sqlite, format!("could not start a worker thread: {e}")).with_source(e));
    }
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
    /// Of `jobs`, the cheap reads run inline on a caller's thread (see the crate docs).
    pub inline_reads: u64,
    /// Worker threads that died of a panic outside any job (0 unless something is badly wrong: their connections
    /// were closed and [`Pool::close`] reports it).
    pub dead_workers: usize,
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
        inline_reads: sum(|s| s.inline.load(Ordering::Relaxed)),
        dead_workers: core.dead_workers.load(Ordering::Relaxed),
    }
}

/// A pool of SQLite connections on one database file: one writer thread and N reader threads, under WAL.
///
/// Writes, closures ([`call`](Client::call)) and transactions ([`begin`](Pool::begin)) run on the writer, one at a
/// time; reads go to a shared queue that any idle reader takes from. A statement sent as a read that turns out to
/// write is passed to the writer. An in-memory database uses a single connection.
///
/// The writer also holds the pool's per-connection state, and the readers none (see the crate docs on
/// per-connection state): temp tables and `ATTACH` made through the pool live on the writer, and reads that use
/// them, or `last_insert_rowid()` and `changes()`, or a write setting such as `foreign_keys`, are passed to the
/// writer too. Setting a pragma that governs reads (`cache_size`, `case_sensitive_like`, ...) through a pool fails:
/// set it for every connection with [`PoolBuilder`].
///
/// `Pool` is a cheap handle: clone it freely. After [`close`](Pool::close), every clone's calls fail with
/// [`ErrorKind::Closed`](crate::ErrorKind::Closed); when the last clone drops, the workers finish their queued jobs
/// and stop.
#[derive(Clone, Debug)]
pub struct Pool {
    client: Client,
}

impl Pool {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        // A pool of one connection (a `Connection`, an in-memory database) reads on its one worker: the read
        // route then leads to the writer's queue.
        Pool { client: Client::new(shared, OwnedRoute::Write, OwnedRoute::Read) }
    }

    fn shared(&self) -> &Arc<Shared> {
        self.client.shared()
    }

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

    /// Begin a transaction on the writer with `BEGIN IMMEDIATE`, so its writes cannot fail with a busy error
    /// half-way. Other writes wait until it ends; dropping it rolls it back.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped, a transaction that began is rolled back at once.
    pub async fn begin(&self) -> Result<crate::Transaction> {
        self.begin_with(crate::TransactionBehavior::Immediate).await
    }

    /// Begin a transaction with the given behaviour (`Deferred` takes the write lock at the first write).
    ///
    /// # Cancel safety
    ///
    /// As [`begin`](Self::begin).
    pub async fn begin_with(&self, behavior: crate::TransactionBehavior) -> Result<crate::Transaction> {
        crate::Transaction::begin(Arc::clone(self.shared()), behavior).await
    }

    /// Finish the jobs queued so far, close the connections and stop the workers. Calls made after it, on any
    /// clone, fail with [`ErrorKind::Closed`](crate::ErrorKind::Closed); closing twice is fine. It waits for open
    /// transactions to end, so end those first (awaiting `close` while holding one never returns); a paused
    /// [`RowStream`](crate::RowStream) sets the rest of its rows aside and still yields them after the close.
    ///
    /// # Cancel safety
    ///
    /// Once polled, the handle is closed for new calls whether or not the future completes.
    pub async fn close(&self) -> Result<()> {
        self.shared().close().await
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.shared().is_closed()
    }

    /// Queue depths, calls in flight and statement-cache hits and misses.
    pub fn stats(&self) -> PoolStats {
        stats_of(self.shared())
    }

    /// Interrupt whatever statement each worker runs now (one waiting for a lock stops waiting).
    pub fn interrupt(&self) {
        self.shared().interrupt_all();
    }
}

impl std::ops::Deref for Pool {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}
