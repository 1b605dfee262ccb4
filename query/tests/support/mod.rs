//! What the tests that run on both databases share: a fresh SQLite file or a fresh PostgreSQL schema per test.
//!
//! PostgreSQL tests run when `ASQLITE_TEST_POSTGRES_URL` names a server (`.ci/run` starts one and sets it); without
//! it they say that they were skipped, on the terminal (not in the captured output), and pass.
#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use asqlite_query::prelude::*;

/// The variable that names the PostgreSQL server for the tests.
pub const POSTGRES_URL_VAR: &str = "ASQLITE_TEST_POSTGRES_URL";

/// The server's URL, or `None` after saying (once per test binary) that the PostgreSQL tests are skipped.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() && cfg!(feature = "postgres") => Some(url),
        _ => {
            if std::env::var_os("ASQLITE_TEST_REQUIRE_POSTGRES").is_some() {
                panic!(
                    "ASQLITE_TEST_REQUIRE_POSTGRES is set: the PostgreSQL tests must run, but {} (and the `postgres` \
                     feature) are needed",
                    POSTGRES_URL_VAR
                );
            }
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                // Straight to the terminal: the test harness captures print!/eprint!, not this.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nSKIPPED: the PostgreSQL tests of {} ({}; scripts/postgres-test-cluster.sh start gives a server)\n",
                    std::env::args().next().unwrap_or_default(),
                    if cfg!(feature = "postgres") {
                        format!("set {POSTGRES_URL_VAR}=postgresql://user@host:port/db to run them")
                    } else {
                        "built without the `postgres` feature: cargo test --features postgres".to_owned()
                    }
                );
            });
            None
        }
    }
}

/// A database for one test: an engine and what removes it afterwards.
pub struct TestDb {
    pub engine: Engine,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite file.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:///{}", dir.path().join("test.db").display());
        let engine = create_async_engine(&url).await.unwrap();
        TestDb { engine, url, _dir: Some(dir), schema: None }
    }

    /// A fresh schema of the PostgreSQL server, which the engine's connections use (`search_path`); `None` when no
    /// server is configured.
    pub async fn postgres(tag: &str) -> Option<TestDb> {
        static N: AtomicU64 = AtomicU64::new(0);
        let base = postgres_url()?;
        let schema = format!("t_{tag}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let admin = create_async_engine(&base).await.unwrap();
        admin
            .transaction(|c| {
                let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
                async move { c.execute(text(&sql)).await }
            })
            .await
            .unwrap();
        admin.dispose().await.unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let engine = create_async_engine(&url).await.unwrap();
        Some(TestDb { engine, url, _dir: None, schema: Some((base, schema)) })
    }

    /// Whether this is the PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.schema.is_some()
    }

    /// Dispose of the engine and drop the schema.
    pub async fn finish(self) {
        self.engine.dispose().await.unwrap();
        if let Some((base, schema)) = &self.schema {
            let admin = create_async_engine(base).await.unwrap();
            let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            admin.transaction(|c| async move { c.execute(text(&sql)).await }).await.unwrap();
            admin.dispose().await.unwrap();
        }
    }
}
