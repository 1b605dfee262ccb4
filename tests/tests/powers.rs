//! SQLite's own powers through the driver: functions, collations, hooks, the change feed, backup, blob I/O,
//! serialize/deserialize, memory figures and the raw handle.
//!
//! The bugs these guard against: a user-defined function is user code, and a cheap read that calls one could run
//! on the caller's thread while it holds a leased reader connection (the lease promises no user code); a function
//! that calls its own pool on the thread that must serve the call would hang forever; a panic in a callback would
//! unwind into C; a change feed that published from the update hook would report rows that a failed statement, a
//! `ROLLBACK TO` or a rollback undid; a stepped backup of a database being written to restarts at every write and
//! never ends (or copies a torn state); a slow subscriber would make the writer's memory grow without bound.

use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asqlite::blocking::{
    Aggregate, AuthAction, Authorization, Connection as Sync, Context, FunctionFlags, WindowAggregate,
};
use asqlite::{params, Change, ErrorKind, Lagged, Operation, Pool};
use futures::StreamExt;

use crate::common::{temp_db, within};

/// Generous: these guard against a hang, they measure nothing.
const HANG: Duration = Duration::from_secs(30);

/// Run `f` on its own thread, failing the test if it hangs (see [`within`]).
fn without_hanging(what: &str, f: impl FnOnce() + Send + 'static) {
    within(what, HANG, f);
}

fn mem() -> Sync {
    Sync::open_in_memory().unwrap()
}

// ---- functions and collations ----------------------------------------------------------------------------------

