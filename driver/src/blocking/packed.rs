//! [`PackedRows`]: a whole result stored compactly, for results that are kept (the query layer's `QueryResult`).
//!
//! [`Rows`] holds one [`Row`] per row: a boxed slice of [`Value`]s (32 bytes each), a `String` per text value, and a
//! share of the column names, so 1M rows of four columns take about 200 MiB and a few million allocations. Packed,
//! the column names are kept once, every value is one 16-byte cell, and all the text (and all the blobs) of the
//! result share one buffer: the same rows take about 75 MiB and a handful of allocations, which also makes them
//! cheap to build on a worker and to free on the caller's thread. Rows are read through [`RowRef`]s, the type
//! `query_map` decoders take, so a decoder serves both.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::row::{write_table, Row, RowRef, Rows};
use crate::ffi::{Column, RawStatement};
use crate::{Error, ErrorKind, Result, Value, ValueRef};

/// One value of a packed row: text and blobs as ranges of the result's buffers (a value is at most 2 GiB in
/// SQLite, so its length fits in 32 bits).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text {
        len: u32,
        start: usize,
    },
    Blob {
        len: u32,
        start: usize,
    },
    /// TEXT that is not UTF-8, kept with the blobs (see [`Value`](crate::Value#text-that-is-not-utf-8)).
    NonUtf8Text {
        len: u32,
        start: usize,
    },
}

/// The cells, text and blobs of packed rows (or parameter sets): what [`PackedRows`] and the query layer's packed
/// parameter rows share.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Cells {
    pub(crate) cells: Vec<Cell>,
    text: String,
    blobs: Vec<u8>,
}

#[cold]
fn too_big(len: usize) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("a value of {len} bytes is too big for SQLite"))
}

fn len32(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| too_big(len))
}

impl Cells {
    pub(crate) fn with_capacity(cells: usize) -> Self {
        Cells { cells: Vec::with_capacity(cells), text: String::new(), blobs: Vec::new() }
    }

    /// Empty it, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.cells.clear();
        self.text.clear();
        self.blobs.clear();
    }

    /// Move these cells' values into `other`'s buffers (emptied first) and keep those; the buffers these had are
    /// returned, emptied.
    fn rehouse(&mut self, mut other: Cells) -> Cells {
        other.clear();
        other.cells.extend_from_slice(&self.cells);
        other.text.push_str(&self.text);
        other.blobs.extend_from_slice(&self.blobs);
        std::mem::replace(self, other).take_emptied()
    }

    /// Its buffers, emptied, leaving it none.
    fn take_emptied(&mut self) -> Cells {
        let mut taken = std::mem::take(self);
        taken.clear();
        taken
    }

    /// Bytes its buffers hold on to.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.cells.capacity() * std::mem::size_of::<Cell>() + self.text.capacity() + self.blobs.capacity()
    }

    /// Bytes its values take in its buffers.
    fn len_bytes(&self) -> usize {
        self.cells.len() * std::mem::size_of::<Cell>() + self.text.len() + self.blobs.len()
    }

    /// Append a value.
    #[inline(always)]
    pub(crate) fn push(&mut self, v: ValueRef<'_>) -> Result<()> {
        let cell = match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Integer(i),
            ValueRef::Real(r) => Cell::Real(r),
            ValueRef::Text(t) => {
                let cell = Cell::Text { len: len32(t.len())?, start: self.text.len() };
                self.text.push_str(t);
                cell
            }
            ValueRef::Blob(b) => {
                let cell = Cell::Blob { len: len32(b.len())?, start: self.blobs.len() };
                self.blobs.extend_from_slice(b);
                cell
            }
        };
        self.cells.push(cell);
        Ok(())
    }

    /// Append a column as SQLite holds it.
    #[inline(always)]
    pub(crate) fn push_column(&mut self, c: Column<'_>) -> Result<()> {
        match c {
            Column::Value(v) => self.push(v),
            Column::NonUtf8Text(b) => {
                let cell = Cell::NonUtf8Text { len: len32(b.len())?, start: self.blobs.len() };
                self.blobs.extend_from_slice(b);
                self.cells.push(cell);
                Ok(())
            }
        }
    }

    /// Cell `i` as SQLite held it (`i` in range).
    #[inline(always)]
    pub(crate) fn column(&self, i: usize) -> Column<'_> {
        self.read(self.cells.get(i).copied().unwrap_or(Cell::Null))
    }

    /// A cell of these cells as SQLite held it.
    #[inline(always)]
    fn read(&self, cell: Cell) -> Column<'_> {
        fn slice(buf: &[u8], len: u32, start: usize) -> &[u8] {
            let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
            buf.get(start..end).unwrap_or_default()
        }
        match cell {
            Cell::Null => Column::Value(ValueRef::Null),
            Cell::Integer(v) => Column::Value(ValueRef::Integer(v)),
            Cell::Real(v) => Column::Value(ValueRef::Real(v)),
            Cell::Text { len, start } => {
                let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
                // Every text cell was pushed whole from a `&str`, so its range lies on character boundaries.
                Column::Value(ValueRef::Text(self.text.get(start..end).unwrap_or_default()))
            }
            Cell::Blob { len, start } => Column::Value(ValueRef::Blob(slice(&self.blobs, len, start))),
            Cell::NonUtf8Text { len, start } => Column::NonUtf8Text(slice(&self.blobs, len, start)),
        }
    }

    /// Cell `i` as a value (`i` in range; TEXT that is not UTF-8 lossily, as [`Row`] holds it).
    pub(crate) fn value(&self, i: usize) -> Value {
        match self.column(i) {
            Column::Value(v) => v.to_owned(),
            Column::NonUtf8Text(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
        }
    }
}

