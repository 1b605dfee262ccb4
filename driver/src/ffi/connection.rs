//! The owner of a `sqlite3*`.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use libsqlite3_sys as ffi;

use super::error::from_code;
use super::statement::RawStatement;
use crate::{Error, ErrorKind, Result};

/// Flags for [`RawConnection::open`], a thin veneer over `SQLITE_OPEN_*`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpenFlags {
    pub read_only: bool,
    pub create: bool,
    pub uri: bool,
    pub memory: bool,
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
struct Progress {
    deadline: Cell<Option<Instant>>,
    /// A deadline counted from the handler's first call, which then sets `deadline`: a statement too short to
    /// reach the handler never reads the clock.
    budget: Cell<Option<Duration>>,
    fired: Cell<bool>,
    /// The busy timeout the busy handler enforces.
    busy_timeout: Cell<Duration>,
    /// Fail at once instead of waiting for a lock (a read run on a caller's thread, which must not block).
    no_wait: Cell<bool>,
    /// Set when `PRAGMA busy_timeout` put SQLite's own busy handler in place of ours (with `busy_timeout` updated):
    /// ours must be put back before `no_wait` can mean anything.
    replaced: Cell<bool>,
    /// The connection, for the authorizer.
    db: *mut ffi::sqlite3,
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
    std::thread::sleep(Duration::from_millis(delay.min(timeout - waited)));
    1
}

/// The authorizer: lets everything through, but notices `PRAGMA busy_timeout`, which installs SQLite's own busy
/// handler in place of ours (as the statement is prepared, and again whenever SQLite prepares it anew). SQLite's
/// handler waits just as ours does, so it may stay until a read must not wait ([`RawConnection::set_no_wait`]);
/// only the timeout it will wait for is noted. Reading the pragma reports SQLite's timeout, which ours leaves at 0,
/// so that form first puts SQLite's handler back with our timeout.
extern "C" fn authorizer(
    data: *mut c_void,
    action: c_int,
    arg1: *const c_char,
    arg2: *const c_char,
    _db_name: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    if action != ffi::SQLITE_PRAGMA || arg1.is_null() {
        return ffi::SQLITE_OK;
    }
    // SAFETY: SQLite passes NUL-terminated strings (or null, checked) valid for the call.
    let name = unsafe { CStr::from_ptr(arg1) };
    if !name.to_bytes().eq_ignore_ascii_case(b"busy_timeout") {
        return ffi::SQLITE_OK;
    }
    // SAFETY: `data` is the `Progress` boxed inside the connection, registered with the busy handler; it outlives
    // the connection's handle, and the callback runs on the thread using the connection.
    let p = unsafe { &*data.cast::<Progress>() };
    if arg2.is_null() {
        let ms = c_int::try_from(p.busy_timeout.get().as_millis()).unwrap_or(c_int::MAX);
        // SAFETY: `p.db` is the live connection preparing this statement, on this thread; setting its busy handler
        // touches nothing the statement being prepared uses.
        unsafe { ffi::sqlite3_busy_timeout(p.db, ms) };
    } else {
        // SAFETY: as for arg1.
        let value = unsafe { CStr::from_ptr(arg2) }.to_string_lossy();
        p.busy_timeout.set(Duration::from_millis(u64::try_from(leading_int(&value)).unwrap_or(0)));
    }
    p.replaced.set(true);
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
    progress: Box<Progress>,
}

impl std::fmt::Debug for RawConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawConnection").finish_non_exhaustive()
    }
}

// SAFETY: the connection is opened with SQLITE_OPEN_NOMUTEX, which allows it to move between threads as long as
// only one uses it at a time; `RawConnection` is not `Sync` and its methods take `&self` on the owning thread.
unsafe impl Send for RawConnection {}

extern "C" fn progress_callback(data: *mut c_void) -> c_int {
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
        let mut db = ptr::null_mut();
        // SAFETY: path is NUL-terminated; db receives a handle that we own (even on failure, when it must be closed).
        let rc = unsafe { ffi::sqlite3_open_v2(path.as_ptr(), &mut db, flags.bits(), ptr::null()) };
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
                no_wait: Cell::new(false),
                replaced: Cell::new(false),
                db,
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
        let mut stmt = ptr::null_mut();
        let mut tail = ptr::null();
        let flags = if persistent { ffi::SQLITE_PREPARE_PERSISTENT } else { 0 };
        // SAFETY: sql points at `len` valid bytes (no NUL terminator is needed when the length is given); stmt and
        // tail are out-pointers; the connection is live and used only by this thread.
        let rc =
            unsafe { ffi::sqlite3_prepare_v3(self.handle(), sql.as_ptr().cast(), len, flags, &mut stmt, &mut tail) };
        if rc != ffi::SQLITE_OK {
            return Err(from_code(self.handle(), rc, Some(sql)));
        }
        // SAFETY: on success tail points into `sql`'s buffer (or one past its end), so the offset is in bounds.
        let consumed = usize::try_from(unsafe { tail.cast::<u8>().offset_from(sql.as_ptr()) }).unwrap_or(sql.len());
        Ok((NonNull::new(stmt).map(|s| RawStatement::new(s, self.handle())), consumed))
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
        self.progress.busy_timeout.set(timeout);
        self.install_busy_handler()?;
        let data: *const Progress = &*self.progress;
        // SAFETY: registers a callback on the live connection, on its owning thread; `data` points at the boxed
        // `Progress`, which lives as long as the connection (it is dropped after sqlite3_close). The authorizer
        // reads it (see `authorizer`).
        let rc = unsafe { ffi::sqlite3_set_authorizer(self.handle(), Some(authorizer), data.cast_mut().cast()) };
        self.check(rc)
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

    /// While on, a locked database fails at once with `SQLITE_BUSY` instead of waiting out the busy timeout.
    pub fn set_no_wait(&self, on: bool) {
        if on && self.progress.replaced.get() {
            // `PRAGMA busy_timeout` installed SQLite's handler, which knows no such switch: put ours back.
            let _ = self.install_busy_handler();
        }
        self.progress.no_wait.set(on);
    }

    /// Check statements against a deadline every `ops` virtual-machine steps (None turns the check off).
    pub fn set_deadline_checks(&self, ops: Option<u32>) {
        let (n, cb): (c_int, Option<unsafe extern "C" fn(*mut c_void) -> c_int>) = match ops {
            Some(n) => (c_int::try_from(n).unwrap_or(c_int::MAX), Some(progress_callback)),
            None => (0, None),
        };
        let data: *const Progress = &*self.progress;
        // SAFETY: the Progress box lives as long as the connection (dropped after close); the callback only reads
        // its cells on the owning thread.
        unsafe { ffi::sqlite3_progress_handler(self.handle(), n, cb, data.cast_mut().cast()) };
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
    use std::time::{Duration, Instant};

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
