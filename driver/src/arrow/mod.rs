//! Results as [Apache Arrow](https://arrow.apache.org/) record batches (feature `arrow`): the columnar form that
//! DataFusion, Polars, Parquet writers and Python (through the C data interface) read.
//!
//! This module re-exports the `arrow-array` crate (and `arrow-schema` as [`schema`], with its everyday types here),
//! so a program uses the version the driver was built with: `asqlite::arrow::RecordBatch`,
//! `asqlite::arrow::Int64Array`, `asqlite::arrow::DataType`.
//!
//! - [`blocking::Connection::query_arrow`](crate::blocking::Connection::query_arrow) and
//!   [`Statement::arrow_batches`](crate::blocking::Statement::arrow_batches) (a batch at a time);
//! - [`Client::query_arrow`](crate::Client::query_arrow) on a [`Pool`](crate::Pool), [`Connection`](crate::Connection)
//!   or [`Transaction`](crate::Transaction): the whole result as one batch, built on the worker;
//! - [`Client::stream_arrow`](crate::Client::stream_arrow): an [`ArrowStream`] of batches of a chosen size, memory
//!   bounded like a [`RowStream`](crate::RowStream);
//! - [`Rows::to_arrow`](crate::Rows::to_arrow): rows already read.
//!
//! The columns are built on the worker straight from SQLite's column values, one builder per column: no `Row` or
//! `Value` is made per cell, and only the finished batch crosses threads.
//!
//! ```
//! use asqlite::arrow::{Array, DataType, Int64Array, StringArray};
//! use asqlite::params;
//!
//! # fn main() -> asqlite::Result<()> {
//! futures::executor::block_on(async {
//!     let pool = asqlite::Connection::open_in_memory().await?;
//!     pool.execute_batch(
//!         "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT, year INTEGER, mileage INTEGER, sold DATE);
//!          INSERT INTO cars (make, year, mileage, sold) VALUES ('Honda Civic', 2012, 20000, '2020-05-17'),
//!              ('Toyota Prius', 2020, 10000, NULL), ('Tesla Model 3', 2019, 5000, '2023-01-02');",
//!     )
//!     .await?;
//!     let batch = pool.query_arrow("SELECT * FROM cars WHERE mileage > ?1", params![6000]).await?;
//!     assert_eq!(batch.num_rows(), 2);
//!     assert_eq!(batch.schema().field(4).data_type(), &DataType::Date32); // from the declared type
//!     let make = batch.column(1).as_any().downcast_ref::<StringArray>().unwrap();
//!     assert_eq!(make.value(1), "Toyota Prius");
//!     let mileage = batch.column_by_name("mileage").unwrap().as_any().downcast_ref::<Int64Array>().unwrap();
//!     assert_eq!(mileage.values(), &[20_000, 10_000]);
//!     assert!(batch.column(4).is_null(1));
//!     pool.close().await
//! })
//! # }
//! ```
//!
//! # Types
//!
//! SQLite is dynamically typed, Arrow is not, so each column gets one Arrow type, chosen in this order:
//!
//! 1. the field given for it in [`ArrowOptions::fields`] or [`ArrowOptions::schema`] (the query layer gives the
//!    types of its table's columns this way);
//! 2. its declared type (`sqlite3_column_decltype`: a column of a table or view, not an expression), read like
//!    SQLite reads a column's affinity, with SQLAlchemy's type names first:
//!
//!    | declared type | Arrow type | values taken |
//!    |---|---|---|
//!    | `BOOLEAN`, `BOOL` | `Boolean` | INTEGER: 0 is false, any other true (as `row.get::<bool>`) |
//!    | `DATE` | `Date32` | TEXT `YYYY-MM-DD` |
//!    | `DATETIME`, `TIMESTAMP` | `Timestamp(Microsecond, None)` | TEXT `YYYY-MM-DD HH:MM:SS[.ffffff]` and the other forms [`types`](crate::types) reads (a `T`, no seconds, a date alone, an offset: converted to UTC); INTEGER Unix seconds |
//!    | `TIME` | `Time64(Microsecond)` | TEXT `HH:MM[:SS[.ffffff]]` |
//!    | `JSON` | `Utf8`, extension `arrow.json` | TEXT; INTEGER and REAL as their JSON text (a `JSON` column's affinity stores `5` as a number) |
//!    | `NUMERIC`, `DECIMAL` | `Float64` | REAL, INTEGER (widened) |
//!    | containing `INT` | `Int64` | INTEGER |
//!    | containing `CHAR`, `CLOB` or `TEXT` | `Utf8` | TEXT (`CHAR(32)`: SQLAlchemy's `Uuid`) |
//!    | containing `BLOB` | `Binary` | BLOB; TEXT as its UTF-8 bytes |
//!    | containing `REAL`, `FLOA` or `DOUB` | `Float64` | REAL, INTEGER (widened) |
//!
//! 3. otherwise (an expression, no declared type, or another name such as `ANY`) the storage class of the first
//!    value that is not NULL: INTEGER `Int64`, REAL `Float64`, TEXT `Utf8`, BLOB `Binary`. A column of NULLs
//!    only has type `Null`.
//!
//! The coercions allowed are the lossless ones in the table: an INTEGER in a `Float64` column (exact up to
//! 2^53, as SQLite's own REAL affinity converts it), TEXT in a `Binary` column, numbers in a JSON column, and date
//! and time text parsed into `Date32`, `Timestamp` and `Time64` (digits past the microsecond are cut: SQLAlchemy
//! writes six). Anything else, such as TEXT in an INTEGER column, a REAL in an `Int64` column, text that is not a
//! date in a `DATE` column or TEXT that is not UTF-8 in a `Utf8` column, is an error of kind
//! [`ErrorKind::TypeConversion`](crate::ErrorKind::TypeConversion) naming the column, the row (counting from 0)
//! and both types: never a silent NULL. With [`Mixed::Utf8`] such a column becomes `Utf8` instead (see there).
//!
//! Every field is nullable, unless a field given in the options says otherwise (a NULL there is an error). A
//! statement that returns no rows gives a batch of no rows with its schema; a column that would take its type from
//! its values has type `Null` then.
//!
//! # Streams
//!
//! [`ArrowStream`] (and the blocking [`ArrowBatches`]) yield batches of `batch_rows` rows (the last one smaller;
//! one empty batch for an empty result, which carries the schema). Every batch has the same schema: the first batch
//! fixes the types that came from values, and a column of NULLs only in the first batch stays `Null`. A later value
//! that does not fit is an error even with [`Mixed::Utf8`] (declare the type with `CAST(.. AS ..)` or give it in
//! [`ArrowOptions::fields`]). On an error the stream yields the rows before it, as a batch, then the error.

