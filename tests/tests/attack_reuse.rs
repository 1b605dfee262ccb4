//! Attacks on the reuse of buffers across results and batches: the process-wide spare of large packed results, the
//! per-thread buffers of small ones, the kept chunks of `execute_many` and the per-thread list of `named_params!`
//! rows. Every result must hold exactly its own rows, every batch exactly its own sets, wherever and however the
//! things before them were dropped (other threads, thread-local destructors, panics, cancelled futures).

use std::sync::Arc;
use std::time::Duration;

use asqlite::{named_params, params, Pool, Row, ToSql, Value};
use asqlite_query::prelude::*;
use futures::StreamExt;

use crate::common::{temp_db, within};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// Cells at which a growing result looks for the spare (256 KiB of 16-byte cells).
const LOOK: i64 = 16_384;

/// A table of `LOOK + 100` rows whose values cover every storage class: text (empty, ASCII, non-ASCII, not UTF-8),
/// blobs (empty and not), integers, reals and NULLs.
async fn filled(path: &std::path::Path, readers: usize) -> Pool {
    let pool = Pool::builder().readers(readers).open(path).await.unwrap();
    pool.execute_batch(&format!(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB, r REAL, n, u TEXT, e);
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {})
         INSERT INTO t SELECT i,
             CASE i % 4 WHEN 0 THEN '' WHEN 1 THEN 'é' || i ELSE printf('%.*c', i % 17, 'x') END,
             CASE i % 3 WHEN 0 THEN x'' WHEN 1 THEN NULL ELSE randomblob(i % 9) END,
             i * 0.5,
             CASE WHEN i % 5 = 0 THEN NULL ELSE -i END,
             CASE WHEN i % 7 = 0 THEN CAST(x'ff' AS TEXT) ELSE CAST(x'c3a9ff' || zeroblob(i % 3) AS TEXT) END,
             CASE i % 2 WHEN 0 THEN CAST(x'' AS TEXT) ELSE x'00' END
         FROM k;",
        LOOK + 100
    ))
    .await
    .unwrap();
    pool
}

/// Fill the spare with the buffers of a large result full of other bytes, dropped.
async fn leave_a_dirty_spare(pool: &Pool) {
    let junk = pool
        .query_packed(
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 60000)
             SELECT printf('%040d', i), randomblob(30), i FROM k",
            (),
        )
        .await
        .unwrap();
    assert_eq!(junk.len(), 60_000);
    drop(junk);
}

async fn one_by_one(pool: &Pool, sql: &str, limit: i64) -> Vec<Row> {
    pool.query_map(sql, params![limit], |r| r.to_row()).await.unwrap()
}

async fn packed(pool: &Pool, sql: &str, limit: i64) -> Vec<Row> {
    let rows = pool.query_packed(sql, params![limit]).await.unwrap();
    assert_eq!(rows.iter().len(), rows.len());
    rows.iter().map(|r| r.to_row().unwrap()).collect()
}

/// Results of 1, 3 and 7 columns whose cell count ends just below, at and just past the point where the spare is
/// adopted hold exactly the rows read one by one, with a dirty spare waiting each time.
#[test]
fn results_of_every_width_ending_around_the_adoption_point_hold_their_own_values() {
    let (_dir, path) = temp_db();
    within("results around the adoption point", Duration::from_secs(60), move || {
        rt().block_on(async {
            let pool = filled(&path, 2).await;
            let widths: [(&str, i64); 3] = [("u", 1), ("s, b, u", 3), ("id, s, b, r, n, u, e", 7)];
            for (cols, width) in widths {
                let sql = format!("SELECT {cols} FROM t ORDER BY id LIMIT ?1");
                let at = LOOK / width;
                for limit in [at - 1, at, at + 1, at + 2] {
                    leave_a_dirty_spare(&pool).await;
                    let want = one_by_one(&pool, &sql, limit).await;
                    assert_eq!(i64::try_from(want.len()).unwrap(), limit);
                    assert_eq!(packed(&pool, &sql, limit).await, want, "{cols} limit {limit}");
                }
            }
            pool.close().await.unwrap();
        });
    });
}

