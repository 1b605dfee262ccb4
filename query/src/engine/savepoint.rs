//! Savepoints: [`AsyncConnection::begin_nested`] and the [`NestedTransaction`] it gives.
//!
//! Each savepoint has a name used once per connection and belongs to the transaction it opened in: once that
//! transaction has ended, finishing or dropping the savepoint touches no later transaction.

use std::sync::atomic::Ordering;

use super::AsyncConnection;
use crate::error::{Error, Result};
use crate::schema::lock;

impl AsyncConnection {
    /// Open a savepoint (beginning the transaction if needed). Commit it to keep its changes, roll it back or drop
    /// it to undo them; savepoints nest.
    ///
    /// # Cancel safety
    ///
    /// Dropped after the savepoint opened, it stays open until the transaction ends.
    pub async fn begin_nested(&self) -> Result<NestedTransaction<'_>> {
        #[cfg(feature = "postgres")]
        if let Some(pg) = self.pg() {
            let n = self.inner.savepoints.fetch_add(1, Ordering::AcqRel) + 1;
            let name = format!("sa_savepoint_{n}");
            pg.savepoint(self, &format!("SAVEPOINT {name}"), None).await?;
            let generation = self.inner.generation.load(Ordering::Acquire);
            return Ok(NestedTransaction { conn: self, name, generation, done: false });
        }
        let mut guard = self.state().await?;
        let tx = self.ensure_tx(&mut guard).await?;
        let n = self.inner.savepoints.fetch_add(1, Ordering::AcqRel) + 1;
        let name = format!("sa_savepoint_{n}");
        tx.execute_batch(&format!("SAVEPOINT {name}")).await?;
        let generation = self.inner.generation.load(Ordering::Acquire);
        Ok(NestedTransaction { conn: self, name, generation, done: false })
    }
}

/// A savepoint on an [`AsyncConnection`] (SQLAlchemy's `begin_nested()`). Statements run on the connection as
/// usual; [`commit`](NestedTransaction::commit) releases the savepoint, [`rollback`](NestedTransaction::rollback)
/// or dropping it undoes everything since it opened.
#[derive(Debug)]
pub struct NestedTransaction<'c> {
    pub(super) conn: &'c AsyncConnection,
    pub(super) name: String,
    /// The generation of the transaction the savepoint belongs to.
    pub(super) generation: u64,
    pub(super) done: bool,
}

impl NestedTransaction<'_> {
    async fn finish(mut self, sql: String) -> Result<()> {
        self.done = true;
        #[cfg(feature = "postgres")]
        if let Some(pg) = self.conn.pg() {
            return pg.savepoint(self.conn, &sql, Some((self.generation, &self.name))).await;
        }
        let guard = self.conn.state().await?;
        match guard.as_ref() {
            Some(tx) if self.conn.inner.generation.load(Ordering::Acquire) == self.generation => {
                Ok(tx.execute_batch(&sql).await?)
            }
            _ => Err(Error::Closed(format!("the transaction of savepoint {} has ended", self.name))),
        }
    }

    /// Keep the changes made since the savepoint (they commit with the transaction).
    ///
    /// # Cancel safety
    ///
    /// Dropped before it runs, the savepoint is rolled back instead.
    pub async fn commit(self) -> Result<()> {
        let sql = format!("RELEASE {}", self.name);
        self.finish(sql).await
    }

    /// Undo the changes made since the savepoint.
    ///
    /// # Cancel safety
    ///
    /// The savepoint is rolled back whether or not the future completes.
    pub async fn rollback(self) -> Result<()> {
        let sql = format!("ROLLBACK TO {0}; RELEASE {0}", self.name);
        self.finish(sql).await
    }
}

impl Drop for NestedTransaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            lock(&self.conn.inner.pending).push((self.generation, format!("ROLLBACK TO {0}; RELEASE {0}", self.name)));
        }
    }
}