/// The buffers of one dropped large result, kept for the next large result.
///
/// A scan that is run again and again (a page of a report, a refresh) builds a result of megabytes on a reader's
/// thread and frees it on the caller's. Freed across threads, such buffers go back to the reader's malloc arena,
/// which returns their pages to the system, so the next scan faults every page in again and copies its cells once
/// per doubling: measured, that cost a scan decoded into structs a third of its speed. One result's buffers (at most
/// [`SPARE_MOST`] bytes) are kept here instead and taken by the next result that grows past [`SPARE_LEAST`] bytes
/// worth of cells. Small results (a point query's one row) never touch it.
static SPARE: Mutex<Option<Cells>> = Mutex::new(None);

/// The least capacity worth keeping (bytes).
const SPARE_LEAST: usize = 256 * 1024;

/// The cell count at which a growing result looks for the spare.
const SPARE_LOOK: usize = SPARE_LEAST / std::mem::size_of::<Cell>();

/// The most the spare holds: a result larger than this frees its buffers as usual.
const SPARE_MOST: usize = 8 * 1024 * 1024;

thread_local! {
    /// The buffers of a small result dropped on this thread (at most [`SMALL_MOST`] bytes), for the next result
    /// built here: a point query read on the caller's thread and dropped there then allocates nothing for its
    /// cells and text (two allocations, their frees and the text's growth: about 300 instructions a query).
    static SMALL: std::cell::Cell<Option<Cells>> = const { std::cell::Cell::new(None) };
}

/// The most a thread keeps for small results (bytes).
const SMALL_MOST: usize = 4 * 1024;

/// Take the spare buffers from `slot` if they are larger than `cells`' own (moving `cells`' contents in).
#[cold]
fn adopt_spare(slot: &Mutex<Option<Cells>>, cells: &mut Cells) {
    // Never wait: another thread holding the slot means this result grows as usual.
    let Ok(mut slot) = slot.try_lock() else { return };
    let bigger = slot.as_ref().is_some_and(|s| s.capacity_bytes() > cells.capacity_bytes());
    let spare = if bigger { slot.take() } else { None };
    drop(slot);
    if let Some(spare) = spare {
        // The smaller buffers this result grew so far are freed.
        drop(cells.rehouse(spare));
    }
}

