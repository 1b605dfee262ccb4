//! The blocking layer: a safe, synchronous SQLite connection.
//!
//! This is what the async layer's worker threads run, and what [`Pool::call`](crate::Client::call) closures
//! receive. It is also usable on its own, with the same method names as the async API and no `.await`.

mod backup;
mod blob;
mod cache;
mod connection;
mod database;
pub mod functions;
mod hooks;
pub(crate) mod options;
mod packed;
mod row;
pub(crate) mod statement;
pub(crate) mod transaction;
pub(crate) mod txstate;

pub(crate) use backup::copy as copy_database;
pub use backup::BackupProgress;
pub use blob::Blob;
pub use cache::CacheStats;
pub(crate) use connection::check_pragma_name;
pub use connection::{Connection, InterruptHandle};
pub use database::MemoryUse;
pub use functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
pub use hooks::{AuthAction, AuthContext, Authorization};
pub(crate) use options::is_memory;
pub use options::{OpenOptions, DEFAULT_BUSY_TIMEOUT, DEFAULT_STATEMENT_CACHE_CAPACITY};
pub(crate) use packed::{Cells, PackedSet};
pub use packed::{PackedIter, PackedParams, PackedRows};
pub(crate) use row::NonUtf8Text;
pub use row::{write_table, Row, RowIndex, RowRef, Rows};
pub use statement::{Cursor, Done, Statement};
pub use transaction::{Savepoint, Transaction, TransactionBehavior};
