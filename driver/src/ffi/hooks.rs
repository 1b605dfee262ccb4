//! Connection hooks, shared fairly between the driver and the application.
//!
//! SQLite keeps one authorizer, one progress handler and one of each data hook (update, commit, rollback, WAL,
//! trace) per connection; registering one replaces the last. The driver needs some of them itself (the
//! authorizer that keeps per-connection state in a pool, the progress handler that enforces deadlines, and the
//! data hooks behind a pool's change feed), so the application's hooks are not registered with SQLite directly:
//! [`Hooks`] keeps them beside the driver's, and one trampoline per hook calls the driver's part first and the
//! application's after it.
//!
//! - **Authorizer**: the driver's verdict comes first; an action it refuses never reaches the application's, and one
//!   it allows is then put to the application's, whose answer stands. It also notes whether the statement being
//!   compiled calls an application-defined function, which keeps the statement off the caller's thread (see
//!   [`crate::worker::inline`]).
//! - **Progress handler**: one handler is registered, called every `min(driver's, application's)` steps; the
//!   driver's deadline check runs at its own rate, the application's handler about every N steps it asked for.
//! - **WAL hook**: SQLite's automatic checkpoint *is* a WAL hook, so while ours stands in for it, it checkpoints
//!   at the same threshold first, and `PRAGMA wal_autocheckpoint = N` (which would silently replace it) is refused.
//! - **The change feed** ([`Feed`]): row changes noted by the update hook wait for their transaction; a failed
//!   statement's changes, a `ROLLBACK TO` savepoint's and a rolled-back transaction's are dropped, and committed
//!   ones are published once the commit is in the WAL (the WAL hook), or at the commit hook in other journal modes.
//!
//! Every callback runs the application's closure under `catch_unwind`; a closure's hook is taken out of its cell
//! while it runs, so a callback that somehow reaches its own hook again finds none instead of aliasing it.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use libsqlite3_sys as ffi;

use super::connection::{progress_callback, Progress};
use super::feed::Feed;
use super::RawConnection;
use crate::changes::Operation;

/// The application's authorizer: `(action, arg1, arg2, database, trigger or view)` to an `SQLITE_OK`,
/// `SQLITE_DENY` or `SQLITE_IGNORE`.
pub(crate) type AuthorizerFn =
    Box<dyn FnMut(c_int, Option<&str>, Option<&str>, Option<&str>, Option<&str>) -> c_int + Send>;
/// The application's update hook: operation, database, table, rowid.
pub(crate) type UpdateFn = Box<dyn FnMut(Operation, &str, &str, i64) + Send>;
/// The application's commit hook: true turns the commit into a rollback.
pub(crate) type CommitFn = Box<dyn FnMut() -> bool + Send>;
/// The application's rollback hook.
pub(crate) type RollbackFn = Box<dyn FnMut() + Send>;
/// The application's WAL hook: database, pages in the WAL.
pub(crate) type WalFn = Box<dyn FnMut(&str, u32) + Send>;
/// The application's progress handler: true interrupts the statement.
pub(crate) type ProgressFn = Box<dyn FnMut() -> bool + Send>;
/// SQLite's default automatic-checkpoint threshold, in pages.
pub(crate) const DEFAULT_WAL_AUTOCHECKPOINT: u32 = 1000;

/// The hooks of one connection, the driver's and the application's. Lives in the connection's boxed
/// [`Progress`], so its address is stable for as long as SQLite may call back.
#[derive(Default)]
pub(crate) struct Hooks {
    /// Lowercase names of the application-defined functions and collations registered here.
    functions: RefCell<Vec<Box<str>>>,
    collations: RefCell<Vec<Box<str>>>,
    /// Whether the statement being compiled calls one of `functions` (noted by the authorizer).
    user_code: Cell<bool>,
    /// Why the authorizer refused the statement being compiled, when the hooks refused it.
    refused: Cell<Option<&'static str>>,
    authorizer: RefCell<Option<AuthorizerFn>>,
    has_authorizer: Cell<bool>,

