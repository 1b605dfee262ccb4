//! Connection setup: journal modes, foreign keys, pragmas and `on_connect` hooks, on every connection of a pool.
//!
//! The bugs these guard against: `foreign_keys(false)` did nothing (the bundled SQLite turns them on, and the pool
//! only sent the pragma when true); WAL was forced on every writable open; a pragma or hook set on the writer only,
//! so that readers answered differently; a pool whose readers and writer, under a rollback journal, fail each
//! other with busy errors; and a hook that errs or panics crashing the process or leaking the threads the open
//! started.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asqlite::{blocking, params, Connection, ErrorKind, JournalMode, Pool};

use crate::common::temp_db;

/// What an `on_connect` hook saw on each connection: (read-only, the value of a pragma), in the order opened.
type Seen = Arc<Mutex<Vec<(bool, i64)>>>;

/// A hook that records `PRAGMA name` on every connection it runs on.
fn recorder(name: &'static str) -> (Seen, impl Fn(&mut blocking::Connection) -> asqlite::Result<()>) {
    let seen = Seen::default();
    let s = Arc::clone(&seen);
    let hook = move |c: &mut blocking::Connection| {
        let v: i64 = c.pragma_query_value(name)?;
        s.lock().unwrap().push((c.is_readonly(), v));
        Ok(())
    };
    (seen, hook)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_journal_mode_opens_and_serves_reads_and_writes() {
    for mode in JournalMode::ALL {
        let (_dir, path) = temp_db();
        let pool = Pool::builder().journal_mode(mode).open(&path).await.unwrap();
        let name: String = pool.query_one("PRAGMA journal_mode", ()).await.unwrap().get(0).unwrap();
        assert_eq!(name, mode.as_str().to_lowercase(), "{mode}");
        assert_eq!(pool.stats().readers > 0, mode.is_wal(), "{mode}: readers only under WAL");
        pool.execute_batch("CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)").await.unwrap();
        let tx = pool.begin().await.unwrap();
        tx.execute("INSERT INTO cars (make) VALUES (?1)", params!["Honda Civic"]).await.unwrap();
        tx.commit().await.unwrap();
        pool.execute("INSERT INTO cars (make) VALUES (?1)", params!["Toyota Prius"]).await.unwrap();
        let makes: Vec<String> =
            pool.query_map("SELECT make FROM cars ORDER BY car_id", (), |r| r.get(0)).await.unwrap();
        assert_eq!(makes, ["Honda Civic", "Toyota Prius"], "{mode}");
        let n: i64 = pool.read(|c| c.query_one("SELECT count(*) FROM cars", ())?.get(0)).await.unwrap();
        assert_eq!(n, 2, "{mode}");
        pool.close().await.unwrap();

        let conn = Connection::builder().journal_mode(mode).open(&path).await.unwrap();
        let name: String = conn.query_one("PRAGMA journal_mode", ()).await.unwrap().get(0).unwrap();
        assert_eq!(name, mode.as_str().to_lowercase(), "{mode} on a Connection");
        let n: i64 = conn.query_one("SELECT count(*) FROM cars", ()).await.unwrap().get(0).unwrap();
        assert_eq!(n, 2);
        conn.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_stays_wal_with_synchronous_normal_and_rollback_modes_sync_fully() {
    let (_dir, path) = temp_db();
    let pool = Pool::open(&path).await.unwrap();
    let mode: String = pool.query_one("PRAGMA journal_mode", ()).await.unwrap().get(0).unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = pool.query_one("PRAGMA synchronous", ()).await.unwrap().get(0).unwrap();
    assert_eq!(sync, 1, "NORMAL");
    pool.close().await.unwrap();

    let pool = Pool::builder().journal_mode(JournalMode::Delete).open(&path).await.unwrap();
    let sync: i64 = pool.query_one("PRAGMA synchronous", ()).await.unwrap().get(0).unwrap();
    assert_eq!(sync, 2, "FULL outside WAL");
    pool.close().await.unwrap();
}

/// Under a rollback journal a reader's shared lock and the writer's commit exclude each other: a pool in such a
/// mode has no readers (its writer serves everything), so concurrent reads, streams and writes never fail busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_journal_pool_refuses_readers_and_serves_concurrent_reads_and_writes() {
    let (_dir, path) = temp_db();
    for mode in [JournalMode::Delete, JournalMode::Truncate, JournalMode::Persist] {
        let e = Pool::builder().journal_mode(mode).readers(2).open(&path).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("readers(0)") && e.to_string().contains(mode.as_str()), "{e}");
    }
    let pool = Pool::builder()
        .journal_mode(JournalMode::Delete)
        .busy_timeout(Duration::from_millis(200))
        .open(&path)
        .await
        .unwrap();
    assert_eq!(pool.stats().readers, 0);
    pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, task INTEGER, n INTEGER)").await.unwrap();
    let mut tasks = Vec::new();
    for task in 0..8i64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..40i64 {
                if n % 4 == 0 {
                    let tx = pool.begin().await?;
                    tx.execute("INSERT INTO t (task, n) VALUES (?1, ?2)", params![task, n]).await?;
                    tx.commit().await?;
                } else {
                    pool.execute("INSERT INTO t (task, n) VALUES (?1, ?2)", params![task, n]).await?;
                }
                let mine: i64 =
                    pool.query_one("SELECT count(*) FROM t WHERE task = ?1", params![task]).await?.get(0)?;
                assert_eq!(mine, n + 1);
                let mut s = pool.stream("SELECT * FROM t", ());
                let mut rows = 0;
                while let Some(row) = futures::StreamExt::next(&mut s).await {
                    row?;
                    rows += 1;
                }
                assert!(rows > n);
            }
            asqlite::Result::<()>::Ok(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let n: i64 = pool.query_one("SELECT count(*) FROM t", ()).await.unwrap().get(0).unwrap();
    assert_eq!(n, 8 * 40);
    pool.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_wal_while_another_connection_holds_the_file_is_a_clear_error() {
    let (_dir, path) = temp_db();
    let pool = Pool::open(&path).await.unwrap();
    pool.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").await.unwrap();
    let e = Pool::builder()
        .journal_mode(JournalMode::Delete)
        .busy_timeout(Duration::from_millis(100))
        .open(&path)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("DELETE"), "{e}");
    pool.close().await.unwrap();
    // Alone, it switches.
    let pool = Pool::builder().journal_mode(JournalMode::Delete).open(&path).await.unwrap();
    let mode: String = pool.query_one("PRAGMA journal_mode", ()).await.unwrap().get(0).unwrap();
    assert_eq!(mode, "delete");
    pool.close().await.unwrap();
}

/// Regression: processes opening a new file at once all switch it to WAL, and the loser of that race got
/// `SQLITE_BUSY` at once (SQLite skips the busy handler where waiting could deadlock): its open failed, about one
/// race in ten. Three processes race on 20 new files.
#[test]
fn processes_opening_a_new_file_at_once_all_open() {
    let dir = tempfile::tempdir().unwrap();
    let start =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap() + Duration::from_millis(300);
    let children: Vec<_> = (0..3)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_open_race"))
                .arg(dir.path())
                .arg(start.as_millis().to_string())
                .arg("20")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn open_race")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "an open failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_keys_false_is_off_and_true_is_on_on_every_connection() {
    for on in [false, true] {
        let (_dir, path) = temp_db();
        let (seen, hook) = recorder("foreign_keys");
        let pool = Pool::builder().readers(2).foreign_keys(on).on_connect(hook).open(&path).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, [(false, i64::from(on)), (true, i64::from(on)), (true, i64::from(on))], "writer + 2 readers");
        let fk: bool = pool.query_one("PRAGMA foreign_keys", ()).await.unwrap().get(0).unwrap();
        assert_eq!(fk, on);
        pool.execute_batch(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))",
        )
        .await
        .unwrap();
        let orphan = pool.execute("INSERT INTO child VALUES (42)", ()).await;
        match on {
            false => assert!(orphan.is_ok(), "{orphan:?}"),
            true => assert_eq!(orphan.unwrap_err().kind(), ErrorKind::ForeignKeyViolation),
        }
        pool.close().await.unwrap();

        let conn = Connection::builder().foreign_keys(on).open(&path).await.unwrap();
        let fk: bool = conn.query_one("PRAGMA foreign_keys", ()).await.unwrap().get(0).unwrap();
        assert_eq!(fk, on, "a Connection");
        conn.close().await.unwrap();
        let sync = blocking::OpenOptions::new().foreign_keys(on).open(&path).unwrap();
        assert_eq!(sync.pragma_query_value::<bool>("foreign_keys").unwrap(), on, "the blocking layer");
    }
    // The default is on, and so is the bundled library's.
    let (_dir, path) = temp_db();
    let pool = Pool::open(&path).await.unwrap();
    assert!(pool.query_one("PRAGMA foreign_keys", ()).await.unwrap().get::<bool>(0).unwrap());
    pool.close().await.unwrap();
    let mem = Pool::builder().foreign_keys(false).open(":memory:").await.unwrap();
    assert!(!mem.query_one("PRAGMA foreign_keys", ()).await.unwrap().get::<bool>(0).unwrap());
    mem.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pragmas_apply_to_every_connection_in_order() {
    let (_dir, path) = temp_db();
    let (seen, hook) = recorder("cache_size");
    let pool = Pool::builder()
        .readers(3)
        .pragma("cache_size", -1000)
        .pragma("main.cache_size", -2000) // later wins
        .pragma("temp_store", "MEMORY")
        .pragma("user_version", 7) // writes the file: the writer only
        .on_connect(hook)
        .open(&path)
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|&(_, v)| v == -2000), "{seen:?}");
    assert_eq!(seen.iter().filter(|(ro, _)| *ro).count(), 3, "three readers: {seen:?}");
    let on_reader: (i64, i64) =
        pool.read(|c| Ok((c.pragma_query_value("cache_size")?, c.pragma_query_value("temp_store")?))).await.unwrap();
    assert_eq!(on_reader, (-2000, 2));
    let v: i64 = pool.query_one("PRAGMA user_version", ()).await.unwrap().get(0).unwrap();
    assert_eq!(v, 7);
    let on_reader: i64 = pool.read(|c| c.pragma_query_value("user_version")).await.unwrap();
    assert_eq!(on_reader, 7, "the readers see the file the writer set");
    // Once open, the pool still refuses to change a read setting on one connection.
    let e = pool.execute("PRAGMA cache_size = 10", ()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Misuse);
    assert!(e.to_string().contains("PoolBuilder::pragma"), "{e}");
    pool.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pragmas_fail_the_open_with_the_pragma_and_connection_named() {
    let (_dir, path) = temp_db();
    for (builder, words) in [
        (Pool::builder().pragma("cache size", 1), "not a pragma name"),
        (Pool::builder().pragma("cache_size; DROP TABLE t", 1), "not a pragma name"),
        (Pool::builder().pragma("journal_mode", "delete"), "journal_mode(JournalMode"),
        (Pool::builder().readers(2).pragma("locking_mode", "EXCLUSIVE"), "readers(0)"),
        (Pool::builder().pragma("user_version", vec![1u8, 2]), "blob"),
        (Pool::builder().pragma("cache_size", u64::MAX), "cache_size"),
    ] {
        let e = builder.open(&path).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains(words), "{words}: {e}");
    }
    let e = Pool::builder().readers(1).pragma("nowhere.cache_size", 1).open(&path).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("the writer") && msg.contains("PRAGMA nowhere.cache_size"), "{msg}");
    // A pool that locks the file exclusively works with no readers.
    let pool = Pool::builder().readers(0).pragma("locking_mode", "EXCLUSIVE").open(&path).await.unwrap();
    pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
    pool.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_connect_runs_on_every_connection_before_first_use() {
    let (_dir, path) = temp_db();
    let calls = Arc::new(AtomicUsize::new(0));
    let order = Arc::new(Mutex::new(Vec::new()));
    let (c1, o1, o2) = (Arc::clone(&calls), Arc::clone(&order), Arc::clone(&order));
    let pool = Pool::builder()
        .readers(3)
        .pragma("cache_size", -3000)
        .on_connect(move |c: &mut blocking::Connection| {
            c1.fetch_add(1, Ordering::SeqCst);
            // After the pragmas, before the role: a read setting can still be set here, on every connection.
            o1.lock().unwrap().push(("first", c.pragma_query_value::<i64>("cache_size")?));
            c.execute_batch("PRAGMA case_sensitive_like = ON")
        })
        .on_connect(move |_: &mut blocking::Connection| {
            o2.lock().unwrap().push(("second", 0));
            Ok(())
        })
        .open(&path)
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 4, "the writer and three readers");
    let order = order.lock().unwrap().clone();
    assert_eq!(order.len(), 8);
    for pair in order.chunks(2) {
        assert_eq!(pair, [("first", -3000), ("second", 0)]);
    }
    // Every connection answers alike: readers (busy ones make the next read go to another) and the writer.
    let mut reads = Vec::new();
    for _ in 0..12 {
        let pool = pool.clone();
        reads.push(tokio::spawn(async move {
            pool.read(|c| {
                std::thread::sleep(Duration::from_millis(5));
                c.query_one("SELECT 'a' LIKE 'A'", ())?.get::<i64>(0)
            })
            .await
        }));
    }
    for r in reads {
        assert_eq!(r.await.unwrap().unwrap(), 0, "case-sensitive on every reader");
    }
    let on_writer: i64 = pool.call(|c| c.query_one("SELECT 'a' LIKE 'A'", ())?.get(0)).await.unwrap();
    assert_eq!(on_writer, 0);
    pool.close().await.unwrap();

    for (what, n) in [("connection", 1), ("memory", 1)] {
        let calls = Arc::new(AtomicUsize::new(0));
        let c1 = Arc::clone(&calls);
        let hook = move |_: &mut blocking::Connection| {
            c1.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
        if what == "connection" {
            Connection::builder().on_connect(hook).open(&path).await.unwrap().close().await.unwrap();
        } else {
            Pool::builder().readers(4).on_connect(hook).open(":memory:").await.unwrap().close().await.unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), n, "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_connect_errors_and_panics_fail_the_open_naming_the_connection() {
    let (_dir, path) = temp_db();
    let readers_seen = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&readers_seen);
    let e = Pool::builder()
        .readers(3)
        .on_connect(move |c: &mut blocking::Connection| {
            if c.is_readonly() && r.fetch_add(1, Ordering::SeqCst) == 1 {
                return Err(asqlite::Error::new(ErrorKind::InvalidInput, "no function for you"));
            }
            Ok(())
        })
        .open(&path)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let msg = e.to_string();
    assert!(msg.contains("reader 2") && msg.contains("on_connect") && msg.contains("no function for you"), "{msg}");

    let e = Pool::builder()
        .readers(1)
        .on_connect(|c: &mut blocking::Connection| {
            if !c.is_readonly() {
                panic!("hook exploded");
            }
            Ok(())
        })
        .open(&path)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Panicked);
    assert!(e.to_string().contains("the writer") && e.to_string().contains("hook exploded"), "{e}");

    let e = Connection::builder()
        .on_connect(|c: &mut blocking::Connection| c.execute_batch("BEGIN; CREATE TABLE half (x)"))
        .open(&path)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Misuse);
    assert!(e.to_string().contains("the connection") && e.to_string().contains("transaction open"), "{e}");

    // None of it stuck: the file opens and has no trace of the half-made table.
    let pool = Pool::open(&path).await.unwrap();
    let n: i64 =
        pool.query_one("SELECT count(*) FROM sqlite_master WHERE name = 'half'", ()).await.unwrap().get(0).unwrap();
    assert_eq!(n, 0);
    pool.close().await.unwrap();
}