#[test]
fn scalar_functions_take_and_return_the_drivers_values() {
    let c = mem();
    c.create_scalar_function("add2", 2, FunctionFlags::DETERMINISTIC | FunctionFlags::INNOCUOUS, |ctx| {
        Ok(ctx.get::<i64>(0)? + ctx.get::<i64>(1)?)
    })
    .unwrap();
    c.create_scalar_function("describe", -1, FunctionFlags::NONE, |ctx: &Context<'_>| {
        let kinds: Vec<String> = (0..ctx.len()).map(|i| format!("{:?}", ctx.get_ref(i).unwrap().data_type())).collect();
        Ok(kinds.join(","))
    })
    .unwrap();
    c.create_scalar_function("maybe", 1, FunctionFlags::DETERMINISTIC, |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|s| s.to_uppercase()))
    })
    .unwrap();
    assert_eq!(c.query_one("SELECT add2(40, 2)", ()).unwrap().get::<i64>(0).unwrap(), 42);
    let d: String = c.query_one("SELECT describe(1, 2.5, 'x', x'00', NULL)", ()).unwrap().get(0).unwrap();
    assert_eq!(d, "Integer,Real,Text,Blob,Null");
    assert_eq!(c.query_one("SELECT maybe('a')", ()).unwrap().get::<String>(0).unwrap(), "A");
    assert_eq!(c.query_one("SELECT maybe(NULL)", ()).unwrap().get::<Option<String>>(0).unwrap(), None);
    // A deterministic function may be used in an index.
    c.execute_batch("CREATE TABLE t (a, b); CREATE INDEX t_sum ON t (add2(a, b)); INSERT INTO t VALUES (1, 2)")
        .unwrap();
    // Wrong arity is SQLite's error.
    assert!(c.query_one("SELECT add2(1)", ()).is_err());
    let e = c.create_scalar_function("bad", 300, FunctionFlags::NONE, |_| Ok(1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn a_function_that_fails_or_panics_fails_its_statement_with_an_sql_error() {
    let c = mem();
    c.create_scalar_function("fails", 0, FunctionFlags::NONE, |_| -> asqlite::Result<i64> {
        Err(asqlite::Error::new(ErrorKind::InvalidInput, "no such widget"))
    })
    .unwrap();
    c.create_scalar_function("panics", 0, FunctionFlags::NONE, |_| -> asqlite::Result<i64> { panic!("kaboom") })
        .unwrap();
    c.create_scalar_function("wrong_type", 1, FunctionFlags::NONE, |ctx| ctx.get::<i64>(0)).unwrap();
    let e = c.query_one("SELECT fails()", ()).unwrap_err();
    assert!(e.message().contains("no such widget"), "{e}");
    let e = c.query_one("SELECT panics()", ()).unwrap_err();
    assert!(e.message().contains("panicked") && e.message().contains("kaboom"), "{e}");
    let e = c.query_one("SELECT wrong_type('x')", ()).unwrap_err();
    assert!(e.message().contains("argument 0"), "{e}");
    // The connection is fine afterwards, and the functions can be called again.
    assert_eq!(c.query_one("SELECT 1", ()).unwrap().get::<i64>(0).unwrap(), 1);
    assert!(c.query_one("SELECT panics()", ()).is_err());
}

struct Sum;

impl Aggregate<i64, i64> for Sum {
    fn init(&self, _: &mut Context<'_>) -> asqlite::Result<i64> {
        Ok(0)
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut i64) -> asqlite::Result<()> {
        let x: i64 = ctx.get(0)?;
        if x < 0 {
            panic!("negative input");
        }
        *acc += x;
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<i64>) -> asqlite::Result<i64> {
        Ok(acc.unwrap_or(-1))
    }
}

impl WindowAggregate<i64, i64> for Sum {
    fn value(&self, acc: Option<&mut i64>) -> asqlite::Result<i64> {
        Ok(acc.map_or(0, |a| *a))
    }
    fn inverse(&self, ctx: &mut Context<'_>, acc: &mut i64) -> asqlite::Result<()> {
        *acc -= ctx.get::<i64>(0)?;
        Ok(())
    }
}

#[test]
fn aggregate_and_window_functions() {
    let c = mem();
    c.create_aggregate_function("my_sum", 1, FunctionFlags::DETERMINISTIC, Sum).unwrap();
    c.create_window_function("win_sum", 1, FunctionFlags::DETERMINISTIC, Sum).unwrap();
    c.execute_batch("CREATE TABLE t (g, x); INSERT INTO t VALUES (1, 1), (1, 2), (2, 10), (2, 20), (2, 30)").unwrap();
    let sums: Vec<(i64, i64)> =
        c.query_map("SELECT g, my_sum(x) FROM t GROUP BY g ORDER BY g", (), |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(sums, [(1, 3), (2, 60)]);
    // No row: finalize gets None.
    assert_eq!(c.query_one("SELECT my_sum(x) FROM t WHERE 0", ()).unwrap().get::<i64>(0).unwrap(), -1);
    let running: Vec<i64> = c
        .query_map("SELECT win_sum(x) OVER (ORDER BY rowid ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t", (), |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(running, [1, 3, 12, 30, 50]);
    // A panic in a step is an SQL error, and the accumulator is freed (no leak, no crash).
    c.execute("INSERT INTO t VALUES (3, -1)", ()).unwrap();
    let e = c.query_one("SELECT my_sum(x) FROM t", ()).unwrap_err();
    assert!(e.message().contains("negative input"), "{e}");
    // Removed, it is gone.
    c.remove_function("my_sum", 1).unwrap();
    assert!(c.query_one("SELECT my_sum(x) FROM t", ()).is_err());
}

#[test]
fn collations_order_text_and_a_panicking_one_interrupts_its_statement() {
    let c = mem();
    c.create_collation("by_len", |a: &str, b: &str| a.len().cmp(&b.len()).then(a.cmp(b))).unwrap();
    c.execute_batch("CREATE TABLE w (x TEXT COLLATE by_len); INSERT INTO w VALUES ('ccc'), ('a'), ('bb')").unwrap();
    let xs: Vec<String> = c.query_map("SELECT x FROM w ORDER BY x", (), |r| r.get(0)).unwrap();
    assert_eq!(xs, ["a", "bb", "ccc"]);
    c.create_collation("boom", |_: &str, _: &str| panic!("no order")).unwrap();
    let e = c.query("SELECT x FROM w ORDER BY x COLLATE boom", ()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
    assert_eq!(c.query("SELECT x FROM w ORDER BY x", ()).unwrap().len(), 3);
}

#[test]
fn a_function_in_a_cheap_point_query_runs_on_a_worker_never_inline() {
    let (dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(2).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").await.unwrap();
        pool.execute_many("INSERT INTO t (v) VALUES (?1)", (0..10).map(|i| params![format!("v{i}")])).await.unwrap();
        let threads = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&threads);
        pool.call_each(move |c| {
            let seen = Arc::clone(&seen);
            c.create_scalar_function("tag", 1, FunctionFlags::DETERMINISTIC, move |ctx| {
                seen.lock().unwrap().push(std::thread::current().id());
                Ok(format!("<{}>", ctx.get::<String>(0)?))
            })?;
            c.create_collation("rev", |a: &str, b: &str| b.cmp(a))
        })
        .await
        .unwrap();
        let here = std::thread::current().id();
        // The plain point query runs inline once warm (the control) ...
        let plain = "SELECT v FROM t WHERE id = ?1";
        for _ in 0..5 {
            pool.query_one(plain, params![1]).await.unwrap();
        }
        assert!(crate::common::ran_here(&pool, plain, params![1]).await, "the control did not run inline");
        // ... the same query through the function never does, however warm: the function runs on a worker.
        let tagged = "SELECT tag(v) FROM t WHERE id = ?1";
        for i in 0..20 {
            let v: String = pool.query_one(tagged, params![1 + i % 3]).await.unwrap().get(0).unwrap();
            assert!(v.starts_with("<v"), "{v}");
        }
        let ran_on = threads.lock().unwrap().clone();
        assert_eq!(ran_on.len(), 20);
        assert!(ran_on.iter().all(|t| *t != here), "a user function ran on the caller's thread");
        // A collation is application code too (it shows in the program, not to the authorizer).
        let sorted = "SELECT v FROM t WHERE id <= ?1 ORDER BY v COLLATE rev";
        for _ in 0..5 {
            pool.query(sorted, params![2]).await.unwrap();
        }
        assert!(!crate::common::ran_here(&pool, sorted, params![2]).await, "a collation ran inline");
        // A progress handler (or an authorizer) is user code any read may call: none runs inline while one is set.
        let set = |on: bool| {
            pool.call_each(move |c| {
                c.progress_handler(1000, on.then_some(|| false));
                Ok(())
            })
        };
        set(true).await.unwrap();
        assert!(!crate::common::ran_here(&pool, plain, params![1]).await, "a read ran inline under a progress handler");
        set(false).await.unwrap();
        assert!(crate::common::ran_here(&pool, plain, params![1]).await, "inline reads did not come back");
        pool.close().await.unwrap();
    });
    drop(dir);
}

#[test]
fn a_function_that_calls_its_own_pool_does_not_deadlock() {
    let (dir, path) = temp_db();
    without_hanging("a function calling its pool", move || {
        futures::executor::block_on(async {
            let pool = Pool::builder().readers(2).open(&path).await.unwrap();
            pool.execute_batch(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('a'), ('b')",
            )
            .await
            .unwrap();
            let handle = Arc::new(Mutex::new(None::<Pool>));
            let h = Arc::clone(&handle);
            pool.call_each(move |c| {
                let h = Arc::clone(&h);
                // lookup(id): a read through the pool (another reader serves it, or a reader serves the writer).
                c.create_scalar_function("lookup", 1, FunctionFlags::NONE, move |ctx| {
                    let pool = h.lock().unwrap().clone().expect("the pool");
                    let id: i64 = ctx.get(0)?;
                    let row =
                        futures::executor::block_on(pool.query_one("SELECT v FROM t WHERE id = ?1", params![id]))?;
                    row.get::<String>(0)
                })
            })
            .await
            .unwrap();
            *handle.lock().unwrap() = Some(pool.clone());
            // On a reader.
            let v: String = pool.query_one("SELECT lookup(2)", ()).await.unwrap().get(0).unwrap();
            assert_eq!(v, "b");
            // On the writer (a write calling it): the nested read goes to a reader.
            pool.execute("INSERT INTO t (v) VALUES (lookup(1))", ()).await.unwrap();
            let n: i64 = pool.query_one("SELECT count(*) FROM t WHERE v = 'a'", ()).await.unwrap().get(0).unwrap();
            assert_eq!(n, 2);
            // A write from inside the writer would wait for the writer itself: refused, not hung.
            let p = pool.clone();
            pool.call(move |c| {
                c.create_scalar_function("write_back", 0, FunctionFlags::NONE, move |_| {
                    futures::executor::block_on(p.execute("INSERT INTO t (v) VALUES ('x')", ()))
                        .map(|d| d.rows_affected())
                })
            })
            .await
            .unwrap();
            let e = pool.execute("INSERT INTO t (v) VALUES (write_back())", ()).await.unwrap_err();
            assert!(e.message().contains("would wait for itself"), "{e}");
            // And a closure on the writer that calls the writer: the same.
            let p = pool.clone();
            let e = pool
                .call(move |_| futures::executor::block_on(p.execute("INSERT INTO t (v) VALUES ('y')", ())))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Misuse, "{e}");
            *handle.lock().unwrap() = None;
            pool.close().await.unwrap();
        });
        drop(dir);
    });
}

// ---- hooks ------------------------------------------------------------------------------------------------------

#[test]
fn update_commit_rollback_and_wal_hooks_see_their_events() {
    let (_dir, path) = temp_db();
    let c = Sync::open(&path).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v)").unwrap();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = Arc::clone(&log);
    c.update_hook(Some(move |op: Operation, db: &str, table: &str, rowid: i64| {
        l.lock().unwrap().push(format!("{op:?} {db}.{table} {rowid}"));
    }));
    let l = Arc::clone(&log);
    c.commit_hook(Some(move || {
        l.lock().unwrap().push("commit".into());
        false
    }));
    let l = Arc::clone(&log);
    c.rollback_hook(Some(move || l.lock().unwrap().push("rollback".into())));
    let l = Arc::clone(&log);
    c.wal_hook(Some(move |db: &str, pages: u32| l.lock().unwrap().push(format!("wal {db} {}", pages > 0))));
    c.execute("INSERT INTO t (v) VALUES (1)", ()).unwrap();
    c.execute_batch("BEGIN; UPDATE t SET v = 2 WHERE id = 1; ROLLBACK").unwrap();
    c.execute("DELETE FROM t WHERE id = 1", ()).unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            "Insert main.t 1",
            "commit",
            "wal main true",
            "Update main.t 1",
            "rollback",
            "Delete main.t 1",
            "commit",
            "wal main true"
        ]
    );
    // A commit hook that says no turns the commit into a rollback.
    c.commit_hook(Some(|| true));
    let e = c.execute("INSERT INTO t (v) VALUES (3)", ()).unwrap_err();
    assert!(e.message().to_lowercase().contains("constraint") || e.code().is_some(), "{e}");
    c.commit_hook(None::<fn() -> bool>);
    assert_eq!(c.query_one("SELECT count(*) FROM t", ()).unwrap().get::<i64>(0).unwrap(), 0);
    // While the WAL hook is ours, the pragma that would replace it is refused with a pointer to the method.
    let e = c.execute_batch("PRAGMA wal_autocheckpoint = 10").unwrap_err();
    assert!(e.message().contains("set_wal_autocheckpoint"), "{e}");
    c.set_wal_autocheckpoint(10).unwrap();
    c.wal_hook(None::<fn(&str, u32)>);
    c.execute_batch("PRAGMA wal_autocheckpoint = 10").unwrap();
    // Hooks that panic are skipped; the statement goes on.
    c.update_hook(Some(|_: Operation, _: &str, _: &str, _: i64| panic!("hook panic")));
    c.execute("INSERT INTO t (v) VALUES (4)", ()).unwrap();
}

