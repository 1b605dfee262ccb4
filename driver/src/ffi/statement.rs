//! The owner of a `sqlite3_stmt*`.

use std::ffi::{c_int, CStr};
use std::ptr::NonNull;

use libsqlite3_sys as ffi;

use super::connection::Progress;
use super::error::from_code;
use crate::value::{Value, ValueRef};
use crate::{Error, Result};

/// Owns one prepared statement; finalizes it in `Drop`.
///
/// A `RawStatement` must not outlive the [`RawConnection`](super::RawConnection) that prepared it; the safe layer
/// guarantees this by borrowing the connection (or by keeping statements in a cache the connection drops first).
pub(crate) struct RawStatement {
    stmt: NonNull<ffi::sqlite3_stmt>,
    db: *mut ffi::sqlite3,
    /// Whether the statement sets `foreign_keys`, which SQLite ignores inside a transaction (noted by the
    /// authorizer when it was prepared).
    sets_foreign_keys: bool,
    /// Set for a `PRAGMA busy_timeout` read: its connection's [`Progress`], to sync SQLite's timeout with ours
    /// before each step (see [`Progress::sync_for_read`]).
    busy_timeout_read: Option<NonNull<Progress>>,
    /// The connection's [`Progress`], whose hooks learn of a failed step (the change feed).
    progress: NonNull<Progress>,
    /// Whether the statement runs application code: an application-defined function or collation.
    user_code: bool,
    /// Bytes of TEXT and BLOB values read from the statement's rows since [`take_bytes_read`](Self::take_bytes_read).
    bytes_read: std::cell::Cell<u64>,
    /// Whether the statement was stepped since it was last reset: resetting a statement that is ready to run does
    /// nothing but costs a call.
    stepped: std::cell::Cell<bool>,
}

impl std::fmt::Debug for RawStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawStatement").field("sql", &self.sql()).finish()
    }
}

