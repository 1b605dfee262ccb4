//! [`QueryResult`]: the rows and counts a statement produced.

use std::collections::HashMap;
use std::fmt;

use asqlite::{FromSql, PackedIter, PackedRows, Row, RowRef, Rows, Value, ValueRef};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The result of executing a statement: rows (for queries and `RETURNING`) and counts (for DML).
///
/// The rows are kept packed (the driver's [`PackedRows`]: column names once, a 16-byte cell per value, one buffer
/// for all the text) and read as [`RowRef`]s, the rows `query_map` decoders take: `row.get(0)`, `row.get("make")`.
/// `Display` prints an aligned table like a pandas `DataFrame`.
#[derive(Clone, Default)]
pub struct QueryResult {
    pub(crate) rows: PackedRows,
    pub(crate) rows_affected: u64,
    pub(crate) last_insert_rowid: i64,
    /// The shape of the statement whose Arrow fields type the result's columns (see `crate::arrow`), if it has
    /// them. The shape is kept rather than a copy of its fields: the statement held it anyway, and moving it here
    /// costs nothing where copying the fields costs a reference count up and down for every result.
    #[cfg(feature = "arrow")]
    pub(crate) arrow_shape: Option<std::sync::Arc<crate::compile::Shape>>,
}

impl fmt::Debug for QueryResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryResult")
            .field("columns", &self.rows.columns())
            .field("rows", &self.rows.len())
            .field("rows_affected", &self.rows_affected)
            .finish()
    }
}

impl QueryResult {
    pub(crate) fn from_packed(rows: PackedRows) -> Self {
        // Every field written out: `..default()` would build an empty `PackedRows` (its column list) to drop it.
        QueryResult {
            rows,
            rows_affected: 0,
            last_insert_rowid: 0,
            #[cfg(feature = "arrow")]
            arrow_shape: None,
        }
    }

    /// A result of owned rows (packed).
    pub(crate) fn from_rows(rows: &Rows) -> Result<Self> {
        Ok(Self::from_packed(PackedRows::from_rows(rows)?))
    }

    pub(crate) fn from_done(rows_affected: u64, last_insert_rowid: i64) -> Self {
        QueryResult { rows_affected, last_insert_rowid, ..QueryResult::default() }
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        self.rows.columns()
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows, in order.
    pub fn iter(&self) -> PackedIter<'_> {
        self.rows.iter()
    }

    /// Row `i`.
    pub fn get(&self, i: usize) -> Option<RowRef<'_>> {
        self.rows.get(i)
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<RowRef<'_>> {
        self.rows.first()
    }

    /// The only row: an error if there are none or several.
    pub fn one(&self) -> Result<RowRef<'_>> {
        match (self.rows.len(), self.rows.first()) {
            (1, Some(row)) => Ok(row),
            (0, _) => Err(Error::Rows("one(): the statement returned no rows".into())),
            (n, _) => Err(Error::Rows(format!("one(): the statement returned {n} rows, expected exactly one"))),
        }
    }

    /// The only row or none: an error if there are several.
    pub fn one_or_none(&self) -> Result<Option<RowRef<'_>>> {
        match self.rows.len() {
            0 | 1 => Ok(self.rows.first()),
            n => Err(Error::Rows(format!("one_or_none(): the statement returned {n} rows, expected at most one"))),
        }
    }

    /// The first column of the first row as `T`; no rows reads as NULL (so `Option<T>` gives `None`).
    pub fn scalar<T: FromSql>(&self) -> Result<T> {
        match self.rows.first() {
            Some(r) => Ok(r.get(0)?),
            None => {
                T::from_sql(ValueRef::Null).map_err(|_| Error::Rows("scalar(): the statement returned no rows".into()))
            }
        }
    }

    /// The first column of every row as `T`.
    pub fn scalars<T: FromSql>(&self) -> Result<Vec<T>> {
        self.rows.iter().map(|r| r.get(0).map_err(Error::from)).collect()
    }

    /// Rows inserted, updated or deleted.
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }

    /// The last inserted rowid after the statement.
    pub fn last_insert_rowid(&self) -> i64 {
        self.last_insert_rowid
    }

    /// Each row as a name → value map (SQLAlchemy's `.mappings()`).
    pub fn mappings(&self) -> Vec<HashMap<String, Value>> {
        self.rows.iter().map(|r| self.columns().iter().cloned().zip(r.to_values()).collect()).collect()
    }

    /// The values of column `name`, top to bottom.
    pub fn column(&self, name: &str) -> Result<Vec<Value>> {
        let i = self
            .columns()
            .iter()
            .position(|c| c == name)
            .or_else(|| self.columns().iter().position(|c| c.eq_ignore_ascii_case(name)))
            .ok_or_else(|| Error::Rows(format!("no column named {name:?}")))?;
        Ok(self.rows.iter().map(|r| r.get::<Value>(i).unwrap_or(Value::Null)).collect())
    }

    /// The column-major view (the `DataFrame` analogue): each column's name and its values.
    pub fn to_columns(&self) -> Vec<(String, Vec<Value>)> {
        self.columns()
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), self.rows.iter().map(|r| r.get::<Value>(i).unwrap_or(Value::Null)).collect()))
            .collect()
    }

    /// Every row decoded into `T` through serde (`#[derive(Deserialize)]` structs by column name, or tuples).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<Vec<T>> {
        crate::serde_rows::from_rows(&self.rows)
    }

    /// The rows as one Arrow record batch (feature `arrow`), typed by the statement's tables' columns with their
    /// nullability (see [`crate::arrow`]); columns this layer cannot type take their type from the values.
    #[cfg(feature = "arrow")]
    pub fn to_arrow(&self) -> Result<asqlite::arrow::RecordBatch> {
        let mut options = asqlite::arrow::ArrowOptions::new();
        let fields = self.arrow_shape.as_deref().and_then(crate::compile::Shape::known_arrow_fields);
        if let Some(fields) = fields.filter(|f| f.len() == self.columns().len()) {
            options = options.fields(fields.iter().cloned());
        }
        Ok(self.rows.to_arrow_with(&options)?)
    }

    #[cfg(feature = "arrow")]
    pub(crate) fn with_arrow_shape(mut self, shape: Option<std::sync::Arc<crate::compile::Shape>>) -> Self {
        self.arrow_shape = shape;
        self
    }

    /// The driver's packed rows.
    pub fn rows(&self) -> &PackedRows {
        &self.rows
    }

    /// The rows as the driver's owned [`Rows`] (a [`Row`] each).
    pub fn into_rows(self) -> Rows {
        self.rows.to_rows()
    }
}

impl fmt::Display for QueryResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.rows, f)
    }
}

impl IntoIterator for QueryResult {
    type Item = Row;
    type IntoIter = std::vec::IntoIter<Row>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.to_rows().into_iter()
    }
}

impl<'a> IntoIterator for &'a QueryResult {
    type Item = RowRef<'a>;
    type IntoIter = PackedIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}
