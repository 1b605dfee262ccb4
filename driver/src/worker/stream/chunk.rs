//! Rows as they cross from a stream's worker to its consumer, packed in chunks, and a chunk's encoding in the file
//! a stream's rows spill to ([`super::spill`]).
//!
//! The encoding of one chunk, in order (a varint is LEB128, a zigzag varint maps small negative integers to small
//! varints):
//!
//! ```text
//! rows: varint   text bytes: varint   blob bytes: varint
//! rows × columns cells, each a tag and its payload:
//!     0 null | 1 integer: zigzag varint | 2 real: 8 bytes, little-endian | 3 text: length varint | 4 blob: length varint
//!     | 5 text that is not UTF-8: length varint (its bytes are kept with the blobs)
//! the text bytes, then the blob bytes
//! ```
//!
//! Text and blob cells need only their lengths: their bytes follow each other in the chunk's buffers in cell order.
//! The column names are not written; every chunk of one statement run has the same.

use std::io::{self, Read};
use std::sync::Arc;

use crate::blocking::{NonUtf8Text, Row, RowRef};
use crate::ffi::Column;
use crate::{Result, Value, ValueRef};

/// Rows per chunk.
pub(crate) const CHUNK_ROWS: usize = 256;
/// Bytes of cells, text and blobs past which a chunk is full before it has [`CHUNK_ROWS`] rows, so that a chunk of
/// wide rows stays small (a chunk is at most this plus one row).
pub(crate) const CHUNK_BYTES: usize = 128 * 1024;

/// Rows as they cross to the consumer, packed: one list of cells, one buffer for all their text and one for all
/// their blobs, so the worker allocates a few times per chunk rather than per row, and nothing it allocated per
/// row is freed on the other thread. The consumer makes each [`Row`] (its values, and a share of the column names)
/// on its own thread.
#[derive(Debug)]
pub(crate) struct Chunk {
    columns: Arc<[String]>,
    rows: usize,
    cells: Vec<Cell>,
    text: String,
    blobs: Vec<u8>,
}

/// One value of a packed row: text and blobs as ranges of the chunk's buffers.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
    Blob(usize, usize),
    /// TEXT that is not UTF-8, kept with the blobs (see [`Value`](crate::Value#text-that-is-not-utf-8) on how it
    /// reads).
    NonUtf8Text(usize, usize),
}

/// Tags of the cells in the encoding.
const NULL: u8 = 0;
const INTEGER: u8 = 1;
const REAL: u8 = 2;
const TEXT: u8 = 3;
const BLOB: u8 = 4;
const NON_UTF8_TEXT: u8 = 5;

impl Chunk {
    pub fn new(columns: &Arc<[String]>) -> Self {
        Chunk {
            columns: Arc::clone(columns),
            rows: 0,
            cells: Vec::with_capacity(CHUNK_ROWS * columns.len()),
            text: String::new(),
            blobs: Vec::new(),
        }
    }

