//! How a connection is opened.

use std::ffi::CString;
use std::path::Path;
use std::time::Duration;

use crate::ffi::OpenFlags;
use crate::{Error, ErrorKind, Result};

/// The default busy timeout: how long a statement waits for another connection's lock before failing with
/// [`ErrorKind::Busy`].
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The default number of prepared statements each connection keeps.
pub const DEFAULT_STATEMENT_CACHE_CAPACITY: usize = 128;

/// Options for opening a [`Connection`](super::Connection).
///
/// ```
/// # fn main() -> asqlite::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let conn = asqlite::blocking::OpenOptions::new()
///     .busy_timeout(std::time::Duration::from_secs(1))
///     .statement_cache_capacity(256)
///     .open(dir.path().join("app.db"))?;
/// # drop(conn); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub(crate) read_only: bool,
    pub(crate) create: bool,
    pub(crate) uri: bool,
    pub(crate) busy_timeout: Duration,
    pub(crate) cache_capacity: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            read_only: false,
            create: true,
            uri: false,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            cache_capacity: DEFAULT_STATEMENT_CACHE_CAPACITY,
        }
    }
}

impl OpenOptions {
    /// Read-write, create if missing, no URI filenames, a 5 s busy timeout, 128 cached statements.
    pub fn new() -> Self {
        Self::default()
    }

    /// Open read-only (the file must exist).
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Create the file if it is missing (the default); ignored when read-only.
    pub fn create(mut self, yes: bool) -> Self {
        self.create = yes;
        self
    }

    /// Interpret the path as a `file:` URI (`file:app.db?mode=ro&cache=private`).
    pub fn uri(mut self, yes: bool) -> Self {
        self.uri = yes;
        self
    }

    /// How long to wait for a lock held by another connection before failing with [`ErrorKind::Busy`].
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How many prepared statements to keep (0 turns the cache off).
    pub fn statement_cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Open the database at `path` (`":memory:"` for a private in-memory database).
    pub fn open(&self, path: impl AsRef<Path>) -> Result<super::Connection> {
        super::Connection::open_with(path, self)
    }

    pub(crate) fn flags(&self, memory: bool) -> OpenFlags {
        OpenFlags { read_only: self.read_only, create: self.create, uri: self.uri, memory }
    }
}

/// A path as the C string SQLite wants.
pub(crate) fn path_to_cstring(path: &Path) -> Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, format!("path {} is not valid UTF-8", path.display())))?
        .as_bytes()
        .to_vec();
    CString::new(bytes).map_err(|_| {
        Error::new(ErrorKind::InvalidInput, format!("path {:?} contains a NUL byte", path.display().to_string()))
    })
}