/// Non-UTF-8 TEXT read through a result that adopted the spare is the same bytes as read one by one, and a blob
/// or text of zero length stays so.
#[test]
fn non_utf8_text_and_empty_values_survive_adoption() {
    let (_dir, path) = temp_db();
    within("non-UTF-8 after adoption", Duration::from_secs(60), move || {
        rt().block_on(async {
            let pool = filled(&path, 2).await;
            leave_a_dirty_spare(&pool).await;
            let rows = pool.query_packed("SELECT u, e, b FROM t ORDER BY id", ()).await.unwrap();
            assert_eq!(i64::try_from(rows.len()).unwrap(), LOOK + 100);
            let raw: Vec<(Vec<u8>, Vec<u8>)> = pool
                .query_map("SELECT CAST(u AS BLOB), CAST(e AS BLOB) FROM t ORDER BY id", (), |r| {
                    Ok((r.get::<Vec<u8>>(0)?, r.get::<Vec<u8>>(1)?))
                })
                .await
                .unwrap();
            for (i, (row, (u, e))) in rows.iter().zip(&raw).enumerate() {
                let got_u = row.to_row().unwrap();
                let lossy = String::from_utf8_lossy(u).into_owned();
                assert_eq!(got_u.get::<Value>(0).unwrap(), Value::Text(lossy), "row {i}");
                match row.get::<Value>(1).unwrap() {
                    Value::Text(t) => assert!(t.is_empty() && e.is_empty(), "row {i}"),
                    Value::Blob(b) => assert_eq!(&b, e, "row {i}"),
                    other => panic!("row {i}: {other:?}"),
                }
            }
            drop(rows);
            pool.close().await.unwrap();
        });
    });
}

thread_local! {
    static HELD: std::cell::RefCell<Vec<asqlite::PackedRows>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Results dropped while a thread's locals are destroyed and while a panic unwinds, small and large, leave later
/// results on every thread correct.
#[test]
fn results_dropped_in_thread_local_destructors_and_panics_leave_later_results_correct() {
    let (_dir, path) = temp_db();
    within("drops at thread exit and in panics", Duration::from_secs(60), move || {
        let rt = rt();
        let pool = rt.block_on(filled(&path, 2));
        let sql = "SELECT id, s, b, u FROM t WHERE id <= ?1 ORDER BY id";
        let small = rt.block_on(one_by_one(&pool, sql, 3));
        let large = rt.block_on(one_by_one(&pool, sql, 9_000));
        for round in 0..4 {
            let (a, b) =
                (rt.block_on(pool.query_packed(sql, params![3])), rt.block_on(pool.query_packed(sql, params![9_000])));
            let (a, b) = (a.unwrap(), b.unwrap());
            std::thread::spawn(move || {
                let _ = HELD.try_with(|h| h.borrow_mut().extend([a.clone(), b.clone(), a, b]));
            })
            .join()
            .unwrap();
            let (a, b) =
                (rt.block_on(pool.query_packed(sql, params![3])), rt.block_on(pool.query_packed(sql, params![9_000])));
            let (a, b) = (a.unwrap(), b.unwrap());
            let panicked = std::thread::spawn(move || {
                let _keep = (a, b);
                panic!("unwinding with results in scope (round {round})");
            })
            .join();
            assert!(panicked.is_err());
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _keep = rt.block_on(pool.query_packed(sql, params![9_000])).unwrap();
                panic!("unwinding here");
            }));
            assert!(caught.is_err());
            assert_eq!(rt.block_on(packed(&pool, sql, 3)), small, "round {round}");
            assert_eq!(rt.block_on(packed(&pool, sql, 9_000)), large, "round {round}");
        }
        rt.block_on(pool.close()).unwrap();
    });
}