    /// The driver's deadline check interval (None: no deadline checks).
    driver_ops: Cell<Option<u32>>,
    progress: RefCell<Option<ProgressFn>>,
    /// The application's interval (0: no handler), the registered interval, and steps since its last call.
    user_ops: Cell<u32>,
    interval: Cell<u32>,
    since_user: Cell<u64>,

    update: RefCell<Option<UpdateFn>>,
    commit: RefCell<Option<CommitFn>>,
    rollback: RefCell<Option<RollbackFn>>,
    wal: RefCell<Option<WalFn>>,
    /// Whether our WAL hook is registered, standing in for SQLite's automatic checkpoint at this threshold.
    wal_hooked: Cell<bool>,
    wal_threshold: Cell<u32>,
    /// A pool writer's checkpointer: our WAL hook hands it the checkpoints (see [`super::checkpoint`]).
    checkpointer: RefCell<Option<super::checkpoint::Checkpointer>>,
    feed: RefCell<Option<Feed>>,
    has_feed: Cell<bool>,
}

/// A string argument of a callback (a name that is not UTF-8 reads as empty, which matches nothing).
///
/// # Safety
///
/// `s` is null or a NUL-terminated string valid for `'a`.
unsafe fn arg<'a>(s: *const c_char) -> Option<&'a str> {
    // SAFETY: the caller passes null (checked) or a NUL-terminated string valid for 'a.
    (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_str().unwrap_or(""))
}

/// Run a hook's closure, taken out of its cell while it runs (absent, or re-entered: nothing runs).
fn with_hook<F: ?Sized, R>(cell: &RefCell<Option<Box<F>>>, f: impl FnOnce(&mut F) -> R) -> Option<R> {
    let mut hook = cell.try_borrow_mut().ok()?.take()?;
    let out = catch_unwind(AssertUnwindSafe(|| f(&mut hook))).ok();
    if let Ok(mut slot) = cell.try_borrow_mut() {
        // Unless the closure replaced itself meanwhile (it cannot reach its connection, but be safe).
        if slot.is_none() {
            *slot = Some(hook);
        }
    }
    out
}

fn contains(list: &RefCell<Vec<Box<str>>>, name: &str) -> bool {
    list.borrow().iter().any(|n| n.eq_ignore_ascii_case(name))
}

impl Hooks {
    pub fn note_function(&self, name: &str) {
        if !contains(&self.functions, name) {
            self.functions.borrow_mut().push(name.to_ascii_lowercase().into());
        }
    }

    pub fn note_collation(&self, name: &str) {
        if !contains(&self.collations, name) {
            self.collations.borrow_mut().push(name.to_ascii_lowercase().into());
        }
    }

    /// Whether any application-defined function or collation is registered.
    pub fn has_user_code(&self) -> bool {
        !self.functions.borrow().is_empty() || !self.collations.borrow().is_empty()
    }

