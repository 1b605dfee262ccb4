//! Rows: [`RowRef`] borrows the current row of a running statement, [`Row`] owns its values, [`Rows`] is a
//! whole result with its column names.

use std::fmt;
use std::sync::Arc;

use super::packed::Cells;
use crate::ffi::{Column, RawStatement};
use crate::value::{FromSql, FromSqlError, Value, ValueRef};
use crate::{Error, ErrorKind, Result};

/// A column position or name, for [`Row::get`] and [`RowRef::get`].
///
/// Names match exactly first, then ASCII-case-insensitively (as SQLite resolves them).
pub trait RowIndex: sealed::Sealed {
    /// The zero-based index of the column in `columns`.
    fn index(&self, columns: &[String]) -> Result<usize>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
}

impl RowIndex for usize {
    #[inline]
    fn index(&self, columns: &[String]) -> Result<usize> {
        if *self < columns.len() {
            Ok(*self)
        } else {
            Err(Error::new(
                ErrorKind::InvalidInput,
                format!("column index {self} out of range: the row has {} columns", columns.len()),
            ))
        }
    }
}

impl RowIndex for &str {
    #[inline]
    fn index(&self, columns: &[String]) -> Result<usize> {
        if let Some(i) = columns.iter().position(|c| c == self) {
            return Ok(i);
        }
        columns.iter().position(|c| c.eq_ignore_ascii_case(self)).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("no column named {self:?}; the columns are {}", columns.join(", ")),
            )
        })
    }
}

impl RowIndex for String {
    fn index(&self, columns: &[String]) -> Result<usize> {
        self.as_str().index(columns)
    }
}

impl RowIndex for &String {
    fn index(&self, columns: &[String]) -> Result<usize> {
        self.as_str().index(columns)
    }
}

/// Convert a value for column `i`, turning a failure into an error that names the column and both types.
#[inline]
pub(crate) fn convert<T: FromSql>(value: ValueRef<'_>, i: usize, columns: &[String]) -> Result<T> {
    T::from_sql(value).map_err(|e| conversion_error::<T>(e, value, i, columns))
}

/// Convert TEXT of column `i` whose bytes are not UTF-8 (see [`FromSql::from_sql_non_utf8_text`]).
#[cold]
pub(crate) fn convert_non_utf8<T: FromSql>(bytes: &[u8], i: usize, columns: &[String]) -> Result<T> {
    T::from_sql_non_utf8_text(bytes).map_err(|e| conversion_error::<T>(e, ValueRef::Text(""), i, columns))
}

#[cold]
fn conversion_error<T>(e: FromSqlError, value: ValueRef<'_>, i: usize, columns: &[String]) -> Error {
    let name = columns.get(i).map_or("", String::as_str);
    let target = std::any::type_name::<T>();
    let msg = match &e {
        FromSqlError::InvalidType => {
            format!("column {i} (\"{name}\"): cannot read a {} value as {target}", value.data_type())
        }
        FromSqlError::OutOfRange(v) => format!("column {i} (\"{name}\"): INTEGER {v} is out of range for {target}"),
        FromSqlError::InvalidUtf8(err) => format!(
            "column {i} (\"{name}\") holds TEXT that is not valid UTF-8 ({err}), which {target} cannot hold; read it \
             as Vec<u8> for its bytes, or as Value (invalid sequences become U+FFFD)"
        ),
        FromSqlError::Other(err) => {
            format!("column {i} (\"{name}\"): cannot read a {} value as {target}: {err}", value.data_type())
        }
    };
    Error::new(ErrorKind::TypeConversion, msg).with_source(e)
}

/// The current row of a running statement: values are read straight from SQLite, without copying the row.
///
/// Handed to the closures of `query_map` and to cursors; it cannot outlive the step that produced it.
pub struct RowRef<'s> {
    src: Source<'s>,
    columns: &'s Arc<[String]>,
}

/// Where a [`RowRef`] reads its values: the current row of a statement, or a row already copied out of it.
#[derive(Clone, Copy)]
enum Source<'s> {
    Statement(&'s RawStatement),
    Row(&'s Row),
    /// A row of packed cells: the cells from this index on.
    Packed(&'s Cells, usize),
}

impl fmt::Debug for RowRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowRef").field("columns", &self.columns).finish()
    }
}

