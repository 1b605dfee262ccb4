//! The owner of a `sqlite3*`.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use libsqlite3_sys as ffi;

use super::error::from_code;
use super::statement::RawStatement;
use crate::conn_state::{Refusal, Role, Verdict};
use crate::{Error, ErrorKind, Result};

/// Flags for [`RawConnection::open`], a thin veneer over `SQLITE_OPEN_*`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenFlags {
    pub read_only: bool,
    pub create: bool,
    pub uri: bool,
    pub memory: bool,
    /// Open through SQLite's `unix-excl` VFS (see `OpenOptions::process_exclusive`).
    pub process_exclusive: bool,
}

impl OpenFlags {
    fn bits(self) -> c_int {
        let mut f = ffi::SQLITE_OPEN_NOMUTEX | ffi::SQLITE_OPEN_EXRESCODE;
        if self.read_only {
            f |= ffi::SQLITE_OPEN_READONLY;
        } else {
            f |= ffi::SQLITE_OPEN_READWRITE;
            if self.create {
                f |= ffi::SQLITE_OPEN_CREATE;
            }
        }
        if self.uri {
            f |= ffi::SQLITE_OPEN_URI;
        }
        if self.memory {
            f |= ffi::SQLITE_OPEN_MEMORY;
        }
        f
    }
}

/// The VFS that locks a database file for one process: SQLite's `unix-excl`, which takes one lock on the file for
/// the process on its first read and keeps the WAL index in this process's memory, so no transaction takes or
/// drops a file lock. Unix only.
fn exclusive_vfs() -> Result<&'static CStr> {
    if cfg!(unix) {
        Ok(c"unix-excl")
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            "process_exclusive needs SQLite's unix-excl VFS, which exists on Unix only",
        ))
    }
}

/// A raw connection handle, shared with [`InterruptHandle`]s so they can interrupt from another thread.
struct DbPtr(*mut ffi::sqlite3);

// SAFETY: the pointer is only dereferenced by SQLite under the mutex in `Shared`, and the only call made from a
// thread other than the owner is sqlite3_interrupt, which SQLite documents as safe to call from any thread while
// the connection is open; the owner nulls the pointer under that mutex before closing.
unsafe impl Send for DbPtr {}

struct InterruptState {
    db: DbPtr,
    /// The token of the job now running on the connection (0 = none).
    token: u64,
}

/// What interrupt handles share with their connection.
struct InterruptShared {
    state: Mutex<InterruptState>,
    /// Set (under the lock) when the running job was cancelled: `sqlite3_interrupt` only stops statements running
    /// at that moment, so the owner also checks this flag before each statement it starts.
    cancelled: AtomicBool,
}

/// Interrupts the statements of one connection from any thread, and is safe against a concurrent close.
#[derive(Clone)]
pub(crate) struct InterruptHandle {
    shared: Arc<InterruptShared>,
}

impl std::fmt::Debug for InterruptHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterruptHandle").finish_non_exhaustive()
    }
}

impl InterruptHandle {
    /// Interrupt whatever runs on the connection now; a no-op once it is closed.
    pub fn interrupt(&self) {
        let st = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !st.db.0.is_null() {
            // SAFETY: the pointer is non-null, so the connection is open: the owner nulls it under this lock
            // before sqlite3_close. sqlite3_interrupt may be called from any thread.
            unsafe { ffi::sqlite3_interrupt(st.db.0) };
        }
    }

    /// Interrupt the connection only if the job marked with `token` is the one running; returns whether it was.
    pub fn interrupt_token(&self, token: u64) -> bool {
        let st = self.shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        if token != 0 && st.token == token && !st.db.0.is_null() {
            self.shared.cancelled.store(true, Ordering::SeqCst);
            // SAFETY: as in `interrupt`; the owner clears the token under this lock only after every statement
            // of the job has been reset, so the interrupt cannot reach a later job's statements.
            unsafe { ffi::sqlite3_interrupt(st.db.0) };
            true
        } else {
            false
        }
    }
}

/// Data read by the progress handler (statement deadline), owned by the connection.
pub(super) struct Progress {
    deadline: Cell<Option<Instant>>,
    /// A deadline counted from the handler's first call, which then sets `deadline`: a statement too short to
    /// reach the handler never reads the clock.
    budget: Cell<Option<Duration>>,
    fired: Cell<bool>,
    /// The busy timeout the busy handler enforces.
    busy_timeout: Cell<Duration>,
    /// The connection, for the busy handler to see an interrupt (a cancelled call, `interrupt()`) while it waits.
    db: *mut ffi::sqlite3,
    /// Fail at once instead of waiting for a lock (a read run on a caller's thread, which must not block).
    no_wait: Cell<bool>,
    /// While the connection is set up for reads on callers' threads ([`RawConnection::begin_inline`]): the length
    /// limit to put back when a worker takes it again.
    inline_limit: Cell<Option<c_int>>,
    /// Set while SQLite's own busy handler stands in place of ours, with SQLite's timeout equal to `busy_timeout`
    /// (put there by `PRAGMA busy_timeout`, or by [`Progress::sync_for_read`]): ours must be put back before
    /// `no_wait` can mean anything.
    replaced: Cell<bool>,
    /// What the connection is to its pool: what the authorizer lets it hold (see [`crate::conn_state`]).
    role: Cell<Role>,
    /// Why the authorizer refused the statement being prepared.
    refused: Cell<Option<Refusal>>,
    /// Whether the statement being prepared sets `foreign_keys`.
    sets_foreign_keys: Cell<bool>,
    /// The names of the temp tables and views on the pool's writer, which a reader must not resolve to the main
    /// schema (see [`crate::conn_state::TempNames`]); the writer keeps them up to date.
    temp_names: std::cell::RefCell<Option<std::sync::Arc<crate::conn_state::TempNames>>>,
    /// The writer prepared a statement that creates or drops a temp table or view since it last looked.
    temp_ddl: Cell<bool>,
    /// The generation of `temp_names` a reader's cached statements were prepared under.
    temp_seen: Cell<u64>,
    /// What the authorizer saw of `PRAGMA busy_timeout` and nothing has acted on yet: SQLite forbids an authorizer
    /// to touch the connection, so it only notes it here.
    seen: Cell<Option<BusyPragma>>,
    /// The application's hooks and the driver's own data hooks, chained with the callbacks above (see
    /// [`super::hooks`]).
    pub(super) hooks: super::hooks::Hooks,
}