/// How many times its values' bytes a finished result's buffers may be before it gives them back (see
/// [`PackedRows::finish`]); a result grown by doubling is within twice.
const SPARE_SLACK: usize = 4;

/// Move `cells`' values into buffers of their size and keep the large buffers as the spare.
#[cold]
fn fit_and_give_spare(cells: &mut Cells) {
    let fitted = Cells {
        cells: Vec::with_capacity(cells.cells.len()),
        text: String::with_capacity(cells.text.len()),
        blobs: Vec::with_capacity(cells.blobs.len()),
    };
    let mut large = cells.rehouse(fitted);
    if (SPARE_LEAST..=SPARE_MOST).contains(&large.capacity_bytes()) {
        give_spare(&SPARE, &mut large);
    }
}

/// Keep `cells`' buffers (emptied) for the next small result built on this thread, unless it keeps some already.
#[inline]
fn keep_small(cells: &mut Cells) {
    let _ = SMALL.try_with(|slot| {
        let kept = slot.take();
        if kept.is_none() {
            slot.set(Some(cells.take_emptied()));
        } else {
            slot.set(kept);
        }
    });
}

/// Keep `cells`' buffers (emptied) in `slot` if it holds none or smaller ones.
#[cold]
fn give_spare(slot: &Mutex<Option<Cells>>, cells: &mut Cells) {
    let Ok(mut slot) = slot.try_lock() else { return };
    if slot.as_ref().is_none_or(|s| s.capacity_bytes() < cells.capacity_bytes()) {
        let old = slot.replace(cells.take_emptied());
        drop(slot);
        drop(old);
    }
}

/// A whole result, packed: column names once, one 16-byte cell per value, one buffer for all the text and one for
/// all the blobs (see the module docs). Rows are read as [`RowRef`]s (`get`, `get_ref`, `columns`, `to_row`).
///
/// When a result of 256 KiB to 8 MiB of buffers is dropped, the process keeps its buffers (one set at most) for the
/// next large result a query builds: a scan run again and again then reuses memory already in place instead of
/// having the allocator fault fresh pages in each time. So up to 8 MiB stay allocated after such a result is gone.
#[derive(Clone, Default, PartialEq)]
pub struct PackedRows {
    columns: Arc<[String]>,
    rows: usize,
    cells: Cells,
}

impl PackedRows {
    /// An empty result with these columns.
    pub fn new(columns: Arc<[String]>) -> Self {
        PackedRows { columns, rows: 0, cells: Cells::default() }
    }

    /// An empty result with room for `rows` rows' cells.
    pub(crate) fn with_capacity(columns: Arc<[String]>, rows: usize) -> Self {
        let want = rows.saturating_mul(columns.len());
        let cells = match SMALL.try_with(std::cell::Cell::take) {
            Ok(Some(mut kept)) => {
                kept.cells.reserve(want);
                kept
            }
            _ => Cells::with_capacity(want),
        };
        PackedRows { columns, rows: 0, cells }
    }

    /// Copy the current row of a statement in.
    #[inline]
    pub(crate) fn push_ref(&mut self, row: &RowRef<'_>) -> Result<()> {
        let before = self.cells.cells.len();
        for i in 0..self.columns.len() {
            self.cells.push_column(row.column(i))?;
        }
        self.rows += 1;
        if before < SPARE_LOOK && self.cells.cells.len() >= SPARE_LOOK {
            adopt_spare(&SPARE, &mut self.cells);
        }
        Ok(())
    }