    /// The names an `EXPLAIN` of a statement may show when it runs application code: functions as `name(n)`,
    /// collations (cut to 18 characters in some listings).
    pub fn user_code_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.functions.borrow().iter().map(|n| format!("{n}(")).collect();
        names.extend(self.collations.borrow().iter().map(|n| n.chars().take(18).collect::<String>()));
        names
    }

    /// Before a compile: what the authorizer notes is about this statement.
    pub fn compile_starts(&self) {
        self.user_code.set(false);
        self.refused.set(None);
    }

    /// After a compile: whether the statement calls an application-defined function (as the authorizer saw).
    pub fn take_user_code(&self) -> bool {
        self.user_code.replace(false)
    }

    /// Why the hooks refused the statement just compiled, if they did.
    pub fn take_refusal(&self) -> Option<&'static str> {
        self.refused.take()
    }

    /// The authorizer's second half, after the driver's own allowed `action`.
    #[inline]
    pub fn authorize(
        &self,
        action: c_int,
        arg1: *const c_char,
        arg2: *const c_char,
        db: *const c_char,
        trigger: *const c_char,
    ) -> c_int {
        if action == ffi::SQLITE_FUNCTION && !self.functions.borrow().is_empty() {
            // SAFETY: SQLite passes NUL-terminated strings (or null) valid for the call.
            if unsafe { arg(arg2) }.is_some_and(|f| contains(&self.functions, f)) {
                self.user_code.set(true);
            }
        }
        if action == ffi::SQLITE_PRAGMA && self.wal_hooked.get() && !arg2.is_null() {
            // SAFETY: as above.
            if unsafe { arg(arg1) }.is_some_and(|p| p.eq_ignore_ascii_case("wal_autocheckpoint")) {
                self.refused.set(Some(
                    "PRAGMA wal_autocheckpoint = N would replace the WAL hook this connection uses (a change feed, a \
                     wal_hook, or a pool's checkpointer), which checkpoints at the same threshold itself; set the \
                     threshold with Connection::set_wal_autocheckpoint (in a pool, through call) or \
                     PoolBuilder::pragma",
                ));
                return ffi::SQLITE_DENY;
            }
        }
        if !self.has_authorizer.get() {
            return ffi::SQLITE_OK;
        }
        // SAFETY: as above.
        let args = unsafe { (arg(arg1), arg(arg2), arg(db), arg(trigger)) };
        // A panicking authorizer denies.
        with_hook(&self.authorizer, |f| f(action, args.0, args.1, args.2, args.3)).unwrap_or(ffi::SQLITE_DENY)
    }

    /// Whether the feed is on (cheap, for the statement paths).
    #[inline]
    pub fn feed_on(&self) -> bool {
        self.has_feed.get()
    }

    /// A statement failed: unless SQLite rolled back the whole transaction (the rollback hook saw that), it undid
    /// the statement's own changes, and those must not be published. `changes` is the failed statement's
    /// `sqlite3_changes()`: 0 when SQLite rolled the statement back (an `OR FAIL` statement keeps what it did, and
    /// reports it).
    #[cold]
    pub fn statement_failed(&self, autocommit: bool, changes: i64) {
        if autocommit || changes != 0 {
            return;
        }
        if let Ok(mut feed) = self.feed.try_borrow_mut() {
            if let Some(feed) = feed.as_mut() {
                let serial = feed.serial;
                let keep = feed.pending.iter().rposition(|(s, _)| *s != serial).map_or(0, |i| i + 1);
                feed.pending.truncate(keep);
            }
        }
    }
}

// ---- trampolines ----------------------------------------------------------------------------------------------

/// # Safety
///
/// `data` is the `Hooks` registered with the callback: boxed inside the connection's `Progress`, alive until after
/// `sqlite3_close`, and used on the connection's thread.
unsafe fn hooks<'a>(data: *mut c_void) -> &'a Hooks {
    // SAFETY: see the function's contract.
    unsafe { &*data.cast::<Hooks>() }
}

extern "C" fn update_cb(data: *mut c_void, op: c_int, db: *const c_char, table: *const c_char, rowid: i64) {
    // SAFETY: registered with the connection's `Hooks`; SQLite passes NUL-terminated names valid for the call.
    let (h, db, table) = unsafe { (hooks(data), arg(db).unwrap_or(""), arg(table).unwrap_or("")) };
    let operation = match op {
        ffi::SQLITE_INSERT => Operation::Insert,
        ffi::SQLITE_DELETE => Operation::Delete,
        _ => Operation::Update,
    };
    if h.has_feed.get() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(mut feed) = h.feed.try_borrow_mut() {
                if let Some(feed) = feed.as_mut() {
                    if let Some(mut change) = feed.note(operation, db, table) {
                        change.rowid = rowid;
                        let serial = feed.serial;
                        feed.pending.push((serial, change));
                    }
                }
            }
        }));
    }
    with_hook(&h.update, |f| f(operation, db, table, rowid));
}