/// More threads than readers scan at once, clone their results, send the clones to other threads to drop while
/// they build results of their own, and stream alongside: every result and stream holds exactly its rows.
#[test]
fn many_threads_scanning_cloning_and_dropping_elsewhere_get_their_own_rows() {
    let (_dir, path) = temp_db();
    within("many threads scanning", Duration::from_secs(120), move || {
        let rt = rt();
        let pool = rt.block_on(filled(&path, 2));
        let sqls = [
            "SELECT id, s, b, r, n, u, e FROM t WHERE id > ?1",
            "SELECT u FROM t WHERE id > ?1",
            "SELECT s, n, b FROM t WHERE id > ?1 ORDER BY id DESC",
            "SELECT id FROM t WHERE id > ?1 AND id < 5",
        ];
        let froms = [0_i64, 4_000, 11_000];
        let wants: Arc<Vec<Vec<Vec<Row>>>> = Arc::new(
            sqls.iter().map(|sql| froms.iter().map(|&f| rt.block_on(one_by_one(&pool, sql, f))).collect()).collect(),
        );
        let (tx, rx) = std::sync::mpsc::channel::<asqlite::PackedRows>();
        let dropper = std::thread::spawn(move || {
            let mut n = 0;
            for r in rx {
                n += r.len();
            }
            n
        });
        std::thread::scope(|scope| {
            for t in 0..6_usize {
                let (pool, wants, tx) = (pool.clone(), Arc::clone(&wants), tx.clone());
                scope.spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    for i in 0..10_usize {
                        let (q, f) = ((t + i) % sqls.len(), (t * 7 + i) % froms.len());
                        if (t + i) % 4 == 0 {
                            let got: Vec<Row> = rt.block_on(
                                pool.stream(sqls[q], params![froms[f]]).map(|r| r.unwrap()).collect::<Vec<Row>>(),
                            );
                            assert_eq!(got, wants[q][f], "stream, thread {t} step {i}");
                            continue;
                        }
                        let rows = rt.block_on(pool.query_packed(sqls[q], params![froms[f]])).unwrap();
                        let copy = rows.clone();
                        assert_eq!(copy, rows);
                        tx.send(rows).unwrap();
                        let got: Vec<Row> = copy.iter().map(|r| r.to_row().unwrap()).collect();
                        assert_eq!(got, wants[q][f], "thread {t} step {i}");
                    }
                });
            }
        });
        drop(tx);
        assert!(dropper.join().unwrap() > 0);
        rt.block_on(pool.close()).unwrap();
    });
}

/// The query layer: results deserialized after large results were dropped, and streams alongside, hold their
/// own rows.
#[test]
fn query_layer_results_and_streams_after_dropped_large_results_hold_their_own_rows() {
    within("query layer results", Duration::from_secs(60), || {
        rt().block_on(async {
            let engine = create_async_engine("sqlite://").await.unwrap();
            let meta = MetaData::new();
            let t = Table::new("t", &meta, [Column::new("a", Integer), Column::new("s", Text), Column::new("b", Blob)]);
            engine.create_all(&meta).await.unwrap();
            let n: i64 = 20_000;
            let conn = engine.begin().await.unwrap();
            let sets = (0..n).map(|i| named_params! {"a" => i, "s" => "x".repeat(usize::try_from(i % 11).unwrap()), "b" => vec![u8::try_from(i % 251).unwrap(); usize::try_from(i % 4).unwrap()]});
            assert_eq!(conn.execute_many(t.insert(), sets).await.unwrap().rows_affected(), 20_000);
            conn.commit().await.unwrap();
            let conn = engine.connect().await.unwrap();
            let want = |lo: i64| -> Vec<(i64, String, Vec<u8>)> {
                (lo..n)
                    .map(|i| {
                        let (s, b) = (usize::try_from(i % 11).unwrap(), usize::try_from(i % 4).unwrap());
                        (i, "x".repeat(s), vec![u8::try_from(i % 251).unwrap(); b])
                    })
                    .collect()
            };
            for lo in [0, 3_000, n - 2, 7_000, 0] {
                let q = select(&t).where_(t.c("a").ge(lo)).order_by(t.c("a"));
                let big = conn.execute(select(&t)).await.unwrap();
                drop(big);
                let rows: Vec<(i64, String, Vec<u8>)> = conn.execute(&q).await.unwrap().deserialize().unwrap();
                assert_eq!(rows, want(lo), "from {lo}");
                let mut stream = conn.stream(&q).await.unwrap();
                let mut k = lo;
                while let Some(row) = stream.next().await {
                    let row = row.unwrap();
                    assert_eq!(row.get::<i64>(0).unwrap(), k);
                    k += 1;
                }
                assert_eq!(k, n);
            }
            engine.dispose().await.unwrap();
        });
    });
}

