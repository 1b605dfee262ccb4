//! The rows a stream's worker sets aside to free its connection: the first few chunks in memory, the rest in an
//! anonymous temporary file that the consumer reads back one chunk at a time.
//!
//! A worker spills when its consumer is behind and a job waits for its connection (see [`super::run`]). It must
//! then read the rest of the result at once: the rows must be the rest of the same statement run (one snapshot),
//! and keeping the statement open while the worker serves other jobs would pin the connection's read transaction,
//! hiding newer commits from its later reads. Holding all those rows in memory made a paused stream as large as its
//! result. Here memory holds at most [`SPILL_IN_MEMORY`] chunks, so a small result never touches the disk, and the
//! file takes the rest: a stream's memory is a few chunks however long its result, its disk use the result's size.
//!
//! Each chunk is encoded into one buffer and written with one `write_all`, so a write that fails (a full disk)
//! leaves a known number of whole chunks in the file: the consumer gets those, then the error, and nothing after
//! it. The file is made by [`tempfile::tempfile`] in [`std::env::temp_dir`] (`TMPDIR` on Unix), unlinked at once
//! where the system allows it, so it goes away when the stream is finished or dropped, or the process dies.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Seek, Write};
use std::sync::Arc;

use super::chunk::Chunk;
use crate::{Error, Result};

/// Chunks a spill keeps in memory before it writes the rest to a file.
pub(crate) const SPILL_IN_MEMORY: usize = 4;

/// The rows set aside, in the order they come after the channel's: chunks in memory, then chunks in the file, then
/// the error that ended the rows, if any. Filled by the worker, then taken whole by the consumer.
#[derive(Debug)]
pub(crate) struct Spill {
    memory: VecDeque<Chunk>,
    /// The file while the worker writes it, and while the consumer reads it back.
    writer: Option<SpillWriter>,
    reader: Option<SpillReader>,
    end: Option<Error>,
    /// Where the file comes from: a fresh anonymous temporary file (a test points it at a full disk).
    open: fn() -> io::Result<File>,
}

impl Default for Spill {
    fn default() -> Self {
        Spill { memory: VecDeque::new(), writer: None, reader: None, end: None, open: tempfile::tempfile }
    }
}

impl Spill {
    /// Whether nothing was set aside, rows or error.
    pub fn is_empty(&self) -> bool {
        self.memory.is_empty() && self.writer.is_none() && self.reader.is_none() && self.end.is_none()
    }

    /// Whether more rows may follow: no error has ended them.
    pub fn is_open(&self) -> bool {
        self.end.is_none()
    }

    /// Set aside the next chunk, or the error that ends the rows. A chunk that cannot be written to the file ends
    /// the rows with the write's error; after an error nothing more is kept.
    pub fn push(&mut self, item: Result<Chunk>) {
        if self.end.is_some() {
            return;
        }
        let chunk = match item {
            Ok(chunk) => chunk,
            Err(e) => {
                self.end = Some(e);
                return;
            }
        };
        if self.writer.is_none() && self.memory.len() < SPILL_IN_MEMORY {
            self.memory.push_back(chunk);
            return;
        }
        let written = match &mut self.writer {
            Some(w) => w.write(&chunk),
            None => (self.open)().and_then(|file| self.writer.insert(SpillWriter::new(file, &chunk)).write(&chunk)),
        };
        if let Err(e) = written {
            self.end = Some(Error::io("a stream could not set its rows aside in a temporary file", e));
        }
    }

    /// The next chunk set aside, or the error that ended the rows; None after the last. Reads the file (on the
    /// consumer's thread) one chunk at a time.
    pub fn next(&mut self) -> Option<Result<Chunk>> {
        if let Some(chunk) = self.memory.pop_front() {
            return Some(Ok(chunk));
        }
        if let Some(writer) = self.writer.take() {
            match writer.into_reader() {
                Ok(reader) => self.reader = Some(reader),
                Err(e) => return Some(Err(self.read_failed(e))),
            }
        }
        if let Some(reader) = &mut self.reader {
            match reader.next() {
                Some(Ok(chunk)) => return Some(Ok(chunk)),
                Some(Err(e)) => return Some(Err(self.read_failed(e))),
                None => self.reader = None, // read to the end: close (and so delete) the file now
            }
        }
        self.end.take().map(Err)
    }

    /// A failed read of the file ends the rows.
    #[cold]
    fn read_failed(&mut self, e: io::Error) -> Error {
        self.reader = None;
        self.end = None;
        Error::io("a stream could not read back the rows it set aside in a temporary file", e)
    }
}

/// The worker's side of the file: whole chunks, each encoded into one buffer and written at once.
#[derive(Debug)]
struct SpillWriter {
    file: File,
    columns: Arc<[String]>,
    /// Whole chunks written.
    chunks: usize,
    encoded: Vec<u8>,
}

impl SpillWriter {
    fn new(file: File, first: &Chunk) -> Self {
        SpillWriter { file, columns: Arc::clone(first.columns()), chunks: 0, encoded: Vec::new() }
    }