impl<'s> RowRef<'s> {
    /// The current row of `stmt`.
    #[inline]
    pub(crate) fn of_statement(stmt: &'s RawStatement, columns: &'s Arc<[String]>) -> Self {
        RowRef { src: Source::Statement(stmt), columns }
    }

    /// The column names, shared.
    #[inline]
    pub(crate) fn columns_arc(&self) -> &'s Arc<[String]> {
        self.columns
    }

    /// The row of packed cells that starts at cell `start`.
    #[inline]
    pub(crate) fn of_packed(cells: &'s Cells, start: usize, columns: &'s Arc<[String]>) -> Self {
        RowRef { src: Source::Packed(cells, start), columns }
    }

    /// Read column `idx` (a position or a name) as `T`. TEXT that is not UTF-8 reads as its bytes into a
    /// `Vec<u8>`, lossily into a [`Value`], and is an error for a `String` (see
    /// [`Value`](crate::Value#text-that-is-not-utf-8)).
    #[inline]
    pub fn get<T: FromSql>(&self, idx: impl RowIndex) -> Result<T> {
        match self.src {
            Source::Statement(stmt) => {
                let i = idx.index(self.columns)?;
                match stmt.column_value(i) {
                    Column::Value(v) => convert(v, i, self.columns),
                    Column::NonUtf8Text(bytes) => convert_non_utf8(bytes, i, self.columns),
                }
            }
            Source::Row(row) => row.get(idx),
            Source::Packed(cells, start) => {
                let i = idx.index(self.columns)?;
                match cells.column(start + i) {
                    Column::Value(v) => convert(v, i, self.columns),
                    Column::NonUtf8Text(bytes) => convert_non_utf8(bytes, i, self.columns),
                }
            }
        }
    }

    /// Borrow column `idx` as a [`ValueRef`]. TEXT that is not UTF-8 cannot be borrowed as one: that is an error
    /// of kind [`ErrorKind::TypeConversion`] (read it with `get::<Vec<u8>>` or `get::<Value>`).
    #[inline(always)]
    pub fn get_ref(&self, idx: impl RowIndex) -> Result<ValueRef<'_>> {
        let i = idx.index(self.columns)?;
        match self.src {
            Source::Statement(stmt) => match stmt.column_value(i) {
                Column::Value(v) => Ok(v),
                Column::NonUtf8Text(bytes) => Err(non_utf8_ref_error(bytes, i, self.columns)),
            },
            Source::Row(row) => row.get_ref(i),
            Source::Packed(cells, start) => match cells.column(start + i) {
                Column::Value(v) => Ok(v),
                Column::NonUtf8Text(bytes) => Err(non_utf8_ref_error(bytes, i, self.columns)),
            },
        }
    }

    /// Column `i` as SQLite holds it (`i` in range).
    #[inline(always)]
    pub(crate) fn column(&self, i: usize) -> Column<'_> {
        match self.src {
            Source::Statement(stmt) => stmt.column_value(i),
            Source::Row(row) => match row.non_utf8_bytes(i) {
                Some(bytes) => Column::NonUtf8Text(bytes),
                None => Column::Value(row.values.get(i).map_or(ValueRef::Null, Value::as_ref)),
            },
            Source::Packed(cells, start) => cells.column(start + i),
        }
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        self.columns
    }

    /// Column `i` as SQLite holds it, through its `sqlite3_value` (the Arrow builders' read of every cell).
    #[cfg(feature = "arrow")]
    #[inline]
    pub(crate) fn cell(&self, i: usize) -> Column<'_> {
        match self.src {
            Source::Statement(stmt) => stmt.column_cell(i),
            Source::Row(_) | Source::Packed(..) => self.column(i),
        }
    }

    /// The declared type of column `i`, read from the statement (None for a row copied out of it).
    #[cfg(feature = "arrow")]
    pub(crate) fn decltype(&self, i: usize) -> Option<String> {
        match self.src {
            Source::Statement(stmt) => stmt.column_decltype(i),
            Source::Row(_) | Source::Packed(..) => None,
        }
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Copy the row into an owned [`Row`]. TEXT that is not UTF-8 becomes [`Value::Text`] lossily, and the row
    /// keeps its bytes for typed reads (see [`Value`](crate::Value#text-that-is-not-utf-8)).
    pub fn to_row(&self) -> Result<Row> {
        Ok(self.owned())
    }

    /// [`to_row`](Self::to_row), which cannot fail.
    pub(crate) fn owned(&self) -> Row {
        let n = self.columns.len();
        let mut values = Vec::with_capacity(n);
        let mut non_utf8 = None;
        for i in 0..n {
            values.push(match self.column(i) {
                Column::Value(v) => v.to_owned(),
                Column::NonUtf8Text(bytes) => NonUtf8Text::note(&mut non_utf8, i, bytes),
            });
        }
        // Exactly `n` long: no reallocation.
        Row { columns: Arc::clone(self.columns), values: values.into_boxed_slice(), non_utf8 }
    }

    /// Copy the values out, in column order (TEXT that is not UTF-8 lossily, as [`Row::values`] holds it).
    pub fn to_values(&self) -> Vec<Value> {
        (0..self.columns.len())
            .map(|i| match self.column(i) {
                Column::Value(v) => v.to_owned(),
                Column::NonUtf8Text(bytes) => Value::Text(String::from_utf8_lossy(bytes).into_owned()),
            })
            .collect()
    }

    /// The shared column names.
    pub(crate) fn shared_columns(&self) -> &Arc<[String]> {
        self.columns
    }
}