#[test]
fn the_progress_handler_chains_with_the_statement_timeout() {
    let (dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder()
            .readers(0)
            .statement_timeout(Duration::from_millis(300))
            .inline_reads(false)
            .open(&path)
            .await
            .unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let n = Arc::clone(&calls);
        pool.call(move |c| {
            c.progress_handler(
                100,
                Some(move || {
                    n.fetch_add(1, Ordering::Relaxed);
                    false
                }),
            );
            Ok(())
        })
        .await
        .unwrap();
        let endless = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r";
        let e = pool.query_one(endless, ()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "the driver's deadline still fires: {e}");
        assert!(calls.load(Ordering::Relaxed) > 10, "the user's handler was called too");
        // The user's handler can stop a statement itself.
        pool.call(|c| {
            let mut left = 50;
            c.progress_handler(
                10,
                Some(move || {
                    left -= 1;
                    left == 0
                }),
            );
            Ok(())
        })
        .await
        .unwrap();
        let e = pool.query_one(endless, ()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Interrupted, "{e}");
        pool.call(|c| {
            c.progress_handler(1, Some(|| -> bool { panic!("progress panic") }));
            Ok(())
        })
        .await
        .unwrap();
        assert!(pool.query_one(endless, ()).await.is_err(), "a panicking handler interrupts");
        pool.call(|c| {
            c.progress_handler(1, None::<fn() -> bool>);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(pool.query_one("SELECT 1", ()).await.unwrap().get::<i64>(0).unwrap(), 1);
        pool.close().await.unwrap();
    });
    drop(dir);
}

#[test]
fn the_authorizer_chains_after_the_drivers_own() {
    let (dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(1).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE public (x); CREATE TABLE secret (x); INSERT INTO public VALUES (1)")
            .await
            .unwrap();
        let asked = Arc::new(AtomicUsize::new(0));
        let a = Arc::clone(&asked);
        pool.call_each(move |c| {
            let a = Arc::clone(&a);
            c.authorizer(Some(move |ctx: asqlite::blocking::AuthContext<'_>| {
                a.fetch_add(1, Ordering::Relaxed);
                match ctx.action {
                    AuthAction::Read { table: "secret", .. } => Authorization::Deny,
                    _ => Authorization::Allow,
                }
            }));
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(pool.query_one("SELECT x FROM public", ()).await.unwrap().get::<i64>(0).unwrap(), 1);
        let e = pool.query("SELECT x FROM secret", ()).await.unwrap_err();
        assert!(e.message().contains("prohibited"), "{e}");
        assert!(asked.load(Ordering::Relaxed) > 0);
        // The driver's own refusals still hold and come first: a read setting cannot be set through a pool.
        let e = pool.execute("PRAGMA cache_size = 10", ()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Misuse, "{e}");
        pool.close().await.unwrap();
    });
    drop(dir);
}

// ---- the change feed --------------------------------------------------------------------------------------------

fn summary(c: &Change) -> (Operation, String, i64) {
    (c.operation, c.table.to_string(), c.rowid)
}

/// The changes queued now, waiting up to a moment for the first.
async fn drain(changes: &mut asqlite::Changes, at_least: usize) -> Vec<Result<Change, Lagged>> {
    let mut out = Vec::new();
    for _ in 0..at_least {
        match tokio::time::timeout(HANG, changes.next()).await {
            Ok(Some(item)) => out.push(item),
            _ => break,
        }
    }
    while let Some(item) = changes.try_next() {
        out.push(item);
    }
    out
}

#[tokio::test]
async fn the_change_feed_delivers_after_commit_and_never_rolled_back_work() {
    let (_dir, path) = temp_db();
    let pool = Pool::builder().readers(2).open(&path).await.unwrap();
    pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)").await.unwrap();
    let mut changes = pool.changes();
    let mut second = pool.changes();

    // A rolled-back transaction: no event, ever.
    let tx = pool.begin().await.unwrap();
    tx.execute("INSERT INTO t (v) VALUES ('gone')", ()).await.unwrap();
    tx.execute("UPDATE t SET v = 'gone2'", ()).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(changes.try_next().is_none());

    // A transaction's events arrive only after its commit.
    let mut tx = pool.begin().await.unwrap();
    tx.execute("INSERT INTO t (v) VALUES ('a')", ()).await.unwrap();
    tx.execute("INSERT INTO t (v) VALUES ('b')", ()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(changes.try_next().is_none(), "an event arrived before its commit");
    // A statement that fails inside the transaction loses its own changes (SQLite undid them) ...
    let e = tx.execute("INSERT INTO t (v) VALUES ('c'), ('a')", ()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UniqueViolation);
    // ... and so does a savepoint rolled back to.
    let sp = tx.savepoint().await.unwrap();
    sp.execute("DELETE FROM t WHERE v = 'a'", ()).await.unwrap();
    sp.rollback().await.unwrap();
    tx.execute("UPDATE t SET v = 'bb' WHERE v = 'b'", ()).await.unwrap();
    tx.commit().await.unwrap();
    let got: Vec<_> = drain(&mut changes, 3).await.into_iter().map(|c| summary(&c.unwrap())).collect();
    let want = [
        (Operation::Insert, "t".to_owned(), 1),
        (Operation::Insert, "t".into(), 2),
        (Operation::Update, "t".into(), 2),
    ];
    assert_eq!(got, want);
    let got2: Vec<_> = drain(&mut second, 3).await.into_iter().map(|c| summary(&c.unwrap())).collect();
    assert_eq!(got2, want, "every subscriber sees every change");

    // Autocommit writes, and one that fails (rolled back whole).
    pool.execute("DELETE FROM t WHERE id = 1", ()).await.unwrap();
    pool.execute("INSERT INTO t (v) VALUES ('bb')", ()).await.unwrap_err();
    pool.execute_many("INSERT INTO t (v) VALUES (?1)", vec![params!["x"], params!["y"]]).await.unwrap();
    let got: Vec<_> = drain(&mut changes, 3).await.into_iter().map(|c| summary(&c.unwrap())).collect();
    assert_eq!(
        got,
        [
            (Operation::Delete, "t".to_owned(), 1),
            (Operation::Insert, "t".into(), 3),
            (Operation::Insert, "t".into(), 4)
        ]
    );
    drop(second);
    pool.close().await.unwrap();
    // The stream ends with the pool.
    assert!(changes.next().await.is_none());
}

#[tokio::test]
async fn a_slow_subscriber_gets_a_lagged_item_not_unbounded_memory() {
    let pool = Pool::open_in_memory().await.unwrap();
    pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
    let mut slow = pool.changes_with_capacity(10);
    let mut fast = pool.changes_with_capacity(1000);
    pool.execute_many("INSERT INTO t VALUES (?1)", (0..25).map(|i| params![i])).await.unwrap();
    let items = drain(&mut slow, 11).await;
    assert_eq!(items.len(), 11, "10 changes and one lagged marker");
    assert!(items[..10].iter().all(Result::is_ok));
    assert_eq!(items[10], Err(Lagged { missed: 15 }));
    // After the gap, later changes arrive again.
    pool.execute("INSERT INTO t VALUES (99)", ()).await.unwrap();
    let next = drain(&mut slow, 1).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].as_ref().unwrap().rowid, 26);
    assert_eq!(drain(&mut fast, 26).await.len(), 26);
    pool.close().await.unwrap();
}