/// A value whose conversion builds and releases a `named_params!` row of its own, in the middle of the outer row:
/// the outer row keeps exactly its own pairs.
struct Reentrant(i64);

impl ToSql for Reentrant {
    fn to_sql(&self) -> asqlite::Result<Value> {
        let inner = named_params! {"x" => self.0 * 1000, "y" => "inner", "z" => 0.5};
        assert_eq!(inner.len(), 3);
        inner.__release();
        let again = named_params! {"p" => 1, "q" => 2};
        drop(again);
        Ok(Value::Integer(self.0))
    }
}

/// A value whose conversion panics once it is told to.
struct Panicky(i64, bool);

impl ToSql for Panicky {
    fn to_sql(&self) -> asqlite::Result<Value> {
        assert!(!self.1, "to_sql panics for row {}", self.0);
        Ok(Value::Integer(self.0))
    }
}

#[test]
fn named_rows_built_reentrantly_or_released_elsewhere_hold_their_own_pairs() {
    let row = named_params! {"a" => 1, "b" => Reentrant(2), "c" => "three", "d" => Reentrant(4)};
    let names: Vec<&str> = row.names().collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    assert_eq!(row.get_named("b"), Some(&Value::Integer(2)));
    assert_eq!(row.get_named("d"), Some(&Value::Integer(4)));
    assert_eq!(row.get_named("x"), None);
    // Released on another thread: that thread's next row takes it, this one's does not see it.
    let moved = std::thread::spawn(move || {
        row.__release();
        let next = named_params! {"e" => 5, "f" => 6};
        next.named_pairs().iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    assert_eq!(moved, [("e".to_owned(), Value::Integer(5)), ("f".to_owned(), Value::Integer(6))]);
    let here = named_params! {"g" => 7, "h" => 8};
    assert_eq!(here.names().collect::<Vec<_>>(), ["g", "h"]);
    // Built and never released, many times: each holds its own.
    let kept: Vec<_> = (0..100).map(|i| named_params! {"i" => i, "j" => i * 2}).collect();
    for (i, p) in kept.iter().enumerate() {
        let i = i64::try_from(i).unwrap();
        assert_eq!((p.get_named("i"), p.get_named("j")), (Some(&Value::Integer(i)), Some(&Value::Integer(i * 2))));
    }
    // A panic in the middle of a row leaves the next rows whole.
    let caught = std::panic::catch_unwind(|| named_params! {"a" => 1, "b" => Panicky(2, true), "c" => 3});
    assert!(caught.is_err());
    let after = named_params! {"a" => 1, "b" => Panicky(2, false), "c" => 3};
    assert_eq!(after.len(), 3);
    assert_eq!(after.get_named("c"), Some(&Value::Integer(3)));
}

/// `execute_many` of rows whose values build and release rows of their own, and of rows one of which panics
/// while converting: the batch holds exactly its sets, and after the panic the next batch holds exactly its own.
#[test]
fn execute_many_with_reentrant_and_panicking_rows_inserts_exactly_its_sets() {
    within("execute_many with re-entrant rows", Duration::from_secs(60), || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let engine = rt.block_on(create_async_engine("sqlite://")).unwrap();
        let meta = MetaData::new();
        let t = Table::new(
            "t",
            &meta,
            [Column::new("a", Integer), Column::new("b", Integer), Column::new("c", Text), Column::new("d", Integer)],
        );
        rt.block_on(engine.create_all(&meta)).unwrap();
        let n: i64 = 2_500;
        let count = |rt: &tokio::runtime::Runtime| -> Vec<(i64, i64, String, i64)> {
            rt.block_on(async {
                let conn = engine.connect().await.unwrap();
                conn.execute(select(&t).order_by(t.c("a"))).await.unwrap().deserialize().unwrap()
            })
        };
        rt.block_on(async {
            let conn = engine.begin().await.unwrap();
            let sets = (0..n).map(
                |i| named_params! {"a" => i, "b" => Reentrant(i + 1), "c" => format!("c{i}"), "d" => Reentrant(-i)},
            );
            assert_eq!(conn.execute_many(t.insert(), sets).await.unwrap().rows_affected(), 2_500);
            conn.commit().await.unwrap();
        });
        let want: Vec<_> = (0..n).map(|i| (i, i + 1, format!("c{i}"), -i)).collect();
        assert_eq!(count(&rt), want);
        // A row that panics after chunks went to the writer: the batch's rows are rolled back (or never committed).
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                let conn = engine.begin().await.unwrap();
                let sets =
                    (0..n).map(|i| named_params! {"a" => n + i, "b" => Panicky(i, i == 2_100), "c" => "p", "d" => 0});
                let _ = conn.execute_many(t.insert(), sets).await;
                conn.commit().await.unwrap();
            });
        }));
        assert!(caught.is_err());
        assert_eq!(count(&rt), want, "nothing of the panicked batch");
        rt.block_on(async {
            let conn = engine.begin().await.unwrap();
            let sets = (0..n).map(|i| named_params! {"a" => 2 * n + i, "b" => i, "c" => "z", "d" => 1});
            assert_eq!(conn.execute_many(t.insert(), sets).await.unwrap().rows_affected(), 2_500);
            conn.commit().await.unwrap();
        });
        let mut want = want;
        want.extend((0..n).map(|i| (2 * n + i, i, "z".to_owned(), 1)));
        assert_eq!(count(&rt), want);
        rt.block_on(engine.dispose()).unwrap();
    });
}

