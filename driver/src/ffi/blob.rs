//! The owner of a `sqlite3_blob*`: incremental I/O on one BLOB (or TEXT) value.

use std::ffi::{c_int, CStr};
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;

use super::error::from_code;
use super::RawConnection;
use crate::{Error, ErrorKind, Result};

/// An open blob handle; closed in `Drop`. It must not outlive its connection: the safe layer borrows the
/// connection for the handle's life.
pub(crate) struct RawBlob {
    blob: NonNull<ffi::sqlite3_blob>,
    db: *mut ffi::sqlite3,
}

impl std::fmt::Debug for RawBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawBlob").field("len", &self.len()).finish()
    }
}

fn offset_of(offset: usize, len: usize) -> Result<(c_int, c_int)> {
    let too_big = || Error::new(ErrorKind::TooBig, "a blob offset or length past 2 GiB");
    Ok((c_int::try_from(offset).map_err(|_| too_big())?, c_int::try_from(len).map_err(|_| too_big())?))
}

impl RawBlob {
    /// Open the value in `column` of the row `rowid` of `db`.`table`, for reading (and writing, with `writable`).
    pub fn open(
        conn: &RawConnection,
        db: &CStr,
        table: &CStr,
        column: &CStr,
        rowid: i64,
        writable: bool,
    ) -> Result<Self> {
        let mut blob = ptr::null_mut();
        // SAFETY: the connection is live and used on this thread; the names are NUL-terminated; `blob` receives a
        // handle we own (null on failure).
        let rc = unsafe {
            ffi::sqlite3_blob_open(
                conn.handle(),
                db.as_ptr(),
                table.as_ptr(),
                column.as_ptr(),
                rowid,
                c_int::from(writable),
                &mut blob,
            )
        };
        match NonNull::new(blob) {
            Some(blob) if rc == ffi::SQLITE_OK => Ok(RawBlob { blob, db: conn.handle() }),
            _ => Err(from_code(conn.handle(), rc, None)),
        }
    }

    /// The value's size in bytes (fixed: incremental I/O cannot change it).
    pub fn len(&self) -> usize {
        // SAFETY: reads the size of the live handle.
        usize::try_from(unsafe { ffi::sqlite3_blob_bytes(self.blob.as_ptr()) }).unwrap_or(0)
    }

    /// Fill `buf` from byte `offset` (the whole range must lie inside the value).
    pub fn read_at(&self, buf: &mut [u8], offset: usize) -> Result<()> {
        let (off, n) = offset_of(offset, buf.len())?;
        // SAFETY: the handle is live; `buf` is valid for `n` writable bytes; SQLite checks the range.
        let rc = unsafe { ffi::sqlite3_blob_read(self.blob.as_ptr(), buf.as_mut_ptr().cast(), n, off) };
        self.check(rc)
    }

    /// Write `buf` at byte `offset` (the whole range must lie inside the value).
    pub fn write_at(&self, buf: &[u8], offset: usize) -> Result<()> {
        let (off, n) = offset_of(offset, buf.len())?;
        // SAFETY: the handle is live; `buf` is valid for `n` bytes; SQLite checks the range and copies.
        let rc = unsafe { ffi::sqlite3_blob_write(self.blob.as_ptr(), buf.as_ptr().cast(), n, off) };
        self.check(rc)
    }

    /// Point the handle at the same column of another row.
    pub fn reopen(&mut self, rowid: i64) -> Result<()> {
        // SAFETY: the handle is live and used on its connection's thread.
        let rc = unsafe { ffi::sqlite3_blob_reopen(self.blob.as_ptr(), rowid) };
        self.check(rc)
    }

    fn check(&self, rc: c_int) -> Result<()> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(from_code(self.db, rc, None))
        }
    }
}

impl Drop for RawBlob {
    fn drop(&mut self) {
        // SAFETY: the handle is live and closed exactly once, before its connection closes (see the type's docs).
        unsafe { ffi::sqlite3_blob_close(self.blob.as_ptr()) };
    }
}
