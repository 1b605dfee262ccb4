//! [`Connection`]: one SQLite connection on its own worker thread.

use std::path::Path;
use std::sync::Arc;

use crate::client::{async_methods, handle_methods, OwnedRoute};
use crate::pool::PoolBuilder;
use crate::worker::Shared;
use crate::Result;

/// One async SQLite connection: a worker thread that owns the connection and runs every call in order.
///
/// It has the methods of [`Pool`](crate::Pool); reads and writes share the one connection. Cheap to clone; after
/// [`close`](Connection::close) every clone's calls fail with [`ErrorKind::Closed`](crate::ErrorKind::Closed).
#[derive(Clone, Debug)]
pub struct Connection {
    shared: Arc<Shared>,
}

impl Connection {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Connection { shared }
    }

    /// Open (creating if missing) the database at `path`, in WAL mode.
    pub async fn open(path: impl AsRef<Path>) -> Result<Connection> {
        PoolBuilder::new().open_connection(path).await
    }

    /// Open a private in-memory database.
    pub async fn open_in_memory() -> Result<Connection> {
        PoolBuilder::new().open_connection(":memory:").await
    }

    /// Options for opening a connection ([`PoolBuilder::open_connection`]).
    pub fn builder() -> PoolBuilder {
        PoolBuilder::new()
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn write_route(&self) -> OwnedRoute {
        OwnedRoute::Write
    }

    fn read_route(&self) -> OwnedRoute {
        OwnedRoute::Write
    }

    async_methods!("connection");

    handle_methods!("connection");
}
