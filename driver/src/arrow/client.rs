//! The async Arrow calls of every handle ([`Client`]), and the worker's side of them ([`ArrowJob`], carried by
//! `Job::Arrow`).

use std::sync::Arc;

use arrow_array::RecordBatch;

use super::stream::{self, ArrowSink, ArrowStream};
use super::ArrowOptions;
use crate::blocking::Connection;
use crate::worker::ctx::Ctx;
use crate::worker::{Completer, Job};
use crate::{Client, Params, Result};

/// What an Arrow job does on the worker with its SQL and parameters.
pub(crate) enum ArrowJob {
    /// The whole result as one batch.
    Batch { options: ArrowOptions, reply: Completer<RecordBatch> },
    /// Batches fed to an [`ArrowStream`].
    Stream(ArrowSink),
}

impl ArrowJob {
    pub fn run(self, ctx: &Ctx<'_>, conn: &mut Connection, sql: &str, params: Params) {
        match self {
            ArrowJob::Batch { options, reply } => ctx.exec_counted(
                conn,
                reply,
                |c| c.query_arrow_with(sql, params, &options),
                |b| u64::try_from(b.num_rows()).ok(),
            ),
            ArrowJob::Stream(sink) => stream::run(ctx, conn, sql, params, sink),
        }
    }
}

impl Client {
    /// Run a query and return its rows as one Arrow record batch, built on the worker straight from SQLite's column
    /// values (no `Row` or `Value` per cell); only the finished batch crosses threads. Types come from the declared
    /// types, else from the values: see [`arrow`](crate::arrow#types).
    ///
    /// ```
    /// # fn main() -> asqlite::Result<()> {
    /// # futures::executor::block_on(async {
    /// use asqlite::params;
    /// let pool = asqlite::Pool::open_in_memory().await?;
    /// pool.execute_batch("CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT, mileage INTEGER);
    ///                     INSERT INTO cars (make, mileage) VALUES ('Honda Civic', 20000), ('Tesla Model 3', 5000)")
    ///     .await?;
    /// let batch: asqlite::arrow::RecordBatch =
    ///     pool.query_arrow("SELECT * FROM cars WHERE mileage > ?1", params![6000]).await?;
    /// assert_eq!((batch.num_rows(), batch.num_columns()), (1, 3));
    /// # pool.close().await })
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropped before it starts, the query does not run; dropped while it runs, it is interrupted.
    pub async fn query_arrow(&self, sql: &str, params: impl Into<Params>) -> Result<RecordBatch> {
        self.query_arrow_with(sql, params, ArrowOptions::default()).await
    }

    /// [`query_arrow`](Self::query_arrow) with options: fields for some columns, a fallback for misfit values.
    ///
    /// # Cancel safety
    ///
    /// As [`query_arrow`](Self::query_arrow).
    pub async fn query_arrow_with(
        &self,
        sql: &str,
        params: impl Into<Params>,
        options: ArrowOptions,
    ) -> Result<RecordBatch> {
        let params = params.into();
        self.shared()
            .submit(self.read_route().as_route(), |reply| Job::Arrow {
                sql: sql.into(),
                params,
                job: Box::new(ArrowJob::Batch { options, reply }),
            })
            .await
    }

    /// Stream the rows of a query as Arrow record batches of `batch_rows` rows (the last may be smaller; at least
    /// 1 is used), memory bounded however long the result. See [`ArrowStream`].
    ///
    /// ```
    /// # fn main() -> asqlite::Result<()> {
    /// # futures::executor::block_on(async {
    /// use futures::StreamExt;
    /// let pool = asqlite::Pool::open_in_memory().await?;
    /// let mut batches = pool.stream_arrow(
    ///     "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100000) SELECT i FROM k",
    ///     asqlite::params![],
    ///     65_536,
    /// );
    /// let mut rows = 0;
    /// while let Some(batch) = batches.next().await {
    ///     rows += batch?.num_rows();
    /// }
    /// assert_eq!(rows, 100_000);
    /// # pool.close().await })
    /// # }
    /// ```
    pub fn stream_arrow(&self, sql: &str, params: impl Into<Params>, batch_rows: usize) -> ArrowStream {
        self.stream_arrow_with(sql, params, batch_rows, ArrowOptions::default())
    }

    /// [`stream_arrow`](Self::stream_arrow) with options.
    pub fn stream_arrow_with(
        &self,
        sql: &str,
        params: impl Into<Params>,
        batch_rows: usize,
        options: ArrowOptions,
    ) -> ArrowStream {
        ArrowStream::new(
            Arc::clone(self.shared()),
            self.read_route().clone(),
            sql,
            params.into(),
            batch_rows.max(1),
            options,
        )
    }
}