    pub fn columns(&self) -> &Arc<[String]> {
        &self.columns
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Whether the chunk should go: [`CHUNK_ROWS`] rows, or [`CHUNK_BYTES`] bytes.
    pub fn is_full(&self) -> bool {
        self.rows >= CHUNK_ROWS
            || self.cells.len() * std::mem::size_of::<Cell>() + self.text.len() + self.blobs.len() >= CHUNK_BYTES
    }

    /// Copy the current row of a statement in.
    pub fn push(&mut self, row: &RowRef<'_>) -> Result<()> {
        for i in 0..self.columns.len() {
            let cell = match row.column(i) {
                Column::Value(ValueRef::Null) => Cell::Null,
                Column::Value(ValueRef::Integer(v)) => Cell::Integer(v),
                Column::Value(ValueRef::Real(v)) => Cell::Real(v),
                Column::Value(ValueRef::Text(t)) => {
                    self.text.push_str(t);
                    Cell::Text(self.text.len() - t.len(), self.text.len())
                }
                Column::Value(ValueRef::Blob(b)) => {
                    self.blobs.extend_from_slice(b);
                    Cell::Blob(self.blobs.len() - b.len(), self.blobs.len())
                }
                Column::NonUtf8Text(b) => {
                    self.blobs.extend_from_slice(b);
                    Cell::NonUtf8Text(self.blobs.len() - b.len(), self.blobs.len())
                }
            };
            self.cells.push(cell);
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows, made on the consumer's side.
    pub fn into_rows(self) -> ChunkRows {
        ChunkRows { next: 0, chunk: Some(self) }
    }

    /// Append the chunk's encoding (see the module docs) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_len(out, self.rows);
        put_len(out, self.text.len());
        put_len(out, self.blobs.len());
        for cell in &self.cells {
            match *cell {
                Cell::Null => out.push(NULL),
                Cell::Integer(v) => {
                    out.push(INTEGER);
                    put_varint(out, u64::from_le_bytes(((v << 1) ^ (v >> 63)).to_le_bytes()));
                }
                Cell::Real(v) => {
                    out.push(REAL);
                    out.extend_from_slice(&v.to_le_bytes());
                }
                Cell::Text(a, b) => {
                    out.push(TEXT);
                    put_len(out, b - a);
                }
                Cell::Blob(a, b) => {
                    out.push(BLOB);
                    put_len(out, b - a);
                }
                Cell::NonUtf8Text(a, b) => {
                    out.push(NON_UTF8_TEXT);
                    put_len(out, b - a);
                }
            }
        }
        out.extend_from_slice(self.text.as_bytes());
        out.extend_from_slice(&self.blobs);
    }

    /// Read one chunk that [`Chunk::encode`] wrote for a statement with these columns.
    pub fn decode(r: &mut impl Read, columns: &Arc<[String]>) -> io::Result<Chunk> {
        let rows = get_len(r)?;
        let text_len = get_len(r)?;
        let blobs_len = get_len(r)?;
        let cell_count = rows.checked_mul(columns.len()).filter(|_| rows <= CHUNK_ROWS).ok_or_else(corrupt)?;
        let mut cells = Vec::with_capacity(cell_count);
        let (mut text_end, mut blobs_end) = (0usize, 0usize);
        for _ in 0..cell_count {
            let mut tag = [0u8];
            r.read_exact(&mut tag)?;
            let cell = match tag[0] {
                NULL => Cell::Null,
                INTEGER => {
                    let z = get_varint(r)?;
                    Cell::Integer(i64::from_le_bytes((z >> 1).to_le_bytes()) ^ -i64::from(z & 1 == 1))
                }
                REAL => {
                    let mut bytes = [0u8; 8];
                    r.read_exact(&mut bytes)?;
                    Cell::Real(f64::from_le_bytes(bytes))
                }
                TEXT => {
                    let start = text_end;
                    text_end = start.checked_add(get_len(r)?).ok_or_else(corrupt)?;
                    Cell::Text(start, text_end)
                }
                BLOB => {
                    let start = blobs_end;
                    blobs_end = start.checked_add(get_len(r)?).ok_or_else(corrupt)?;
                    Cell::Blob(start, blobs_end)
                }
                NON_UTF8_TEXT => {
                    let start = blobs_end;
                    blobs_end = start.checked_add(get_len(r)?).ok_or_else(corrupt)?;
                    Cell::NonUtf8Text(start, blobs_end)
                }
                _ => return Err(corrupt()),
            };
            cells.push(cell);
        }
        if text_end != text_len || blobs_end != blobs_len {
            return Err(corrupt());
        }
        let text = String::from_utf8(get_bytes(r, text_len)?).map_err(|_| corrupt())?;
        let on_chars = |a: usize, b: usize| text.is_char_boundary(a) && text.is_char_boundary(b);
        if !cells.iter().all(|c| if let Cell::Text(a, b) = *c { on_chars(a, b) } else { true }) {
            return Err(corrupt());
        }
        let blobs = get_bytes(r, blobs_len)?;
        Ok(Chunk { columns: Arc::clone(columns), rows, cells, text, blobs })
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(u8::try_from(v & 0x7f).unwrap_or_default() | 0x80);
        v >>= 7;
    }
    out.push(u8::try_from(v).unwrap_or_default());
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    put_varint(out, u64::try_from(n).unwrap_or(u64::MAX));
}

fn get_varint(r: &mut impl Read) -> io::Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let mut byte = [0u8];
        r.read_exact(&mut byte)?;
        v |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(corrupt())
}

fn get_len(r: &mut impl Read) -> io::Result<usize> {
    usize::try_from(get_varint(r)?).map_err(|_| corrupt())
}

/// Read `n` bytes, growing the buffer as they come rather than trusting `n` for one allocation.
fn get_bytes(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(n.min(CHUNK_BYTES));
    r.take(u64::try_from(n).map_err(|_| corrupt())?).read_to_end(&mut bytes)?;
    if bytes.len() != n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(bytes)
}

#[cold]
fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "a stream's spill file holds a malformed chunk")
}