mod batch;
mod blocking;
mod client;
mod column;
mod kind;
mod stream;

pub use arrow_array::*;
pub use arrow_schema as schema;
pub use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields, Schema, SchemaRef, TimeUnit};

pub use blocking::ArrowBatches;
pub(crate) use client::ArrowJob;
pub use stream::ArrowStream;

use std::sync::Arc;

/// What to do with a value that does not fit its column's Arrow type (see the [module docs](self#types)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mixed {
    /// An error of kind [`ErrorKind::TypeConversion`](crate::ErrorKind::TypeConversion) naming the column, the
    /// row and both types (the default).
    #[default]
    Error,
    /// The column becomes `Utf8`, every value as text: TEXT as it is (TEXT that is not UTF-8 with U+FFFD for bad
    /// sequences), INTEGER in decimal, REAL in its shortest round-trip form (`1.5`, `1e300`), BLOB in upper-case
    /// hex (as SQLite's `hex()`). Values read before the misfit keep their reading, written as text: `Boolean` as
    /// `true`/`false`, `Date32` as `YYYY-MM-DD`, `Timestamp` as `YYYY-MM-DD HH:MM:SS.ffffff`, `Time64` as
    /// `HH:MM:SS.ffffff`. In a stream, only while the first batch is being built (later batches must keep its
    /// schema). A NULL in a field given as not nullable is still an error.
    Utf8,
}

/// How a result becomes a record batch: what to do with misfit values, and the Arrow fields of some or all
/// columns.
///
/// ```
/// use asqlite::arrow::{ArrowOptions, DataType, Field, Mixed};
///
/// let options = ArrowOptions::new()
///     .mixed(Mixed::Utf8)
///     .fields([None, Some(Field::new("price", DataType::Float64, false))]);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct ArrowOptions {
    pub(crate) mixed: Mixed,
    pub(crate) fields: Option<Arc<[Option<FieldRef>]>>,
}

impl ArrowOptions {
    /// The defaults: types from declared types, else from values; misfits are errors.
    pub fn new() -> Self {
        ArrowOptions::default()
    }

    /// What to do with a value that does not fit its column's type.
    #[must_use]
    pub fn mixed(mut self, mixed: Mixed) -> Self {
        self.mixed = mixed;
        self
    }

    /// The field of each result column, by position: its type, nullability and metadata are used as given (a
    /// `Utf8` field with the extension name `arrow.json` takes numbers as JSON text), and its name unless it is
    /// empty (then the column keeps the name SQLite gives it). `None` leaves a column to its declared type or its
    /// values. The list must have one entry per result column.
    ///
    /// Supported types: `Int64`, `Float64`, `Utf8`, `Binary`, `Boolean`, `Date32`, `Timestamp(Microsecond, _)`
    /// (naive text is taken as UTC when a time zone is given), `Time64(Microsecond)` and `Null`.
    #[must_use]
    pub fn fields<F: Into<FieldRef>>(mut self, fields: impl IntoIterator<Item = Option<F>>) -> Self {
        self.fields = Some(fields.into_iter().map(|f| f.map(Into::into)).collect());
        self
    }

    /// Every column's field: [`fields`](Self::fields) with all of them given.
    #[must_use]
    pub fn schema(self, schema: &Schema) -> Self {
        let fields: Vec<Option<FieldRef>> = schema.fields().iter().cloned().map(Some).collect();
        self.fields(fields)
    }
}

/// The extension name Arrow gives JSON text in a `Utf8` column (the canonical `arrow.json` type).
pub const JSON_EXTENSION: &str = "arrow.json";
/// The metadata key of an Arrow extension name.
pub(crate) const EXTENSION_KEY: &str = "ARROW:extension:name";
