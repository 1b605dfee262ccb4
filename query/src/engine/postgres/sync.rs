//! The synchronous PostgreSQL connection that `run_sync` closures and reflection get: each call runs on the
//! pooled client and blocks the calling thread until the server answers. It is only ever handed to code on a
//! blocking thread of the runtime (`spawn_blocking`), never on one of its workers.

use asqlite::{Rows, Value};
use tokio::runtime::Handle;

use super::error::from_pg;
use super::value::{arg_refs, args, columns, rows};
use super::POSTGRES;
use crate::compile::Dialect;
use crate::error::Result;
use crate::schema::{MetaData, Table};
use crate::sync_conn::SyncConnection;

/// A pooled PostgreSQL client driven from a blocking thread.
pub(crate) struct PgSync<'c> {
    client: &'c deadpool_postgres::ClientWrapper,
    handle: Handle,
}

impl<'c> PgSync<'c> {
    pub(crate) fn new(client: &'c deadpool_postgres::ClientWrapper, handle: Handle) -> Self {
        PgSync { client, handle }
    }

    async fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        self.client.prepare_cached(sql).await.map_err(|e| from_pg(e, Some(sql)))
    }
}

impl SyncConnection for PgSync<'_> {
    fn dialect(&self) -> &'static dyn Dialect {
        &POSTGRES
    }

    fn execute_batch(&self, sql: &str) -> Result<()> {
        self.handle.block_on(self.client.batch_execute(sql)).map_err(|e| from_pg(e, Some(sql)))
    }

    fn execute_values(&self, sql: &str, values: Vec<Value>) -> Result<u64> {
        self.handle.block_on(async {
            let stmt = self.prepare(sql).await?;
            let a = args(&values);
            self.client.execute(&stmt, &arg_refs(&a)).await.map_err(|e| from_pg(e, Some(sql)))
        })
    }

    fn query_values(&self, sql: &str, values: Vec<Value>) -> Result<Rows> {
        self.handle.block_on(async {
            let stmt = self.prepare(sql).await?;
            let a = args(&values);
            let got = self.client.query(&stmt, &arg_refs(&a)).await.map_err(|e| from_pg(e, Some(sql)))?;
            Ok(rows(&columns(&stmt), &got)?)
        })
    }

    fn has_table(&self, name: &str) -> Result<bool> {
        let found = self.query_values(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
            vec![Value::Text(name.to_owned())],
        )?;
        Ok(!found.is_empty())
    }

    fn table_names(&self) -> Result<Vec<String>> {
        let found = self.query_values(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' ORDER BY table_name",
            Vec::new(),
        )?;
        found.iter().map(|r| Ok(r.get::<String>(0)?)).collect()
    }

    fn reflect_table(&self, meta: &MetaData, name: &str) -> Result<Table> {
        super::reflect::reflect_table(meta, self, name)
    }
}
