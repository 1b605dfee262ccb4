//! Migrations end to end: applied once each, in order, recorded; refused when the code and the database disagree;
//! safe when two processes migrate the same file at once.
//!
//! The bugs these guard against: an edited migration silently skipped (or re-run), a database migrated by a newer
//! program written to by an older one, a half-applied migration left behind by a failure, and two processes
//! starting together both applying the same migration (a duplicate column, a doubled seed row).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use asqlite::blocking;
use asqlite_query::migrate::{MigrateErrorKind, Migration, Migrator};
use asqlite_query::{create_async_engine, Engine, Error};

use crate::common::temp_db;

async fn engine(path: &std::path::Path) -> Engine {
    create_async_engine(&format!("sqlite:///{}", path.display())).await.unwrap()
}

fn kind(e: &Error) -> MigrateErrorKind {
    match e {
        Error::Migrate(m) => m.kind(),
        _ => panic!("not a migration error: {e}"),
    }
}

fn cars_v1() -> Migration {
    Migration::sql(1, "create cars", "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)")
}

fn cars_v2() -> Migration {
    Migration::sql(2, "add year", "ALTER TABLE cars ADD COLUMN year INTEGER")
}

fn seed_v3() -> Migration {
    Migration::with_fn(3, "seed", |c: &mut blocking::Connection| {
        c.execute("INSERT INTO cars (make, year) VALUES (?1, ?2)", asqlite::params!["Honda Civic", 2012])?;
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_migrations_apply_in_order_once_and_are_recorded() {
    let (_dir, path) = temp_db();
    let engine = engine(&path).await;
    let report = engine.migrate(&Migrator::new([cars_v1()])).await.unwrap();
    assert_eq!(report.applied.iter().map(|a| a.version).collect::<Vec<_>>(), [1]);
    assert_eq!(report.version, Some(1));

    let all = Migrator::new([cars_v1(), cars_v2(), seed_v3()]);
    let report = engine.migrate(&all).await.unwrap();
    assert_eq!(
        report.applied.iter().map(|a| (a.version, a.name.as_str())).collect::<Vec<_>>(),
        [(2, "add year"), (3, "seed")]
    );
    assert_eq!(report.version, Some(3));
    assert_eq!(report.applied[0].checksum, cars_v2().checksum());
    assert_eq!(report.applied[1].checksum, None, "a closure has no text to hash");

    let again = engine.migrate(&all).await.unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(again.version, Some(3));

    let pool = engine.pool();
    let n: i64 = pool.query_one("SELECT count(*) FROM cars", ()).await.unwrap().get(0).unwrap();
    assert_eq!(n, 1, "the seed ran once");
    let rows = pool
        .query("SELECT version, name, checksum, applied_at, duration_ms FROM _asqlite_migrations ORDER BY version", ())
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let checksum: String = rows.iter().next().unwrap().get("checksum").unwrap();
    assert_eq!(checksum.len(), 64, "hex SHA-256");
    assert_eq!(Some(checksum), cars_v1().checksum());
    let at: String = rows.iter().next().unwrap().get("applied_at").unwrap();
    assert_eq!(at.len(), "2024-01-01 12:00:00.000".len(), "{at}");
    engine.dispose().await.unwrap();
}

#[tokio::test]
async fn an_edited_applied_migration_is_refused() {
    let (_dir, path) = temp_db();
    let engine = engine(&path).await;
    engine.migrate(&Migrator::new([cars_v1(), cars_v2()])).await.unwrap();
    let edited = Migration::sql(2, "add year", "ALTER TABLE cars ADD COLUMN year INTEGER NOT NULL DEFAULT 0");
    let e = engine.migrate(&Migrator::new([cars_v1(), edited, seed_v3()])).await.unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::Changed);
    assert!(e.to_string().contains("migration 2 (add year)") && e.to_string().contains("checksum"), "{e}");
    let n: i64 = engine.pool().query_one("SELECT count(*) FROM cars", ()).await.unwrap().get(0).unwrap();
    assert_eq!(n, 0, "nothing ran, the seed neither");

    // A SQL migration turned into a closure changed too; line endings alone do not.
    let e = engine
        .migrate(&Migrator::new([cars_v1(), Migration::with_fn(2, "add year", |_: &mut blocking::Connection| Ok(()))]))
        .await
        .unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::Changed);
    let crlf =
        Migration::sql(1, "create cars", "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)\r\n".trim_end());
    engine.migrate(&Migrator::new([crlf, cars_v2()])).await.unwrap();
    let windows = Migration::sql(1, "x", "CREATE TABLE a (x);\r\nCREATE TABLE b (y);\r\n");
    let unix = Migration::sql(1, "x", "CREATE TABLE a (x);\nCREATE TABLE b (y);\n");
    assert_eq!(windows.checksum(), unix.checksum());
    engine.dispose().await.unwrap();
}

#[tokio::test]
async fn a_database_newer_than_the_code_is_refused() {
    let (_dir, path) = temp_db();
    let engine = engine(&path).await;
    engine.migrate(&Migrator::new([cars_v1(), cars_v2(), seed_v3()])).await.unwrap();
    let e = engine.migrate(&Migrator::new([cars_v1(), cars_v2()])).await.unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::DatabaseNewer);
    assert!(
        e.to_string().contains("migration 3 (seed)") && e.to_string().contains("newest this program knows (2)"),
        "{e}"
    );
    let e = engine.migrate(&Migrator::new([])).await.unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::DatabaseNewer);
    engine.dispose().await.unwrap();
}

