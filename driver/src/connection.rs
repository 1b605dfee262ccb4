//! [`Connection`]: one SQLite connection on its own worker thread.

use std::path::Path;

use crate::pool::{ConnectionBuilder, Pool};
use crate::Result;

/// One async SQLite connection: a worker thread that owns the connection and runs every call in order.
///
/// It is a [`Pool`] of one connection, with no readers, and dereferences to it: it has every method of a pool
/// (through [`Client`](crate::Client) the calls, and `begin`, `close`, `stats`), and reads and writes share the
/// one connection. Cheap to clone; after [`close`](Pool::close) every clone's calls fail with
/// [`ErrorKind::Closed`](crate::ErrorKind::Closed).
#[derive(Clone, Debug)]
pub struct Connection {
    pool: Pool,
}

impl Connection {
    pub(crate) fn from_pool(pool: Pool) -> Self {
        Connection { pool }
    }

    /// Open (creating if missing) the database at `path`, in WAL mode.
    pub async fn open(path: impl AsRef<Path>) -> Result<Connection> {
        ConnectionBuilder::new().open(path).await
    }

    /// Open a private in-memory database.
    pub async fn open_in_memory() -> Result<Connection> {
        ConnectionBuilder::new().open(":memory:").await
    }

    /// Options for opening a connection: a [`ConnectionBuilder`], whose `open` gives a `Connection`.
    pub fn builder() -> ConnectionBuilder {
        ConnectionBuilder::new()
    }
}

impl std::ops::Deref for Connection {
    type Target = Pool;
    fn deref(&self) -> &Pool {
        &self.pool
    }
}