/// `get_ref` of TEXT that is not UTF-8, which no `ValueRef` can borrow.
#[cold]
fn non_utf8_ref_error(bytes: &[u8], i: usize, columns: &[String]) -> Error {
    let name = columns.get(i).map_or("", String::as_str);
    let why = std::str::from_utf8(bytes).err().map(|e| e.to_string()).unwrap_or_default();
    Error::new(
        ErrorKind::TypeConversion,
        format!(
            "column {i} (\"{name}\") holds TEXT that is not valid UTF-8 ({why}), which a ValueRef cannot borrow; read \
             it with get::<Vec<u8>> for its bytes, or get::<Value> (invalid sequences become U+FFFD)"
        ),
    )
}

/// The bytes of a row's TEXT values that are not UTF-8, by column: the row's values hold them lossily, and typed
/// reads (`get::<Vec<u8>>`) read these.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct NonUtf8Text(Vec<(usize, Box<[u8]>)>);

impl NonUtf8Text {
    /// Note the bytes of column `i` in `slot` (made on the first), and return its lossy value.
    #[cold]
    pub(crate) fn note(slot: &mut Option<Box<NonUtf8Text>>, i: usize, bytes: &[u8]) -> Value {
        slot.get_or_insert_with(Box::default).0.push((i, bytes.into()));
        Value::Text(String::from_utf8_lossy(bytes).into_owned())
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        self.0.iter().find(|(c, _)| *c == i).map(|(_, b)| &**b)
    }
}

/// An owned row: its values and (shared) column names. `Send + Sync`, so it crosses threads.
#[derive(Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Box<[Value]>,
    /// The bytes of TEXT values that are not UTF-8, if any (nearly never): one pointer, so rows stay small.
    non_utf8: Option<Box<NonUtf8Text>>,
}

impl Row {
    /// A row from its parts (of the same length: values read from a statement with these columns), with the
    /// bytes of its TEXT values that are not UTF-8.
    pub(crate) fn from_parts(columns: Arc<[String]>, values: Box<[Value]>, non_utf8: Option<Box<NonUtf8Text>>) -> Self {
        Row { columns, values, non_utf8 }
    }