// ---- backup -----------------------------------------------------------------------------------------------------

fn integrity_and_count(path: &std::path::Path) -> i64 {
    let c = Sync::open(path).unwrap();
    let ok: String = c.query_one("PRAGMA integrity_check", ()).unwrap().get(0).unwrap();
    assert_eq!(ok, "ok");
    c.query_one("SELECT count(*) FROM t", ()).unwrap().get(0).unwrap()
}

#[test]
fn backup_of_a_database_being_written_to_is_consistent() {
    let (dir, path) = temp_db();
    let copy = dir.path().join("copy.db");
    let copy2 = dir.path().join("copy2.db");
    let vacuumed = dir.path().join("vacuumed.db");
    without_hanging("a backup under writes", move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let pool = Pool::builder().readers(2).open(&path).await.unwrap();
            pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB)").await.unwrap();
            // Enough pages for many steps.
            pool.execute_many("INSERT INTO t (pad) VALUES (randomblob(1000))", (0..2000).map(|_| params![]))
                .await
                .unwrap();
            // The writer busy in a loop: transactions of 10 rows, so a consistent copy holds a multiple of 10.
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (w, s) = (pool.clone(), Arc::clone(&stop));
            let writer = tokio::spawn(async move {
                let mut n = 0;
                while !s.load(Ordering::Relaxed) {
                    w.execute_many("INSERT INTO t (pad) VALUES (randomblob(1000))", (0..10).map(|_| params![]))
                        .await
                        .unwrap();
                    n += 1;
                    tokio::task::yield_now().await;
                }
                n
            });
            let steps = Arc::new(AtomicUsize::new(0));
            let st = Arc::clone(&steps);
            let options =
                asqlite::BackupOptions::new().pages_per_step(50).pause(Duration::from_millis(1)).progress(move |p| {
                    assert!(p.remaining <= p.page_count);
                    st.fetch_add(1, Ordering::Relaxed);
                });
            pool.backup_to_with(&copy, options).await.unwrap();
            pool.backup_to(&copy2).await.unwrap();
            pool.vacuum_into(&vacuumed).await.unwrap();
            stop.store(true, Ordering::Relaxed);
            let rounds = writer.await.unwrap();
            assert!(rounds > 0, "the writer never ran during the backup");
            assert!(steps.load(Ordering::Relaxed) > 5, "the copy was not made in steps");
            for file in [&copy, &copy2, &vacuumed] {
                let n = integrity_and_count(file);
                assert!(n >= 2000 && n % 10 == 0, "a torn copy: {n} rows");
            }
            // The vacuum target must be new.
            assert!(pool.vacuum_into(&vacuumed).await.is_err());
            pool.close().await.unwrap();
        });
        drop(dir);
    });
}

