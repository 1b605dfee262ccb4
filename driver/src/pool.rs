//! [`Pool`]: one writer and N readers under WAL, and the [`PoolBuilder`] that opens pools and connections.
//! What the builder does to each connection it opens (journal mode, pragmas, hooks) is in [`crate::setup`].

use std::marker::PhantomData;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::blocking::{self, OpenOptions};
use crate::client::{Client, OwnedRoute};
use crate::conn_state::{self, Role};
use crate::ffi::InterruptHandle;
use crate::setup::{JournalMode, Pragma, Setup, Synchronous, Which};
use crate::value::ToSql;
use crate::worker::{self, Config, Core, Job, Shared};
use crate::{Error, ErrorKind, Result};

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
///
/// ## Connection setup
///
/// Each connection the builder opens is set up before it serves a call, in this order: the writer switches the
/// file to the [`journal_mode`](Self::journal_mode) and sets [`synchronous`](Self::synchronous); every connection
/// sets [`foreign_keys`](Self::foreign_keys), then the [`pragma`](Self::pragma)s in the order given, then runs the
/// [`on_connect`](Self::on_connect) hooks in the order given. A failure in any step fails the open with an error
/// that names the connection ("the writer", "reader 2"), and stops every thread the open started.
///
/// ```
/// # fn main() -> asqlite::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("app.db");
/// # futures::executor::block_on(async {
/// let pool = asqlite::Pool::builder()
///     .journal_mode(asqlite::JournalMode::Wal) // the default
///     .foreign_keys(false)                     // really off (the bundled SQLite defaults to on)
///     .pragma("cache_size", -64_000)           // every connection, in order, at open
///     .on_connect(|c: &mut asqlite::blocking::Connection| c.execute_batch("PRAGMA temp_store = MEMORY"))
///     .open(&path)
///     .await?;
/// let fk: bool = pool.query_one("PRAGMA foreign_keys", ()).await?.get(0)?;
/// assert!(!fk);
/// let cache: i64 = pool.query_one("PRAGMA cache_size", ()).await?.get(0)?;
/// assert_eq!(cache, -64_000);
/// # pool.close().await })
/// # }
/// ```
pub struct Builder<T> {
    readers: Option<usize>,
    busy_timeout: Duration,
    cache_capacity: usize,
    queue_capacity: usize,
    statement_timeout: Option<Duration>,
    slow_threshold: Option<Duration>,
    setup: Setup,
    read_only: bool,
    create: bool,
    uri: bool,
    spin: bool,
    inline_reads: bool,
    process_exclusive: bool,
    target: PhantomData<fn() -> T>,
}

/// Options for opening a [`Pool`]: `Pool::builder()`.
pub type PoolBuilder = Builder<Pool>;

/// Options for opening an async [`Connection`](crate::Connection): `Connection::builder()`.
pub type ConnectionBuilder = Builder<crate::Connection>;

impl<T> Clone for Builder<T> {
    fn clone(&self) -> Self {
        Builder { setup: self.setup.clone(), target: PhantomData, ..*self }
    }
}

impl<T> std::fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("readers", &self.readers)
            .field("busy_timeout", &self.busy_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("setup", &self.setup)
            .field("read_only", &self.read_only)
            .field("process_exclusive", &self.process_exclusive)
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
            setup: Setup::default(),
            read_only: false,
            create: true,
            uri: false,
            spin: true,
            inline_reads: true,
            process_exclusive: false,
            target: PhantomData,
        }
    }
}

impl Builder<Pool> {
    /// The number of reader threads (0: the writer serves reads too). The default is the machine's parallelism,
    /// at most 4, in WAL mode, and 0 in the rollback-journal modes (see [`journal_mode`](Self::journal_mode)),
    /// where asking for readers is an error.
    pub fn readers(mut self, n: usize) -> Self {
        self.readers = Some(n);
        self
    }

