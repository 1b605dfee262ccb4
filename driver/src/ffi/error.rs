//! Return codes into errors.

use std::ffi::CStr;

use libsqlite3_sys as ffi;

use crate::Error;

/// Turn a failing return code into an [`Error`].
///
/// The message is `sqlite3_errmsg` only when the connection's last error is this very code (another call may
/// have overwritten it); otherwise it is `sqlite3_errstr(rc)`. The offset is `sqlite3_error_offset` when SQLite
/// gives one.
#[cold]
#[inline(never)]
pub(crate) fn from_code(db: *mut ffi::sqlite3, rc: i32, sql: Option<&str>) -> Error {
    let (message, offset) = if db.is_null() {
        (errstr(rc), None)
    } else {
        // SAFETY: `db` is a live connection owned by the calling thread; sqlite3_extended_errcode, sqlite3_errmsg
        // and sqlite3_error_offset only read its error state. The errmsg pointer is valid until the next call on
        // the connection, and we copy it out at once.
        unsafe {
            if ffi::sqlite3_extended_errcode(db) == rc {
                let msg = CStr::from_ptr(ffi::sqlite3_errmsg(db)).to_string_lossy().into_owned();
                let off = usize::try_from(ffi::sqlite3_error_offset(db)).ok();
                (msg, off)
            } else {
                (errstr(rc), None)
            }
        }
    };
    Error::from_sqlite(rc, message, sql, offset)
}

fn errstr(rc: i32) -> String {
    // SAFETY: sqlite3_errstr returns a pointer to a static English string for any code.
    unsafe { CStr::from_ptr(ffi::sqlite3_errstr(rc)).to_string_lossy().into_owned() }
}
