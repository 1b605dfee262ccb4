//! Whole-database operations on a blocking connection: to and from bytes, extensions, memory figures.

use std::ffi::CString;

use super::Connection;
use crate::{Error, ErrorKind, Result};

fn schema_name(schema: &str) -> Result<CString> {
    CString::new(schema).map_err(|_| Error::new(ErrorKind::InvalidInput, format!("{schema:?} holds a NUL byte")))
}

/// Memory a connection uses, in bytes (`sqlite3_db_status`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryUse {
    /// The page cache.
    pub cache: i64,
    /// The schemas.
    pub schema: i64,
    /// Prepared statements.
    pub statements: i64,
    /// Pages the cache has written to the database file since the connection opened (a count, not bytes).
    pub cache_writes: i64,
}

impl Connection {
    /// The database `schema` (`"main"`, `"temp"`, an attached name) as the bytes its file would hold
    /// (`sqlite3_serialize`): a snapshot to send or store, read back with [`deserialize`](Self::deserialize).
    pub fn serialize(&self, schema: &str) -> Result<Vec<u8>> {
        let image = self.raw.serialize(&schema_name(schema)?)?;
        Ok(image.as_slice().to_vec())
    }

    /// Replace the database `schema` with `bytes` (an image from [`serialize`](Self::serialize), or a database
    /// file's contents), held in memory from then on (`sqlite3_deserialize`); with `read_only`, writes to it fail.
    /// Cached statements are dropped first. Fails inside a transaction.
    pub fn deserialize(&mut self, schema: &str, bytes: &[u8], read_only: bool) -> Result<()> {
        let name = schema_name(schema)?;
        self.flush_statement_cache();
        self.raw.deserialize(&name, bytes, read_only)
    }

    /// Load the SQLite extension at `path` (a shared library), calling `entry_point` (or SQLite's default name).
    ///
    /// Extension loading is switched on for this call only, for the C API only (never for the `load_extension()`
    /// SQL function), as SQLite recommends. An extension is native code running inside the process: load only
    /// libraries you trust. Needs the `load_extension` feature.
    #[cfg(feature = "load_extension")]
    pub fn load_extension(&self, path: impl AsRef<std::path::Path>, entry_point: Option<&str>) -> Result<()> {
        let path = super::options::path_to_cstring(path.as_ref(), false)?;
        let entry = entry_point.map(schema_name).transpose()?;
        self.raw.load_extension(&path, entry.as_deref())
    }

    /// The memory this connection uses, by SQLite's count.
    pub fn memory_use(&self) -> MemoryUse {
        use libsqlite3_sys as f;
        MemoryUse {
            cache: self.raw.db_status(f::SQLITE_DBSTATUS_CACHE_USED, false).0,
            schema: self.raw.db_status(f::SQLITE_DBSTATUS_SCHEMA_USED, false).0,
            statements: self.raw.db_status(f::SQLITE_DBSTATUS_STMT_USED, false).0,
            cache_writes: self.raw.db_status(f::SQLITE_DBSTATUS_CACHE_WRITE, false).0,
        }
    }
}

#[cfg(all(test, feature = "load_extension"))]
mod tests {
    use crate::blocking::Connection;

    /// Loading is switched on for the call only, and only for the C API: a missing library is a clear error, and
    /// the `load_extension()` SQL function stays off before and after.
    #[test]
    fn load_extension_reports_a_missing_library_and_leaves_loading_off() {
        let c = Connection::open_in_memory().unwrap();
        let e = c.load_extension("/nonexistent/libnothing", None).unwrap_err();
        assert!(e.message().contains("cannot load the extension"), "{e}");
        let e = c.query_one("SELECT load_extension('/nonexistent/libnothing')", ()).unwrap_err();
        assert!(e.message().contains("not authorized"), "{e}");
        assert!(c.load_extension("/nonexistent/libnothing", Some("sqlite3_nothing_init")).is_err());
    }
}