/// A `PRAGMA busy_timeout` the authorizer saw being compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BusyPragma {
    /// The read form: it reports SQLite's own timeout, as it stands when the statement is compiled.
    Read,
    /// The write form, which SQLite applies as it compiles the statement, installing its own busy handler.
    Set(Duration),
}

impl Progress {
    /// Act on a `PRAGMA busy_timeout = N` the authorizer saw: SQLite's handler now waits N, so ours, when put
    /// back, must wait as long. (A read needs nothing afterwards: see [`sync_for_read`](Self::sync_for_read).)
    fn settle(&self) {
        if let Some(BusyPragma::Set(timeout)) = self.seen.take() {
            self.busy_timeout.set(timeout);
            self.replaced.set(true);
        }
    }

    /// Before a `PRAGMA busy_timeout` read compiles (at prepare, or again inside a step, as SQLite recompiles
    /// pragmas on every run): make SQLite's own timeout ours, which installs SQLite's handler, so that the pragma
    /// reports our timeout and not the 0 our handler leaves there. SQLite's handler waits just as ours does; ours
    /// comes back when a read must not wait ([`RawConnection::set_no_wait`]). (If no-wait is on now, the pragma
    /// runs under SQLite's handler: it touches no database file, so it never waits for a lock.)
    pub(super) fn sync_for_read(&self, db: *mut ffi::sqlite3) {
        self.settle();
        if !self.replaced.get() {
            let ms = c_int::try_from(self.busy_timeout.get().as_millis()).unwrap_or(c_int::MAX);
            // SAFETY: `db` is the live connection that owns this Progress, used on its owning thread, and no SQLite
            // callback is running (this is called before a prepare or a step, never from inside one).
            unsafe { ffi::sqlite3_busy_timeout(db, ms) };
            self.replaced.set(true);
        }
    }
}

/// The waits between retries of a locked database, as SQLite's own busy handler spaces them: short at first.
const BUSY_DELAYS_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

/// The busy handler: wait and retry (return 1) until the busy timeout is spent, then give up (return 0).
extern "C" fn busy_callback(data: *mut c_void, count: c_int) -> c_int {
    // SAFETY: `data` is the `Progress` boxed inside the connection, registered at open; it outlives the
    // connection's handle, and the callback runs on the thread using the connection.
    let p = unsafe { &*data.cast::<Progress>() };
    if p.no_wait.get() {
        return 0;
    }
    let n = usize::try_from(count).unwrap_or(0);
    let (delay, waited) = match BUSY_DELAYS_MS.get(n) {
        Some(d) => (*d, BUSY_DELAYS_MS[..n].iter().sum::<u64>()),
        None => {
            let later = u64::try_from(n - BUSY_DELAYS_MS.len()).unwrap_or(u64::MAX);
            (100, BUSY_DELAYS_MS.iter().sum::<u64>().saturating_add(later.saturating_mul(100)))
        }
    };
    let timeout = u64::try_from(p.busy_timeout.get().as_millis()).unwrap_or(u64::MAX);
    if waited >= timeout {
        return 0;
    }
    // A call cancelled (or interrupted) while it waits, or past its statement deadline, stops waiting: the wait is
    // no statement step, so neither the interrupt nor the progress handler would reach it before the busy timeout.
    // SAFETY: `p.db` is the live connection this handler belongs to; sqlite3_is_interrupted only reads a flag.
    if unsafe { ffi::sqlite3_is_interrupted(p.db) } != 0 {
        return 0;
    }
    let mut delay = Duration::from_millis(delay.min(timeout - waited));
    if let Some(deadline) = p.deadline.get() {
        let now = Instant::now();
        if now >= deadline {
            p.fired.set(true);
            return 0;
        }
        delay = delay.min(deadline - now);
    }
    std::thread::sleep(delay);
    1
}

/// A string argument of the authorizer, if any (a name that is not UTF-8 reads as empty, which matches nothing).
///
/// # Safety
///
/// `s` is null or a NUL-terminated string valid for `'a`.
unsafe fn auth_arg<'a>(s: *const c_char) -> Option<&'a str> {
    // SAFETY: the caller passes null (checked) or a NUL-terminated string valid for 'a.
    (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_str().unwrap_or(""))
}