#[test]
fn failed_setups_release_their_threads_and_files() {
    let (_dir, path) = temp_db();
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_setup_probe")).arg(&path).output().expect("run setup_probe");
    assert!(out.status.success(), "probe failed: {}", String::from_utf8_lossy(&out.stderr));
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let n: Vec<usize> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    let [threads_before, threads_after, files_before, files_after] = n[..] else { panic!("bad output {line:?}") };
    assert!(threads_after <= threads_before, "failed opens leaked threads: {line}");
    assert!(files_after <= files_before, "failed opens leaked open files: {line}");
}

#[test]
fn blocking_open_options_set_the_journal_mode_and_foreign_keys() {
    let (_dir, path) = temp_db();
    for mode in JournalMode::ALL {
        let conn = blocking::OpenOptions::new().journal_mode(mode).foreign_keys(false).open(&path).unwrap();
        assert_eq!(conn.pragma_query_value::<String>("journal_mode").unwrap(), mode.as_str().to_lowercase());
        assert!(!conn.pragma_query_value::<bool>("foreign_keys").unwrap());
    }
    let mem = blocking::OpenOptions::new().journal_mode(JournalMode::Wal).open(":memory:").unwrap();
    assert_eq!(mem.pragma_query_value::<String>("journal_mode").unwrap(), "memory", "memory keeps its journal");
    let mem = blocking::OpenOptions::new().journal_mode(JournalMode::Off).open(":memory:").unwrap();
    assert_eq!(mem.pragma_query_value::<String>("journal_mode").unwrap(), "off");
}

