//! Attacks on reads run on the caller's thread that leave their connection set up for the next one (no waiting for
//! locks, values capped) until a job takes it back, and on statements not reset again while ready. They found
//! nothing; they are kept for what users rely on: after inline reads, a lone connection's jobs wait for another
//! connection's lock and read long values; statements left mid-run bind again and hold no snapshot; and values
//! around the inline cap read as the connection's own length limit allows.

use std::time::{Duration, Instant};

use asqlite::{params, Pool};

use crate::common::{ran_here, temp_db, within};

/// Run `f` on its own thread, failing the test if it hangs (see [`within`]).
fn no_hang<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within(what, Duration::from_secs(60), f)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

const POINT: &str = "SELECT id, v FROM t WHERE id = ?1";

async fn fill(pool: &Pool) {
    pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)").await.unwrap();
    pool.execute_many("INSERT INTO t (id, v) VALUES (?1, ?2)", (1..=50_i64).map(|i| params![i, format!("v{i}")]))
        .await
        .unwrap();
    pool.execute("INSERT INTO t (id, v) VALUES (1000, zeroblob(200000))", params![]).await.unwrap();
}

/// Warm POINT until it runs inline on this thread.
async fn warm(pool: &Pool) {
    for _ in 0..50 {
        for i in 1..=10_i64 {
            let _: i64 = pool.query_row(POINT, params![i], |r| r.get(0)).await.unwrap();
        }
        if ran_here(pool, POINT, params![1]).await {
            return;
        }
    }
    panic!("POINT never ran inline");
}

/// and wait for another connection's lock as they always did.
#[test]
fn lone_connection_jobs_after_inline_reads_wait_and_read_long_values() {
    let (_dir, path) = temp_db();
    no_hang("lone connection", move || {
        block_on(async {
            let conn = asqlite::Connection::builder().busy_timeout(Duration::from_secs(10)).open(&path).await.unwrap();
            fill(&conn).await;
            warm(&conn).await;
            // Every read path after inline reads.
            let blob: Vec<u8> = conn.query_row(POINT, params![1000], |r| r.get(1)).await.unwrap();
            assert_eq!(blob.len(), 200_000);
            warm(&conn).await;
            let n = conn.call(|c| c.query_row(POINT, params![1000], |r| r.get::<Vec<u8>>(1))).await.unwrap().len();
            assert_eq!(n, 200_000);
            warm(&conn).await;
            let n = conn.read(|c| c.query_row(POINT, params![1000], |r| r.get::<Vec<u8>>(1))).await.unwrap().len();
            assert_eq!(n, 200_000);
            warm(&conn).await;
            let rows = conn.query("SELECT v FROM t WHERE id = 1000", params![]).await.unwrap();
            assert_eq!(rows.len(), 1);
            warm(&conn).await;
            {
                use futures::StreamExt;
                let mut s = conn.stream("SELECT v FROM t WHERE id >= 1000", params![]);
                let row = s.next().await.unwrap().unwrap();
                assert_eq!(row.get::<Vec<u8>>(0).unwrap().len(), 200_000);
            }
            warm(&conn).await;
            let tx = conn.begin().await.unwrap();
            let n = tx.query_row(POINT, params![1000], |r| r.get::<Vec<u8>>(1)).await.unwrap().len();
            assert_eq!(n, 200_000);
            tx.rollback().await.unwrap();
            warm(&conn).await;
            // Another connection holds the write lock for a while: a write waits for it.
            let other = asqlite::blocking::Connection::open(&path).unwrap();
            other.execute_batch("BEGIN IMMEDIATE").unwrap();
            let release = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                other.execute_batch("COMMIT").unwrap();
            });
            let started = Instant::now();
            conn.execute("INSERT INTO t (id, v) VALUES (2000, 'x')", params![]).await.expect("the write waited");
            assert!(started.elapsed() >= Duration::from_millis(200));
            release.join().unwrap();
            warm(&conn).await;
            let busy = conn.call(|c| Ok(c.busy_timeout())).await.unwrap();
            assert_eq!(busy, Duration::from_secs(10));
            conn.close().await.unwrap();
        });
    });
}

