//! Whole-database operations on a connection: serialize and deserialize, extensions, status counters.

use std::ffi::{c_int, CStr};

use libsqlite3_sys as ffi;

use super::RawConnection;
use crate::{Error, ErrorKind, Result};

/// A database image SQLite serialized, in memory SQLite allocated; freed in `Drop`.
pub(crate) struct SerializedDb {
    ptr: *mut u8,
    len: usize,
}

impl SerializedDb {
    pub fn as_slice(&self) -> &[u8] {
        if self.ptr.is_null() || self.len == 0 {
            &[]
        } else {
            // SAFETY: sqlite3_serialize returned `len` initialized bytes at `ptr`, owned by us until Drop.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

impl Drop for SerializedDb {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from sqlite3_serialize (sqlite3_malloc'd) or is null; freed once.
        unsafe { ffi::sqlite3_free(self.ptr.cast()) };
    }
}

impl RawConnection {
    /// The bytes of database `schema` as a file would hold them (`sqlite3_serialize`).
    pub fn serialize(&self, schema: &CStr) -> Result<SerializedDb> {
        let mut size: ffi::sqlite3_int64 = 0;
        // SAFETY: the connection is live and on its thread; `schema` is NUL-terminated; flags 0 asks for a copy in
        // memory we own (freed in SerializedDb's Drop).
        let p = unsafe { ffi::sqlite3_serialize(self.handle(), schema.as_ptr(), &mut size, 0) };
        let len = usize::try_from(size).unwrap_or(0);
        if p.is_null() && len > 0 {
            return Err(Error::new(ErrorKind::Sqlite, "out of memory serializing the database"));
        }
        if p.is_null() {
            // SAFETY: reads the connection's error state; an unknown schema name sets SQLITE_ERROR.
            let known = unsafe { !ffi::sqlite3_db_filename(self.handle(), schema.as_ptr()).is_null() };
            if !known {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("there is no database named {}", schema.to_string_lossy()),
                ));
            }
        }
        Ok(SerializedDb { ptr: p, len })
    }

    /// Replace database `schema` with the image `bytes` (copied into memory SQLite owns), held in memory from now
    /// on; `read_only` refuses writes to it, otherwise it may grow.
    pub fn deserialize(&self, schema: &CStr, bytes: &[u8], read_only: bool) -> Result<()> {
        let size = ffi::sqlite3_int64::try_from(bytes.len())
            .map_err(|_| Error::new(ErrorKind::TooBig, "a database image larger than SQLite can address"))?;
        // SAFETY: allocates `size` bytes (at least 1) with SQLite's allocator, which sqlite3_deserialize's
        // FREEONCLOSE flag hands to SQLite.
        let buf = unsafe { ffi::sqlite3_malloc64(u64::try_from(bytes.len().max(1)).unwrap_or(1)) }.cast::<u8>();
        if buf.is_null() {
            return Err(Error::new(ErrorKind::Sqlite, "out of memory deserializing a database"));
        }
        // SAFETY: `buf` holds at least `bytes.len()` bytes and does not overlap `bytes`.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len()) };
        let mut flags = ffi::SQLITE_DESERIALIZE_FREEONCLOSE;
        flags |= if read_only { ffi::SQLITE_DESERIALIZE_READONLY } else { ffi::SQLITE_DESERIALIZE_RESIZEABLE };
        // SAFETY: the connection is live and on its thread; `buf` is `size` bytes from sqlite3_malloc64, which SQLite
        // now owns (it frees it on close, or at once if the call fails, as FREEONCLOSE says).
        let rc = unsafe { ffi::sqlite3_deserialize(self.handle(), schema.as_ptr(), buf, size, size, flags) };
        self.check(rc)
    }

    /// Load the extension at `path` (entry point `entry`, or SQLite's default), with extension loading switched on
    /// for this call only (`SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION`, which allows the C API and not `load_extension()`
    /// in SQL).
    #[cfg(feature = "load_extension")]
    pub fn load_extension(&self, path: &CStr, entry: Option<&CStr>) -> Result<()> {
        let switch = |on: c_int| {
            // SAFETY: the connection is live and on its thread; this db_config op takes an int and an int* (which
            // may be null).
            unsafe {
                ffi::sqlite3_db_config(
                    self.handle(),
                    ffi::SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION,
                    on,
                    std::ptr::null_mut::<c_int>(),
                )
            }
        };
        self.check(switch(1))?;
        let mut msg: *mut std::ffi::c_char = std::ptr::null_mut();
        // SAFETY: the connection is live; `path` and `entry` are NUL-terminated (entry may be null); SQLite sets
        // `msg` to a message we free with sqlite3_free.
        let rc = unsafe {
            ffi::sqlite3_load_extension(
                self.handle(),
                path.as_ptr(),
                entry.map_or(std::ptr::null(), CStr::as_ptr),
                &mut msg,
            )
        };
        let off = switch(0);
        let text = if msg.is_null() {
            None
        } else {
            // SAFETY: `msg` is a NUL-terminated string from sqlite3_malloc; copied, then freed once.
            unsafe {
                let t = CStr::from_ptr(msg).to_string_lossy().into_owned();
                ffi::sqlite3_free(msg.cast());
                Some(t)
            }
        };
        if rc != ffi::SQLITE_OK {
            let why = text.unwrap_or_else(|| "unknown error".to_owned());
            return Err(Error::from_sqlite(rc, format!("cannot load the extension: {why}"), None, None));
        }
        self.check(off)
    }

    /// A counter of this connection (`sqlite3_db_status`): its current and highest values; `reset` restarts the
    /// highest.
    pub fn db_status(&self, op: c_int, reset: bool) -> (i64, i64) {
        let (mut cur, mut high): (c_int, c_int) = (0, 0);
        // SAFETY: reads a counter of the live connection on its thread; both out-pointers point at live locals.
        unsafe { ffi::sqlite3_db_status(self.handle(), op, &mut cur, &mut high, c_int::from(reset)) };
        (i64::from(cur), i64::from(high))
    }
}

/// A counter of the whole SQLite library (`sqlite3_status64`): its current and highest values.
pub(crate) fn status(op: c_int) -> (i64, i64) {
    let (mut cur, mut high): (ffi::sqlite3_int64, ffi::sqlite3_int64) = (0, 0);
    // SAFETY: sqlite3_status64 is thread-safe and writes two integers to live locals.
    unsafe { ffi::sqlite3_status64(op, &mut cur, &mut high, 0) };
    (cur, high)
}

impl crate::blocking::Connection {
    /// The raw `sqlite3*` of this connection, for what the safe API does not cover yet (with
    /// [`libsqlite3_sys`](crate::libsqlite3_sys), the crate this one links SQLite through).
    ///
    /// # Safety
    ///
    /// The pointer stays owned by this connection. The caller must keep these rules:
    ///
    /// - Use it only while this `Connection` lives and only on the thread using it now (it is opened
    ///   `SQLITE_OPEN_NOMUTEX`: SQLite does not lock it), and never from inside a callback of this connection.
    /// - Never close it, and finalize every statement you prepare on it (and close every blob or backup handle)
    ///   before you return control to the driver: the driver closes the connection when it drops, and SQLite
    ///   refuses to close one with statements left.
    /// - Leave the connection as you found it: no transaction left open, no statement left running.
    /// - Do not replace what the driver registered: the authorizer, busy handler, progress handler, and the update,
    ///   commit, rollback, WAL and trace hooks (set your own through the safe methods, which chain with the
    ///   driver's), nor `sqlite3_extended_result_codes`. A pool relies on them for its per-connection state rules,
    ///   statement deadlines, inline reads and change feed.
    /// - On a pool's connection, do not change what every connection must agree on (pragmas that govern reads),
    ///   and do not write through a reader's connection.
    pub unsafe fn handle(&self) -> *mut ffi::sqlite3 {
        self.raw.handle()
    }
}
