//! Incremental BLOB I/O: read and write one value in place, in pieces, with `std::io`'s traits.

use std::ffi::CString;
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::Connection;
use crate::ffi::RawBlob;
use crate::{Error, ErrorKind, Result};

/// One BLOB (or TEXT) value opened for incremental I/O: [`Read`], [`Write`] and [`Seek`] over its bytes, without
/// loading the value into memory. Made by [`Connection::blob_open`].
///
/// Its size is fixed: writes cannot grow it (make room first, with `zeroblob(N)` in an `INSERT` or `UPDATE`). A
/// write past the end fails with [`io::ErrorKind::WriteZero`]; a seek before the start or past the end fails with
/// [`io::ErrorKind::InvalidInput`]; a read at the end returns 0. If the row is changed or deleted by another
/// statement while the handle is open, every later read or write fails (`SQLITE_ABORT`); [`reopen`](Blob::reopen)
/// moves the handle to another row. In autocommit mode an open handle holds a transaction (a write transaction if
/// writable) until it is dropped.
pub struct Blob<'c> {
    raw: RawBlob,
    pos: usize,
    _conn: std::marker::PhantomData<&'c Connection>,
}

impl std::fmt::Debug for Blob<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob").field("len", &self.len()).field("pos", &self.pos).finish()
    }
}

fn cname(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::new(ErrorKind::InvalidInput, format!("the {what} name {s:?} holds a NUL byte")))
}

fn io_error(e: Error) -> io::Error {
    io::Error::other(e)
}

impl Blob<'_> {
    /// The value's size in bytes.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Read up to `buf.len()` bytes from byte `offset` (the position is not moved); returns how many were read (0
    /// at or past the end).
    pub fn read_at(&self, buf: &mut [u8], offset: usize) -> Result<usize> {
        let n = buf.len().min(self.len().saturating_sub(offset));
        if n > 0 {
            self.raw.read_at(&mut buf[..n], offset)?;
        }
        Ok(n)
    }

    /// Write all of `buf` at byte `offset` (the position is not moved); the range must lie inside the value.
    pub fn write_at(&mut self, buf: &[u8], offset: usize) -> Result<()> {
        let end = offset.checked_add(buf.len()).filter(|end| *end <= self.len());
        if end.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "cannot write {} bytes at offset {offset} of a blob of {} bytes: a blob cannot grow (make room \
                     with zeroblob(N) first)",
                    buf.len(),
                    self.len()
                ),
            ));
        }
        self.raw.write_at(buf, offset)
    }

    /// Move the handle to the same column of row `rowid`, at position 0.
    pub fn reopen(&mut self, rowid: i64) -> Result<()> {
        self.raw.reopen(rowid)?;
        self.pos = 0;
        Ok(())
    }
}

impl Read for Blob<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(buf, self.pos).map_err(io_error)?;
        self.pos += n;
        Ok(n)
    }
}

impl Write for Blob<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let room = self.len().saturating_sub(self.pos);
        if room == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!(
                    "the blob is full ({} bytes): a blob cannot grow (make room with zeroblob(N) first)",
                    self.len()
                ),
            ));
        }
        let n = buf.len().min(room);
        self.raw.write_at(&buf[..n], self.pos).map_err(io_error)?;
        self.pos += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Blob<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = i128::try_from(self.len()).unwrap_or(i128::MAX);
        let pos = match to {
            SeekFrom::Start(p) => i128::from(p),
            SeekFrom::End(d) => len + i128::from(d),
            SeekFrom::Current(d) => i128::try_from(self.pos).unwrap_or(i128::MAX) + i128::from(d),
        };
        if pos < 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot seek before the start of a blob"));
        }
        if pos > len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot seek to {pos}, past the end of a blob of {len} bytes"),
            ));
        }
        self.pos = usize::try_from(pos).unwrap_or(usize::MAX);
        Ok(u64::try_from(pos).unwrap_or(u64::MAX))
    }
}

impl Connection {
    /// Open the value in `column` of row `rowid` of `table` in database `db` (`"main"`, `"temp"` or an attached
    /// name) for incremental I/O; `read_only` refuses writes. See [`Blob`].
    ///
    /// ```
    /// use std::io::{Read, Seek, SeekFrom, Write};
    /// # fn main() -> asqlite::Result<()> {
    /// let conn = asqlite::blocking::Connection::open_in_memory()?;
    /// conn.execute_batch("CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB); INSERT INTO files VALUES (1, zeroblob(10))")?;
    /// let mut blob = conn.blob_open("main", "files", "data", 1, false)?;
    /// blob.write_all(b"hello").unwrap();
    /// blob.seek(SeekFrom::Start(1)).unwrap();
    /// let mut four = [0u8; 4];
    /// blob.read_exact(&mut four).unwrap();
    /// assert_eq!(&four, b"ello");
    /// # Ok(()) }
    /// ```
    pub fn blob_open(&self, db: &str, table: &str, column: &str, rowid: i64, read_only: bool) -> Result<Blob<'_>> {
        let (d, t, c) = (cname("database", db)?, cname("table", table)?, cname("column", column)?);
        let raw = RawBlob::open(&self.raw, &d, &t, &c, rowid, !read_only)
            .map_err(|e| e.context(format_args!("cannot open {db}.{table}.{column} of row {rowid}")))?;
        Ok(Blob { raw, pos: 0, _conn: std::marker::PhantomData })
    }
}
