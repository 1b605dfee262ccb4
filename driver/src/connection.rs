//! [`Connection`]: one SQLite connection on its own worker thread.

use std::path::Path;
use std::sync::Arc;

use crate::blocking::TransactionBehavior;
use crate::client::{async_methods, OwnedRoute};
use crate::pool::{stats_of, PoolBuilder, PoolStats};
use crate::worker::Shared;
use crate::{Result, Transaction};

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

    /// Begin a transaction with `BEGIN IMMEDIATE`; dropping it rolls it back.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped, a transaction that began is rolled back at once.
    pub async fn begin(&self) -> Result<Transaction> {
        self.begin_with(TransactionBehavior::Immediate).await
    }

    /// Begin a transaction with the given behaviour.
    ///
    /// # Cancel safety
    ///
    /// As [`begin`](Connection::begin).
    pub async fn begin_with(&self, behavior: TransactionBehavior) -> Result<Transaction> {
        Transaction::begin(Arc::clone(&self.shared), behavior).await
    }

    /// Finish queued jobs, close the connection and stop its thread; later calls fail. It waits for an open
    /// transaction or stream to end, so end those first.
    ///
    /// # Cancel safety
    ///
    /// Once polled, the connection is closed for new calls whether or not the future completes.
    pub async fn close(&self) -> Result<()> {
        self.shared.close().await
    }

    /// Whether [`close`](Connection::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Queue depth, jobs in flight and statement-cache hits and misses.
    pub fn stats(&self) -> PoolStats {
        stats_of(&self.shared)
    }

    /// Interrupt the statement running now, if any.
    pub fn interrupt(&self) {
        self.shared.interrupt_all();
    }
}