    /// Done growing: a result that adopted spare buffers much larger than its values (the spare a larger result
    /// left) moves its values into buffers of their size and leaves the spare for the next large result, so that a
    /// result kept holds about its own size rather than up to [`SPARE_MOST`] bytes. A result grown as usual (each
    /// buffer at most twice its contents) is left as it is.
    #[inline]
    pub(crate) fn finish(&mut self) {
        let bytes = self.cells.capacity_bytes();
        if bytes >= SPARE_LEAST && self.cells.len_bytes().saturating_mul(SPARE_SLACK) < bytes {
            fit_and_give_spare(&mut self.cells);
        }
    }

    /// Append an owned row (of these columns' number).
    pub fn push_row(&mut self, row: &Row) -> Result<()> {
        if row.len() != self.columns.len() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("a row of {} values for {} columns", row.len(), self.columns.len()),
            ));
        }
        self.push_ref(&row.as_row_ref())
    }

    /// The column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The shared column names.
    pub fn columns_arc(&self) -> &Arc<[String]> {
        &self.columns
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Row `i`, if there is one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<RowRef<'_>> {
        (i < self.rows).then(|| RowRef::of_packed(&self.cells, i * self.columns.len(), &self.columns))
    }

    /// The first row, if there is one.
    pub fn first(&self) -> Option<RowRef<'_>> {
        self.get(0)
    }

    /// The rows, in order.
    pub fn iter(&self) -> PackedIter<'_> {
        PackedIter { rows: self, next: 0, end: self.rows }
    }

    /// The rows as owned [`Rows`].
    pub fn to_rows(&self) -> Rows {
        Rows::new(Arc::clone(&self.columns), self.iter().map(|r| r.owned()).collect())
    }

    /// Pack owned rows.
    pub fn from_rows(rows: &Rows) -> Result<Self> {
        let mut out = PackedRows::with_capacity(Arc::from(rows.columns()), rows.len());
        for row in rows {
            out.push_row(row)?;
        }
        out.finish();
        Ok(out)
    }
}

/// The rows of a [`PackedRows`], as [`RowRef`]s.
#[derive(Debug, Clone)]
pub struct PackedIter<'a> {
    rows: &'a PackedRows,
    next: usize,
    end: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = RowRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<RowRef<'a>> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        self.next += 1;
        self.rows.get(i)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for PackedIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        self.end -= 1;
        self.rows.get(self.end)
    }
}

impl ExactSizeIterator for PackedIter<'_> {}

impl<'a> IntoIterator for &'a PackedRows {
    type Item = RowRef<'a>;
    type IntoIter = PackedIter<'a>;
    fn into_iter(self) -> PackedIter<'a> {
        self.iter()
    }
}

impl fmt::Debug for PackedRows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackedRows").field("columns", &self.columns).field("rows", &self.rows).finish()
    }
}

impl fmt::Display for PackedRows {
    /// An aligned text table, like [`Rows`]'.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.columns.len();
        let values: Vec<Vec<Value>> =
            (0..self.rows).map(|r| (0..width).map(|i| self.cells.value(r * width + i)).collect()).collect();
        let rows: Vec<&[Value]> = values.iter().map(Vec::as_slice).collect();
        write_table(f, &self.columns, &rows)
    }
}

impl Drop for PackedRows {
    fn drop(&mut self) {
        let bytes = self.cells.capacity_bytes();
        if bytes <= SMALL_MOST {
            if bytes != 0 {
                keep_small(&mut self.cells);
            }
        } else if (SPARE_LEAST..=SPARE_MOST).contains(&bytes) {
            give_spare(&SPARE, &mut self.cells);
        }
    }
}

/// Parameter sets packed for `execute_many`: each set's values one after another in cells, text and blobs in two
/// buffers, so a layer above the driver that makes the sets (the query layer's rows of named values) hands the
/// worker three buffers rather than a heap object per value; nothing is allocated or freed per row on the worker.
///
/// Dropped, the buffers of a batch's chunk (8 KiB to 1 MiB) are kept for the next chunk packed, four at most in
/// the process, so a batch streamed in chunks reuses the same few buffers.
#[derive(Clone, Default, PartialEq)]
pub struct PackedParams {
    width: usize,
    sets: usize,
    cells: Cells,
}

