//! Transactions and savepoints on the blocking connection.

use std::ops::Deref;

use super::Connection;
use crate::Result;

/// How `BEGIN` takes its locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionBehavior {
    /// `BEGIN DEFERRED`: take locks at the first read or write (the SQLite default).
    #[default]
    Deferred,
    /// `BEGIN IMMEDIATE`: take the write lock now, so later writes cannot fail with `SQLITE_BUSY`.
    Immediate,
    /// `BEGIN EXCLUSIVE`: as immediate; outside WAL mode also keeps readers out.
    Exclusive,
}

impl TransactionBehavior {
    pub(crate) fn begin_sql(self) -> &'static str {
        match self {
            TransactionBehavior::Deferred => "BEGIN DEFERRED",
            TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
        }
    }
}

/// A transaction: commit it, roll it back, or drop it to roll back.
///
/// It dereferences to the [`Connection`], so every method runs inside it.
#[derive(Debug)]
pub struct Transaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl<'c> Transaction<'c> {
    pub(crate) fn begin(conn: &'c Connection, behavior: TransactionBehavior) -> Result<Self> {
        conn.execute_batch(behavior.begin_sql())?;
        Ok(Transaction { conn, done: false })
    }

    /// Commit. If `COMMIT` fails the transaction is rolled back and the error returned.
    pub fn commit(mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.done = true;
        Ok(())
    }

    /// Roll back.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("ROLLBACK")
    }

    /// Open a savepoint inside the transaction.
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        Savepoint::open(self.conn)
    }
}

impl Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A savepoint: release it (commit into the enclosing transaction), roll back to it, or drop it to roll back.
///
/// Savepoints nest; outside a transaction a savepoint starts one, and releasing the outermost commits it.
#[derive(Debug)]
pub struct Savepoint<'c> {
    conn: &'c Connection,
    name: String,
    done: bool,
}

impl<'c> Savepoint<'c> {
    pub(crate) fn open(conn: &'c Connection) -> Result<Self> {
        let depth = conn.savepoint_depth.get() + 1;
        let name = format!("asqlite_sp{depth}");
        conn.execute_batch(&format!("SAVEPOINT {name}"))?;
        conn.savepoint_depth.set(depth);
        Ok(Savepoint { conn, name, done: false })
    }

    /// The savepoint's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Release the savepoint, keeping its changes.
    pub fn commit(mut self) -> Result<()> {
        self.conn.execute_batch(&format!("RELEASE {}", self.name))?;
        self.finish();
        Ok(())
    }

    /// Undo everything since the savepoint and release it.
    pub fn rollback(mut self) -> Result<()> {
        self.rollback_and_release()
    }

    /// Open a savepoint nested inside this one.
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>> {
        Savepoint::open(self.conn)
    }

    fn rollback_and_release(&mut self) -> Result<()> {
        self.finish();
        self.conn.execute_batch(&format!("ROLLBACK TO {0}; RELEASE {0}", self.name))
    }

    fn finish(&mut self) {
        self.done = true;
        self.conn.savepoint_depth.set(self.conn.savepoint_depth.get().saturating_sub(1));
    }
}

impl Deref for Savepoint<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.rollback_and_release();
        }
    }
}
