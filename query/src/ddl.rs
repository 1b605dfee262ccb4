//! Running DDL on a blocking connection: `create_all`, `drop_all`, per-table `create` / `drop`.
//!
//! These take the driver's blocking connection, so they run inside `run_sync` closures on the worker thread:
//! `conn.run_sync(move |c| meta.create_all(c))`. The engine also has async forms.

use asqlite::blocking::Connection;
use asqlite::params;

use crate::compile::{check_no_nul, create_index_sql, create_table_sql, drop_table_sql, empty_name};
use crate::error::Result;
use crate::schema::{MetaData, Table};

/// Whether a table exists in the main database.
pub fn has_table(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_opt("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", params![name])?.is_some())
}

impl Table {
    /// `CREATE TABLE` and its indexes. Errors if the table exists.
    pub fn create(&self, conn: &Connection) -> Result<()> {
        if self.name().is_empty() || self.columns().iter().any(|c| c.name().is_empty()) {
            return Err(empty_name());
        }
        let table = create_table_sql(self, false);
        check_no_nul(&table)?;
        let indexes: Vec<String> = self.indexes().iter().map(|i| create_index_sql(i, false)).collect();
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
    pub fn create_if_missing(&self, conn: &Connection) -> Result<bool> {
        if has_table(conn, self.name())? {
            return Ok(false);
        }
        self.create(conn)?;
        Ok(true)
    }

    /// `DROP TABLE`. Errors if it does not exist.
    pub fn drop_table(&self, conn: &Connection) -> Result<()> {
        let sql = drop_table_sql(self, false);
        check_no_nul(&sql)?;
        conn.execute_batch(&sql)?;
        Ok(())
    }

    /// Drop the table if it exists; returns whether it was dropped.
    pub fn drop_if_exists(&self, conn: &Connection) -> Result<bool> {
        if !has_table(conn, self.name())? {
            return Ok(false);
        }
        self.drop_table(conn)?;
        Ok(true)
    }

    /// Whether the table exists in the database.
    pub fn exists(&self, conn: &Connection) -> Result<bool> {
        has_table(conn, self.name())
    }
}

impl MetaData {
    /// Create every table that does not exist yet (with its indexes), referenced tables first.
    pub fn create_all(&self, conn: &Connection) -> Result<()> {
        for t in self.sorted_tables() {
            t.create_if_missing(conn)?;
        }
        Ok(())
    }

    /// Drop every table that exists, referencing tables first.
    pub fn drop_all(&self, conn: &Connection) -> Result<()> {
        for t in self.sorted_tables().into_iter().rev() {
            t.drop_if_exists(conn)?;
        }
        Ok(())
    }
}