#[test]
fn blocking_backup_and_restore_and_an_in_memory_pools_backup() {
    let (dir, path) = temp_db();
    let src = Sync::open_in_memory().unwrap();
    src.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)").unwrap();
    let mut steps = 0;
    src.backup_to(&path, 1, |_| steps += 1).unwrap();
    assert!(steps >= 2);
    assert_eq!(integrity_and_count(&path), 3);
    let mut dst = Sync::open_in_memory().unwrap();
    dst.restore_from(&path, 0, |_| {}).unwrap();
    assert_eq!(dst.query_one("SELECT count(*) FROM t", ()).unwrap().get::<i64>(0).unwrap(), 3);
    futures::executor::block_on(async {
        let pool = Pool::open_in_memory().await.unwrap();
        pool.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").await.unwrap();
        let copy = dir.path().join("mem-copy.db");
        pool.backup_to(&copy).await.unwrap();
        assert_eq!(integrity_and_count(&copy), 1);
        let vac = dir.path().join("mem-vac.db");
        pool.vacuum_into(&vac).await.unwrap();
        assert_eq!(integrity_and_count(&vac), 1);
        pool.close().await.unwrap();
    });
}

// ---- blob I/O ---------------------------------------------------------------------------------------------------

#[test]
fn blob_read_write_seek_and_their_bounds() {
    let c = mem();
    c.execute_batch(
        "CREATE TABLE f (id INTEGER PRIMARY KEY, data BLOB); INSERT INTO f VALUES (1, zeroblob(8)), (2, x'0102')",
    )
    .unwrap();
    {
        let mut b = c.blob_open("main", "f", "data", 1, false).unwrap();
        assert_eq!(b.len(), 8);
        b.write_all(b"abcdef").unwrap();
        // Two bytes of room: a write of four writes two, the next finds none.
        assert_eq!(b.write(b"ghij").unwrap(), 2);
        let e = b.write(b"k").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WriteZero);
        assert_eq!(b.seek(SeekFrom::End(-3)).unwrap(), 5);
        let mut s = String::new();
        b.read_to_string(&mut s).unwrap();
        assert_eq!(s, "fgh");
        assert_eq!(b.read(&mut [0; 4]).unwrap(), 0, "a read at the end returns 0");
        assert_eq!(b.seek(SeekFrom::Current(-8)).unwrap(), 0);
        assert_eq!(b.seek(SeekFrom::Start(1)).unwrap(), 1);
        assert_eq!(b.seek(SeekFrom::End(-1)).unwrap(), 7);
        for bad in [SeekFrom::Current(-8), SeekFrom::Start(9), SeekFrom::End(1)] {
            assert_eq!(b.seek(bad).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
        }
        assert_eq!(b.write_at(b"xyz", 6).unwrap_err().kind(), ErrorKind::InvalidInput);
        let mut buf = [0; 4];
        assert_eq!(b.read_at(&mut buf, 6).unwrap(), 2);
        b.reopen(2).unwrap();
        assert_eq!(b.len(), 2);
    }
    let data: Vec<u8> = c.query_one("SELECT data FROM f WHERE id = 1", ()).unwrap().get(0).unwrap();
    assert_eq!(data, b"abcdefgh");
    let mut ro = c.blob_open("main", "f", "data", 2, true).unwrap();
    assert!(ro.write(b"z").is_err(), "a read-only blob refuses writes");
    drop(ro);
    let e = c.blob_open("main", "f", "data", 99, true).unwrap_err();
    assert!(e.message().contains("row 99"), "{e}");
    assert!(c.blob_open("main", "nope", "data", 1, true).is_err());
}

