//! The only module allowed `unsafe`: owners of the raw SQLite handles.
//!
//! [`RawConnection`] owns a `sqlite3*` and [`RawStatement`] a `sqlite3_stmt*`; each releases its handle in `Drop`
//! and nothing outside this module ever sees a raw pointer. Every `unsafe` block states, in a `// SAFETY:` line,
//! the SQLite rule it relies on. Return codes become [`Error`](crate::Error)s in one cold function,
//! [`error::from_code`].
#![allow(unsafe_code)]

mod backup;
mod blob;
pub(crate) mod checkpoint;
mod connection;
mod db;
pub(crate) mod error;
pub(crate) mod feed;
pub(crate) mod functions;
pub(crate) mod hooks;
mod mutex;
mod statement;

pub(crate) use backup::{BackupStep, RawBackup};
pub(crate) use blob::RawBlob;
pub(crate) use connection::{InterruptHandle, OpenFlags, RawConnection};
pub(crate) use db::status;
pub use mutex::initialize;
pub(crate) use statement::{Column, RawStatement};

/// The version of the SQLite library linked in, such as `"3.50.2"`.
pub fn sqlite_version() -> &'static str {
    // SAFETY: sqlite3_libversion returns a pointer to a static NUL-terminated string that lives for the program.
    let v = unsafe { std::ffi::CStr::from_ptr(libsqlite3_sys::sqlite3_libversion()) };
    v.to_str().unwrap_or("unknown")
}
