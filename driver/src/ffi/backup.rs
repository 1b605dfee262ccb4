//! The owner of a `sqlite3_backup*`: an online copy between two connections, page by page.

use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;

use libsqlite3_sys as ffi;

use super::error::from_code;
use super::RawConnection;
use crate::Result;

/// What one step of a backup did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BackupStep {
    /// Every page is copied.
    Done,
    /// Pages were copied and more remain.
    More,
    /// The source or destination was locked; nothing was copied, try again later.
    Busy,
}

/// A backup from one connection's database to another's; finished (`sqlite3_backup_finish`) in `Drop`. It borrows
/// both connections, so neither can close while it runs.
pub(crate) struct RawBackup<'a> {
    backup: NonNull<ffi::sqlite3_backup>,
    dst: &'a RawConnection,
    _src: PhantomData<&'a RawConnection>,
}

impl std::fmt::Debug for RawBackup<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawBackup").finish_non_exhaustive()
    }
}

impl<'a> RawBackup<'a> {
    /// Start copying database `src_name` of `src` over database `dst_name` of `dst`.
    pub fn new(src: &'a RawConnection, src_name: &CStr, dst: &'a RawConnection, dst_name: &CStr) -> Result<Self> {
        // SAFETY: both connections are live and used on this thread; the names are NUL-terminated. The handle is
        // finished in Drop, before either borrow ends.
        let b = unsafe { ffi::sqlite3_backup_init(dst.handle(), dst_name.as_ptr(), src.handle(), src_name.as_ptr()) };
        match NonNull::new(b) {
            Some(backup) => Ok(RawBackup { backup, dst, _src: PhantomData }),
            // SAFETY: reads the destination's error code, which sqlite3_backup_init set.
            None => Err(from_code(dst.handle(), unsafe { ffi::sqlite3_extended_errcode(dst.handle()) }, None)),
        }
    }

    /// Copy up to `pages` pages (negative: all that remain).
    pub fn step(&self, pages: c_int) -> Result<BackupStep> {
        // SAFETY: the backup handle is live (finished only in Drop) and used on the connections' thread.
        match unsafe { ffi::sqlite3_backup_step(self.backup.as_ptr(), pages) } {
            ffi::SQLITE_DONE => Ok(BackupStep::Done),
            ffi::SQLITE_OK => Ok(BackupStep::More),
            rc if rc & 0xff == ffi::SQLITE_BUSY || rc & 0xff == ffi::SQLITE_LOCKED => Ok(BackupStep::Busy),
            rc => Err(from_code(self.dst.handle(), rc, None)),
        }
    }

    /// Pages still to copy, as of the last step.
    pub fn remaining(&self) -> u32 {
        // SAFETY: reads a field of the live backup handle.
        u32::try_from(unsafe { ffi::sqlite3_backup_remaining(self.backup.as_ptr()) }).unwrap_or(0)
    }

    /// Pages in the source database, as of the last step.
    pub fn page_count(&self) -> u32 {
        // SAFETY: reads a field of the live backup handle.
        u32::try_from(unsafe { ffi::sqlite3_backup_pagecount(self.backup.as_ptr()) }).unwrap_or(0)
    }
}

impl Drop for RawBackup<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle is live and finished exactly once; an unfinished copy's destination is rolled back.
        unsafe { ffi::sqlite3_backup_finish(self.backup.as_ptr()) };
    }
}