/// The rows of a chunk, one at a time.
#[derive(Debug, Default)]
pub(crate) struct ChunkRows {
    chunk: Option<Chunk>,
    next: usize,
}

impl Iterator for ChunkRows {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        let chunk = self.chunk.as_ref()?;
        let width = chunk.columns.len();
        if self.next >= chunk.rows {
            return None;
        }
        let cells = chunk.cells.get(self.next * width..(self.next + 1) * width)?;
        self.next += 1;
        let mut non_utf8 = None;
        let values: Box<[Value]> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| match *c {
                Cell::Null => Value::Null,
                Cell::Integer(v) => Value::Integer(v),
                Cell::Real(v) => Value::Real(v),
                Cell::Text(a, b) => Value::Text(chunk.text.get(a..b).unwrap_or_default().to_owned()),
                Cell::Blob(a, b) => Value::Blob(chunk.blobs.get(a..b).unwrap_or_default().to_vec()),
                Cell::NonUtf8Text(a, b) => {
                    NonUtf8Text::note(&mut non_utf8, i, chunk.blobs.get(a..b).unwrap_or_default())
                }
            })
            .collect();
        Some(Row::from_parts(Arc::clone(&chunk.columns), values, non_utf8))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::blocking::Connection;
    use crate::params;

    /// The chunks of a query's rows, as a worker packs them.
    pub(crate) fn chunks_of(conn: &Connection, sql: &str) -> Vec<Chunk> {
        let mut stmt = conn.prepare(sql).unwrap();
        let mut cursor = stmt.cursor(params![]).unwrap();
        let mut chunks: Vec<Chunk> = Vec::new();
        while let Some(row) = cursor.next().unwrap() {
            if chunks.last().is_none_or(Chunk::is_full) {
                chunks.push(Chunk::new(row.shared_columns()));
            }
            chunks.last_mut().unwrap().push(&row).unwrap();
        }
        chunks
    }

    #[test]
    fn every_value_survives_the_encoding() {
        let conn = Connection::open_in_memory().unwrap();
        let sql = "SELECT NULL, 0, -1, 63, -64, 9223372036854775807, -9223372036854775808, 1.5, -0.0, 1e308, \
                   '', 'é✓ text', x'', x'00ff10'";
        let chunk = chunks_of(&conn, sql).pop().unwrap();
        let mut bytes = Vec::new();
        chunk.encode(&mut bytes);
        let back = Chunk::decode(&mut bytes.as_slice(), chunk.columns()).unwrap();
        let (a, b): (Vec<Row>, Vec<Row>) = (chunk.into_rows().collect(), back.into_rows().collect());
        assert_eq!(a, b);
        assert_eq!(b[0].get::<String>(11).unwrap(), "é✓ text");
    }

    #[test]
    fn wide_rows_fill_a_chunk_before_its_row_count() {
        let conn = Connection::open_in_memory().unwrap();
        let chunks = chunks_of(
            &conn,
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100) SELECT zeroblob(10000) FROM k",
        );
        assert!(chunks.len() >= 100 * 10_000 / CHUNK_BYTES, "{} chunks", chunks.len());
        assert!(chunks.iter().all(|c| c.blobs.len() < CHUNK_BYTES + 10_000));
    }

    #[test]
    fn a_cut_or_malformed_chunk_is_an_error_not_a_panic() {
        let conn = Connection::open_in_memory().unwrap();
        let chunk = chunks_of(&conn, "SELECT 'abc', x'0102', 7").pop().unwrap();
        let mut bytes = Vec::new();
        chunk.encode(&mut bytes);
        for cut in 0..bytes.len() {
            assert!(Chunk::decode(&mut &bytes[..cut], chunk.columns()).is_err(), "cut at {cut}");
        }
        let mut bad = bytes.clone();
        bad[3] = 9; // the first cell's tag
        assert_eq!(Chunk::decode(&mut bad.as_slice(), chunk.columns()).unwrap_err().kind(), io::ErrorKind::InvalidData);
    }
}