/// The authorizer, called for each action of a statement being prepared. It keeps per-connection state where the
/// connection's role in its pool allows it ([`crate::conn_state::judge`]), noting why it refused a statement and
/// whether a statement sets `foreign_keys`.
///
/// It also notes a `PRAGMA busy_timeout` being compiled (as the statement is prepared, and again whenever SQLite
/// compiles it anew), which installs SQLite's own busy handler in place of ours (the write form), or reads SQLite's
/// timeout, which ours leaves at 0 (the read form). SQLite forbids an authorizer to modify the connection, so it
/// only notes what it saw in `Progress::seen`; the connection acts on it after the prepare
/// ([`RawConnection::prepare`]), before the step of a statement that reads the timeout
/// ([`Progress::sync_for_read`]) and before a read that must not wait ([`RawConnection::set_no_wait`]).
///
/// What it allows then goes to the application's hooks ([`super::hooks::Hooks::authorize`]).
extern "C" fn authorizer(
    data: *mut c_void,
    action: c_int,
    arg1: *const c_char,
    arg2: *const c_char,
    db_name: *const c_char,
    trigger: *const c_char,
) -> c_int {
    // SAFETY: `data` is the `Progress` boxed inside the connection, registered with the authorizer; it outlives
    // the connection's handle, and the callback runs on the thread using the connection.
    let p = unsafe { &*data.cast::<Progress>() };
    match driver_authorizer(p, action, arg1, arg2, db_name) {
        ffi::SQLITE_OK => p.hooks.authorize(action, arg1, arg2, db_name, trigger),
        refused => refused,
    }
}

/// The driver's own half of [`authorizer`].
fn driver_authorizer(
    p: &Progress,
    action: c_int,
    arg1: *const c_char,
    arg2: *const c_char,
    db_name: *const c_char,
) -> c_int {
    let role = p.role.get();
    // Only pragmas (and temp tables and views, on a pool's writer) matter to a pool's writer or a lone connection:
    // the common actions cost a comparison or two.
    if action != ffi::SQLITE_PRAGMA && role != Role::Reader {
        if role == Role::Writer && crate::conn_state::changes_temp_names(action) {
            p.temp_ddl.set(true);
        }
        return ffi::SQLITE_OK;
    }
    // SAFETY: SQLite passes NUL-terminated strings (or null) valid for the call.
    let (name, value, db) = unsafe { (auth_arg(arg1), auth_arg(arg2), auth_arg(db_name)) };
    if role == Role::Reader && action == ffi::SQLITE_READ {
        // A table of the main schema that a temp table or view of the same name shadows on the writer.
        let shadowed = name.is_some_and(|table| {
            p.temp_names.try_borrow().ok().is_some_and(|t| t.as_ref().is_some_and(|t| t.shadows(table)))
        });
        if shadowed {
            p.refused.set(Some(Refusal::OnReader(crate::conn_state::WriterState::Temp)));
            return ffi::SQLITE_DENY;
        }
    }
    match crate::conn_state::judge(role, action, name, value, db) {
        Verdict::Allow => {}
        Verdict::SetsForeignKeys => p.sets_foreign_keys.set(true),
        Verdict::Deny(why) => {
            p.refused.set(Some(why));
            return ffi::SQLITE_DENY;
        }
    }
    if action != ffi::SQLITE_PRAGMA || !name.is_some_and(|n| n.eq_ignore_ascii_case("busy_timeout")) {
        return ffi::SQLITE_OK;
    }
    let seen = match value {
        None => BusyPragma::Read,
        Some(value) => BusyPragma::Set(Duration::from_millis(u64::try_from(leading_int(value)).unwrap_or(0))),
    };
    p.seen.set(Some(seen));
    ffi::SQLITE_OK
}

/// The integer at the start of `s`, as SQLite's `sqlite3Atoi` reads a pragma's value (0 if none).
fn leading_int(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    if neg {
        -n
    } else {
        n
    }
}

/// The error for SQL holding a NUL byte, pointing at the first.
#[cold]
fn nul_in_sql(sql: &str) -> Error {
    let at = sql.bytes().position(|b| b == 0).unwrap_or(0);
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "the SQL contains a NUL byte (at byte {at}); SQLite would stop reading there and silently ignore the rest"
        ),
    )
    .with_sql(sql)
    .with_offset(at)
}

/// Owns one `sqlite3*`: opened with `NOMUTEX`, used by one thread at a time, closed in `Drop`.
pub(crate) struct RawConnection {
    db: NonNull<ffi::sqlite3>,
    interrupt: Arc<InterruptShared>,
    pub(super) progress: Box<Progress>,
}

impl std::fmt::Debug for RawConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawConnection").finish_non_exhaustive()
    }
}

// SAFETY: the connection is opened with SQLITE_OPEN_NOMUTEX, which allows it to move between threads as long as
// only one uses it at a time; `RawConnection` is not `Sync` and its methods take `&self` on the owning thread.
unsafe impl Send for RawConnection {}

