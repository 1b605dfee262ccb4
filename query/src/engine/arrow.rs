//! [`AsyncConnection::execute_arrow`]: a statement's rows as one Arrow record batch, built on the worker and typed
//! by the tables' columns (see [`crate::arrow`]).

use std::sync::atomic::Ordering;

use asqlite::arrow::{ArrowOptions, RecordBatch};
use asqlite::Params;

use super::AsyncConnection;
use crate::compile::Executable;
use crate::error::{Error, Result};
use crate::serde_params::ParamSet;

/// What became of `text()` offered as a read outside a transaction.
enum TextRead {
    Batch(RecordBatch),
    /// It writes: it runs in a transaction.
    Writes,
    /// A reader could not prepare it: the writer may.
    NotHere,
}

impl AsyncConnection {
    /// Run a statement that returns rows (a `select`, DML with `returning`, `text(...)`) and return them as one Arrow
    /// record batch, built on the worker straight from SQLite's values. The schema comes from the tables' column
    /// types, with their nullability (see [`crate::arrow`]); columns this layer cannot type are typed by the driver.
    ///
    /// Like [`execute`](Self::execute), a read outside a transaction runs on the pool's readers and a write begins
    /// the connection's transaction.
    ///
    /// # Cancel safety
    ///
    /// As [`execute`](Self::execute).
    pub async fn execute_arrow<S: Executable>(&self, stmt: S) -> Result<RecordBatch> {
        self.execute_arrow_with(stmt, Params::none()).await
    }

    /// [`execute_arrow`](Self::execute_arrow) with parameters for the statement's `bindparam`s / `:name`s.
    ///
    /// # Cancel safety
    ///
    /// As [`execute`](Self::execute).
    pub async fn execute_arrow_with<S: Executable, P: ParamSet>(&self, stmt: S, params: P) -> Result<RecordBatch> {
        let params = params.into_params()?;
        let (shape, values) = self.prepare_bound(stmt.as_stmt(), &params)?;
        let mut options = ArrowOptions::new();
        if let Some(fields) = shape.arrow_fields(stmt.as_stmt()) {
            options = options.fields(fields.iter().cloned());
        }
        let pool = self.inner.engine.sqlite_pool().ok_or_else(|| {
            Error::Compile(
                "execute_arrow builds batches on the SQLite driver's workers; on PostgreSQL, execute the \
                 statement and use QueryResult::to_arrow"
                    .into(),
            )
        })?;
        if shape.readonly && !self.inner.in_tx.load(Ordering::Acquire) {
            self.inner.engine.check_open()?;
            return Ok(pool.query_arrow_with(&shape.sql, values, options).await?);
        }
        let mut guard = self.state().await?;
        if guard.is_none() {
            if shape.readonly {
                return Ok(pool.query_arrow_with(&shape.sql, values, options).await?);
            }
            if shape.is_text {
                // As `execute`: a read runs on a reader (or the writer, if it uses the writer's state), outside a
                // transaction; a write begins one.
                let read = |c: &asqlite::blocking::Connection, (s, v, o): (&str, Params, &ArrowOptions)| {
                    let mut st = c.prepare_cached(s)?;
                    if st.readonly() {
                        st.query_arrow_with(v, o).map(TextRead::Batch)
                    } else {
                        Ok(TextRead::Writes)
                    }
                };
                let (s, v, o) = (shape.sql.clone(), values.clone(), options.clone());
                let mut out = pool
                    .read(
                        move |c| {
                            if c.prepare_cached(&s).is_ok() {
                                read(c, (&s, v, &o))
                            } else {
                                Ok(TextRead::NotHere)
                            }
                        },
                    )
                    .await?;
                if matches!(out, TextRead::NotHere) {
                    let (s, v, o) = (shape.sql.clone(), values.clone(), options.clone());
                    out = pool.call(move |c| read(c, (&s, v, &o))).await?;
                }
                if let TextRead::Batch(b) = out {
                    return Ok(b);
                }
            }
        }
        let tx = self.ensure_tx(&mut guard).await?;
        Ok(tx.query_arrow_with(&shape.sql, values, options).await?)
    }
}