#[tokio::test]
async fn versions_with_gaps_or_duplicates_are_refused_before_anything_runs() {
    let (_dir, path) = temp_db();
    let engine = engine(&path).await;
    for (set, words) in [
        (vec![cars_v1(), cars_v1()], "same version"),
        (vec![cars_v1(), seed_v3()], "skip from 1 to 3"),
        (vec![cars_v2(), cars_v1()], "versions start at 1"),
        (vec![cars_v1(), cars_v2(), Migration::sql(2, "again", "SELECT 1")], "same version"),
    ] {
        let e = engine.migrate(&Migrator::new(set)).await.unwrap_err();
        assert_eq!(kind(&e), MigrateErrorKind::Invalid);
        assert!(e.to_string().contains(words), "{words}: {e}");
    }
    let tables: i64 = engine.pool().query_one("SELECT count(*) FROM sqlite_master", ()).await.unwrap().get(0).unwrap();
    assert_eq!(tables, 0, "not even the migrations table");
    engine.dispose().await.unwrap();
}

#[tokio::test]
async fn a_database_the_code_does_not_match_is_refused() {
    let (_dir, path) = temp_db();
    let engine = engine(&path).await;
    engine.migrate(&Migrator::new([cars_v1(), cars_v2()])).await.unwrap();
    // Someone removed version 1's record (or a branch applied 2 alone): 1 is pending below 2.
    engine.pool().execute("DELETE FROM _asqlite_migrations WHERE version = 1", ()).await.unwrap();
    let e = engine.migrate(&Migrator::new([cars_v1(), cars_v2()])).await.unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::OutOfOrder);
    assert!(e.to_string().contains("migration 1 (create cars) is not applied"), "{e}");
    engine.dispose().await.unwrap();
}

#[tokio::test]
async fn a_failing_migration_is_rolled_back_and_named() {
    let (_dir, path) = temp_db();
    let engine = engine(&path).await;
    let broken = Migration::sql(2, "broken", "CREATE TABLE half (x); INSERT INTO nowhere VALUES (1)");
    let e = engine.migrate(&Migrator::new([cars_v1(), broken])).await.unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::Failed);
    assert!(e.to_string().contains("migration 2 (broken)") && e.to_string().contains("nowhere"), "{e}");
    let source = std::error::Error::source(&e).and_then(std::error::Error::source);
    assert!(source.is_some_and(|s| s.to_string().contains("nowhere")), "the driver error is the source");
    let pool = engine.pool();
    let half: i64 =
        pool.query_one("SELECT count(*) FROM sqlite_master WHERE name = 'half'", ()).await.unwrap().get(0).unwrap();
    assert_eq!(half, 0, "its first statement was rolled back");
    let versions: Vec<i64> = pool.query_map("SELECT version FROM _asqlite_migrations", (), |r| r.get(0)).await.unwrap();
    assert_eq!(versions, [1], "the one before stays applied");

    let panics = Migration::with_fn(2, "panics", |c: &mut blocking::Connection| {
        c.execute_batch("CREATE TABLE half (x)")?;
        panic!("migration exploded")
    });
    let e = engine.migrate(&Migrator::new([cars_v1(), panics])).await.unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::Failed);
    assert!(e.to_string().contains("migration exploded"), "{e}");
    let commits = Migration::with_fn(2, "commits", |c: &mut blocking::Connection| {
        c.execute_batch("COMMIT")?;
        Ok(())
    });
    let e = engine.migrate(&Migrator::new([cars_v1(), commits])).await.unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::Failed);
    assert!(e.to_string().contains("transaction ended inside it"), "{e}");
    let fk = Migration::sql(2, "fk off", "PRAGMA foreign_keys = OFF");
    let e = engine.migrate(&Migrator::new([cars_v1(), fk])).await.unwrap_err();
    assert!(e.to_string().contains("foreign_keys"), "{e}");

    let half: i64 =
        pool.query_one("SELECT count(*) FROM sqlite_master WHERE name = 'half'", ()).await.unwrap().get(0).unwrap();
    assert_eq!(half, 0);
    engine.migrate(&Migrator::new([cars_v1(), cars_v2()])).await.unwrap();
    engine.dispose().await.unwrap();
}