    /// A row from column names and values (of the same length).
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Result<Self> {
        if columns.len() != values.len() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{} column names for {} values", columns.len(), values.len()),
            ));
        }
        Ok(Row { columns, values: values.into_boxed_slice(), non_utf8: None })
    }

    /// Read column `idx` (a position or a name) as `T`: `row.get::<i64>(0)`, `row.get::<String>("make")`. TEXT
    /// that was not UTF-8 reads as its bytes into a `Vec<u8>`, lossily into a [`Value`], and is an error for a
    /// `String` (see [`Value`](crate::Value#text-that-is-not-utf-8)).
    #[inline]
    pub fn get<T: FromSql>(&self, idx: impl RowIndex) -> Result<T> {
        let i = idx.index(&self.columns)?;
        if let Some(bytes) = self.non_utf8.as_deref().and_then(|t| t.get(i)) {
            return convert_non_utf8(bytes, i, &self.columns);
        }
        convert(self.values[i].as_ref(), i, &self.columns)
    }

    /// Borrow column `idx` as a [`ValueRef`] (TEXT that was not UTF-8 as its lossy text).
    pub fn get_ref(&self, idx: impl RowIndex) -> Result<ValueRef<'_>> {
        let i = idx.index(&self.columns)?;
        Ok(self.values[i].as_ref())
    }

    /// The bytes of column `i` if it holds TEXT that is not UTF-8.
    pub(crate) fn non_utf8_bytes(&self, i: usize) -> Option<&[u8]> {
        self.non_utf8.as_deref().and_then(|t| t.get(i))
    }

    /// The row as a [`RowRef`], for a decoder written against statement rows (`query_map`, `query_row`).
    pub fn as_row_ref(&self) -> RowRef<'_> {
        RowRef { src: Source::Row(self), columns: &self.columns }
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The shared column names.
    pub fn columns_arc(&self) -> &Arc<[String]> {
        &self.columns
    }

    /// The values, in column order (TEXT that was not UTF-8 as its lossy text).
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Take the values.
    pub fn into_values(self) -> Vec<Value> {
        self.values.into_vec()
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no columns.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `(name, value)` pairs in column order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.columns.iter().map(String::as_str).zip(self.values.iter())
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A whole result: column names and owned rows.
#[derive(Clone, Default)]
pub struct Rows {
    columns: Arc<[String]>,
    rows: Store,
}

/// The rows of a result: one row is kept without a vector (a point query's result allocates nothing more).
#[derive(Clone)]
enum Store {
    One(Row),
    Many(Vec<Row>),
}

impl Default for Store {
    fn default() -> Self {
        Store::Many(Vec::new())
    }
}

impl Store {
    fn as_slice(&self) -> &[Row] {
        match self {
            Store::One(r) => std::slice::from_ref(r),
            Store::Many(v) => v,
        }
    }

    fn into_vec(self) -> Vec<Row> {
        match self {
            Store::One(r) => vec![r],
            Store::Many(v) => v,
        }
    }
}

impl Rows {
    /// A result from column names and rows.
    pub fn new(columns: Arc<[String]>, rows: Vec<Row>) -> Self {
        Rows { columns, rows: Store::Many(rows) }
    }

    /// An empty result with these columns, to [`push`](Self::push) rows onto.
    pub(crate) fn empty(columns: Arc<[String]>) -> Self {
        Rows { columns, rows: Store::default() }
    }

    /// Add a row at the end.
    pub(crate) fn push(&mut self, row: Row) {
        match &mut self.rows {
            Store::Many(v) if v.is_empty() => self.rows = Store::One(row),
            Store::Many(v) => v.push(row),
            Store::One(_) => {
                if let Store::One(first) = std::mem::take(&mut self.rows) {
                    let mut v = Vec::with_capacity(4);
                    v.push(first);
                    v.push(row);
                    self.rows = Store::Many(v);
                }
            }
        }
    }

    /// The column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The rows, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Row> {
        self.as_slice().iter()
    }

    /// Row `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&Row> {
        self.as_slice().get(i)
    }

    /// The first row, if there is one.
    pub fn first(&self) -> Option<&Row> {
        self.as_slice().first()
    }

    /// The rows as a slice.
    pub fn as_slice(&self) -> &[Row] {
        self.rows.as_slice()
    }

    /// Take the rows.
    pub fn into_vec(self) -> Vec<Row> {
        self.rows.into_vec()
    }
}

impl PartialEq for Rows {
    fn eq(&self, other: &Self) -> bool {
        self.columns == other.columns && self.as_slice() == other.as_slice()
    }
}

