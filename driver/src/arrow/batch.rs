//! [`BatchBuilder`]: rows in, record batches out. One [`ColumnBuilder`] per result column; a value that does not
//! fit is an error naming the column, the row and both types, or (with [`Mixed::Utf8`]) turns its column to text.

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};

use super::column::{ColumnBuilder, Misfit};
use super::kind::Shown;
use super::{ArrowOptions, Mixed};
use crate::blocking::RowRef;
use crate::ffi::Column as Cell;
use crate::{Error, ErrorKind, Result};

/// Builds record batches from rows, keeping the columns' types from one batch to the next.
#[derive(Debug)]
pub(crate) struct BatchBuilder {
    columns: Vec<ColumnBuilder>,
    mixed: Mixed,
    /// Rows in the batch being built.
    rows: usize,
    /// Rows in the batches finished before it.
    before: u64,
    /// Set when the first batch is finished: later batches keep its schema.
    schema: Option<SchemaRef>,
}

impl BatchBuilder {
    /// A builder for a result with these column names; `decltype(i)` is column `i`'s declared type.
    pub fn new(names: &[String], decltype: impl Fn(usize) -> Option<String>, options: &ArrowOptions) -> Result<Self> {
        let fields = options.fields.as_deref();
        if let Some(f) = fields {
            if f.len() != names.len() {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("ArrowOptions gives {} fields, but the result has {} columns", f.len(), names.len()),
                ));
            }
        }
        let columns = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let field = fields.and_then(|f| f.get(i)).and_then(Option::as_deref);
                ColumnBuilder::new(i, name, field, if field.is_some() { None } else { decltype(i) })
            })
            .collect::<Result<_>>()?;
        Ok(BatchBuilder { columns, mixed: options.mixed, rows: 0, before: 0, schema: None })
    }

    /// Rows in the batch being built.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Append the current row.
    #[inline]
    pub fn push(&mut self, row: &RowRef<'_>) -> Result<()> {
        for (i, c) in self.columns.iter_mut().enumerate() {
            let cell = row.cell(i);
            if let Err(m) = c.push(cell) {
                let at = Place { column: i, row: self.before + u64::try_from(self.rows).unwrap_or(0), rows: self.rows };
                misfit(c, at, cell, m, self.mixed, self.schema.is_some())?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows appended since the last batch, as a batch (no rows, with the schema, if there are none). The first
    /// batch fixes the schema: a column that has seen only NULLs gets type `Null`.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        self.before += u64::try_from(rows).unwrap_or(u64::MAX);
        let arrays = self.columns.iter_mut().map(|c| c.finish_array(rows)).collect();
        let schema = match &self.schema {
            Some(s) => Arc::clone(s),
            None => {
                let s: SchemaRef =
                    Arc::new(Schema::new(self.columns.iter().map(ColumnBuilder::field).collect::<Vec<_>>()));
                for c in &mut self.columns {
                    c.fix_null();
                }
                self.schema = Some(Arc::clone(&s));
                s
            }
        };
        RecordBatch::try_new_with_options(schema, arrays, &RecordBatchOptions::new().with_row_count(Some(rows)))
            .map_err(|e| Error::new(ErrorKind::TypeConversion, format!("the record batch is not valid: {e}")))
    }
}

/// Where a misfit happened.
#[derive(Debug, Clone, Copy)]
struct Place {
    column: usize,
    /// The row, counting from the first of the result.
    row: u64,
    /// Rows of the batch so far (before this one).
    rows: usize,
}

/// A value did not fit: fall back to text if asked and still allowed, else the error.
#[cold]
fn misfit(c: &mut ColumnBuilder, at: Place, cell: Cell<'_>, m: Misfit, mixed: Mixed, fixed: bool) -> Result<()> {
    if mixed == Mixed::Utf8 && !fixed && !matches!(m, Misfit::NotNullable) {
        c.fall_back_to_text(at.rows);
        if c.push(cell).is_ok() {
            return Ok(());
        }
    }
    Err(misfit_error(c, at, cell, m, fixed, mixed))
}

#[cold]
fn misfit_error(c: &ColumnBuilder, at: Place, cell: Cell<'_>, m: Misfit, fixed: bool, mixed: Mixed) -> Error {
    let (i, row, name, ty, origin) = (at.column, at.row, c.name(), c.data_type(), &c.origin);
    let what = Shown(cell);
    let head = format!("column {i} (\"{name}\"), row {row}");
    let msg = match m {
        Misfit::NotNullable => format!("{head}: NULL in a field that is not nullable (Arrow type {ty})"),
        Misfit::Type => format!("{head}: {what} does not fit the column's Arrow type {ty} ({origin})"),
        Misfit::Format(expected) => {
            format!("{head}: {what} does not fit the column's Arrow type {ty} ({origin}): expected {expected}")
        }
        Misfit::Range => format!("{head}: {what} is out of range for the column's Arrow type {ty} ({origin})"),
    };
    let hint = match (m, fixed) {
        (Misfit::NotNullable, _) => "",
        (_, true) => {
            "; a stream keeps the schema of its first batch: give the column a type with CAST in the SQL or in \
             ArrowOptions::fields"
        }
        (_, false) if mixed == Mixed::Error => "; ArrowOptions::mixed(Mixed::Utf8) reads such a column as text",
        _ => "",
    };
    Error::new(ErrorKind::TypeConversion, format!("{msg}{hint}"))
}