#[tokio::test]
async fn migrations_read_from_a_directory_of_numbered_files() {
    let (dir, path) = temp_db();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        migrations.join("0001_create_cars.sql"),
        "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT);\n",
    )
    .unwrap();
    std::fs::write(migrations.join("0002_add_year.sql"), "ALTER TABLE cars ADD COLUMN year INTEGER;\n").unwrap();
    std::fs::write(migrations.join("README.md"), "not a migration").unwrap();
    std::fs::write(migrations.join(".0003_hidden.sql"), "not a migration either").unwrap();
    let m = Migrator::from_dir(&migrations).unwrap();
    assert_eq!(
        m.migrations().iter().map(|m| (m.version(), m.name())).collect::<Vec<_>>(),
        [(1, "create cars"), (2, "add year")]
    );
    let engine = engine(&path).await;
    assert_eq!(engine.migrate(&m).await.unwrap().version, Some(2));

    std::fs::write(migrations.join("3-seed.sql"), "INSERT INTO cars (make) VALUES ('x')").unwrap();
    let e = Migrator::from_dir(&migrations).unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::File);
    assert!(e.to_string().contains("3-seed.sql") && e.to_string().contains("NNNN_name.sql"), "{e}");
    std::fs::remove_file(migrations.join("3-seed.sql")).unwrap();
    std::fs::write(migrations.join("0004_seed.sql"), "INSERT INTO cars (make) VALUES ('x')").unwrap();
    let e = Migrator::from_dir(&migrations).unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::Invalid);
    assert!(e.to_string().contains("0004_seed.sql") && e.to_string().contains("skip from 2 to 4"), "{e}");
    std::fs::write(migrations.join("02_again.sql"), "SELECT 1").unwrap();
    let e = Migrator::from_dir(&migrations).unwrap_err();
    assert!(e.to_string().contains("02_again.sql") && e.to_string().contains("same version"), "{e}");
    let e = Migrator::from_dir(dir.path().join("missing")).unwrap_err();
    assert_eq!(kind(&e), MigrateErrorKind::File);
    assert!(e.to_string().contains("missing"), "{e}");
    engine.dispose().await.unwrap();
}

#[test]
fn the_blocking_connection_runs_a_migrator_too() {
    let (_dir, path) = temp_db();
    let mut conn = blocking::Connection::open(&path).unwrap();
    let m = Migrator::new([cars_v1(), cars_v2(), seed_v3()]);
    assert_eq!(m.run(&mut conn).unwrap().applied.len(), 3);
    assert!(m.run(&mut conn).unwrap().applied.is_empty());
}

/// Three processes open and migrate a new file at the same moment: all succeed, each migration is applied exactly
/// once (the slow closure migration's seed row is not doubled), and those that waited find nothing left to do.
/// Regression: the opens failed too, now and then: switching a new file to WAL, the loser of the race got
/// `SQLITE_BUSY` at once (SQLite skips the busy handler where waiting could deadlock).
#[test]
fn processes_migrating_at_once_apply_each_migration_once() {
    for _round in 0..3 {
        let (_dir, path) = temp_db();
        let start = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_millis(700);
        let spawn = || {
            std::process::Command::new(env!("CARGO_BIN_EXE_migrate_race"))
                .arg(&path)
                .arg(start.as_millis().to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn migrate_race")
        };
        let children = [spawn(), spawn(), spawn()];
        let mut applied = Vec::new();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "a process failed: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(text.contains("version 3"), "{text}");
            let line = text.lines().find_map(|l| l.strip_prefix("applied")).unwrap_or_default().to_owned();
            applied.extend(line.split_whitespace().map(|v| v.parse::<i64>().unwrap()));
        }
        applied.sort_unstable();
        assert_eq!(applied, [1, 2, 3], "each migration applied once, by one of the processes");
        let conn = blocking::Connection::open(&path).unwrap();
        let seeds: i64 = conn.query_one("SELECT count(*) FROM seed_runs", ()).unwrap().get(0).unwrap();
        let cars: i64 = conn.query_one("SELECT count(*) FROM cars", ()).unwrap().get(0).unwrap();
        let recorded: i64 = conn.query_one("SELECT count(*) FROM _asqlite_migrations", ()).unwrap().get(0).unwrap();
        assert_eq!((seeds, cars, recorded), (1, 1, 3));
    }
}

/// Two engines on one file in two threads of this process: a concurrent open and migrate, without processes.
#[test]
fn two_engines_migrating_at_once_apply_each_migration_once() {
    let (_dir, path) = temp_db();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (path, barrier) = (path.clone(), std::sync::Arc::clone(&barrier));
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    let engine = engine(&path).await;
                    let slow = Migration::with_fn(3, "slow seed", |c: &mut blocking::Connection| {
                        std::thread::sleep(Duration::from_millis(200));
                        c.execute("INSERT INTO cars (make) VALUES ('seed')", ())?;
                        Ok(())
                    });
                    barrier.wait();
                    let r = engine.migrate(&Migrator::new([cars_v1(), cars_v2(), slow])).await.unwrap();
                    engine.dispose().await.unwrap();
                    r.applied.iter().map(|a| a.version).collect::<Vec<_>>()
                })
            })
        })
        .collect();
    let mut applied: Vec<i64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    applied.sort_unstable();
    assert_eq!(applied, [1, 2, 3]);
    let conn = blocking::Connection::open(&path).unwrap();
    let seeds: i64 = conn.query_one("SELECT count(*) FROM cars WHERE make = 'seed'", ()).unwrap().get(0).unwrap();
    assert_eq!(seeds, 1);
}