/// The "Contract additions" lines of DESIGN.md for connection setup and migrations, as written (relative paths:
/// run in a fresh working directory).
async fn contract_additions() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use asqlite_query::create_async_engine;
    use asqlite_query::migrate::{Migration, Migrator};

    let pool = Pool::builder()
        .journal_mode(asqlite::JournalMode::Wal) // the default; Delete, Truncate, Persist, Memory, Off
        .foreign_keys(false) // really off (the bundled SQLite defaults to on)
        .pragma("cache_size", -64_000) // every connection, in order, at open
        .on_connect(|c: &mut asqlite::blocking::Connection| c.execute_batch("PRAGMA temp_store = MEMORY"))
        .open("app.db")
        .await?;
    assert!(!pool.query_one("PRAGMA foreign_keys", ()).await?.get::<bool>(0)?);
    let on_reader: (i64, i64) =
        pool.read(|c| Ok((c.pragma_query_value("cache_size")?, c.pragma_query_value("temp_store")?))).await?;
    assert_eq!(on_reader, (-64_000, 2));
    pool.close().await?;
    let engine = create_async_engine("sqlite:///app.db?foreign_keys=off&journal_mode=wal").await?;
    assert!(!engine.pool().query_one("PRAGMA foreign_keys", ()).await?.get::<bool>(0)?);

    let m =
        Migrator::new([Migration::sql(1, "create cars", "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)")]);
    engine.migrate(&m).await?;
    std::fs::create_dir("migrations")?;
    std::fs::write("migrations/0001_create_cars.sql", "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)")?;
    std::fs::write("migrations/0002_add_year.sql", "ALTER TABLE cars ADD COLUMN year INTEGER")?;
    let m = Migrator::from_dir("migrations")?; // NNNN_name.sql files
    let report = engine.migrate(&m).await?;
    assert_eq!(report.applied.iter().map(|a| a.version).collect::<Vec<_>>(), [2], "1 was applied, same text");
    engine.dispose().await?;
    Ok(())
}

#[test]
fn contract_additions_for_setup_and_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let _cwd = crate::common::CWD_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let old = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(contract_additions())));
    std::env::set_current_dir(old).unwrap();
    match result {
        Ok(r) => r.unwrap(),
        Err(p) => std::panic::resume_unwind(p),
    }
}