#[test]
fn pool_blob_streams_round_trip_without_holding_the_value() {
    let (dir, path) = temp_db();
    futures::executor::block_on(async {
        for memory in [false, true] {
            let pool = if memory { Pool::open_in_memory().await } else { Pool::open(&path).await }.unwrap();
            let size = 300_000;
            pool.execute_batch("CREATE TABLE f (id INTEGER PRIMARY KEY, data BLOB)").await.unwrap();
            pool.execute("INSERT INTO f VALUES (1, zeroblob(?1))", params![size]).await.unwrap();
            let data: Vec<u8> = (0..size).map(|i| u8::try_from(i % 251).unwrap()).collect();
            let chunks = futures::stream::iter(data.chunks(70_000).map(|c| Ok::<_, std::io::Error>(c.to_vec())));
            assert_eq!(pool.write_blob("f", "data", 1, chunks).await.unwrap(), 300_000);
            let mut read = pool.read_blob_chunked("f", "data", 1, 100_000);
            let mut back = Vec::new();
            let mut pieces = 0;
            while let Some(chunk) = read.next().await {
                let chunk = chunk.unwrap();
                assert!(chunk.len() <= 100_000);
                back.extend(chunk);
                pieces += 1;
            }
            assert_eq!(pieces, 3);
            assert!(back == data, "the blob read back differs");
            // From an AsyncRead.
            let reader = futures::io::Cursor::new(vec![7u8; 1000]);
            assert_eq!(pool.write_blob_from("f", "data", 1, reader).await.unwrap(), 1000);
            // Past the end: refused, and nothing written (one transaction).
            let too_much = futures::stream::iter([Ok::<_, std::io::Error>(vec![1u8; 200_000]), Ok(vec![2u8; 200_000])]);
            assert!(pool.write_blob("f", "data", 1, too_much).await.is_err());
            let first: Vec<u8> = pool.query_one("SELECT substr(data, 1, 2) FROM f", ()).await.unwrap().get(0).unwrap();
            assert_eq!(first, [7, 7]);
            // A failing source: nothing written either.
            let failing = futures::stream::iter([Ok(vec![9u8; 10]), Err(std::io::Error::other("source broke"))]);
            let e = pool.write_blob("f", "data", 1, failing).await.unwrap_err();
            assert!(e.message().contains("source broke"), "{e}");
            // A missing row is an error item.
            let mut missing = pool.read_blob("f", "data", 42);
            assert!(missing.next().await.unwrap().is_err());
            pool.close().await.unwrap();
        }
    });
    drop(dir);
}