    fn write(&mut self, chunk: &Chunk) -> io::Result<()> {
        self.encoded.clear();
        chunk.encode(&mut self.encoded);
        self.file.write_all(&self.encoded)?;
        self.chunks += 1;
        Ok(())
    }

    /// Rewind to read the whole chunks back (bytes of a chunk whose write failed are never read).
    fn into_reader(mut self) -> io::Result<SpillReader> {
        self.file.rewind()?;
        Ok(SpillReader { file: BufReader::new(self.file), columns: self.columns, chunks: self.chunks })
    }
}

/// The consumer's side of the file.
#[derive(Debug)]
struct SpillReader {
    file: BufReader<File>,
    columns: Arc<[String]>,
    /// Whole chunks not yet read.
    chunks: usize,
}

impl Iterator for SpillReader {
    type Item = io::Result<Chunk>;

    fn next(&mut self) -> Option<io::Result<Chunk>> {
        self.chunks = self.chunks.checked_sub(1)?;
        Some(Chunk::decode(&mut self.file, &self.columns))
    }
}

#[cfg(test)]
mod tests {
    use super::super::chunk::tests::chunks_of;
    use super::*;
    use crate::blocking::{Connection, Row};
    use crate::ErrorKind;

    const ROWS: &str = "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 3000) \
                        SELECT i, printf('row %d', i), CAST(printf('b%d', i % 7) AS BLOB), i * 0.5, NULL FROM k";

    /// Every row a spill gives back, in order, and the error that ended them, if any.
    fn drain(spill: &mut Spill) -> (Vec<Row>, Option<Error>) {
        let mut rows = Vec::new();
        while let Some(item) = spill.next() {
            match item {
                Ok(chunk) => rows.extend(chunk.into_rows()),
                Err(e) => {
                    assert!(spill.next().is_none(), "nothing after the error");
                    return (rows, Some(e));
                }
            }
        }
        (rows, None)
    }

    fn rows_of(chunks: Vec<Chunk>) -> Vec<Row> {
        chunks.into_iter().flat_map(Chunk::into_rows).collect()
    }

    #[test]
    fn a_spill_keeps_a_few_chunks_in_memory_and_the_rest_in_a_file_in_order() {
        let conn = Connection::open_in_memory().unwrap();
        let mut spill = Spill::default();
        for chunk in chunks_of(&conn, ROWS) {
            spill.push(Ok(chunk));
        }
        assert_eq!(spill.memory.len(), SPILL_IN_MEMORY);
        assert!(spill.writer.as_ref().is_some_and(|w| w.chunks > 0), "the rest went to the file");
        spill.push(Err(Error::new(ErrorKind::Sqlite, "the end")));
        let (rows, end) = drain(&mut spill);
        assert_eq!(rows, rows_of(chunks_of(&conn, ROWS)));
        assert_eq!(end.unwrap().message(), "the end");
    }

    /// A full disk (`/dev/full` refuses every write with ENOSPC): the rows kept in memory come, then the error.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_ends_the_spilled_rows_with_an_error_after_the_rows_kept() {
        let conn = Connection::open_in_memory().unwrap();
        let mut spill = Spill { open: || File::options().read(true).write(true).open("/dev/full"), ..Spill::default() };
        for chunk in chunks_of(&conn, ROWS) {
            spill.push(Ok(chunk));
        }
        assert!(!spill.is_open());
        spill.push(Err(Error::new(ErrorKind::Sqlite, "a later error is not the first")));
        let (rows, end) = drain(&mut spill);
        let all = rows_of(chunks_of(&conn, ROWS));
        assert_eq!(rows, all[..rows.len()], "the rows before the error, in order");
        assert_eq!(rows.len(), SPILL_IN_MEMORY * 256);
        let end = end.expect("the write error");
        assert_eq!(end.kind(), ErrorKind::Full, "{end}");
    }

    /// A write that fails halfway through a chunk leaves whole chunks before it: those are read back, the broken one
    /// is not, and the error comes last.
    #[test]
    fn a_chunk_cut_by_a_failed_write_is_not_read_back() {
        let conn = Connection::open_in_memory().unwrap();
        let mut spill = Spill::default();
        let mut chunks = chunks_of(&conn, ROWS).into_iter();
        for chunk in chunks.by_ref().take(SPILL_IN_MEMORY + 2) {
            spill.push(Ok(chunk));
        }
        let writer = spill.writer.as_mut().unwrap();
        let mut half = Vec::new();
        chunks.next().unwrap().encode(&mut half);
        writer.file.write_all(&half[..half.len() / 2]).unwrap();
        spill.end = Some(Error::io("the write", io::Error::from(io::ErrorKind::StorageFull)));
        let (rows, end) = drain(&mut spill);
        assert_eq!(rows, rows_of(chunks_of(&conn, ROWS))[..(SPILL_IN_MEMORY + 2) * 256]);
        assert_eq!(end.unwrap().kind(), ErrorKind::Full);
    }
}