/// A column of the current row as SQLite holds it: a value, or TEXT whose bytes are not UTF-8, which no
/// [`ValueRef::Text`] can hold (see [`Value`](crate::Value#text-that-is-not-utf-8) on how each read treats it).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Column<'a> {
    /// A value.
    Value(ValueRef<'a>),
    /// TEXT that is not valid UTF-8: its bytes.
    NonUtf8Text(&'a [u8]),
}

// SAFETY: a statement belongs to a NOMUTEX connection that moves between threads only as a whole, together with
// its statements (both live on one worker thread), and so does the connection's `Progress` a statement may point
// at; RawStatement is not Sync.
unsafe impl Send for RawStatement {}

/// Column index to C, saturating: SQLite treats an out-of-range index as a misuse it survives, and callers check
/// bounds before they get here.
fn cidx(i: usize) -> c_int {
    c_int::try_from(i).unwrap_or(c_int::MAX)
}

impl RawStatement {
    pub(super) fn new(
        stmt: NonNull<ffi::sqlite3_stmt>,
        db: *mut ffi::sqlite3,
        sets_foreign_keys: bool,
        progress: NonNull<Progress>,
    ) -> Self {
        RawStatement {
            stmt,
            db,
            sets_foreign_keys,
            busy_timeout_read: None,
            progress,
            user_code: false,
            bytes_read: std::cell::Cell::new(0),
            stepped: std::cell::Cell::new(false),
        }
    }

    /// Mark a statement that runs application code.
    pub(super) fn running_user_code(mut self) -> Self {
        self.user_code = true;
        self
    }

    /// Whether the statement runs application code (an application-defined function or collation), which must
    /// never run on a caller's thread while it holds a leased connection.
    #[inline]
    pub fn runs_user_code(&self) -> bool {
        self.user_code
    }

    /// A step failed: tell the connection's hooks (the change feed drops what SQLite undid), then make the error.
    #[cold]
    #[inline(never)]
    fn step_error(&self, rc: c_int) -> Error {
        // SAFETY: `progress` is boxed inside the connection that prepared this statement, which outlives it (see the
        // type's docs); both are used on the owning thread only.
        let hooks = unsafe { &self.progress.as_ref().hooks };
        if hooks.feed_on() {
            // SAFETY: reads the autocommit flag and change count of the live connection on its thread.
            let (autocommit, changes) =
                unsafe { (ffi::sqlite3_get_autocommit(self.db) != 0, ffi::sqlite3_changes64(self.db)) };
            hooks.statement_failed(autocommit, changes);
        }
        self.error(rc)
    }

    /// Whether the statement does nothing inside a transaction, where running it is an error (see
    /// [`crate::conn_state::ignored_in_transaction`]).
    #[inline]
    pub fn ignored_in_transaction(&self) -> bool {
        self.sets_foreign_keys
    }

    /// Mark a `PRAGMA busy_timeout` read, which must see SQLite's timeout synced with `progress`'s before each step.
    pub(super) fn syncing_busy_timeout(mut self, progress: NonNull<Progress>) -> Self {
        self.busy_timeout_read = Some(progress);
        self
    }

    #[cold]
    #[inline(never)]
    fn sync_busy_timeout(&self, progress: NonNull<Progress>) {
        // SAFETY: `progress` is boxed inside the connection that prepared this statement; a statement never outlives
        // its connection (see the type's docs), so the box is live, and both are used on the owning thread only.
        let p = unsafe { progress.as_ref() };
        p.sync_for_read(self.db);
    }

    pub(super) fn ptr(&self) -> *mut ffi::sqlite3_stmt {
        self.stmt.as_ptr()
    }

    #[cold]
    fn error(&self, rc: c_int) -> Error {
        // A wait for a lock that an interrupt cut short (see the busy handler) was interrupted, not busy.
        // SAFETY: `db` is the live connection that prepared this statement; sqlite3_is_interrupted reads a flag.
        let rc = if rc & 0xff == ffi::SQLITE_BUSY && unsafe { ffi::sqlite3_is_interrupted(self.db) } != 0 {
            ffi::SQLITE_INTERRUPT
        } else {
            rc
        };
        from_code(self.db, rc, Some(self.sql()))
    }

    /// The statement's SQL as written.
    pub fn sql(&self) -> &str {
        // SAFETY: sqlite3_sql returns the UTF-8 text the statement was prepared from (we prepared it from a &str),
        // valid for the statement's life, which bounds the returned borrow.
        unsafe {
            let p = ffi::sqlite3_sql(self.ptr());
            if p.is_null() {
                ""
            } else {
                CStr::from_ptr(p).to_str().unwrap_or("")
            }
        }
    }

    pub fn parameter_count(&self) -> usize {
        // SAFETY: reads the statement's parameter count.
        usize::try_from(unsafe { ffi::sqlite3_bind_parameter_count(self.ptr()) }).unwrap_or(0)
    }

    /// The name of parameter `i` (1-based) with its prefix, or None for a nameless `?`.
    pub fn parameter_name(&self, i: usize) -> Option<&str> {
        // SAFETY: the returned name lives as long as the statement, which bounds the borrow; an out-of-range index
        // gives NULL.
        unsafe {
            let p = ffi::sqlite3_bind_parameter_name(self.ptr(), cidx(i));
            if p.is_null() {
                None
            } else {
                CStr::from_ptr(p).to_str().ok()
            }
        }
    }

    /// Bind `value` to parameter `i` (1-based). Text and blobs are copied by SQLite.
    pub fn bind(&self, i: usize, value: &Value) -> Result<()> {
        self.bind_ref(i, value.as_ref())
    }

    /// Bind a borrowed value to parameter `i` (1-based); SQLite copies text and blobs.
    pub fn bind_ref(&self, i: usize, value: ValueRef<'_>) -> Result<()> {
        let i = cidx(i);
        // SAFETY: the statement is live and reset (binding a running statement returns SQLITE_MISUSE, not UB);
        // text and blob pointers are valid for the given lengths for the call, and SQLITE_TRANSIENT makes SQLite
        // copy them before returning.
        let rc = unsafe {
            match value {
                ValueRef::Null => ffi::sqlite3_bind_null(self.ptr(), i),
                ValueRef::Integer(v) => ffi::sqlite3_bind_int64(self.ptr(), i, v),
                ValueRef::Real(v) => ffi::sqlite3_bind_double(self.ptr(), i, v),
                ValueRef::Text(s) => ffi::sqlite3_bind_text64(
                    self.ptr(),
                    i,
                    s.as_ptr().cast(),
                    u64::try_from(s.len()).unwrap_or(u64::MAX),
                    ffi::SQLITE_TRANSIENT(),
                    u8::try_from(ffi::SQLITE_UTF8).unwrap_or(1),
                ),
                ValueRef::Blob(b) => ffi::sqlite3_bind_blob64(
                    self.ptr(),
                    i,
                    b.as_ptr().cast(),
                    u64::try_from(b.len()).unwrap_or(u64::MAX),
                    ffi::SQLITE_TRANSIENT(),
                ),
            }
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(self.error(rc))
        }
    }

    /// Step once: `Ok(true)` when a row is ready, `Ok(false)` when done.
    #[inline]
    pub fn step(&self) -> Result<bool> {
        if let Some(p) = self.busy_timeout_read {
            self.sync_busy_timeout(p);
        }
        self.stepped.set(true);
        // SAFETY: the statement is live and used by its owning thread only.
        match unsafe { ffi::sqlite3_step(self.ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(self.step_error(rc)),
        }
    }

    /// Reset to run again; bindings are kept. Errors were reported by `step` already.
    #[inline]
    pub fn reset(&self) {
        if self.stepped.replace(false) {
            // SAFETY: resetting a live statement is always allowed.
            unsafe { ffi::sqlite3_reset(self.ptr()) };
        }
    }

    pub fn column_count(&self) -> usize {
        // SAFETY: reads the statement's column count.
        usize::try_from(unsafe { ffi::sqlite3_column_count(self.ptr()) }).unwrap_or(0)
    }

    pub fn column_name(&self, i: usize) -> String {
        // SAFETY: the name pointer is valid until the statement is finalized or re-prepared; we copy it at once.
        unsafe {
            let p = ffi::sqlite3_column_name(self.ptr(), cidx(i));
            if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        }
    }

    /// The declared type of result column `i` (`sqlite3_column_decltype`): the type its table column was declared
    /// with, or None for an expression, a column declared without a type, or an index out of range.
    #[cfg(feature = "arrow")]
    pub fn column_decltype(&self, i: usize) -> Option<String> {
        // SAFETY: the statement is live; the returned UTF-8 string is valid until the statement is finalized or
        // re-prepared (or the next call for this column), and is copied at once.
        unsafe {
            let p = ffi::sqlite3_column_decltype(self.ptr(), cidx(i));
            if p.is_null() {
                None
            } else {
                Some(CStr::from_ptr(p).to_string_lossy().into_owned())
            }
        }
    }

    /// The value of column `i` of the current row, or the bytes of TEXT that is not UTF-8 (one `from_utf8` check
    /// on the way, as before).
    #[inline]
    pub fn column_value(&self, i: usize) -> Column<'_> {
        let c = cidx(i);
        // SAFETY: a row is current (callers only read after `step` returned true and before the next step/reset,
        // which the `&self` borrow of the returned value enforces through the safe layer). For text and blobs we
        // call sqlite3_column_text/blob first and sqlite3_column_bytes second, the order SQLite documents; the
        // pointer is valid for that many bytes until the next step, reset or type conversion on this column.
        unsafe {
            match ffi::sqlite3_column_type(self.ptr(), c) {
                ffi::SQLITE_INTEGER => Column::Value(ValueRef::Integer(ffi::sqlite3_column_int64(self.ptr(), c))),
                ffi::SQLITE_FLOAT => Column::Value(ValueRef::Real(ffi::sqlite3_column_double(self.ptr(), c))),
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_column_text(self.ptr(), c);
                    let n = usize::try_from(ffi::sqlite3_column_bytes(self.ptr(), c)).unwrap_or(0);
                    self.note_bytes(n);
                    let bytes = if p.is_null() { &[][..] } else { std::slice::from_raw_parts(p, n) };
                    match std::str::from_utf8(bytes) {
                        Ok(s) => Column::Value(ValueRef::Text(s)),
                        Err(_) => Column::NonUtf8Text(bytes),
                    }
                }
                ffi::SQLITE_BLOB => {
                    let p = ffi::sqlite3_column_blob(self.ptr(), c);
                    let n = usize::try_from(ffi::sqlite3_column_bytes(self.ptr(), c)).unwrap_or(0);
                    self.note_bytes(n);
                    let bytes =
                        if p.is_null() || n == 0 { &[][..] } else { std::slice::from_raw_parts(p.cast::<u8>(), n) };
                    Column::Value(ValueRef::Blob(bytes))
                }
                _ => Column::Value(ValueRef::Null),
            }
        }
    }

    /// As [`column_value`](Self::column_value), through the column's `sqlite3_value`: one column lookup per cell
    /// instead of two (the Arrow builders read every cell of every row).
    #[cfg(feature = "arrow")]
    #[inline]
    pub fn column_cell(&self, i: usize) -> Column<'_> {
        // SAFETY: a row is current (as for `column_value`). sqlite3_column_value returns the column's value, valid
        // until the next step, reset or finalize; it is "unprotected", which only restricts its use to the
        // connection's own thread (a statement never leaves it). Text and blob pointers are read before their byte
        // counts, as SQLite documents, and are valid for that many bytes until the next step or reset.
        unsafe {
            let v = ffi::sqlite3_column_value(self.ptr(), cidx(i));
            if v.is_null() {
                return Column::Value(ValueRef::Null);
            }
            match ffi::sqlite3_value_type(v) {
                ffi::SQLITE_INTEGER => Column::Value(ValueRef::Integer(ffi::sqlite3_value_int64(v))),
                ffi::SQLITE_FLOAT => Column::Value(ValueRef::Real(ffi::sqlite3_value_double(v))),
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_value_text(v);
                    let n = usize::try_from(ffi::sqlite3_value_bytes(v)).unwrap_or(0);
                    self.note_bytes(n);
                    let bytes = if p.is_null() { &[][..] } else { std::slice::from_raw_parts(p, n) };
                    match std::str::from_utf8(bytes) {
                        Ok(s) => Column::Value(ValueRef::Text(s)),
                        Err(_) => Column::NonUtf8Text(bytes),
                    }
                }
                ffi::SQLITE_BLOB => {
                    let p = ffi::sqlite3_value_blob(v);
                    let n = usize::try_from(ffi::sqlite3_value_bytes(v)).unwrap_or(0);
                    self.note_bytes(n);
                    let bytes =
                        if p.is_null() || n == 0 { &[][..] } else { std::slice::from_raw_parts(p.cast::<u8>(), n) };
                    Column::Value(ValueRef::Blob(bytes))
                }
                _ => Column::Value(ValueRef::Null),
            }
        }
    }

    /// How many times SQLite has re-prepared the statement (after schema changes).
    #[inline]
    pub fn reprepare_count(&self) -> u32 {
        // SAFETY: reads a counter of the live statement without resetting it.
        let n = unsafe { ffi::sqlite3_stmt_status(self.ptr(), ffi::SQLITE_STMTSTATUS_REPREPARE, 0) };
        u32::try_from(n).unwrap_or(0)
    }

    /// Count `n` bytes of a value read.
    #[inline]
    fn note_bytes(&self, n: usize) {
        self.bytes_read.set(self.bytes_read.get().saturating_add(u64::try_from(n).unwrap_or(u64::MAX)));
    }

    /// Bytes of TEXT and BLOB values read from the rows since the last call, which restarts the count: a large value
    /// is read in one step (its overflow pages straight from the file, past the page cache that counts pages), and
    /// copied out whole.
    pub fn take_bytes_read(&self) -> u64 {
        self.bytes_read.replace(0)
    }

    /// The virtual-machine steps of the runs since the last call, which restarts the count: a measure of how much
    /// work a run did that costs no clock read.
    #[inline]
    pub fn take_vm_steps(&self) -> u32 {
        // SAFETY: reads and resets a counter of the live statement.
        let n = unsafe { ffi::sqlite3_stmt_status(self.ptr(), ffi::SQLITE_STMTSTATUS_VM_STEP, 1) };
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Whether any instruction of the statement's program (as `EXPLAIN` lists it, one row per instruction) passes
    /// `test`. The statement is switched to EXPLAIN mode, stepped through its program, and switched back; it must
    /// not be running. Any failure answers true (the callers treat a yes as the cautious answer).
    pub(crate) fn program_has(&self, mut test: impl FnMut(&RawStatement) -> bool) -> bool {
        // SAFETY: the statement is live, not running (just prepared or reset), and used by its owning thread only;
        // sqlite3_stmt_explain only changes how it runs next.
        if unsafe { ffi::sqlite3_stmt_explain(self.ptr(), 1) } != ffi::SQLITE_OK {
            return true;
        }
        let found = loop {
            match self.step() {
                Ok(true) if test(self) => break true,
                Ok(true) => {}
                Ok(false) => break false,
                Err(_) => break true,
            }
        };
        self.reset();
        // SAFETY: as above; the statement was reset, so switching back is allowed.
        if unsafe { ffi::sqlite3_stmt_explain(self.ptr(), 0) } != ffi::SQLITE_OK {
            return true;
        }
        found
    }

    /// Whether the statement's program holds one of the virtual-machine `opcodes` (by name; column 1 of EXPLAIN).
    pub fn uses_opcode(&self, opcodes: &[&str]) -> bool {
        self.program_has(|s| matches!(s.column_value(1), Column::Value(ValueRef::Text(op)) if opcodes.contains(&op)))
    }

    /// Whether the statement makes no direct change to the database.
    pub fn readonly(&self) -> bool {
        // SAFETY: reads a flag of the live statement.
        unsafe { ffi::sqlite3_stmt_readonly(self.ptr()) != 0 }
    }
}

impl Drop for RawStatement {
    fn drop(&mut self) {
        // SAFETY: the statement is live (we own it) and its connection is still open (see the type's docs);
        // sqlite3_finalize releases it, and no pointer to it remains.
        unsafe { ffi::sqlite3_finalize(self.ptr()) };
    }
}