extern "C" fn commit_cb(data: *mut c_void) -> c_int {
    // SAFETY: registered with the connection's `Hooks`.
    let h = unsafe { hooks(data) };
    if with_hook(&h.commit, |f| f()).unwrap_or(false) {
        return 1; // the rollback hook follows
    }
    if h.has_feed.get() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(mut feed) = h.feed.try_borrow_mut() {
                if let Some(feed) = feed.as_mut() {
                    let pending = std::mem::take(&mut feed.pending);
                    feed.committing.extend(pending.into_iter().map(|(_, c)| c));
                    feed.committing_overflow += std::mem::take(&mut feed.overflow);
                    feed.savepoints.clear();
                    if !feed.wal {
                        feed.flush();
                    }
                }
            }
        }));
    }
    0
}

extern "C" fn rollback_cb(data: *mut c_void) {
    // SAFETY: registered with the connection's `Hooks`.
    let h = unsafe { hooks(data) };
    if let Ok(mut feed) = h.feed.try_borrow_mut() {
        if let Some(feed) = feed.as_mut() {
            feed.clear();
        }
    }
    with_hook(&h.rollback, |f| f());
}

extern "C" fn wal_cb(data: *mut c_void, db: *mut ffi::sqlite3, name: *const c_char, pages: c_int) -> c_int {
    // SAFETY: registered with the connection's `Hooks`; SQLite passes the database name valid for the call.
    let (h, db_name) = unsafe { (hooks(data), arg(name).unwrap_or("")) };
    let threshold = h.wal_threshold.get();
    let pages = u32::try_from(pages).unwrap_or(0);
    if threshold > 0 && pages >= threshold {
        // The checkpointer takes it, unless the WAL outgrew it (or it is gone, or this is an attached database).
        let handed = db_name == "main"
            && pages < threshold.saturating_mul(super::checkpoint::BACKSTOP)
            && h.checkpointer.try_borrow().ok().is_some_and(|c| c.as_ref().is_some_and(|c| c.request()));
        if !handed {
            // What SQLite's own automatic checkpoint does from its WAL hook (sqlite3WalDefaultHook).
            // SAFETY: the connection is live and on its thread; a WAL hook may checkpoint (SQLite's default does).
            unsafe { ffi::sqlite3_wal_checkpoint(db, name) };
        }
    }
    if h.has_feed.get() {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(mut feed) = h.feed.try_borrow_mut() {
                if let Some(feed) = feed.as_mut() {
                    feed.flush();
                }
            }
        }));
    }
    with_hook(&h.wal, |f| f(db_name, pages));
    ffi::SQLITE_OK
}

extern "C" fn trace_cb(event: c_uint, data: *mut c_void, _stmt: *mut c_void, sql: *mut c_void) -> c_int {
    if event != ffi::SQLITE_TRACE_STMT {
        return 0;
    }
    // SAFETY: registered with the connection's `Hooks`; for SQLITE_TRACE_STMT the last argument is the statement's
    // NUL-terminated SQL text (or a comment for a trigger), valid for the call.
    let (h, sql) = unsafe { (hooks(data), arg(sql.cast::<c_char>().cast_const()).unwrap_or("")) };
    if sql.starts_with("--") {
        return 0; // a trigger's program: part of the statement that fired it
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if let Ok(mut feed) = h.feed.try_borrow_mut() {
            if let Some(feed) = feed.as_mut() {
                feed.statement_starts(sql);
            }
        }
    }));
    0
}

