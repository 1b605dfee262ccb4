//! Prepared statements: binding, stepping and decoding.

use std::borrow::Cow;
use std::sync::Arc;

use super::cache::{CacheKey, Cached};
use super::packed::PackedRows;
use super::row::{Row, RowRef, Rows};
use super::Connection;
use crate::ffi::RawStatement;
use crate::params::{strip_prefix, BindRow, Binder, Params, ParamsKind};
use crate::{Error, ErrorKind, Result, Value};

/// What a statement that ran to completion did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Done {
    pub(crate) rows_affected: u64,
    pub(crate) last_insert_rowid: i64,
}

impl Done {
    /// Rows inserted, updated or deleted by the statement (0 for other statements).
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }

    /// The connection's last inserted rowid after the statement.
    pub fn last_insert_rowid(&self) -> i64 {
        self.last_insert_rowid
    }
}

/// A prepared statement borrowed from its [`Connection`].
///
/// Made by [`Connection::prepare`] or [`Connection::prepare_cached`]; a cached statement goes back to the cache
/// when dropped. Every run binds all parameters afresh and resets the statement when done, even on error, so no
/// read snapshot is held between runs.
pub struct Statement<'c> {
    conn: &'c Connection,
    /// Boxed, so that taking it from the cache and giving it back moves a pointer.
    inner: Option<Box<Cached>>,
    /// The cache key, for statements that go back to the cache.
    key: Option<CacheKey>,
}

impl std::fmt::Debug for Statement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement").field("sql", &self.sql()).field("cached", &self.key.is_some()).finish()
    }
}

pub(crate) fn column_names(raw: &RawStatement) -> Arc<[String]> {
    (0..raw.column_count()).map(|i| raw.column_name(i)).collect()
}

/// Bind `params` to every parameter of `raw`, or explain what does not match.
pub(crate) fn bind_params(raw: &RawStatement, params: &mut Params) -> Result<()> {
    if let Some(e) = params.take_error() {
        return Err(e.with_sql(raw.sql()));
    }
    let expected = raw.parameter_count();
    match &params.kind {
        ParamsKind::None if expected == 0 => Ok(()),
        ParamsKind::None => Err(count_error(raw, expected, 0)),
        ParamsKind::One(_) | ParamsKind::Positional(_) => {
            let values = params.positional_values();
            if values.len() != expected {
                return Err(count_error(raw, expected, values.len()));
            }
            for (i, v) in values.iter().enumerate() {
                raw.bind(i + 1, v)?;
            }
            Ok(())
        }
        ParamsKind::Named(_) | ParamsKind::NamedOne(_) => {
            let pairs = params.named_pairs();
            for i in 1..=expected {
                let Some(name) = raw.parameter_name(i) else {
                    return Err(name_error(
                        raw,
                        format!("parameter {i} is a nameless `?` and cannot be bound by name"),
                    ));
                };
                raw.bind(i, named_value(raw, pairs, name)?)?;
            }
            if let Some((k, _)) = pairs.iter().find(|(k, _)| {
                let bare = strip_prefix(k);
                !(1..=expected).any(|i| raw.parameter_name(i).is_some_and(|n| strip_prefix(n) == bare))
            }) {
                return Err(name_error(raw, format!("the statement has no parameter named {k}")));
            }
            Ok(())
        }
    }
}