/// Buffers of chunks of parameter sets that were run, for the next chunks a batch packs.
///
/// A batch of `execute_many` is packed on the caller's thread a chunk at a time and each chunk is freed on the
/// writer's once run; freed across threads, the buffers went back to the allocator, which handed the caller fresh
/// pages (faulted in, and copied into at every doubling) for the next chunk. A few chunks' buffers (the ones in
/// flight) are kept here instead.
static CHUNK_SPARES: Mutex<Vec<Cells>> = Mutex::new(Vec::new());

/// How many chunks' buffers are kept.
const CHUNK_SPARES_MOST: usize = 4;

/// The sizes of chunk buffers worth keeping (bytes): a batch's chunks, not a one-row call's nor a huge set's.
const CHUNK_SPARE_BYTES: std::ops::RangeInclusive<usize> = 8 * 1024..=1024 * 1024;

impl PackedParams {
    /// No sets yet, each set to hold `width` values.
    pub fn new(width: usize) -> Self {
        PackedParams { width, sets: 0, cells: Cells::default() }
    }

    /// No sets yet, with room for `sets` sets of `width` values: the buffers of a chunk run before if some are
    /// kept (see [`PackedParams`]), else new ones.
    pub fn with_capacity(width: usize, sets: usize) -> Self {
        let kept = CHUNK_SPARES.try_lock().ok().and_then(|mut spares| spares.pop());
        let mut cells = kept.unwrap_or_default();
        cells.cells.reserve(width.saturating_mul(sets));
        PackedParams { width, sets: 0, cells }
    }

    /// Append one set: exactly `width` values.
    pub fn push_set<'a>(&mut self, values: impl IntoIterator<Item = &'a Value>) -> Result<()> {
        let before = self.cells.cells.len();
        for v in values {
            if let Err(e) = self.cells.push(v.as_ref()) {
                self.cells.cells.truncate(before);
                return Err(e);
            }
        }
        let n = self.cells.cells.len() - before;
        if n != self.width {
            self.cells.cells.truncate(before);
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("a parameter set of {n} values where every set has {}", self.width),
            ));
        }
        self.sets += 1;
        Ok(())
    }

    /// The number of sets.
    pub fn len(&self) -> usize {
        self.sets
    }

    /// Whether there are no sets.
    pub fn is_empty(&self) -> bool {
        self.sets == 0
    }

    /// The sets, each bound by position where it lies.
    pub(crate) fn sets(&self) -> impl Iterator<Item = PackedSet<'_>> {
        (0..self.sets).map(move |i| PackedSet { cells: &self.cells, start: i * self.width, width: self.width })
    }
}

impl Drop for PackedParams {
    fn drop(&mut self) {
        if CHUNK_SPARE_BYTES.contains(&self.cells.capacity_bytes()) {
            give_chunk_spare(&mut self.cells);
        }
    }
}

/// Keep `cells`' buffers (emptied) for the next chunk of parameter sets, unless enough are kept.
#[cold]
fn give_chunk_spare(cells: &mut Cells) {
    let Ok(mut spares) = CHUNK_SPARES.try_lock() else { return };
    if spares.len() < CHUNK_SPARES_MOST {
        spares.push(cells.take_emptied());
    }
}

impl fmt::Debug for PackedParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackedParams").field("width", &self.width).field("sets", &self.sets).finish()
    }
}

/// One set of [`PackedParams`], borrowed.
pub(crate) struct PackedSet<'a> {
    cells: &'a Cells,
    start: usize,
    width: usize,
}