pub(super) extern "C" fn progress_callback(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Progress` boxed inside the connection, registered in `set_deadline_checks`, and the
    // box outlives the registration (it is dropped after sqlite3_close). The callback runs on the owning thread.
    let p = unsafe { &*data.cast::<Progress>() };
    if let Some(budget) = p.budget.take() {
        p.deadline.set(Some(Instant::now() + budget));
        return 0;
    }
    match p.deadline.get() {
        Some(d) if Instant::now() >= d => {
            p.fired.set(true);
            1
        }
        _ => 0,
    }
}

impl RawConnection {
    /// Open a connection. `path` is a filename, `:memory:` or (with `uri`) a `file:` URI.
    pub fn open(path: &CStr, flags: OpenFlags) -> Result<Self> {
        // SAFETY: sqlite3_threadsafe only reads a compile-time constant.
        if unsafe { ffi::sqlite3_threadsafe() } == 0 {
            return Err(Error::new(
                ErrorKind::Misuse,
                "this SQLite library was built single-threaded (SQLITE_THREADSAFE=0); asqlite needs a thread-safe build",
            ));
        }
        // Before SQLite initializes, which the first open does.
        super::mutex::initialize();
        let vfs = if flags.process_exclusive { exclusive_vfs()?.as_ptr() } else { ptr::null() };
        let mut db = ptr::null_mut();
        // SAFETY: path and vfs (when not null) are NUL-terminated and outlive the call; db receives a handle that
        // we own (even on failure, when it must be closed).
        let rc = unsafe { ffi::sqlite3_open_v2(path.as_ptr(), &mut db, flags.bits(), vfs) };
        let Some(nn) = NonNull::new(db) else {
            return Err(Error::new(ErrorKind::Sqlite, "out of memory opening the database"));
        };
        if rc != ffi::SQLITE_OK {
            let err = from_code(db, rc, None);
            // SAFETY: sqlite3_open_v2 returned a handle that must be released with sqlite3_close even on failure;
            // nothing else refers to it.
            unsafe { ffi::sqlite3_close(db) };
            return Err(err);
        }
        // SAFETY: db is a live connection on this thread; turning extended codes on is always allowed.
        unsafe { ffi::sqlite3_extended_result_codes(db, 1) };
        Ok(RawConnection {
            db: nn,
            interrupt: Arc::new(InterruptShared {
                state: Mutex::new(InterruptState { db: DbPtr(db), token: 0 }),
                cancelled: AtomicBool::new(false),
            }),
            progress: Box::new(Progress {
                deadline: Cell::new(None),
                budget: Cell::new(None),
                fired: Cell::new(false),
                busy_timeout: Cell::new(Duration::ZERO),
                db,
                no_wait: Cell::new(false),
                inline_limit: Cell::new(None),
                replaced: Cell::new(false),
                role: Cell::new(Role::Lone),
                refused: Cell::new(None),
                sets_foreign_keys: Cell::new(false),
                temp_names: std::cell::RefCell::new(None),
                temp_ddl: Cell::new(false),
                temp_seen: Cell::new(0),
                seen: Cell::new(None),
                hooks: super::hooks::Hooks::default(),
            }),
        })
    }

    pub fn handle(&self) -> *mut ffi::sqlite3 {
        self.db.as_ptr()
    }

    /// Prepare the first statement of `sql`; returns the statement (None for an empty one) and the byte length
    /// consumed, so callers can walk a batch.
    ///
    /// SQL holding a NUL byte is refused: SQLite reads only up to the first NUL, so it would run the text before it
    /// and silently drop the rest (a second statement after it, too, past the one-statement check). Only a cache
    /// miss gets here, and a string with a NUL is never prepared, so never cached.
    pub fn prepare(&self, sql: &str, persistent: bool) -> Result<(Option<RawStatement>, usize)> {
        // `contains` on bytes is a memchr.
        if sql.as_bytes().contains(&0) {
            return Err(nul_in_sql(sql));
        }
        let len = c_int::try_from(sql.len()).map_err(|_| {
            let head: String = sql.chars().take(64).collect();
            Error::new(ErrorKind::TooBig, "SQL text longer than 2 GiB").with_sql(&head)
        })?;
        let flags = if persistent { ffi::SQLITE_PREPARE_PERSISTENT } else { 0 };
        // What the authorizer notes from here on is about this statement (a note left by an earlier compile, one
        // inside a step, is acted on first).
        self.progress.settle();
        let out = self.compile(sql, len, flags);
        match self.progress.seen.get() {
            None => out,
            // SQLite applied it as it compiled the statement.
            Some(BusyPragma::Set(_)) => {
                self.progress.settle();
                out
            }
            Some(BusyPragma::Read) => {
                self.progress.seen.set(None);
                self.after_busy_timeout_read(out, || self.compile(sql, len, flags))
            }
        }
    }

    /// `sqlite3_prepare_v3` on the first statement of `sql` (`len` bytes, no NUL).
    fn compile(&self, sql: &str, len: c_int, flags: c_uint) -> Result<(Option<RawStatement>, usize)> {
        let mut stmt = ptr::null_mut();
        let mut tail = ptr::null();
        // What the authorizer notes is about this statement alone.
        self.progress.refused.set(None);
        self.progress.sets_foreign_keys.set(false);
        self.progress.hooks.compile_starts();
        // SAFETY: sql points at `len` valid bytes (no NUL terminator is needed when the length is given); stmt and
        // tail are out-pointers; the connection is live and used only by this thread.
        let rc =
            unsafe { ffi::sqlite3_prepare_v3(self.handle(), sql.as_ptr().cast(), len, flags, &mut stmt, &mut tail) };
        if rc != ffi::SQLITE_OK {
            return Err(match (self.progress.refused.take(), self.progress.hooks.take_refusal()) {
                (Some(why), _) => why.error(sql),
                (None, Some(why)) => Error::new(ErrorKind::Misuse, why).with_sql(sql),
                (None, None) => from_code(self.handle(), rc, Some(sql)),
            });
        }
        // SAFETY: on success tail points into `sql`'s buffer (or one past its end), so the offset is in bounds.
        let consumed = usize::try_from(unsafe { tail.cast::<u8>().offset_from(sql.as_ptr()) }).unwrap_or(sql.len());
        let sets_foreign_keys = self.progress.sets_foreign_keys.take();
        let progress = NonNull::from(&*self.progress);
        let stmt = NonNull::new(stmt).map(|s| RawStatement::new(s, self.handle(), sets_foreign_keys, progress));
        // A statement that runs application code (a function or collation registered here) never runs inline.
        Ok((stmt.map(|s| self.note_user_code(s)), consumed))
    }

    /// `out` compiled a `PRAGMA busy_timeout` read (the authorizer saw it), which reported SQLite's timeout as it
    /// stood: unless that was ours already, make it ours and compile again (with `again`). Either way the statement
    /// syncs the timeout before each step, since SQLite compiles pragmas anew on every run.
    #[cold]
    fn after_busy_timeout_read(
        &self,
        out: Result<(Option<RawStatement>, usize)>,
        again: impl FnOnce() -> Result<(Option<RawStatement>, usize)>,
    ) -> Result<(Option<RawStatement>, usize)> {
        if !matches!(out, Ok((Some(_), _))) {
            return out;
        }
        let out = if self.progress.replaced.get() {
            out
        } else {
            self.progress.sync_for_read(self.handle());
            drop(out);
            let fresh = again();
            // The second compile noted the read again; it reported our timeout this time.
            self.progress.seen.set(None);
            fresh
        };
        let progress = NonNull::from(&*self.progress);
        out.map(|(stmt, used)| (stmt.map(|s| s.syncing_busy_timeout(progress)), used))
    }

    pub fn changes(&self) -> u64 {
        // SAFETY: reads a counter of the live connection on its owning thread.
        u64::try_from(unsafe { ffi::sqlite3_changes64(self.handle()) }).unwrap_or(0)
    }

    /// Pages this connection fetched (from its page cache or from the file) since the last call, which restarts
    /// the count: a measure of how much a run read that costs no clock read, and that sees work done inside a
    /// single virtual-machine step (`count(*)` walks a whole table in one).
    pub fn take_pages_read(&self) -> u32 {
        let mut total: u32 = 0;
        for op in [ffi::SQLITE_DBSTATUS_CACHE_HIT, ffi::SQLITE_DBSTATUS_CACHE_MISS] {
            let (mut cur, mut high): (c_int, c_int) = (0, 0);
            // SAFETY: reads (and resets) a counter of the live connection on its owning thread; both out-pointers
            // point at live locals.
            unsafe { ffi::sqlite3_db_status(self.handle(), op, &mut cur, &mut high, 1) };
            total = total.saturating_add(u32::try_from(cur).unwrap_or(0));
        }
        total
    }

    pub fn total_changes(&self) -> u64 {
        // SAFETY: reads a counter of the live connection on its owning thread.
        u64::try_from(unsafe { ffi::sqlite3_total_changes64(self.handle()) }).unwrap_or(0)
    }

    pub fn last_insert_rowid(&self) -> i64 {
        // SAFETY: reads a value of the live connection on its owning thread.
        unsafe { ffi::sqlite3_last_insert_rowid(self.handle()) }
    }

    pub fn is_autocommit(&self) -> bool {
        // SAFETY: reads the autocommit flag of the live connection on its owning thread.
        unsafe { ffi::sqlite3_get_autocommit(self.handle()) != 0 }
    }

    pub fn is_readonly(&self) -> bool {
        // SAFETY: "main" is a NUL-terminated static string; the call only reads connection state.
        unsafe { ffi::sqlite3_db_readonly(self.handle(), c"main".as_ptr()) == 1 }
    }

    /// Wait up to `timeout` for another connection's lock before failing with `SQLITE_BUSY` (our own busy
    /// handler, spaced like SQLite's, so that [`RawConnection::set_no_wait`] can switch the waiting off).
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<()> {
        // An earlier `PRAGMA busy_timeout = N` not yet acted on is overridden.
        self.progress.seen.set(None);
        self.progress.busy_timeout.set(timeout);
        self.install_busy_handler()?;
        let data: *const Progress = &*self.progress;
        // SAFETY: registers a callback on the live connection, on its owning thread; `data` points at the boxed
        // `Progress`, which lives as long as the connection (it is dropped after sqlite3_close). The authorizer
        // reads it (see `authorizer`).
        let rc = unsafe { ffi::sqlite3_set_authorizer(self.handle(), Some(authorizer), data.cast_mut().cast()) };
        self.check(rc)
    }

    /// The busy timeout in force.
    pub fn busy_timeout(&self) -> Duration {
        if matches!(self.progress.seen.get(), Some(BusyPragma::Set(_))) {
            self.progress.settle();
        }
        self.progress.busy_timeout.get()
    }

    /// Put our busy handler back if `PRAGMA busy_timeout` put SQLite's in its place: SQLite's waits as long, but
    /// only ours stops waiting when the call is cancelled, interrupted or past its statement timeout. Called before
    /// every job (a flag check when nothing changed).
    #[inline]
    pub fn restore_busy_handler(&self) {
        if matches!(self.progress.seen.get(), Some(BusyPragma::Set(_))) {
            self.progress.settle();
        }
        if self.progress.replaced.get() {
            let _ = self.install_busy_handler();
        }
    }

    /// Put our busy handler in place (with the timeout in `progress`).
    fn install_busy_handler(&self) -> Result<()> {
        let data: *const Progress = &*self.progress;
        // SAFETY: registers a callback on the live connection, on its owning thread; `data` points at the boxed
        // `Progress`, which lives as long as the connection (it is dropped after sqlite3_close).
        let rc = unsafe { ffi::sqlite3_busy_handler(self.handle(), Some(busy_callback), data.cast_mut().cast()) };
        self.check(rc)?;
        self.progress.replaced.set(false);
        Ok(())
    }

    /// Give the connection its role in a pool: from now on the authorizer refuses the per-connection state the
    /// role may not hold (see [`crate::conn_state`]).
    pub fn set_role(&self, role: Role) {
        self.progress.role.set(role);
    }

    /// Share the pool's temp names with this connection (a writer keeps them, a reader heeds them).
    pub(crate) fn set_temp_names(&self, names: std::sync::Arc<crate::conn_state::TempNames>) {
        self.progress.temp_seen.set(names.generation());
        *self.progress.temp_names.borrow_mut() = Some(names);
    }

    /// The pool's temp names, if this connection shares them.
    pub(crate) fn temp_names(&self) -> Option<std::sync::Arc<crate::conn_state::TempNames>> {
        self.progress.temp_names.borrow().clone()
    }

    /// The generation of the pool's temp names, if this connection shares them.
    pub(crate) fn temp_generation(&self) -> Option<u64> {
        self.progress.temp_names.borrow().as_ref().map(|t| t.generation())
    }

    /// Look at the temp names again after the next job (the last look failed).
    pub(crate) fn note_temp_ddl_again(&self) {
        self.progress.temp_ddl.set(true);
    }

    /// Whether a statement creating or dropping a temp table or view was prepared since the last call.
    pub(crate) fn take_temp_ddl(&self) -> bool {
        self.progress.temp_ddl.replace(false)
    }

    /// The generation of the temp names this connection's cached statements were prepared under, replaced.
    pub(crate) fn replace_temp_seen(&self, generation: u64) -> u64 {
        self.progress.temp_seen.replace(generation)
    }

    /// While on, a locked database fails at once with `SQLITE_BUSY` instead of waiting out the busy timeout.
    pub fn set_no_wait(&self, on: bool) {
        self.progress.settle();
        if on && self.progress.replaced.get() {
            // `PRAGMA busy_timeout` installed SQLite's handler, which knows no such switch: put ours back.
            let _ = self.install_busy_handler();
        }
        self.progress.no_wait.set(on);
    }

    /// Set the connection up for a read on a caller's thread: a lock held elsewhere fails the read at once (no
    /// waiting out the busy timeout), and a value longer than `max_value` bytes fails it before it is read. Returns
    /// whether that cap is lower than the connection's own limit (a `TooBig` error then means "run it elsewhere").
    ///
    /// The set-up stays for the next inline read, which then costs nothing; the connection's worker undoes it with
    /// [`RawConnection::end_inline`] before it runs a job of its own.
    #[inline]
    pub fn begin_inline(&self, max_value: c_int) -> bool {
        let p = &self.progress;
        let limit = match p.inline_limit.get() {
            // A `PRAGMA busy_timeout` read inline may have put SQLite's handler in place of ours since.
            Some(limit) if !p.replaced.get() && p.seen.get().is_none() => limit,
            _ => self.begin_inline_slow(max_value),
        };
        limit > max_value
    }

    #[cold]
    fn begin_inline_slow(&self, max_value: c_int) -> c_int {
        self.set_no_wait(true);
        let limit = match self.progress.inline_limit.get() {
            Some(limit) => limit,
            None => {
                let limit = self.set_length_limit(-1);
                if limit > max_value {
                    self.set_length_limit(max_value);
                }
                limit
            }
        };
        self.progress.inline_limit.set(Some(limit));
        limit
    }

    /// Undo [`RawConnection::begin_inline`], if it is in effect: the connection waits for locks and takes values as
    /// long as its own limit again.
    #[inline]
    pub fn end_inline(&self) {
        if let Some(limit) = self.progress.inline_limit.take() {
            self.set_length_limit(limit);
            self.set_no_wait(false);
        }
    }

    /// Check statements against a deadline every `ops` virtual-machine steps (None turns the check off).
    /// The handler is shared with the application's, if it set one ([`super::hooks`]).
    pub fn set_deadline_checks(&self, ops: Option<u32>) {
        self.install_progress(ops);
    }

    /// Set the deadline the progress handler enforces (None = no deadline); clears the fired flag.
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        self.progress.deadline.set(deadline);
        self.progress.budget.set(None);
        self.progress.fired.set(false);
    }

    /// Set a deadline `budget` after the progress handler's first call (a little later than now, by at most the
    /// steps between its calls), without reading the clock now; clears the fired flag.
    pub fn set_lazy_deadline(&self, budget: Duration) {
        self.progress.deadline.set(None);
        self.progress.budget.set(Some(budget));
        self.progress.fired.set(false);
    }

    /// Whether the progress handler stopped a statement since the deadline was last set.
    pub fn deadline_fired(&self) -> bool {
        self.progress.fired.get()
    }

    /// Set the longest string or blob (in bytes) the connection accepts; returns the previous limit. Negative
    /// values only read it. SQLite caps the value at its compile-time maximum.
    pub fn set_length_limit(&self, bytes: c_int) -> c_int {
        // SAFETY: sqlite3_limit only reads or writes a field of the live connection, on its owning thread.
        unsafe { ffi::sqlite3_limit(self.handle(), ffi::SQLITE_LIMIT_LENGTH, bytes) }
    }

    /// Whether the main database file was deleted or renamed since it was opened (`SQLITE_FCNTL_HAS_MOVED`).
    /// SQLite checks this itself only in rollback-journal mode; in WAL mode writes would go on into the unlinked
    /// file and be lost at close.
    pub fn has_moved(&self) -> bool {
        let mut moved: c_int = 0;
        // SAFETY: "main" is NUL-terminated; SQLITE_FCNTL_HAS_MOVED writes one int through the pointer, which points
        // at a live local. The call runs on the owning thread.
        let rc = unsafe {
            ffi::sqlite3_file_control(
                self.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_HAS_MOVED,
                (&mut moved as *mut c_int).cast(),
            )
        };
        rc == ffi::SQLITE_OK && moved != 0
    }

    /// Why the main database, opened for `process_exclusive`, would not hold the process's lock, asked of SQLite
    /// itself after the open (a URI's parameters win over the VFS and flags the open passed): another VFS than
    /// `unix-excl`, a read-only handle, or `nolock` / `immutable`. `None` when it holds, or for a memory or
    /// temporary database (no file name).
    pub fn process_lock_refusal(&self) -> Option<String> {
        // SAFETY: "main" is NUL-terminated; the name pointer stays valid while the connection is open, and is only
        // passed back to SQLite's URI readers, on the owning thread.
        let name = unsafe { ffi::sqlite3_db_filename(self.handle(), c"main".as_ptr()) };
        // SAFETY: a non-null name from sqlite3_db_filename is NUL-terminated.
        if name.is_null() || unsafe { *name } == 0 {
            return None;
        }
        let mut vfs: *mut c_char = ptr::null_mut();
        // SAFETY: SQLITE_FCNTL_VFSNAME writes a string from sqlite3_malloc through the pointer (a live local), or
        // leaves it null; we copy it and free it with sqlite3_free.
        let vfs = unsafe {
            ffi::sqlite3_file_control(
                self.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_VFSNAME,
                (&mut vfs as *mut *mut c_char).cast(),
            );
            if vfs.is_null() {
                String::new()
            } else {
                let s = CStr::from_ptr(vfs).to_string_lossy().into_owned();
                ffi::sqlite3_free(vfs.cast());
                s
            }
        };
        if vfs != "unix-excl" {
            return Some(format!("the file is open through the {vfs:?} VFS, not \"unix-excl\""));
        }
        if self.is_readonly() {
            return Some("the file is open read-only, and a read-only handle cannot take the lock".into());
        }
        for param in [c"nolock", c"immutable"] {
            // SAFETY: name is the database's file name from sqlite3_db_filename (which sqlite3_uri_boolean takes),
            // param is NUL-terminated.
            if unsafe { ffi::sqlite3_uri_boolean(name, param.as_ptr(), 0) } != 0 {
                return Some(format!("its URI sets {}", param.to_string_lossy()));
            }
        }
        None
    }

    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle { shared: Arc::clone(&self.interrupt) }
    }

    /// Mark the job now running, for [`InterruptHandle::interrupt_token`]; 0 marks none. Clears the cancelled
    /// flag, under the same lock the interrupter holds, so a late cancel of one job never marks the next.
    pub fn set_interrupt_token(&self, token: u64) {
        let mut st = self.interrupt.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.token = token;
        self.interrupt.cancelled.store(false, Ordering::SeqCst);
    }

    /// Whether the running job was cancelled by its caller.
    #[inline]
    pub fn cancel_requested(&self) -> bool {
        self.interrupt.cancelled.load(Ordering::Relaxed)
    }

    /// The file name of the main database ("" for a memory or temporary database).
    pub fn filename(&self) -> Option<String> {
        // SAFETY: "main" is NUL-terminated; the returned pointer is valid while the connection is open and we copy
        // it at once.
        unsafe {
            let p = ffi::sqlite3_db_filename(self.handle(), c"main".as_ptr());
            if p.is_null() {
                None
            } else {
                Some(CStr::from_ptr(p).to_string_lossy().into_owned())
            }
        }
    }

    pub fn check(&self, rc: c_int) -> Result<()> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(from_code(self.handle(), rc, None))
        }
    }
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        // Interrupt handles see the null pointer from now on; the lock is released before the close, which may
        // checkpoint the WAL and take a while.
        self.interrupt.state.lock().unwrap_or_else(PoisonError::into_inner).db = DbPtr(ptr::null_mut());
        // SAFETY: every statement of this connection is owned by a RawStatement that borrows the connection's
        // lifetime through the safe layer (the cache is dropped first), so none is left and sqlite3_close
        // succeeds; no interrupt handle can reach the pointer any more.
        let rc = unsafe { ffi::sqlite3_close(self.handle()) };
        debug_assert_eq!(rc, ffi::SQLITE_OK, "sqlite3_close failed: a statement outlived its connection");
    }
}

#[cfg(test)]
mod tests {
    use crate::blocking::{Connection, OpenOptions};
    use crate::ErrorKind;
    use libsqlite3_sys as ffi;
    use std::ptr::null;
    use std::time::{Duration, Instant};

    /// SQLite forbids an authorizer to modify its connection, and ours replaced the busy handler (it called
    /// `sqlite3_busy_timeout`) from inside the callback when it saw `PRAGMA busy_timeout` compiled. It only notes
    /// what it saw now: called as SQLite calls it, it leaves our busy handler in place, so the no-wait switch still
    /// holds; the connection acts on the note outside the callback.
    #[test]
    fn the_authorizer_leaves_the_busy_handler_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.db");
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE; INSERT INTO t VALUES (2)").unwrap();
        let reader = OpenOptions::new().busy_timeout(Duration::from_secs(3)).open(&path).unwrap();

        // What SQLite does while it compiles `PRAGMA busy_timeout` (the read form), without compiling anything.
        let data: *const super::Progress = &*reader.raw.progress;
        let pragma = c"busy_timeout".as_ptr();
        let rc = super::authorizer(data.cast_mut().cast(), ffi::SQLITE_PRAGMA, pragma, null(), null(), null());
        assert_eq!(rc, ffi::SQLITE_OK);
        assert!(!reader.raw.progress.replaced.get(), "the authorizer replaced the busy handler");

        // Our handler is still the one installed: with the switch on (set directly: set_no_wait would put ours
        // back), a locked read fails at once instead of waiting out SQLite's 3 s.
        reader.raw.progress.no_wait.set(true);
        let start = Instant::now();
        let e = reader.query_one("SELECT count(*) FROM t", ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Busy);
        assert!(start.elapsed() < Duration::from_millis(1500), "a busy handler waited {:?}", start.elapsed());
        reader.raw.progress.no_wait.set(false);
        holder.execute_batch("COMMIT").unwrap();
    }

    /// `PRAGMA busy_timeout` reads back the timeout in force, however it was set and whichever busy handler is
    /// installed: SQLite compiles the pragma anew on every run, so a cached read syncs the timeout before each step.
    #[test]
    fn pragma_busy_timeout_reads_back_the_timeout_in_force() {
        let conn = OpenOptions::new().busy_timeout(Duration::from_millis(1234)).open(":memory:").unwrap();
        let read = || -> i64 { conn.query_one("PRAGMA busy_timeout", ()).unwrap().get(0).unwrap() };
        assert_eq!(read(), 1234);
        for _ in 0..2 {
            // A read that must not wait puts our handler back (SQLite's timeout is 0 under it).
            conn.raw.set_no_wait(true);
            assert_eq!(read(), 1234, "read while our handler is installed");
            conn.raw.set_no_wait(false);
            assert_eq!(read(), 1234);
        }
        conn.execute_batch("PRAGMA busy_timeout = 777").unwrap();
        assert_eq!(read(), 777);
        assert_eq!(conn.raw.progress.busy_timeout.get(), Duration::from_millis(777), "ours follows the pragma");
        conn.raw.set_no_wait(true);
        assert!(!conn.raw.progress.replaced.get(), "the no-wait switch put our handler back");
        assert_eq!(read(), 777);
        conn.raw.set_no_wait(false);
        conn.set_busy_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(read(), 2000);
        // Prepared and never run, the write form still applies: SQLite applies it as it compiles the statement.
        drop(conn.prepare("PRAGMA busy_timeout = 55").unwrap());
        assert_eq!(read(), 55);
        assert_eq!(conn.raw.progress.busy_timeout.get(), Duration::from_millis(55));
    }

    /// The busy handler waits out the busy timeout, and the no-wait switch (set while a read runs on a caller's
    /// thread) makes a locked database fail at once instead.
    #[test]
    fn the_busy_handler_waits_unless_told_not_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.db");
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").unwrap();
        // Rollback-journal mode: an exclusive transaction keeps readers out.
        holder.execute_batch("BEGIN EXCLUSIVE; INSERT INTO t VALUES (2)").unwrap();
        let reader = OpenOptions::new().busy_timeout(Duration::from_millis(150)).open(&path).unwrap();

        let start = Instant::now();
        let e = reader.query_one("SELECT count(*) FROM t", ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Busy);
        assert!(start.elapsed() >= Duration::from_millis(150), "waited only {:?}", start.elapsed());

        // With no-wait on, the same read fails without sleeping in the handler (a generous bound: the point is
        // that it does not wait out a long timeout).
        reader.set_busy_timeout(Duration::from_secs(60)).unwrap();
        reader.raw.set_no_wait(true);
        let start = Instant::now();
        let e = reader.query_one("SELECT count(*) FROM t", ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Busy);
        assert!(start.elapsed() < Duration::from_secs(30), "waited {:?}", start.elapsed());

        reader.raw.set_no_wait(false);
        holder.execute_batch("COMMIT").unwrap();
        let n: i64 = reader.query_one("SELECT count(*) FROM t", ()).unwrap().get(0).unwrap();
        assert_eq!(n, 2);
    }
}