/// The value for placeholder `name` (with its prefix): a key spelled exactly so wins; otherwise the one key with
/// the same bare name. Two keys that differ only in prefix, matching no placeholder exactly, are ambiguous.
fn named_value<'p>(raw: &RawStatement, pairs: &'p [(Cow<'static, str>, Value)], name: &str) -> Result<&'p Value> {
    let mut exact = pairs.iter().filter(|(k, _)| k == name);
    if let Some((_, v)) = exact.next() {
        if exact.next().is_some() {
            return Err(name_error(raw, format!("the value of {name} is given twice")));
        }
        return Ok(v);
    }
    let bare = strip_prefix(name);
    let mut loose = pairs.iter().filter(|(k, _)| strip_prefix(k) == bare);
    match (loose.next(), loose.next()) {
        (Some((_, v)), None) => Ok(v),
        (Some(_), Some(_)) => Err(name_error(raw, format!("more than one value given for {name}"))),
        (None, _) => Err(name_error(raw, format!("no value given for parameter {name}"))),
    }
}

#[cold]
pub(crate) fn count_error(raw: &RawStatement, expected: usize, given: usize) -> Error {
    Error::new(ErrorKind::ParameterCount, format!("the statement takes {expected} parameters but {given} were given"))
        .with_sql(raw.sql())
}

#[cold]
fn name_error(raw: &RawStatement, msg: String) -> Error {
    Error::new(ErrorKind::ParameterName, msg).with_sql(raw.sql())
}

impl<'c> Statement<'c> {
    pub(crate) fn new(conn: &'c Connection, cached: Box<Cached>, key: Option<CacheKey>) -> Self {
        Statement { conn, inner: Some(cached), key }
    }

    #[inline]
    fn cached(&self) -> &Cached {
        match &self.inner {
            Some(c) => c,
            None => unreachable!("a statement's handle is only taken in Drop"),
        }
    }

    pub(crate) fn raw(&self) -> &RawStatement {
        &self.cached().raw
    }

    /// The SQL of the statement.
    pub fn sql(&self) -> &str {
        self.raw().sql()
    }

    /// The names of the result columns.
    pub fn columns(&self) -> &[String] {
        &self.cached().columns
    }

    /// The number of parameters the statement takes.
    pub fn parameter_count(&self) -> usize {
        self.raw().parameter_count()
    }

    /// Whether the statement makes no direct change to the database (`sqlite3_stmt_readonly`).
    pub fn readonly(&self) -> bool {
        self.raw().readonly()
    }

    /// Bind `params`, run `f` over the steps, and reset the statement whatever `f` returned.
    #[inline]
    fn run<R>(&mut self, params: impl BindRow, f: impl FnOnce(&mut Steps<'_>) -> Result<R>) -> Result<R> {
        self.run_with(&mut params.into_params(), f)
    }

    /// As `run`, with borrowed parameters (left as they were, unless they carried a conversion error).
    fn run_with<R>(&mut self, params: &mut Params, f: impl FnOnce(&mut Steps<'_>) -> Result<R>) -> Result<R> {
        self.run_bound(|raw| bind_params(raw, params), f)
    }

    /// Bind with `bind`, run `f` over the steps, and reset the statement whatever happened.
    #[inline]
    fn run_bound<R>(
        &mut self,
        bind: impl FnOnce(&RawStatement) -> Result<()>,
        f: impl FnOnce(&mut Steps<'_>) -> Result<R>,
    ) -> Result<R> {
        self.run_bound_checked(Check::Transaction, bind, f)
    }

    /// [`run_bound`](Self::run_bound), checking the handle's transaction before the run only when `check` says so.
    #[inline]
    fn run_bound_checked<R>(
        &mut self,
        check: Check,
        bind: impl FnOnce(&RawStatement) -> Result<()>,
        f: impl FnOnce(&mut Steps<'_>) -> Result<R>,
    ) -> Result<R> {
        if self.conn.raw.cancel_requested() {
            return Err(cancelled(self.sql()));
        }
        if check == Check::Transaction {
            self.conn.tx.before(&self.conn.raw).map_err(|e| e.with_sql(self.sql()))?;
            if self.raw().ignored_in_transaction() && !self.conn.raw.is_autocommit() {
                return Err(crate::conn_state::ignored_in_transaction(self.sql()));
            }
        }
        let Some(cached) = self.inner.as_mut() else { unreachable!("a statement's handle is only taken in Drop") };
        let out = match bind(&cached.raw) {
            Ok(()) => f(&mut Steps { cached: &mut *cached, first: true }),
            Err(e) => Err(e),
        };
        cached.raw.reset();
        if cached.readonly && self.conn.measures_reads.get() {
            // Steps alone miss work done inside one step (`count(*)` walks a whole table in one): pages count too.
            // The page count restarts at the end of every measured run, so it may also hold pages read between
            // runs (a stream, a batch, a write): that errs towards sending a read to a worker once, after which
            // its own count is exact again. Writes never run inline, so their runs are not measured.
            let pages = self.conn.raw.take_pages_read();
            // A large value costs no steps and, read past the page cache, no pages: its bytes count too.
            let bytes = u32::try_from(cached.raw.take_bytes_read() / BYTES_PER_STEP).unwrap_or(u32::MAX);
            cached.last_steps =
                cached.raw.take_vm_steps().saturating_add(pages.saturating_mul(PAGE_STEPS)).saturating_add(bytes);
        }
        self.conn.tx.after(&self.conn.raw, out)
    }

    /// Run to completion, discarding any rows; returns the rows affected and the last rowid.
    pub fn execute(&mut self, params: impl BindRow) -> Result<Done> {
        let conn = self.conn;
        self.run(params, |steps| {
            let before = conn.raw.total_changes();
            while steps.next()?.is_some() {}
            let rows_affected = if conn.raw.total_changes() == before { 0 } else { conn.raw.changes() };
            Ok(Done { rows_affected, last_insert_rowid: conn.raw.last_insert_rowid() })
        })
    }

    /// Run to completion with one row of parameters ([`Params`] or a tuple, see [`BindRow`]); returns the rows
    /// changed.
    pub fn execute_row(&mut self, row: impl BindRow) -> Result<u64> {
        self.execute_row_checked(Check::Transaction, row)
    }

    /// [`execute_row`](Self::execute_row) for each row, stopping at the first error; returns the rows changed.
    ///
    /// The transaction checks before a run are made for the first row only: nothing else runs on the connection
    /// between the rows, and the check after each row (which fails the batch if SQLite ended the transaction)
    /// leaves them true for the next.
    pub(crate) fn execute_rows<R: BindRow>(&mut self, rows: impl IntoIterator<Item = R>) -> Result<u64> {
        let mut total = 0;
        let mut check = Check::Transaction;
        for row in rows {
            total += self.execute_row_checked(check, row)?;
            check = Check::Done;
        }
        Ok(total)
    }

    #[inline]
    fn execute_row_checked(&mut self, check: Check, row: impl BindRow) -> Result<u64> {
        let conn = self.conn;
        self.run_bound_checked(
            check,
            |raw| row.bind_row(Binder(raw)),
            |steps| {
                let before = conn.raw.total_changes();
                while steps.next()?.is_some() {}
                Ok(if conn.raw.total_changes() == before { 0 } else { conn.raw.changes() })
            },
        )
    }

    /// Run and collect every row.
    pub fn query(&mut self, params: impl BindRow) -> Result<Rows> {
        self.query_with(&mut params.into_params())
    }

    pub(crate) fn query_with(&mut self, params: &mut Params) -> Result<Rows> {
        self.run_with(params, |steps| {
            let mut rows: Option<Rows> = None;
            while let Some(row) = steps.next()? {
                let row = row.to_row()?;
                rows.get_or_insert_with(|| Rows::empty(Arc::clone(steps.columns()))).push(row);
            }
            Ok(rows.unwrap_or_else(|| Rows::empty(Arc::clone(steps.columns()))))
        })
    }

    /// Run and collect every row, packed (see [`PackedRows`]).
    pub fn query_packed(&mut self, params: impl BindRow) -> Result<PackedRows> {
        self.query_packed_with(&mut params.into_params())
    }

    pub(crate) fn query_packed_with(&mut self, params: &mut Params) -> Result<PackedRows> {
        self.run_with(params, |steps| {
            let mut rows: Option<PackedRows> = None;
            while let Some(row) = steps.next()? {
                // Room for the first row's cells at once (a point query's only row), doubling from there.
                rows.get_or_insert_with(|| PackedRows::with_capacity(Arc::clone(row.shared_columns()), 1))
                    .push_ref(&row)?;
            }
            Ok(rows.map_or_else(
                || PackedRows::new(Arc::clone(steps.columns())),
                |mut rows| {
                    rows.finish();
                    rows
                },
            ))
        })
    }

    /// Run and decode every row with `f`, straight from SQLite's buffers.
    pub fn query_map<T, F>(&mut self, params: impl BindRow, mut f: F) -> Result<Vec<T>>
    where
        F: FnMut(&RowRef<'_>) -> Result<T>,
    {
        self.run(params, |steps| {
            let mut out = Vec::new();
            while let Some(row) = steps.next()? {
                out.push(f(&row)?);
            }
            Ok(out)
        })
    }

    /// Run and return the one row the query returns: an error of kind [`ErrorKind::NoRows`] if it returns none,
    /// [`ErrorKind::TooManyRows`] if it returns more (see [`Connection::query_one`]).
    pub fn query_one(&mut self, params: impl BindRow) -> Result<Row> {
        self.query_one_with(&mut params.into_params())
    }

    pub(crate) fn query_one_with(&mut self, params: &mut Params) -> Result<Row> {
        self.query_opt_with(params)?.ok_or_else(|| no_rows(self.sql()))
    }

    /// Run and return the row the query returns, if any: an error of kind [`ErrorKind::TooManyRows`] if it
    /// returns more than one.
    pub fn query_opt(&mut self, params: impl BindRow) -> Result<Option<Row>> {
        self.query_opt_with(&mut params.into_params())
    }

    pub(crate) fn query_opt_with(&mut self, params: &mut Params) -> Result<Option<Row>> {
        self.run_with(params, |steps| {
            let Some(row) = steps.next()?.map(|row| row.to_row()).transpose()? else { return Ok(None) };
            if steps.next()?.is_some() {
                return Err(too_many_rows(steps.cached.raw.sql()));
            }
            Ok(Some(row))
        })
    }

    /// Copy the first row, if any, into `into` (ignoring the rest: what `query_row` decodes); says whether there was
    /// one.
    pub(crate) fn query_first_into(
        &mut self,
        params: &mut Params,
        into: &mut crate::worker::inline::RowBuffer,
    ) -> Result<bool> {
        self.run_with(params, |steps| {
            let Some(row) = steps.next()? else { return Ok(false) };
            into.cells.clear();
            let columns = row.columns_arc();
            for i in 0..columns.len() {
                into.cells.push_column(row.column(i))?;
            }
            into.set_columns(columns);
            Ok(true)
        })
    }

    /// Run and decode the first row with `f`, or fail with [`ErrorKind::NoRows`]; further rows are not read (as
    /// rusqlite's `query_row`).
    pub fn query_row<T>(&mut self, params: impl BindRow, f: impl FnOnce(&RowRef<'_>) -> Result<T>) -> Result<T> {
        self.query_row_with(&mut params.into_params(), f)
    }

    pub(crate) fn query_row_with<T>(
        &mut self,
        params: &mut Params,
        f: impl FnOnce(&RowRef<'_>) -> Result<T>,
    ) -> Result<T> {
        self.run_with(params, |steps| match steps.next()? {
            Some(row) => f(&row),
            None => Err(no_rows(steps.cached.raw.sql())),
        })
    }

    /// Bind and start the statement, returning a cursor that yields rows one at a time.
    pub fn cursor(&mut self, params: impl BindRow) -> Result<Cursor<'_, 'c>> {
        let mut params = params.into_params();
        if self.conn.raw.cancel_requested() {
            return Err(cancelled(self.sql()));
        }
        self.conn.tx.before(&self.conn.raw).map_err(|e| e.with_sql(self.sql()))?;
        if self.raw().ignored_in_transaction() && !self.conn.raw.is_autocommit() {
            return Err(crate::conn_state::ignored_in_transaction(self.sql()));
        }
        if let Err(e) = bind_params(self.raw(), &mut params) {
            self.raw().reset();
            return Err(e);
        }
        Ok(Cursor { stmt: self, done: false, first: true })
    }
}

/// What one page fetched counts for in a run's cost, in virtual-machine steps (a page from the cache costs about as
/// much as a few steps).
pub(crate) const PAGE_STEPS: u32 = 4;

/// How many bytes of the TEXT and BLOB values a run read count as one virtual-machine step in its cost: a value
/// larger than a page is read in one step, and its overflow pages may bypass the page cache that pages are
/// counted in, so a 30 MB blob cost a point read's few steps and ran on the caller's thread.
pub(crate) const BYTES_PER_STEP: u64 = 256;

/// Steps a bound statement. After the first step it checks whether SQLite re-prepared the statement (after a
/// schema change) and, if so, reads the column names again: a renamed or added column shows at once.
pub(crate) struct Steps<'a> {
    cached: &'a mut Cached,
    first: bool,
}

impl Steps<'_> {
    #[inline]
    fn step(&mut self) -> Result<bool> {
        let row = self.cached.raw.step()?;
        if std::mem::take(&mut self.first) {
            self.cached.refresh_columns();
        }
        Ok(row)
    }

    /// The next row, if any.
    #[inline]
    pub fn next(&mut self) -> Result<Option<RowRef<'_>>> {
        Ok(self.step()?.then_some(RowRef::of_statement(&self.cached.raw, &self.cached.columns)))
    }

    /// The column names (fresh after the first step).
    pub fn columns(&self) -> &Arc<[String]> {
        &self.cached.columns
    }
}

/// The caller of the running job went away: the job stops before its next statement.
#[cold]
pub(crate) fn cancelled(sql: &str) -> Error {
    Error::new(ErrorKind::Interrupted, "the call was cancelled (its future was dropped)").with_sql(sql)
}

#[cold]
pub(crate) fn no_rows(sql: &str) -> Error {
    Error::new(ErrorKind::NoRows, "the query returned no rows").with_sql(sql)
}

#[cold]
fn too_many_rows(sql: &str) -> Error {
    Error::new(
        ErrorKind::TooManyRows,
        "the query returned more than one row where one was expected (query_one, query_opt); use query for all of \
         them, or query_row for the first",
    )
    .with_sql(sql)
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        if let Some(cached) = self.inner.take() {
            cached.raw.reset();
            if let Some(key) = self.key.take() {
                if let Ok(mut cache) = self.conn.cache.try_borrow_mut() {
                    cache.put(key, cached);
                }
            }
        }
    }
}

/// Rows of a running statement, one at a time (a lending iterator: each row borrows the cursor).
///
/// Dropping the cursor resets the statement, which releases its read snapshot.
pub struct Cursor<'s, 'c> {
    stmt: &'s mut Statement<'c>,
    done: bool,
    first: bool,
}

impl std::fmt::Debug for Cursor<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor").field("sql", &self.stmt.sql()).field("done", &self.done).finish()
    }
}

impl Cursor<'_, '_> {
    /// The next row, or `None` when the statement is done. After an error the cursor is done.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<RowRef<'_>>> {
        if self.done {
            return Ok(None);
        }
        let Some(cached) = self.stmt.inner.as_mut() else { unreachable!("a statement's handle is only taken in Drop") };
        let mut steps = Steps { cached, first: std::mem::take(&mut self.first) };
        match steps.step() {
            Ok(true) => Ok(Some(RowRef::of_statement(&steps.cached.raw, &steps.cached.columns))),
            Ok(false) => {
                self.done = true;
                steps.cached.raw.reset();
                self.stmt.conn.tx.after(&self.stmt.conn.raw, Ok(None))
            }
            Err(e) => {
                self.done = true;
                steps.cached.raw.reset();
                self.stmt.conn.tx.after(&self.stmt.conn.raw, Err(e))
            }
        }
    }

    /// The names of the result columns.
    pub fn columns(&self) -> &Arc<[String]> {
        &self.stmt.cached().columns
    }
}

impl Drop for Cursor<'_, '_> {
    fn drop(&mut self) {
        self.stmt.raw().reset();
        // A cursor (a stream) may read a whole table: its pages must not count towards the next measured run.
        if self.stmt.conn.measures_reads.get() {
            self.stmt.conn.raw.take_pages_read();
            self.stmt.raw().take_bytes_read();
        }
    }
}

/// Whether a run checks the handle's transaction first (see [`TxCell::before`](super::txstate::TxCell::before)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Check it, as every run does by default.
    Transaction,
    /// A run of a batch after one that was checked: the check after it found the transaction as it was.
    Done,
}