// ---- serialize, memory figures, the raw handle ------------------------------------------------------------------

#[test]
fn serialize_then_deserialize_round_trips_a_database() {
    let c = mem();
    c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES ('one'), ('two')").unwrap();
    let image = c.serialize("main").unwrap();
    assert!(image.starts_with(b"SQLite format 3\0"));
    let mut other = mem();
    other.deserialize("main", &image, false).unwrap();
    let xs: Vec<String> = other.query_map("SELECT x FROM t ORDER BY x", (), |r| r.get(0)).unwrap();
    assert_eq!(xs, ["one", "two"]);
    other.execute("INSERT INTO t VALUES ('three')", ()).unwrap(); // resizeable
    let mut ro = mem();
    ro.deserialize("main", &other.serialize("main").unwrap(), true).unwrap();
    assert_eq!(ro.query_one("SELECT count(*) FROM t", ()).unwrap().get::<i64>(0).unwrap(), 3);
    assert_eq!(ro.execute("INSERT INTO t VALUES (4)", ()).unwrap_err().kind(), ErrorKind::ReadOnly);
    assert!(c.serialize("nope").is_err());
}

#[test]
fn pool_stats_carry_sqlites_memory_figures() {
    let (dir, path) = temp_db();
    futures::executor::block_on(async {
        let pool = Pool::builder().readers(2).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)").await.unwrap();
        pool.query("SELECT * FROM t", ()).await.unwrap();
        let s = pool.stats();
        assert!(s.cache_memory > 0 && s.schema_memory > 0 && s.statement_memory > 0, "{s:?}");
        assert!(s.sqlite_memory > 0 && s.sqlite_memory_high_water >= s.sqlite_memory, "{s:?}");
        pool.close().await.unwrap();
    });
    drop(dir);
}

