//! Running DDL on a synchronous connection: `create_all`, `drop_all`, per-table `create` / `drop`.
//!
//! These take a [`SyncConnection`]: the driver's blocking connection, or (feature `postgres`) a PostgreSQL one,
//! so they run inside `run_sync` closures: `conn.run_sync(move |c| meta.create_all(c))`. The SQL is the
//! connection's dialect's. The engine also has async forms.

use crate::compile::{check_no_nul, create_index_sql_for, create_table_sql_for, drop_table_sql_for, empty_name};
use crate::error::Result;
use crate::schema::{MetaData, Table};
use crate::sync_conn::SyncConnection;

/// Whether a table exists in the main database (the current schema on PostgreSQL).
pub fn has_table<C: SyncConnection + ?Sized>(conn: &C, name: &str) -> Result<bool> {
    conn.has_table(name)
}

impl Table {
    /// `CREATE TABLE` and its indexes. Errors if the table exists.
    pub fn create<C: SyncConnection + ?Sized>(&self, conn: &C) -> Result<()> {
        if self.name().is_empty() || self.columns().iter().any(|c| c.name().is_empty()) {
            return Err(empty_name());
        }
        let d = conn.dialect();
        let table = create_table_sql_for(d, self, false);
        check_no_nul(&table)?;
        let indexes: Vec<String> = self.indexes().iter().map(|i| create_index_sql_for(d, i, false)).collect();
        for sql in &indexes {
            check_no_nul(sql)?;
        }
        conn.execute_batch(&table)?;
        for sql in &indexes {
            conn.execute_batch(sql)?;
        }
        Ok(())
    }

    /// Create the table and its indexes unless the table exists; returns whether it was created.
    pub fn create_if_missing<C: SyncConnection + ?Sized>(&self, conn: &C) -> Result<bool> {
        if conn.has_table(self.name())? {
            return Ok(false);
        }
        self.create(conn)?;
        Ok(true)
    }

    /// `DROP TABLE`. Errors if it does not exist.
    pub fn drop_table<C: SyncConnection + ?Sized>(&self, conn: &C) -> Result<()> {
        let sql = drop_table_sql_for(conn.dialect(), self, false);
        check_no_nul(&sql)?;
        conn.execute_batch(&sql)?;
        Ok(())
    }

    /// Drop the table if it exists; returns whether it was dropped.
    pub fn drop_if_exists<C: SyncConnection + ?Sized>(&self, conn: &C) -> Result<bool> {
        if !conn.has_table(self.name())? {
            return Ok(false);
        }
        self.drop_table(conn)?;
        Ok(true)
    }

    /// Whether the table exists in the database.
    pub fn exists<C: SyncConnection + ?Sized>(&self, conn: &C) -> Result<bool> {
        conn.has_table(self.name())
    }
}

impl MetaData {
    /// Create every table that does not exist yet (with its indexes), referenced tables first.
    pub fn create_all<C: SyncConnection + ?Sized>(&self, conn: &C) -> Result<()> {
        for t in self.sorted_tables() {
            t.create_if_missing(conn)?;
        }
        Ok(())
    }

    /// Drop every table that exists, referencing tables first.
    pub fn drop_all<C: SyncConnection + ?Sized>(&self, conn: &C) -> Result<()> {
        for t in self.sorted_tables().into_iter().rev() {
            t.drop_if_exists(conn)?;
        }
        Ok(())
    }
}