/// The progress handler when the application has one: the driver's deadline check first, then the application's
/// handler about every N steps it asked for.
extern "C" fn chained_progress(data: *mut c_void) -> c_int {
    // SAFETY: registered with the connection's boxed `Progress`, which outlives the registration.
    let h = unsafe { &(*data.cast::<Progress>()).hooks };
    if h.driver_ops.get().is_some() && progress_callback(data) != 0 {
        return 1;
    }
    let every = u64::from(h.user_ops.get());
    if every == 0 {
        return 0;
    }
    let since = h.since_user.get() + u64::from(h.interval.get());
    if since < every {
        h.since_user.set(since);
        return 0;
    }
    h.since_user.set(0);
    // A panicking handler interrupts the statement.
    c_int::from(with_hook(&h.progress, |f| f()).unwrap_or(true))
}

impl RawConnection {
    pub(super) fn hooks(&self) -> &Hooks {
        &self.progress.hooks
    }

    fn hooks_ptr(&self) -> *mut c_void {
        let p: *const Hooks = self.hooks();
        p.cast_mut().cast()
    }

    /// Register the progress handler that serves the driver's deadline checks every `driver_ops` steps (None: no
    /// checks) and the application's handler, if any.
    pub(super) fn install_progress(&self, driver_ops: Option<u32>) {
        let h = self.hooks();
        h.driver_ops.set(driver_ops);
        let user = h.user_ops.get();
        type Cb = Option<unsafe extern "C" fn(*mut c_void) -> c_int>;
        let (n, cb): (u32, Cb) = match (driver_ops, user) {
            (None, 0) => (0, None),
            (Some(n), 0) => (n, Some(progress_callback)),
            (Some(n), u) => (n.min(u), Some(chained_progress)),
            (None, u) => (u, Some(chained_progress)),
        };
        h.interval.set(n.max(1));
        h.since_user.set(0);
        let data: *const Progress = &*self.progress;
        // SAFETY: the Progress box lives as long as the connection (dropped after close); the callbacks only touch
        // its cells on the owning thread.
        unsafe {
            ffi::sqlite3_progress_handler(
                self.handle(),
                c_int::try_from(n).unwrap_or(c_int::MAX),
                cb,
                data.cast_mut().cast(),
            )
        };
    }

    /// The application's progress handler, called about every `ops` steps (None removes it).
    pub fn set_user_progress(&self, ops: u32, f: Option<ProgressFn>) {
        let h = self.hooks();
        h.user_ops.set(if f.is_some() { ops.max(1) } else { 0 });
        *h.progress.borrow_mut() = f;
        self.install_progress(h.driver_ops.get());
    }

    /// The application's authorizer, consulted after the driver's own (None removes it).
    pub fn set_user_authorizer(&self, f: Option<AuthorizerFn>) {
        let h = self.hooks();
        h.has_authorizer.set(f.is_some());
        *h.authorizer.borrow_mut() = f;
    }

    pub fn set_update_hook(&self, f: Option<UpdateFn>) {
        *self.hooks().update.borrow_mut() = f;
        self.sync_data_hooks();
    }

    pub fn set_commit_hook(&self, f: Option<CommitFn>) {
        *self.hooks().commit.borrow_mut() = f;
        self.sync_data_hooks();
    }

    pub fn set_rollback_hook(&self, f: Option<RollbackFn>) {
        *self.hooks().rollback.borrow_mut() = f;
        self.sync_data_hooks();
    }

    /// Whether the application set hooks that a read may call (a progress handler, an authorizer, which runs
    /// when SQLite compiles a statement again): reads on this connection must not run inline.
    pub fn has_user_hooks_on_reads(&self) -> bool {
        let h = self.hooks();
        h.user_ops.get() != 0 || h.has_authorizer.get()
    }

    /// Whether our WAL hook stands in for SQLite's automatic checkpoint.
    pub fn wal_hooked(&self) -> bool {
        self.hooks().wal_hooked.get()
    }

    /// The application's WAL hook; `threshold` is the automatic-checkpoint threshold in force (None: ours is in
    /// place and keeps its own), which our hook keeps.
    pub fn set_wal_hook(&self, f: Option<WalFn>, threshold: Option<u32>) {
        if let Some(t) = threshold {
            self.hooks().wal_threshold.set(t);
        }
        *self.hooks().wal.borrow_mut() = f;
        self.sync_data_hooks();
    }