impl IntoIterator for Rows {
    type Item = Row;
    type IntoIter = std::vec::IntoIter<Row>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl<'a> IntoIterator for &'a Rows {
    type Item = &'a Row;
    type IntoIter = std::slice::Iter<'a, Row>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows").field("columns", &self.columns).field("rows", &self.len()).finish()
    }
}

/// The text of one cell in a table: text as it is (control characters escaped), NULL as `None` like pandas.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "None".to_owned(),
        Value::Text(s) if s.chars().any(char::is_control) => s.escape_debug().to_string(),
        other => other.to_string(),
    }
}

/// Write an aligned text table: a header of column names, then one line per row, each led by its index — the
/// layout of a pandas `DataFrame`'s repr, where every column is right-aligned to its widest cell.
pub fn write_table(f: &mut fmt::Formatter<'_>, columns: &[String], rows: &[&[Value]]) -> fmt::Result {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(cell).collect()).collect();
    let index_width = rows.len().saturating_sub(1).to_string().len();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            cells.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0).max(name.chars().count())
        })
        .collect();
    write!(f, "{:index_width$}", "")?;
    for (name, w) in columns.iter().zip(&widths) {
        write!(f, "  {name:>w$}")?;
    }
    for (i, row) in cells.iter().enumerate() {
        write!(f, "\n{i:<index_width$}")?;
        for (c, w) in row.iter().zip(&widths) {
            write!(f, "  {c:>w$}")?;
        }
    }
    if rows.is_empty() {
        write!(f, "\n[0 rows x {} columns]", columns.len())?;
    }
    Ok(())
}

impl fmt::Display for Rows {
    /// An aligned text table, like a pandas `DataFrame`:
    ///
    /// ```text
    ///    car_id         make  year  mileage
    /// 0       1  Honda Civic  2012    20000
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<&[Value]> = self.iter().map(Row::values).collect();
        write_table(f, &self.columns, &rows)
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_table(f, &self.columns, &[self.values()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_pushed_one_by_one_equal_rows_made_at_once() {
        let cols: Arc<[String]> = vec!["n".to_owned()].into();
        let row = |n| Row::new(cols.clone(), vec![Value::Integer(n)]).unwrap();
        for count in [0, 1, 2, 5] {
            let mut pushed = Rows::empty(cols.clone());
            (0..count).for_each(|n| pushed.push(row(n)));
            let made = Rows::new(cols.clone(), (0..count).map(row).collect());
            assert_eq!(pushed, made);
            assert_eq!(pushed.len(), usize::try_from(count).unwrap());
            assert_eq!(pushed.first().map(|r| r.get::<i64>(0).unwrap()), (count > 0).then_some(0));
            assert_eq!(pushed.clone().into_vec(), made.clone().into_vec());
            let ns: Vec<i64> = pushed.into_iter().map(|r| r.get(0).unwrap()).collect();
            assert_eq!(ns, (0..count).collect::<Vec<_>>());
        }
    }

    fn rows() -> Rows {
        let cols: Arc<[String]> = vec!["car_id".to_owned(), "make".to_owned(), "mileage".to_owned()].into();
        let r = |id, make: &str, m| {
            Row::new(cols.clone(), vec![Value::Integer(id), Value::Text(make.into()), Value::Integer(m)]).unwrap()
        };
        Rows::new(cols.clone(), vec![r(1, "Honda Civic", 20000), r(2, "Toyota Prius", 10000)])
    }

    #[test]
    fn display_is_an_aligned_table() {
        let expected =
            "   car_id          make  mileage\n0       1   Honda Civic    20000\n1       2  Toyota Prius    10000";
        assert_eq!(rows().to_string(), expected);
    }

    #[test]
    fn get_by_name_and_index() {
        let rs = rows();
        let row = rs.get(1).unwrap();
        assert_eq!(row.get::<i64>(0).unwrap(), 2);
        assert_eq!(row.get::<String>("MAKE").unwrap(), "Toyota Prius");
        let err = row.get::<String>(0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TypeConversion);
        assert!(err.message().contains("car_id") && err.message().contains("INTEGER"), "{err}");
        assert!(err.message().contains("String"), "{err}");
        assert_eq!(row.get::<i64>("nope").unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(row.get::<i64>(9).unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}