impl PackedSet<'_> {
    pub(crate) fn value(&self, i: usize) -> ValueRef<'_> {
        Self::param(self.cells.column(self.start + i))
    }

    #[inline(always)]
    fn param(c: Column<'_>) -> ValueRef<'_> {
        match c {
            Column::Value(v) => v,
            // Parameters are pushed as values, never as TEXT that is not UTF-8.
            Column::NonUtf8Text(b) => ValueRef::Blob(b),
        }
    }

    /// Bind the values to parameters `1..=width`, in order.
    #[inline]
    pub(crate) fn bind(&self, raw: &RawStatement) -> Result<()> {
        let cells = self.cells.cells.get(self.start..self.start.saturating_add(self.width)).unwrap_or_default();
        for (i, &cell) in cells.iter().enumerate() {
            raw.bind_ref(i + 1, Self::param(self.cells.read(cell)))?;
        }
        Ok(())
    }

    pub(crate) fn width(&self) -> usize {
        self.width
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells_of(values: &[Value]) -> Cells {
        let mut c = Cells::default();
        for v in values {
            c.push(v.as_ref()).unwrap();
        }
        c
    }

    fn values_of(c: &Cells) -> Vec<Value> {
        (0..c.cells.len()).map(|i| c.value(i)).collect()
    }

    #[test]
    fn adopting_the_spare_keeps_the_values_already_pushed_and_takes_the_larger_buffers() {
        let slot = Mutex::new(None);
        let mut big = Cells::with_capacity(10_000);
        big.text.reserve(50_000);
        big.blobs.reserve(50_000);
        big.push(ValueRef::Text("left over")).unwrap();
        let big_bytes = big.capacity_bytes();
        give_spare(&slot, &mut big);
        assert_eq!(big.capacity_bytes(), 0, "the buffers moved into the slot");
        assert!(slot.lock().unwrap().as_ref().is_some_and(|s| s.cells.is_empty() && s.text.is_empty()));

        let values =
            [Value::Integer(1), Value::Text("ab".into()), Value::Blob(vec![1, 2]), Value::Null, Value::Real(0.5)];
        let mut growing = cells_of(&values);
        adopt_spare(&slot, &mut growing);
        assert_eq!(growing.capacity_bytes(), big_bytes);
        assert_eq!(values_of(&growing), values, "the values pushed before survive the move");
        growing.push(ValueRef::Text("cd")).unwrap();
        assert_eq!(growing.value(5), Value::Text("cd".into()));
        assert!(slot.lock().unwrap().is_none(), "the spare is taken, not shared");
    }

    #[test]
    fn the_spare_keeps_the_larger_buffers_and_is_not_taken_by_larger_cells() {
        let slot = Mutex::new(None);
        let mut small = Cells::with_capacity(100);
        let mut large = Cells::with_capacity(1_000);
        let large_bytes = large.capacity_bytes();
        give_spare(&slot, &mut large);
        give_spare(&slot, &mut small);
        assert_eq!(slot.lock().unwrap().as_ref().map(Cells::capacity_bytes), Some(large_bytes));
        assert_ne!(small.capacity_bytes(), 0, "smaller buffers than the spare's are not kept");

        let mut larger = cells_of(&[Value::Integer(7)]);
        larger.cells.reserve(5_000);
        let own = larger.capacity_bytes();
        adopt_spare(&slot, &mut larger);
        assert_eq!((larger.capacity_bytes(), values_of(&larger)), (own, vec![Value::Integer(7)]));
        assert!(slot.lock().unwrap().is_some(), "a smaller spare stays for the next result");
    }

    #[test]
    fn a_slot_held_elsewhere_is_not_waited_for() {
        let slot = Mutex::new(Some(Cells::with_capacity(1_000)));
        let held = slot.lock().unwrap();
        let mut c = cells_of(&[Value::Integer(1)]);
        adopt_spare(&slot, &mut c);
        give_spare(&slot, &mut c);
        assert_eq!(values_of(&c), [Value::Integer(1)]);
        drop(held);
    }

    #[test]
    fn a_chunk_packed_in_the_buffers_of_a_dropped_chunk_holds_only_its_own_sets() {
        let mut first = PackedParams::with_capacity(2, 1024);
        for i in 0..1000 {
            first.push_set(&[Value::Text(format!("text {i}")), Value::Blob(vec![1; 3])]).unwrap();
        }
        let bytes = first.cells.capacity_bytes();
        assert!(CHUNK_SPARE_BYTES.contains(&bytes), "{bytes}");
        drop(first);
        let mut second = PackedParams::with_capacity(3, 1);
        assert!(second.cells.capacity_bytes() >= bytes, "the dropped chunk's buffers are reused");
        second.push_set(&[Value::Integer(1), Value::Text("x".into()), Value::Null]).unwrap();
        let sets: Vec<Vec<Value>> =
            second.sets().map(|s| (0..s.width()).map(|i| s.value(i).to_owned()).collect()).collect();
        assert_eq!(sets, [vec![Value::Integer(1), Value::Text("x".into()), Value::Null]]);
        // A one-row batch's buffers are too small to keep.
        drop(second);
        CHUNK_SPARES.lock().unwrap().clear();
        drop(PackedParams::with_capacity(2, 1));
        assert!(CHUNK_SPARES.lock().unwrap().is_empty());
    }

    #[test]
    fn packed_params_keep_sets_of_one_width() {
        let mut p = PackedParams::new(2);
        p.push_set(&[Value::Text("a".into()), Value::Integer(1)]).unwrap();
        assert!(p.push_set(&[Value::Integer(1)]).is_err());
        p.push_set(&[Value::Blob(vec![7]), Value::Null]).unwrap();
        assert_eq!(p.len(), 2);
        let sets: Vec<Vec<Value>> = p.sets().map(|s| (0..s.width()).map(|i| s.value(i).to_owned()).collect()).collect();
        assert_eq!(sets, [vec![Value::Text("a".into()), Value::Integer(1)], vec![Value::Blob(vec![7]), Value::Null]]);
    }

    #[test]
    fn a_cell_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Cell>(), 16);
    }

    fn sample() -> Rows {
        let cols: Arc<[String]> = vec!["id".to_owned(), "make".to_owned(), "data".to_owned(), "r".to_owned()].into();
        let r = |id: i64, make: &str, data: Option<Vec<u8>>, real: f64| {
            let data = data.map_or(Value::Null, Value::Blob);
            Row::new(cols.clone(), vec![Value::Integer(id), Value::Text(make.into()), data, Value::Real(real)]).unwrap()
        };
        Rows::new(
            cols.clone(),
            vec![r(1, "Honda Civic", Some(vec![1, 2]), 0.5), r(2, "", None, -1.0), r(3, "ü", None, 2.0)],
        )
    }

    #[test]
    fn a_result_built_after_a_small_one_dropped_on_its_thread_reuses_its_buffers_and_holds_only_its_own_values() {
        let rows = sample();
        let first = PackedRows::from_rows(&rows).unwrap();
        let (cells_at, text_at) = (first.cells.cells.as_ptr(), first.cells.text.as_ptr());
        drop(first);
        let cols: Arc<[String]> = Arc::from(rows.columns());
        let other = Rows::new(
            Arc::clone(&cols),
            vec![Row::new(
                Arc::clone(&cols),
                vec![Value::Integer(9), Value::Text("é".into()), Value::Null, Value::Real(1.5)],
            )
            .unwrap()],
        );
        let second = PackedRows::from_rows(&other).unwrap();
        assert_eq!((second.cells.cells.as_ptr(), second.cells.text.as_ptr()), (cells_at, text_at), "reused");
        assert_eq!(second.to_rows(), other, "nothing of the dropped result shows");
        // Built while the second is alive: buffers of its own, and the same rows as ever.
        let third = PackedRows::from_rows(&rows).unwrap();
        assert_ne!(third.cells.cells.as_ptr(), cells_at);
        assert_eq!((third.to_rows(), second.to_rows()), (rows, other));
        // Only one set is kept per thread, and a thread's set is its own.
        drop((second, third));
        let kept_here = cells_at.addr();
        std::thread::spawn(move || {
            let fresh = PackedRows::with_capacity(cols, 1);
            assert_ne!(fresh.cells.cells.as_ptr().addr(), kept_here);
        })
        .join()
        .unwrap();
    }

    /// A result that adopts the spare left by a much larger result, and is then kept, holds about its own size,
    /// not the spare's: a program that keeps medium results while large ones come and go would otherwise hold
    /// up to 8 MiB per kept result (32 times a result just past the threshold).
    #[test]
    fn a_kept_result_that_adopted_a_larger_spare_holds_about_its_own_size() {
        let cols: Arc<[String]> = vec!["a".to_owned()].into();
        let text = |i: usize| Row::new(Arc::clone(&cols), vec![Value::Text(format!("{i:08}"))]).unwrap();
        let int = |i: usize| Row::new(Arc::clone(&cols), vec![Value::Integer(i64::try_from(i).unwrap())]).unwrap();
        let mut amplified = 0;
        for _ in 0..3 {
            let mut big = PackedRows::new(Arc::clone(&cols));
            for i in 0..200_000 {
                big.push_row(&text(i)).unwrap();
            }
            assert!((SPARE_LEAST..=SPARE_MOST).contains(&big.cells.capacity_bytes()));
            drop(big);
            let medium = PackedRows::from_rows(&Rows::new(Arc::clone(&cols), (0..20_000).map(int).collect())).unwrap();
            let used = medium.cells.cells.len() * std::mem::size_of::<Cell>();
            assert_eq!(medium.get(19_999).unwrap().get::<i64>(0).unwrap(), 19_999);
            if medium.cells.capacity_bytes() > 4 * used {
                amplified += 1;
            }
        }
        assert_eq!(amplified, 0, "results kept the spare's buffers");

        // The same through a statement, and the large buffers are left for the next large result.
        let conn = super::super::Connection::open_in_memory().unwrap();
        let big = |n: i64| {
            conn.prepare("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1) SELECT printf('%08d', i) FROM k")
            .and_then(|mut s| s.query_packed(crate::params![n]))
        };
        let mut handed_back = 0;
        for _ in 0..3 {
            drop(big(200_000).unwrap());
            let medium = big(20_000).unwrap();
            assert_eq!(medium.get(19_999).unwrap().get::<String>(0).unwrap(), "00020000");
            let used = medium.cells.cells.len() * std::mem::size_of::<Cell>() + medium.cells.text.len();
            assert!(medium.cells.capacity_bytes() <= 4 * used, "{} for {used}", medium.cells.capacity_bytes());
            if SPARE.lock().unwrap().as_ref().is_some_and(|s| s.capacity_bytes() > 4 * used) {
                handed_back += 1;
            }
        }
        assert!(handed_back > 0, "the large buffers stay for the next large result");
    }

    #[test]
    fn packed_rows_read_back_as_the_rows_they_came_from() {
        let rows = sample();
        let packed = PackedRows::from_rows(&rows).unwrap();
        assert_eq!((packed.len(), packed.columns()), (3, rows.columns()));
        assert_eq!(packed.to_rows(), rows);
        let second = packed.get(1).unwrap();
        assert_eq!(second.get::<String>("make").unwrap(), "");
        assert_eq!(second.get::<Option<Vec<u8>>>(2).unwrap(), None);
        assert_eq!(packed.first().unwrap().get::<Vec<u8>>("data").unwrap(), [1, 2]);
        assert_eq!(packed.iter().rev().map(|r| r.get::<i64>(0).unwrap()).collect::<Vec<_>>(), [3, 2, 1]);
        assert_eq!(packed.iter().len(), 3);
        assert!(packed.get(3).is_none());
        assert_eq!(packed.to_string(), rows.to_string());
        assert_eq!(packed.get(2).unwrap().to_values()[1], Value::Text("ü".into()));
    }
}