#[test]
#[allow(unsafe_code)]
fn the_raw_handle_reaches_sqlite() {
    let c = mem();
    // SAFETY: used on this thread while `c` lives, to read a value; nothing is left behind.
    let autocommit = unsafe { asqlite::libsqlite3_sys::sqlite3_get_autocommit(c.handle()) };
    assert_eq!(autocommit, 1);
}

/// The lines of the design's contract, as written there.
#[test]
fn the_contract_lines_for_sqlites_powers_compile_and_work() {
    let _cwd = crate::common::CWD_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let old = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let out: asqlite::Result<()> = futures::executor::block_on(async {
        let pool = Pool::open("app.db").await?;
        pool.execute_batch("CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)").await?;
        pool.execute("INSERT INTO cars (make) VALUES (?1)", params!["Honda Civic"]).await?;
        pool.backup_to("copy.db").await?; // online, in steps
        let mut changes = pool.changes(); // Stream of committed (operation, table, rowid)
        pool.execute("INSERT INTO cars (make) VALUES (?1)", params!["Toyota Prius"]).await?;
        let change = changes.next().await.expect("a change").expect("no lag");
        assert_eq!(summary(&change), (Operation::Insert, "cars".to_owned(), 2));
        fn send_unpin<T: Send + Unpin + 'static>(_: &T) {}
        send_unpin(&changes);
        send_unpin(&pool.read_blob("cars", "make", 1));
        pool.close().await
    });
    let copied = integrity_and_count_of(&dir.path().join("copy.db"), "cars");
    std::env::set_current_dir(old).unwrap();
    out.unwrap();
    assert_eq!(copied, 1);
}

fn integrity_and_count_of(path: &std::path::Path, table: &str) -> i64 {
    let c = Sync::open(path).unwrap();
    assert_eq!(c.query_one("PRAGMA integrity_check", ()).unwrap().get::<String>(0).unwrap(), "ok");
    c.query_one(&format!("SELECT count(*) FROM {table}"), ()).unwrap().get(0).unwrap()
}
