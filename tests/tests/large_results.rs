//! Large results reuse the buffers of large results dropped before them (the driver keeps one such set): every
//! result must still hold exactly its own rows, whatever the buffers held before, however many columns it has,
//! and wherever the results before it were dropped.

use asqlite::{params, Pool, Row};

use crate::common::temp_db;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

const ROWS: i64 = 30_000;

/// A table whose rows mix every storage class: text of varying length, TEXT that is not UTF-8, blobs, reals and
/// NULLs.
async fn filled(path: &std::path::Path) -> Pool {
    let pool = Pool::builder().readers(2).open(path).await.unwrap();
    pool.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB, r REAL, n);
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 30000)
         INSERT INTO t SELECT i,
             CASE WHEN i % 97 = 0 THEN CAST(x'ff00fe' AS TEXT) ELSE printf('%.*c', i % 23, 'x') || i END,
             CASE WHEN i % 5 = 0 THEN NULL ELSE randomblob(i % 40) END,
             i * 0.25,
             CASE WHEN i % 3 = 0 THEN NULL ELSE i - 7 END
         FROM k;",
    )
    .await
    .unwrap();
    pool
}

/// The rows of `sql` read one by one (no packed buffers involved).
async fn expected(pool: &Pool, sql: &str, from: i64) -> Vec<Row> {
    pool.query_map(sql, params![from], |r| r.to_row()).await.unwrap()
}

async fn packed(pool: &Pool, sql: &str, from: i64) -> Vec<Row> {
    let rows = pool.query_packed(sql, params![from]).await.unwrap();
    rows.iter().map(|r| r.to_row().unwrap()).collect()
}

const QUERIES: [&str; 5] = [
    "SELECT id, s, b, r, n FROM t WHERE id > ?1",
    "SELECT s, id, r FROM t WHERE id > ?1 ORDER BY id DESC",
    "SELECT b FROM t WHERE id > ?1",
    "SELECT n, s FROM t WHERE id > ?1",
    "SELECT id, s || 'tail', length(b), b FROM t WHERE id > ?1",
];

#[test]
fn large_results_after_dropped_large_results_hold_only_their_own_rows() {
    let (_dir, path) = temp_db();
    rt().block_on(async {
        let pool = filled(&path).await;
        for round in 0..3 {
            for (q, sql) in QUERIES.iter().enumerate() {
                let from = i64::try_from(q).unwrap() * 1_000 + round * 3_000;
                let want = expected(&pool, sql, from).await;
                assert!(want.len() > 10_000, "large enough to reuse buffers: {}", want.len());
                assert_eq!(packed(&pool, sql, from).await, want, "{sql} from {from}, round {round}");
            }
        }
        // A small result after large ones, and a large one after a small one.
        assert_eq!(packed(&pool, QUERIES[0], ROWS - 3).await, expected(&pool, QUERIES[0], ROWS - 3).await);
        assert_eq!(packed(&pool, QUERIES[4], 1).await, expected(&pool, QUERIES[4], 1).await);
        pool.close().await.unwrap();
    });
}

#[test]
fn large_results_read_and_dropped_on_many_threads_hold_only_their_own_rows() {
    let (_dir, path) = temp_db();
    let rt = rt();
    let pool = rt.block_on(filled(&path));
    let wants: Vec<Vec<Row>> = QUERIES.iter().map(|sql| rt.block_on(expected(&pool, sql, 500))).collect();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (pool, wants) = (&pool, &wants);
            scope.spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
                let mut kept = Vec::new();
                for i in 0..12 {
                    let q = (t + i) % QUERIES.len();
                    let rows = rt.block_on(pool.query_packed(QUERIES[q], params![500])).unwrap();
                    let got: Vec<Row> = rows.iter().map(|r| r.to_row().unwrap()).collect();
                    assert_eq!(got, wants[q], "thread {t}, query {q}");
                    // Some results are dropped on another thread, some kept a while.
                    if i % 3 == 0 {
                        std::thread::spawn(move || drop(rows)).join().unwrap();
                    } else {
                        kept.push(rows);
                    }
                    if kept.len() > 2 {
                        kept.remove(0);
                    }
                }
                for rows in &kept {
                    assert!(wants.iter().any(|w| rows.iter().map(|r| r.to_row().unwrap()).eq(w.iter().cloned())));
                }
            });
        }
    });
    rt.block_on(pool.close()).unwrap();
}