/// Batches cancelled at every point (the future dropped after 1..k polls, between chunks), each followed at once
/// by a batch run to the end: only the finished batches' rows are there, each exactly once.
#[test]
fn execute_many_cancelled_between_chunks_then_run_again_holds_only_finished_batches() {
    within("cancelled batches", Duration::from_secs(120), || {
        let rt = rt();
        rt.block_on(async {
            let engine = create_async_engine("sqlite://").await.unwrap();
            let meta = MetaData::new();
            let t = Table::new("t", &meta, [Column::new("k", Integer), Column::new("s", Text), Column::new("b", Blob)]);
            engine.create_all(&meta).await.unwrap();
            let n: i64 = 3_500;
            let mut want: Vec<(i64, String, Vec<u8>)> = Vec::new();
            for (round, polls) in [1_usize, 2, 3, 5, 8, 13].into_iter().enumerate() {
                let round = i64::try_from(round).unwrap();
                let conn = engine.begin().await.unwrap();
                {
                    let sets = (0..n).map(|i| named_params! {"k" => -1 - i, "s" => "cancelled".repeat(40), "b" => vec![0xAA_u8; 50]});
                    let mut fut = Box::pin(conn.execute_many(t.insert(), sets));
                    for _ in 0..polls {
                        let ready = futures::future::poll_fn(|cx| {
                            std::task::Poll::Ready(std::future::Future::poll(fut.as_mut(), cx).is_ready())
                        })
                        .await;
                        if ready {
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                    drop(fut);
                }
                conn.rollback().await.unwrap();
                let conn = engine.begin().await.unwrap();
                let sets = (0..n).map(|i| {
                    let k = round * n + i;
                    named_params! {"k" => k, "s" => format!("r{round}-{i}"), "b" => vec![u8::try_from(i % 200).unwrap(); usize::try_from(i % 6).unwrap()]}
                });
                assert_eq!(conn.execute_many(t.insert(), sets).await.unwrap().rows_affected(), 3_500);
                conn.commit().await.unwrap();
                want.extend((0..n).map(|i| {
                    (round * n + i, format!("r{round}-{i}"), vec![u8::try_from(i % 200).unwrap(); usize::try_from(i % 6).unwrap()])
                }));
                let conn = engine.connect().await.unwrap();
                let got: Vec<(i64, String, Vec<u8>)> =
                    conn.execute(select(&t).order_by(t.c("k"))).await.unwrap().deserialize().unwrap();
                assert_eq!(got, want, "after round {round} ({polls} polls)");
            }
            engine.dispose().await.unwrap();
        });
    });
}

/// Column and parameter names of every length from 0 to 40, ASCII and not, that differ from each other in one
/// byte (at every position) or only in length: `Table::c` and `bindparam` find exactly the one named.
#[test]
fn names_of_every_length_differing_in_one_byte_find_their_own_column_and_parameter() {
    within("names of every length", Duration::from_secs(60), || {
        rt().block_on(async {
            let base: Vec<String> = (1..=40_usize)
                .map(|n| {
                    let ascii: String = "abcdefghijklmnopqrstuvwxyz0123456789ABCD".chars().take(n).collect();
                    ascii
                })
                .collect();
            let mut names: Vec<String> = Vec::new();
            for b in &base {
                names.push(b.clone());
                // The same length, one byte changed at the end and at the start.
                let mut last = b.clone().into_bytes();
                *last.last_mut().unwrap() = b'_';
                names.push(String::from_utf8(last).unwrap());
                let mut first = b.clone().into_bytes();
                first[0] = b'Z';
                names.push(String::from_utf8(first).unwrap());
            }
            // Non-ASCII names differing in the last byte of a character, around 8 and 16 bytes.
            for n in [3_usize, 4, 7, 8, 9] {
                names.push("é".repeat(n));
                names.push(format!("{}è", "é".repeat(n - 1)));
            }
            names.sort();
            names.dedup();
            let engine = create_async_engine("sqlite://").await.unwrap();
            let meta = MetaData::new();
            let t = Table::new("t", &meta, names.iter().map(|n| Column::new(n.as_str(), Integer)));
            engine.create_all(&meta).await.unwrap();
            let conn = engine.begin().await.unwrap();
            let cols: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
            let vals: Vec<String> = (0..names.len()).map(|i| i.to_string()).collect();
            conn.execute(text(&format!("INSERT INTO t ({}) VALUES ({})", cols.join(", "), vals.join(", "))))
                .await
                .unwrap();
            conn.commit().await.unwrap();
            let conn = engine.connect().await.unwrap();
            for (i, name) in names.iter().enumerate() {
                let got: i64 = conn.scalar(select(t.c(name))).await.unwrap();
                assert_eq!(got, i64::try_from(i).unwrap(), "column {name:?}");
                // Through a WHERE too (the built select's shape cache compares names).
                let q = select(t.c(name)).where_(t.c(name).eq(bindparam(name)));
                let got: Vec<(i64,)> = conn
                    .execute_with(&q, Params::named([(name.clone(), Value::Integer(i64::try_from(i).unwrap()))]))
                    .await
                    .unwrap()
                    .deserialize()
                    .unwrap();
                assert_eq!(got, [(i64::try_from(i).unwrap(),)], "parameter {name:?}");
            }
            // A name one byte longer or shorter, or with a zero byte, is not a column.
            for name in ["abcdefgh\0", "abcdefg\0", "abcdefghi\0", "\0", "", "abcdefghijklmnop\0", "abcdefghijklmno"] {
                if names.iter().any(|n| n == name) {
                    continue;
                }
                assert!(conn.scalar::<i64, _>(select(t.c(name))).await.is_err(), "{name:?} is no column");
            }
            engine.dispose().await.unwrap();
        });
    });
}

/// Bind parameters of every length 1..40 in one statement, their names differing in one byte: each binds its
/// own value.
#[test]
fn bindparams_of_every_length_bind_their_own_values() {
    within("bindparams of every length", Duration::from_secs(60), || {
        rt().block_on(async {
            let mut names: Vec<String> = Vec::new();
            for n in 1..=40_usize {
                let s: String = (0..n).map(|i| char::from(b'a' + u8::try_from(i % 26).unwrap())).collect();
                let mut other = s.clone().into_bytes();
                other[n / 2] = b'_';
                names.push(s);
                names.push(String::from_utf8(other).unwrap());
            }
            let engine = create_async_engine("sqlite://").await.unwrap();
            let conn = engine.connect().await.unwrap();
            for round in 0..2_i64 {
                let exprs: Vec<Expr> = names.iter().map(|n| bindparam(n)).collect();
                let values = Params::named(
                    names
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (n.clone(), Value::Integer(i64::try_from(i).unwrap() + round))),
                );
                let rows = conn.execute_with(select(exprs), values).await.unwrap();
                let row = rows.rows().first().unwrap();
                for (i, name) in names.iter().enumerate() {
                    assert_eq!(row.get::<i64>(i).unwrap(), i64::try_from(i).unwrap() + round, "{name:?}");
                }
            }
            engine.dispose().await.unwrap();
        });
    });
}

/// A batch streamed in chunks that fills the database (SQLITE_FULL, as a full disk reports) inside a transaction:
/// a clear error, no row of it left behind (the transaction's earlier row kept if SQLite kept the transaction), and
/// the next batch, packed into the kept chunk buffers the failed one used, holds exactly its own rows.
#[test]
fn a_batch_that_fills_the_database_between_chunks_leaves_nothing_and_the_next_holds_its_own_rows() {
    let (_dir, path) = temp_db();
    within("a batch that fills the database", Duration::from_secs(120), move || {
        rt().block_on(async {
            let engine = Engine::from_pool(Pool::open(&path).await.unwrap());
            let meta = MetaData::new();
            let t = Table::new("t", &meta, [Column::new("k", Integer), Column::new("s", Text)]);
            engine.create_all(&meta).await.unwrap();
            let pool = engine.pool().clone();
            let pages: i64 = pool.query_row("PRAGMA page_count", params![], |r| r.get(0)).await.unwrap();
            // Room for about 2,300 of the rows below (over 200 bytes each): the batch fails in its third chunk.
            let page_size: i64 = pool.query_row("PRAGMA page_size", params![], |r| r.get(0)).await.unwrap();
            assert!(120 * page_size / 210 > 1_100, "the batch must fail after its first chunk of 1,024");
            pool.execute_batch(&format!("PRAGMA max_page_count = {}", pages + 120)).await.unwrap();
            let count = select(func::count_star()).select_from(&t);

            let conn = engine.begin().await.unwrap();
            conn.execute_with(t.insert(), named_params! {"k" => 0, "s" => "kept"}).await.unwrap();
            let sets = (1..5_000_i64).map(|k| named_params! {"k" => -k, "s" => "filler ".repeat(30)});
            let err = conn.execute_many(t.insert(), sets).await.unwrap_err();
            assert_eq!(err.driver_kind(), Some(asqlite::ErrorKind::Full), "{err}");
            match conn.scalar::<i64, _>(&count).await {
                Ok(n) => assert_eq!(n, 1, "rows of the failed batch are left, or the earlier row is lost"),
                Err(e) => assert_eq!(e.driver_kind(), Some(asqlite::ErrorKind::TransactionAborted), "{e}"),
            }
            let _ = conn.rollback().await;
            assert_eq!(engine.connect().await.unwrap().scalar::<i64, _>(&count).await.unwrap(), 0);

            pool.execute_batch("PRAGMA max_page_count = 1073741823").await.unwrap();
            let conn = engine.begin().await.unwrap();
            let sets = (0..5_000_i64).map(|k| named_params! {"k" => k, "s" => format!("row {k}")});
            assert_eq!(conn.execute_many(t.insert(), sets).await.unwrap().rows_affected(), 5_000);
            conn.commit().await.unwrap();
            let got: Vec<(i64, String)> = engine
                .connect()
                .await
                .unwrap()
                .execute(select(&t).order_by(t.c("k")))
                .await
                .unwrap()
                .deserialize()
                .unwrap();
            assert_eq!(got, (0..5_000_i64).map(|k| (k, format!("row {k}"))).collect::<Vec<_>>());
            engine.dispose().await.unwrap();
        });
    });
}