/// log or a reader from seeing a later commit.
#[test]
fn statements_left_mid_run_rebind_and_release_their_snapshot() {
    use asqlite::blocking::Connection;
    let (_dir, path) = temp_db();
    no_hang("statements mid-run", move || {
        let w = Connection::open(&path).unwrap();
        w.execute_batch("PRAGMA journal_mode = wal; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)").unwrap();
        for i in 0..100 {
            w.execute("INSERT INTO t (v) VALUES (?1)", params![format!("v{i}")]).unwrap();
        }
        let r = Connection::open(&path).unwrap();
        let all = "SELECT id FROM t WHERE id > ?1 ORDER BY id";
        let checkpoint = |w: &Connection| -> (i64, i64, i64) {
            w.query_row("PRAGMA wal_checkpoint(TRUNCATE)", params![], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .unwrap()
        };
        for round in 0..20_i64 {
            // First row only.
            let first: i64 = r.prepare_cached(all).unwrap().query_row(params![round], |row| row.get(0)).unwrap();
            assert_eq!(first, round + 1);
            // A cursor dropped after one row.
            {
                let mut stmt = r.prepare_cached(all).unwrap();
                let mut cur = stmt.cursor(params![round]).unwrap();
                assert!(cur.next().unwrap().is_some());
            }
            // A failed step (unique constraint), then the same statement again.
            let ins = "INSERT INTO t (v) VALUES (?1)";
            assert!(w.prepare_cached(ins).unwrap().execute(params!["v0"]).is_err());
            w.prepare_cached(ins).unwrap().execute(params![format!("n{round}")]).unwrap();
            // An interrupted long read, then the same statement again.
            let slow =
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1) SELECT count(*) FROM c";
            let h = r.interrupt_handle();
            let stop = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                h.interrupt();
            });
            let e = r.prepare_cached(slow).unwrap().query_row(params![1_000_000_000_i64], |row| row.get::<i64>(0));
            stop.join().unwrap();
            assert!(e.is_err(), "round {round}: {e:?}");
            let n: i64 = r.prepare_cached(slow).unwrap().query_row(params![10], |row| row.get(0)).unwrap();
            assert_eq!(n, 10);
            // The reader holds no snapshot: the checkpoint truncates the log, and the reader sees the last insert.
            let (busy, log, done) = checkpoint(&w);
            assert_eq!((busy, log, done), (0, 0, 0), "round {round}");
            let last: String = r
                .prepare_cached("SELECT v FROM t ORDER BY id DESC LIMIT 1")
                .unwrap()
                .query_row(params![], |row| row.get(0))
                .unwrap();
            assert_eq!(last, format!("n{round}"));
            let count: i64 =
                r.prepare_cached("SELECT count(*) FROM t").unwrap().query_row(params![], |row| row.get(0)).unwrap();
            assert_eq!(count, 101 + round);
        }
    });
}

/// reads: what the limit allows reads whole (inline or on a worker), what it refuses is TooBig.
#[test]
fn values_around_the_inline_cap_read_as_the_connections_own_limit_allows() {
    let (_dir, path) = temp_db();
    no_hang("values around the cap", move || {
        block_on(async {
            let pool = Pool::builder().readers(2).open(&path).await.unwrap();
            fill(&pool).await;
            for (id, n) in [(2001_i64, 65_535_i64), (2002, 65_536), (2003, 65_537), (2004, 69_999), (2005, 80_000)] {
                pool.execute("INSERT INTO t (id, v) VALUES (?1, zeroblob(?2))", params![id, n]).await.unwrap();
            }
            let read_all = |pool: Pool| async move {
                let mut out = Vec::new();
                for id in 2001..=2005_i64 {
                    warm(&pool).await;
                    out.push(
                        pool.query_row(POINT, params![id], |r| Ok(r.get::<Vec<u8>>(1)?.len()))
                            .await
                            .map_err(|e| e.kind()),
                    );
                }
                out
            };
            let lens = [65_535, 65_536, 65_537, 69_999, 80_000];
            assert_eq!(read_all(pool.clone()).await, lens.map(Ok));
            pool.call_each(|c| {
                c.set_length_limit(70_000);
                Ok(())
            })
            .await
            .unwrap();
            for _ in 0..3 {
                let got = read_all(pool.clone()).await;
                assert_eq!(&got[..4], &lens[..4].iter().map(|n| Ok(*n)).collect::<Vec<_>>()[..]);
                assert_eq!(got[4], Err(asqlite::ErrorKind::TooBig));
            }
            pool.call_each(|c| {
                c.set_length_limit(1_000_000_000);
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(read_all(pool.clone()).await, lens.map(Ok));
            pool.close().await.unwrap();
        });
    });
}