    /// Open a pool on `path`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the threads it started and closes their connections.
    pub async fn open(&self, path: impl AsRef<Path>) -> Result<Pool> {
        let path = path.as_ref();
        let readers = match self.readers {
            Some(n) => n,
            None if self.rollback_journal(path) => 0,
            None => default_readers(),
        };
        Ok(Pool::from_shared(Arc::new(self.start(path, readers, "pool").await?)))
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
    /// Defaults: readers = the machine's parallelism (at most 4), WAL, busy timeout 5 s, 128 cached statements
    /// per connection, queues of 1024 jobs, `synchronous = NORMAL`, `foreign_keys = ON`, files created if missing.
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

    /// The writer's `synchronous` setting (default `NORMAL` in WAL mode, `FULL` in the rollback-journal modes).
    pub fn synchronous(mut self, mode: Synchronous) -> Self {
        self.setup.synchronous = Some(mode);
        self
    }

    /// Enforce foreign keys, or not (default on). Every connection sends `PRAGMA foreign_keys = ON` or `OFF` when
    /// it opens, so `false` really turns them off (the bundled SQLite is built with them on).
    ///
    /// ```
    /// # fn main() -> asqlite::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # futures::executor::block_on(async {
    /// let pool = asqlite::Pool::builder().foreign_keys(false).open(dir.path().join("app.db")).await?;
    /// pool.execute_batch("CREATE TABLE parent (id INTEGER PRIMARY KEY);
    ///                     CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))").await?;
    /// pool.execute("INSERT INTO child VALUES (42)", ()).await?; // no parent 42, and no error
    /// # pool.close().await })
    /// # }
    /// ```
    pub fn foreign_keys(mut self, on: bool) -> Self {
        self.setup.foreign_keys = Some(on);
        self
    }

    /// The journal mode the writer sets when it opens (default [`JournalMode::Wal`]).
    ///
    /// WAL lets the readers read while the writer writes. In the rollback-journal modes (`Delete`, `Truncate`,
    /// `Persist`, `Memory`, `Off`) a reader's shared lock on the file keeps the writer from committing and the
    /// writer's commit keeps readers out, so reads and writes would fail each other with [`ErrorKind::Busy`]
    /// under load. A pool in one of those modes therefore has **no readers** unless asked: its writer serves
    /// every call, one at a time, as an async [`Connection`](crate::Connection) does. Asking for readers too
    /// ([`readers`](Builder::readers) above 0) fails the open with an error of kind [`ErrorKind::InvalidInput`].
    ///
    /// The switch is checked: if SQLite keeps another mode (leaving WAL needs the only connection to the file),
    /// the open fails. A read-only pool leaves the file's mode as it is, and an in-memory database keeps its
    /// `MEMORY` journal unless `Off` is asked for. With `Off`, rolling back (a dropped transaction) leaves the
    /// database undefined; with `Memory` or `Off`, a crash in a transaction may corrupt it.
    ///
    /// ```
    /// # fn main() -> asqlite::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # futures::executor::block_on(async {
    /// use asqlite::JournalMode;
    /// let pool = asqlite::Pool::builder().journal_mode(JournalMode::Delete).open(dir.path().join("app.db")).await?;
    /// assert_eq!(pool.stats().readers, 0); // the writer serves reads too
    /// let mode: String = pool.query_one("PRAGMA journal_mode", ()).await?.get(0)?;
    /// assert_eq!(mode, "delete");
    /// # pool.close().await?;
    /// let e = asqlite::Pool::builder().journal_mode(JournalMode::Truncate).readers(2)
    ///     .open(dir.path().join("other.db")).await.unwrap_err();
    /// assert_eq!(e.kind(), asqlite::ErrorKind::InvalidInput);
    /// # Ok(()) })
    /// # }
    /// ```
    pub fn journal_mode(mut self, mode: JournalMode) -> Self {
        self.setup.journal_mode = Some(mode);
        self
    }

    /// Set a pragma on every connection when it opens: `PRAGMA name = value`, after
    /// [`foreign_keys`](Self::foreign_keys) and in the order the calls were made. The way to set the pragmas that
    /// govern reads (`cache_size`, `temp_store`, `mmap_size`, `case_sensitive_like`, ...), which a pool refuses
    /// to change after it opened (see the crate docs on per-connection state).
    ///
    /// - `name` is a pragma name, optionally after a schema (`main.cache_size`); anything else fails the open with
    ///   [`ErrorKind::InvalidInput`], before any thread starts. The value is written as an SQL literal (integers,
    ///   reals, text quoted; a blob is refused).
    /// - Pragmas that write the database file rather than set up the connection (`page_size`, `auto_vacuum`,
    ///   `user_version`, `application_id`, `encoding`, `schema_version`, `incremental_vacuum`, `optimize`,
    ///   `wal_checkpoint`) run on the writer only: the readers are read-only, and see the file as the writer left
    ///   it.
    /// - `journal_mode` is refused: use [`journal_mode`](Self::journal_mode), which adapts the readers.
    ///   `locking_mode = EXCLUSIVE` is refused when the pool has readers (the writer would lock them out).
    /// - A pragma SQLite rejects fails the open, naming the pragma and the connection.
    ///
    /// ```
    /// # fn main() -> asqlite::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # futures::executor::block_on(async {
    /// let pool = asqlite::Pool::builder()
    ///     .pragma("cache_size", -64_000)
    ///     .pragma("temp_store", "MEMORY")
    ///     .pragma("user_version", 7) // writes the file: runs on the writer only
    ///     .open(dir.path().join("app.db"))
    ///     .await?;
    /// let v: i64 = pool.query_one("PRAGMA user_version", ()).await?.get(0)?;
    /// assert_eq!(v, 7);
    /// # pool.close().await })
    /// # }
    /// ```
    pub fn pragma(mut self, name: impl Into<String>, value: impl ToSql) -> Self {
        self.setup.pragmas.push(Pragma::new(name.into(), &value));
        self
    }

    /// Run `hook` on every connection (the writer and each reader) when it opens, after the pragmas and before
    /// the connection serves its first call: to register functions and collations, or set what no builder method
    /// sets. Each call adds a hook; they run in the order added.
    ///
    /// The hook gets the blocking connection on the connection's worker thread. A pool's readers are opened
    /// read-only ([`blocking::Connection::is_readonly`] tells), so a hook that writes must check that, and a temp
    /// table or `ATTACH` made on a reader stays unused there (a pool keeps per-connection state on its writer;
    /// see the crate docs). An error from the hook fails the open, with the connection named in the message; a
    /// panic does too, as an error of kind [`ErrorKind::Panicked`]; a transaction the hook leaves open is rolled
    /// back and fails the open. Either way the threads the open started stop.
    ///
    /// ```
    /// # fn main() -> asqlite::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # futures::executor::block_on(async {
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let opened = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&opened);
    /// let pool = asqlite::Pool::builder()
    ///     .readers(2)
    ///     .on_connect(move |c: &mut asqlite::blocking::Connection| {
    ///         seen.fetch_add(1, Ordering::SeqCst);
    ///         c.execute_batch("PRAGMA case_sensitive_like = ON")
    ///     })
    ///     .open(dir.path().join("app.db"))
    ///     .await?;
    /// assert_eq!(opened.load(Ordering::SeqCst), 3); // the writer and two readers
    /// # pool.close().await })
    /// # }
    /// ```
    pub fn on_connect<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut blocking::Connection) -> Result<()> + Send + Sync + 'static,
    {
        self.setup.on_connect.push(Arc::new(hook));
        self
    }

    /// Lock the database file for this process alone (off by default; Unix only): SQLite's `unix-excl` VFS, as
    /// [`OpenOptions::process_exclusive`](crate::blocking::OpenOptions::process_exclusive) describes. The writer
    /// takes the lock as it opens (the open fails with [`ErrorKind::Busy`](crate::ErrorKind::Busy) after the busy
    /// timeout while another process has the file open); every connection of the pool, and any other of this
    /// process, shares it; another process cannot read or write the file until the pool closes.
    ///
    /// In exchange no read transaction takes a file lock: in WAL mode each one otherwise takes and drops a lock in
    /// the `-shm` file, two system calls, which are most of a point query's cost (the benchmark report's point
    /// reads by key ran about 1.5x as fast with it on). For a database one service owns; not for a file that other
    /// programs read
    /// while the service runs. A [`read_only`](Self::read_only) pool cannot take the lock: asking for both is an
    /// error at open, as is a `file:` URI that would open the file without it, and a
    /// [`journal_mode`](Self::journal_mode) other than WAL (outside WAL a connection opened without the option could
    /// drop the process's lock). Open every other connection of this process to the file with the option too: one
    /// opened without it first leaves the file shared (see the connection's option).
    pub fn process_exclusive(mut self, yes: bool) -> Self {
        self.process_exclusive = yes;
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

    /// Whether a pool on `path` runs a rollback journal (and so gets no readers by default).
    fn rollback_journal(&self, path: &Path) -> bool {
        !self.setup.journal_mode().is_wal() && !self.read_only && !blocking::is_memory(path, self.uri)
    }

    fn options(&self, read_only: bool) -> OpenOptions {
        let mut options = OpenOptions::new()
            .read_only(read_only)
            .create(self.create)
            .uri(self.uri)
            .busy_timeout(self.busy_timeout)
            .statement_cache_capacity(self.cache_capacity)
            .process_exclusive(self.process_exclusive);
        // Its readers share the lock the writer took (the pool refuses a read-only pool with the lock).
        options.in_pool = true;
        options
    }

    async fn start(&self, path: &Path, readers: usize, what: &'static str) -> Result<Shared> {
        let memory = blocking::is_memory(path, self.uri);
        let readers = if memory { 0 } else { readers };
        if readers > 0 && self.rollback_journal(path) {
            let mode = self.setup.journal_mode();
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "journal mode {mode} cannot serve reader connections: outside WAL a reader's lock keeps the \
                     writer from committing and the other way round, so reads and writes would fail with busy \
                     errors; open the pool with readers(0) (its writer then serves the reads; the default in \
                     {mode} mode) or use JournalMode::Wal"
                ),
            ));
        }
        self.setup.check(readers)?;
        if self.process_exclusive && !memory && !self.setup.journal_mode().is_wal() {
            let mode = self.setup.journal_mode();
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "process_exclusive needs WAL mode, not {mode}: outside WAL a connection of this process opened \
                     without the option can replace the process's lock with its own and drop it (WAL is the pool's default)"
                ),
            ));
        }
        if self.process_exclusive && self.read_only && !memory {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "process_exclusive needs a writable pool: SQLite takes the process's lock through a file handle open \
                 for writing, which a read_only pool does not have",
            ));
        }
        let inline = self.inline_reads;
        let config = Config {
            statement_timeout: self.statement_timeout,
            slow_threshold: self.slow_threshold,
            spin: self.spin,
            inline,
        };
        let (core, wrx, rrx) = Core::new(config, readers, self.queue_capacity);
        // The writer's temp tables and views, which the readers must not read main tables in place of.
        let temp_names = std::sync::Arc::new(conn_state::TempNames::default());
        let writer_temp_names = std::sync::Arc::clone(&temp_names);
        let core = Arc::new(core);
        let deadline_checks = self.statement_timeout.map(|_| 1000);
        // An inline read's budget is a deadline too: a lone connection's worker serves the reads.
        let writer_checks =
            if inline && readers == 0 { Some(worker::inline::DEADLINE_CHECK_STEPS) } else { deadline_checks };

        let writer_opts = self.options(self.read_only);
        let setup = self.setup.clone();
        let writable = !self.read_only;
        let writer_path = path.to_path_buf();
        let which = if readers > 0 { Which::Writer } else { Which::Lone };
        let checkpointer = (format!("asqlite-{what}-checkpointer"), Arc::clone(&core.checkpoints));
        let open_writer = move || -> Result<blocking::Connection> {
            let mut conn = writer_opts.open(&writer_path)?;
            // The setup runs before the role is sealed: a writer's role refuses read settings.
            setup.apply(&mut conn, which, &writer_path, writable, memory)?;
            // A WAL file with readers: no write waits for a checkpoint (`ffi::checkpoint`).
            if readers > 0 && writable && !memory {
                let (name, count) = checkpointer;
                conn.checkpoint_in_background(name, count, writer_opts.clone(), writer_path.clone())?;
            }
            conn.raw.set_deadline_checks(writer_checks);
            // Reads measure their cost only where one may run on a caller's thread.
            conn.measures_reads.set(inline);
            if readers > 0 {
                conn_state::seal(&conn, Role::Writer);
                conn.raw.set_temp_names(writer_temp_names);
            }
            Ok(conn)
        };
        // Until the pool is handed out, dropping this future (or failing) stops every worker started so far.
        let mut starting = Starting { core: &core, spawned_readers: 0, armed: true };
        let mut handles = vec![spawn(format!("asqlite-{what}-writer"), open_writer, wrx, &core, 0, false).await?];

        if let Some(rrx) = rrx {
            for id in 1..=readers {
                let opts = self.options(true);
                // A URI asking for read-write would refuse a read-only open.
                let p = blocking::options::read_only_path(path, self.uri);
                let setup = self.setup.clone();
                let temp_names = std::sync::Arc::clone(&temp_names);
                // An inline read's budget is a deadline too.
                let checks = if inline { Some(worker::inline::DEADLINE_CHECK_STEPS) } else { deadline_checks };
                let open_reader = move || -> Result<blocking::Connection> {
                    let mut conn = opts.open(&p)?;
                    // The setup runs before the role is sealed: a reader's role refuses pragmas and temp objects.
                    setup.apply(&mut conn, Which::Reader(id), &p, false, false)?;
                    conn.raw.set_deadline_checks(checks);
                    conn.measures_reads.set(inline);
                    conn_state::seal(&conn, Role::Reader);
                    conn.raw.set_temp_names(temp_names);
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
            let handle = conn.raw.interrupt_handle();
            worker::run(conn, rx, for_thread, id, reader, move || {
                let _ = ready_tx.send(Ok(handle));
            });
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
    /// Checkpoints the writer's checkpointer thread ran, off the writer's path (a file pool with readers: see the
    /// crate docs).
    pub background_checkpoints: u64,
    /// Worker threads that died of a panic outside any job (0 unless something is badly wrong: their connections
    /// were closed and [`Pool::close`] reports it).
    pub dead_workers: usize,
    /// Bytes of page cache, summed over the connections (`SQLITE_DBSTATUS_CACHE_USED`; a connection busy with a
    /// job counts with its last figure).
    pub cache_memory: i64,
    /// Bytes holding the schema, summed over the connections (`SQLITE_DBSTATUS_SCHEMA_USED`).
    pub schema_memory: i64,
    /// Bytes of prepared statements, summed over the connections (`SQLITE_DBSTATUS_STMT_USED`).
    pub statement_memory: i64,
    /// Pages the page caches wrote to the database file (`SQLITE_DBSTATUS_CACHE_WRITE`).
    pub cache_writes: i64,
    /// Bytes SQLite has allocated in the whole process, for every database (`sqlite3_status64`,
    /// `SQLITE_STATUS_MEMORY_USED`).
    pub sqlite_memory: i64,
    /// The most bytes SQLite had allocated at once in the process since it started.
    pub sqlite_memory_high_water: i64,
}

pub(crate) fn stats_of(shared: &Shared) -> PoolStats {
    let (writer_queue, reader_queue) = shared.queue_depths();
    let core = &shared.core;
    let sum = |f: fn(&worker::WorkerStats) -> u64| core.stats.iter().map(f).sum();
    let memory = core.memory.totals(core);
    PoolStats {
        readers: shared.readers(),
        writer_queue,
        reader_queue,
        in_flight: core.in_flight.load(Ordering::Relaxed),
        cache_hits: sum(|s| s.hits.load(Ordering::Relaxed)),
        cache_misses: sum(|s| s.misses.load(Ordering::Relaxed)),
        jobs: sum(|s| s.jobs.load(Ordering::Relaxed)),
        inline_reads: sum(|s| s.inline.load(Ordering::Relaxed)),
        background_checkpoints: core.checkpoints.load(Ordering::Relaxed),
        dead_workers: core.dead_workers.load(Ordering::Relaxed),
        cache_memory: memory.cache,
        schema_memory: memory.schema,
        statement_memory: memory.statements,
        cache_writes: memory.cache_writes,
        sqlite_memory: memory.process_used,
        sqlite_memory_high_water: memory.process_high_water,
    }
}

/// A pool of SQLite connections on one database file: one writer thread and N reader threads, under WAL (in a
/// rollback-journal mode, the writer alone: see [`PoolBuilder::journal_mode`]).
///
/// Writes, closures ([`call`](Client::call)) and transactions ([`begin`](Pool::begin)) run on the writer, one at a
/// time; reads go to a shared queue that any idle reader takes from. A statement sent as a read that turns out to
/// write is passed to the writer. An in-memory database uses a single connection.
///
/// The writer also holds the pool's per-connection state, and the readers none (see the crate docs on
/// per-connection state): temp tables and `ATTACH` made through the pool live on the writer, and reads that use
/// them, or `last_insert_rowid()` and `changes()`, or a write setting such as `foreign_keys`, are passed to the
/// writer too. Setting a pragma that governs reads (`cache_size`, `case_sensitive_like`, ...) through a pool fails:
/// set it for every connection with [`PoolBuilder::pragma`].
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