    /// Hand this connection's automatic checkpoints to `checkpointer` (None: take them back, stopping it);
    /// `threshold` as for [`set_wal_hook`](Self::set_wal_hook).
    pub(crate) fn set_checkpointer(
        &self,
        checkpointer: Option<super::checkpoint::Checkpointer>,
        threshold: Option<u32>,
    ) {
        if let Some(t) = threshold {
            self.hooks().wal_threshold.set(t);
        }
        let old = self.hooks().checkpointer.replace(checkpointer);
        self.sync_data_hooks();
        drop(old);
    }

    /// Start (or, with None, stop) the driver's change feed on this connection.
    pub fn set_feed(&self, feed: Option<Feed>, threshold: Option<u32>) {
        let h = self.hooks();
        if let Some(t) = threshold {
            h.wal_threshold.set(t);
        }
        h.has_feed.set(feed.is_some());
        *h.feed.borrow_mut() = feed;
        self.sync_data_hooks();
    }

    /// The automatic-checkpoint threshold (pages; 0 turns it off), whoever checkpoints: SQLite, or our WAL hook.
    pub fn set_wal_autocheckpoint(&self, pages: u32) -> crate::Result<()> {
        let h = self.hooks();
        h.wal_threshold.set(pages);
        if h.wal_hooked.get() {
            return Ok(());
        }
        // SAFETY: the connection is live and on its thread; no callback is running.
        let rc =
            unsafe { ffi::sqlite3_wal_autocheckpoint(self.handle(), c_int::try_from(pages).unwrap_or(c_int::MAX)) };
        self.check(rc)
    }

    /// Register with SQLite exactly the data hooks that someone (the driver's feed or the application) uses.
    fn sync_data_hooks(&self) {
        let h = self.hooks();
        let feed = h.has_feed.get();
        let data = self.hooks_ptr();
        let db = self.handle();
        let want = |cell_set: bool| feed || cell_set;
        // SAFETY: (every registration below) the connection is live and used on its thread, no callback is running,
        // and `data` points at the connection's `Hooks`, which lives in the boxed `Progress` until after
        // sqlite3_close, so it outlives every registration.
        unsafe {
            let update: Option<unsafe extern "C" fn(*mut c_void, c_int, *const c_char, *const c_char, i64)> =
                want(h.update.borrow().is_some()).then_some(update_cb);
            ffi::sqlite3_update_hook(db, update, data);
            let commit: Option<unsafe extern "C" fn(*mut c_void) -> c_int> =
                want(h.commit.borrow().is_some()).then_some(commit_cb);
            ffi::sqlite3_commit_hook(db, commit, data);
            let rollback: Option<unsafe extern "C" fn(*mut c_void)> =
                want(h.rollback.borrow().is_some()).then_some(rollback_cb);
            ffi::sqlite3_rollback_hook(db, rollback, data);
            let trace: Option<unsafe extern "C" fn(c_uint, *mut c_void, *mut c_void, *mut c_void) -> c_int> =
                feed.then_some(trace_cb);
            ffi::sqlite3_trace_v2(db, if feed { ffi::SQLITE_TRACE_STMT } else { 0 }, trace, data);
            let wal = want(h.wal.borrow().is_some()) || h.checkpointer.borrow().is_some();
            if wal {
                ffi::sqlite3_wal_hook(db, Some(wal_cb), data);
            } else if h.wal_hooked.get() {
                // Hand checkpointing back to SQLite, at the threshold our hook kept.
                ffi::sqlite3_wal_autocheckpoint(db, c_int::try_from(h.wal_threshold.get()).unwrap_or(c_int::MAX));
            }
            h.wal_hooked.set(wal);
        }
    }
}
