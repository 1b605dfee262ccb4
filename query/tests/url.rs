//! Engine URLs end to end: the setup options (`foreign_keys`, `journal_mode`), SQLAlchemy's `uri=true`, and the
//! error for an option nobody knows.
//!
//! The bugs these guard against: `foreign_keys=off` ignored (the bundled SQLite turns them on), WAL forced
//! whatever the URL said, a URI path opened as a file literally named `file:x.db?mode=ro`, and a misspelt option
//! silently ignored.

use asqlite::ErrorKind;
use asqlite_query::prelude::*;
use asqlite_query::Error;

fn url(dir: &tempfile::TempDir, name: &str, query: &str) -> String {
    format!("sqlite:///{}?{query}", dir.path().join(name).display())
}

async fn pragma(engine: &Engine, name: &str) -> String {
    let v: asqlite::Value = engine.pool().query_one(&format!("PRAGMA {name}"), ()).await.unwrap().get(0).unwrap();
    v.to_string()
}

#[tokio::test]
async fn foreign_keys_on_and_off() {
    let dir = tempfile::tempdir().unwrap();
    for (q, on) in [("foreign_keys=off", false), ("foreign_keys=0", false), ("foreign_keys=on", true), ("", true)] {
        let engine = create_async_engine(&url(&dir, "fk.db", q)).await.unwrap();
        assert_eq!(pragma(&engine, "foreign_keys").await, if on { "1" } else { "0" }, "{q}");
        engine
            .pool()
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY);
                 CREATE TABLE IF NOT EXISTS child (parent_id INTEGER REFERENCES parent (id))",
            )
            .await
            .unwrap();
        let orphan = engine.pool().execute("INSERT INTO child VALUES (42)", ()).await;
        assert_eq!(orphan.is_ok(), !on, "{q}: {orphan:?}");
        engine.dispose().await.unwrap();
    }
}

#[tokio::test]
async fn journal_mode_from_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let engine = create_async_engine(&url(&dir, "d.db", "journal_mode=delete")).await.unwrap();
    assert_eq!(pragma(&engine, "journal_mode").await, "delete");
    assert_eq!(engine.pool().stats().readers, 0, "no readers outside WAL");
    engine.pool().execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").await.unwrap();
    engine.dispose().await.unwrap();
    let engine = create_async_engine(&url(&dir, "d.db", "journal_mode=WAL&readers=2")).await.unwrap();
    assert_eq!(pragma(&engine, "journal_mode").await, "wal");
    assert_eq!(engine.pool().stats().readers, 2);
    engine.dispose().await.unwrap();
    let e = create_async_engine(&url(&dir, "d.db", "journal_mode=truncate&readers=2")).await.unwrap_err();
    assert_eq!(e.driver_kind(), Some(ErrorKind::InvalidInput), "{e}");
}

#[tokio::test]
async fn uri_true_opens_a_sqlite_uri_as_sqlalchemy_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cars.db");
    let engine = create_async_engine(&format!("sqlite:///{}", path.display())).await.unwrap();
    engine
        .pool()
        .execute_batch("CREATE TABLE cars (make TEXT); INSERT INTO cars VALUES ('Honda Civic')")
        .await
        .unwrap();
    engine.dispose().await.unwrap();

    let ro = create_async_engine(&format!("sqlite:///file:{}?mode=ro&uri=true", path.display())).await.unwrap();
    let make: String = ro.connect().await.unwrap().scalar(text("SELECT make FROM cars")).await.unwrap();
    assert_eq!(make, "Honda Civic");
    let e = ro.pool().execute("INSERT INTO cars VALUES ('Tesla')", ()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReadOnly);
    ro.dispose().await.unwrap();
    assert!(
        !dir.path().join("file:").exists()
            && std::fs::read_dir(dir.path())
                .unwrap()
                .all(|e| { !e.unwrap().file_name().to_string_lossy().contains('?') }),
        "no file named after the URI"
    );

    let mem = create_async_engine("sqlite:///file::memory:?uri=true").await.unwrap();
    mem.pool().execute_batch("CREATE TABLE t (x)").await.unwrap();
    assert_eq!(mem.pool().stats().readers, 0, "in memory: one connection");
    mem.dispose().await.unwrap();

    let e = create_async_engine(&format!("sqlite:///{}?uri=true", path.display())).await.unwrap_err();
    assert!(matches!(e, Error::Url(_)) && e.to_string().contains("file:"), "{e}");
}

#[tokio::test]
async fn an_unknown_option_is_an_error_listing_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let e = create_async_engine(&url(&dir, "x.db", "foreign_key=off")).await.unwrap_err();
    let Error::Url(msg) = &e else { panic!("{e}") };
    for known in ["mode", "readers", "timeout", "busy_timeout", "cache_size", "foreign_keys", "journal_mode", "uri"] {
        assert!(msg.contains(known), "{known}: {msg}");
    }
    assert!(!dir.path().join("x.db").exists(), "nothing opened");
}
