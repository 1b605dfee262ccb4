//! The blocking layer's Arrow reads: a whole result as one batch ([`Connection::query_arrow`],
//! [`Statement::query_arrow`]), a batch at a time ([`ArrowBatches`]), and rows already read ([`Rows::to_arrow`]).

use arrow_array::RecordBatch;

use super::batch::BatchBuilder;
use super::ArrowOptions;
use crate::blocking::{Connection, Cursor, Statement};
use crate::{Error, ErrorKind, Params, Result, Rows};

impl Connection {
    /// Run a query and return its rows as one Arrow record batch, built straight from SQLite's column values
    /// (types: see [`arrow`](crate::arrow#types)). The statement is cached like [`query`](Self::query)'s.
    pub fn query_arrow(&self, sql: &str, params: impl Into<Params>) -> Result<RecordBatch> {
        self.query_arrow_with(sql, params, &ArrowOptions::default())
    }

    /// [`query_arrow`](Self::query_arrow) with options: fields for some columns, a fallback for misfit values.
    pub fn query_arrow_with(
        &self,
        sql: &str,
        params: impl Into<Params>,
        options: &ArrowOptions,
    ) -> Result<RecordBatch> {
        self.prepare_cached(sql)?.query_arrow_with(params, options)
    }
}

impl<'c> Statement<'c> {
    /// Run the statement and return its rows as one Arrow record batch.
    pub fn query_arrow(&mut self, params: impl Into<Params>) -> Result<RecordBatch> {
        self.query_arrow_with(params, &ArrowOptions::default())
    }

    /// [`query_arrow`](Self::query_arrow) with options.
    pub fn query_arrow_with(&mut self, params: impl Into<Params>, options: &ArrowOptions) -> Result<RecordBatch> {
        let mut builder: Option<BatchBuilder> = None;
        {
            let mut cursor = self.cursor(params)?;
            while let Some(row) = cursor.next()? {
                let b = match &mut builder {
                    Some(b) => b,
                    None => builder.insert(BatchBuilder::new(row.columns(), |i| row.decltype(i), options)?),
                };
                b.push(&row)?;
            }
        }
        match builder {
            Some(mut b) => b.finish(),
            // No rows: the schema from the statement, as it was run (after any re-prepare).
            None => BatchBuilder::new(self.columns(), |i| self.raw().column_decltype(i), options)?.finish(),
        }
    }

    /// Run the statement and return its rows in Arrow record batches of `batch_rows` rows (the last one may be
    /// smaller; an empty result gives one batch of no rows, which carries the schema). Every batch has the first
    /// one's schema (see [`arrow`](crate::arrow#streams)). The statement runs until the iterator is dropped.
    pub fn arrow_batches(&mut self, params: impl Into<Params>, batch_rows: usize) -> Result<ArrowBatches<'_, 'c>> {
        self.arrow_batches_with(params, batch_rows, &ArrowOptions::default())
    }

    /// [`arrow_batches`](Self::arrow_batches) with options.
    pub fn arrow_batches_with(
        &mut self,
        params: impl Into<Params>,
        batch_rows: usize,
        options: &ArrowOptions,
    ) -> Result<ArrowBatches<'_, 'c>> {
        if batch_rows == 0 {
            return Err(Error::new(ErrorKind::InvalidInput, "batch_rows must be at least 1"));
        }
        // For the schema of an empty result (a row gives fresher ones, after any re-prepare).
        let decltypes: Vec<Option<String>> = (0..self.columns().len()).map(|i| self.raw().column_decltype(i)).collect();
        let cursor = self.cursor(params)?;
        Ok(ArrowBatches {
            cursor,
            builder: None,
            decltypes,
            options: options.clone(),
            batch_rows,
            sent: false,
            pending: None,
            done: false,
        })
    }
}

/// The rows of a running statement in Arrow record batches; see [`Statement::arrow_batches`].
///
/// An error (SQLite's, or a value that does not fit its column) comes after a batch of the rows before it, and
/// ends the iterator. Dropping it resets the statement.
pub struct ArrowBatches<'s, 'c> {
    pub(super) cursor: Cursor<'s, 'c>,
    pub(super) builder: Option<BatchBuilder>,
    decltypes: Vec<Option<String>>,
    options: ArrowOptions,
    batch_rows: usize,
    /// Whether a batch went out (an empty result still gives one).
    sent: bool,
    /// The error to give after the batch of the rows before it.
    pub(super) pending: Option<Error>,
    done: bool,
}

impl std::fmt::Debug for ArrowBatches<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrowBatches").field("batch_rows", &self.batch_rows).field("done", &self.done).finish()
    }
}

impl ArrowBatches<'_, '_> {
    /// The batch of the rows so far (if any, or if no batch went out yet), then `end` if it is an error.
    fn finish(&mut self, end: Option<Error>) -> Option<Result<RecordBatch>> {
        self.done = true;
        let rows = self.builder.as_ref().map_or(0, BatchBuilder::len);
        if rows == 0 && (self.sent || end.is_some()) {
            return end.map(Err);
        }
        self.pending = end;
        self.sent = true;
        Some(match &mut self.builder {
            Some(b) => b.finish(),
            None => {
                let decltypes = &self.decltypes;
                BatchBuilder::new(self.cursor.columns(), |i| decltypes.get(i).cloned().flatten(), &self.options)
                    .and_then(|mut b| b.finish())
            }
        })
    }
}

impl Iterator for ArrowBatches<'_, '_> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        loop {
            let row = match self.cursor.next() {
                Ok(Some(row)) => row,
                Ok(None) => return self.finish(None),
                Err(e) => return self.finish(Some(e)),
            };
            let b = match &mut self.builder {
                Some(b) => b,
                None => match BatchBuilder::new(row.columns(), |i| row.decltype(i), &self.options) {
                    Ok(b) => self.builder.insert(b),
                    Err(e) => return self.finish(Some(e)),
                },
            };
            if let Err(e) = b.push(&row) {
                return self.finish(Some(e));
            }
            if b.len() >= self.batch_rows {
                self.sent = true;
                return Some(b.finish());
            }
        }
    }
}

impl crate::PackedRows {
    /// The rows as one Arrow record batch, typed as [`Rows::to_arrow`] types them.
    pub fn to_arrow(&self) -> Result<RecordBatch> {
        self.to_arrow_with(&ArrowOptions::default())
    }

    /// [`to_arrow`](Self::to_arrow) with options.
    pub fn to_arrow_with(&self, options: &ArrowOptions) -> Result<RecordBatch> {
        let mut b = BatchBuilder::new(self.columns(), |_| None, options)?;
        for row in self.iter() {
            b.push(&row)?;
        }
        b.finish()
    }
}

impl Rows {
    /// The rows as one Arrow record batch. Types come from the values (rows keep no declared types), or from the
    /// fields given in `options`; see [`arrow`](crate::arrow#types).
    pub fn to_arrow(&self) -> Result<RecordBatch> {
        self.to_arrow_with(&ArrowOptions::default())
    }

    /// [`to_arrow`](Self::to_arrow) with options.
    pub fn to_arrow_with(&self, options: &ArrowOptions) -> Result<RecordBatch> {
        let mut b = BatchBuilder::new(self.columns(), |_| None, options)?;
        for row in self.iter() {
            b.push(&row.as_row_ref())?;
        }
        b.finish()
    }
}
