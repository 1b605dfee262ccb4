//! [`Transaction`] and [`Savepoint`]: a transaction pinned to the writer.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::blocking::TransactionBehavior;
use crate::client::{Client, OwnedRoute};
use crate::worker::{reply, Job, Route, Shared};
use crate::Result;

/// A transaction on the writer (or the connection's worker). While it is open the worker serves only it, so
/// other writes wait; reads on a pool's readers go on, and do not see its changes until it commits.
///
/// It has the methods of [`Pool`](crate::Pool), all running inside the transaction (reads too, so they see its
/// writes). End it with [`commit`](Transaction::commit) or [`rollback`](Transaction::rollback); dropping it rolls
/// it back. `Send + Sync`: it may move between tasks.
#[derive(Debug)]
pub struct Transaction {
    shared: Arc<Shared>,
    tx: Sender<Job>,
    /// The calls, all sent into the transaction.
    client: Client,
    /// Savepoint names come from this counter, never reused within the transaction.
    savepoints: AtomicU32,
    ended: bool,
}

impl Transaction {
    pub(crate) async fn begin(shared: Arc<Shared>, behavior: TransactionBehavior) -> Result<Transaction> {
        let (tx, jobs) = crossbeam_channel::unbounded();
        shared.submit(Route::Write, |reply| Job::Begin { behavior, jobs, reply }).await?;
        let route = OwnedRoute::Tx(tx.clone());
        let client = Client::new(Arc::clone(&shared), route.clone(), route);
        Ok(Transaction { shared, tx, client, savepoints: AtomicU32::new(0), ended: false })
    }

    async fn end(mut self, commit: bool) -> Result<()> {
        self.ended = true;
        let make = |reply| Job::EndTx { commit, reply };
        if commit {
            self.shared.submit(Route::Tx(&self.tx), make).await
        } else {
            self.shared.submit_uncancellable(Route::Tx(&self.tx), make).await
        }
    }

    /// Commit. If `COMMIT` fails, the transaction is rolled back and the error returned.
    ///
    /// # Cancel safety
    ///
    /// Dropped before the worker takes it, the transaction rolls back; dropped after, the commit may or may not
    /// have happened (as with a lost connection).
    pub async fn commit(self) -> Result<()> {
        self.end(true).await
    }

    /// Roll back.
    ///
    /// # Cancel safety
    ///
    /// The transaction is rolled back whether or not the future completes.
    pub async fn rollback(self) -> Result<()> {
        self.end(false).await
    }

    /// Open a savepoint inside the transaction. Commit (release) it, roll back to it, or drop it to roll back to
    /// it. The savepoint borrows the transaction mutably, so the transaction is used through the savepoint until it
    /// ends, and two savepoints opened side by side (which SQLite would nest, so that ending the first silently
    /// ends the second) do not compile:
    ///
    /// ```compile_fail
    /// # async fn demo(pool: asqlite::Pool) -> asqlite::Result<()> {
    /// let mut tx = pool.begin().await?;
    /// let a = tx.savepoint().await?;
    /// let b = tx.savepoint().await?; // error: `tx` is already borrowed by `a`
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped after the savepoint opened, it stays open until the transaction ends.
    pub async fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        Savepoint::open(self).await
    }
}

/// A savepoint inside a [`Transaction`], with the same methods, all running inside it.
#[derive(Debug)]
pub struct Savepoint<'t> {
    txn: &'t Transaction,
    name: String,
    done: bool,
}

impl<'t> Savepoint<'t> {
    async fn open(txn: &'t Transaction) -> Result<Savepoint<'t>> {
        let n = txn.savepoints.fetch_add(1, Ordering::AcqRel) + 1;
        let name = format!("asqlite_async_sp{n}");
        txn.execute_batch(&format!("SAVEPOINT {name}")).await?;
        Ok(Savepoint { txn, name, done: false })
    }

    /// Run `sql` to end the savepoint; it runs even if the future is dropped.
    async fn end(&mut self, sql: String) -> Result<()> {
        self.done = true;
        let sql = sql.into_boxed_str();
        self.txn.shared.submit_uncancellable(Route::Tx(&self.txn.tx), |reply| Job::ExecuteBatch { sql, reply }).await
    }

    /// A savepoint nested in this one. It borrows this one, so it ends first: an outer savepoint cannot be
    /// committed or rolled back while an inner one is open.
    ///
    /// ```compile_fail
    /// # async fn demo(pool: asqlite::Pool) -> asqlite::Result<()> {
    /// let mut tx = pool.begin().await?;
    /// let mut outer = tx.savepoint().await?;
    /// let inner = outer.savepoint().await?;
    /// outer.rollback().await?; // error: `outer` is still borrowed by `inner`
    /// inner.execute("INSERT INTO t VALUES (1)", ()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As [`Transaction::savepoint`].
    pub async fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        Savepoint::open(self.txn).await
    }

    /// Keep the savepoint's changes (`RELEASE`): they commit with the transaction. Named as in the blocking layer
    /// and the query layer.
    ///
    /// # Cancel safety
    ///
    /// Once called, the release happens whether or not the future completes.
    pub async fn commit(mut self) -> Result<()> {
        let sql = format!("RELEASE {}", self.name);
        self.end(sql).await
    }

    /// The former name of [`commit`](Self::commit).
    #[deprecated(note = "use commit(), as in the blocking layer and the query layer")]
    pub async fn release(self) -> Result<()> {
        self.commit().await
    }

    /// Undo everything since the savepoint.
    ///
    /// # Cancel safety
    ///
    /// Once called, the roll-back happens whether or not the future completes.
    pub async fn rollback(mut self) -> Result<()> {
        let sql = rollback_sql(&self.name);
        match self.end(sql).await {
            // SQLite rolled back the whole transaction: nothing is left to roll back to.
            Err(e) if e.kind() == crate::ErrorKind::TransactionAborted => Ok(()),
            out => out,
        }
    }
}

impl std::ops::Deref for Transaction {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::Deref for Savepoint<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.txn.client
    }
}

fn rollback_sql(name: &str) -> String {
    format!("ROLLBACK TO {name}; RELEASE {name}")
}

impl Drop for Savepoint<'_> {
    /// Roll back to the savepoint: the job is queued on the transaction's channel, ahead of any later call.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (completer, _ticket) = reply::channel();
        let sql = rollback_sql(&self.name).into_boxed_str();
        // If the transaction has ended there is nothing left to roll back.
        let _ = self.txn.tx.send(Job::ExecuteBatch { sql, reply: completer });
    }
}

impl Drop for Transaction {
    /// Roll back: an explicit job on the transaction's channel, so a stream still holding the channel cannot keep
    /// the transaction (and the writer) open.
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let (completer, _ticket) = reply::channel();
        let _ = self.tx.send(Job::EndTx { commit: false, reply: completer });
    }
}
