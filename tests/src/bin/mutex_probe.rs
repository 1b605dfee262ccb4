//! A child process for `tests/tests/mutexes.rs`: opens a pool in a fresh process, either as the first user of
//! SQLite (`asqlite-first`: asqlite installs its spinning mutexes) or after another library initialized SQLite
//! (`other-first`: SQLite keeps its own), then reads and writes from several threads at once and checks every row.
//! Prints `spinning=<bool> rows=<n>`.

use asqlite::{libsqlite3_sys as ffi, params, Pool};

#[allow(unsafe_code)]
fn main() {
    let mut args = std::env::args().skip(1);
    let (mode, path) = (args.next().expect("mode"), args.next().expect("database path"));
    let spinning = match mode.as_str() {
        "asqlite-first" => asqlite::initialize(),
        "other-first" => {
            // What rusqlite or any other library does when it opens a connection first.
            // SAFETY: no other thread uses SQLite yet.
            assert_eq!(unsafe { ffi::sqlite3_initialize() }, ffi::SQLITE_OK);
            asqlite::initialize()
        }
        other => panic!("unknown mode {other}"),
    };
    let rows = futures::executor::block_on(async {
        let pool = Pool::builder().readers(3).open(&path).await.unwrap();
        pool.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)").await.unwrap();
        let threads: Vec<_> = (0..8_i64)
            .map(|t| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    futures::executor::block_on(async {
                        for i in 0..300_i64 {
                            let id = t * 1000 + i;
                            pool.execute("INSERT INTO t (id, n) VALUES (?1, ?2)", params![id, i]).await.unwrap();
                            let point = "SELECT n FROM t WHERE id = ?1";
                            let n: i64 = pool.query_row(point, params![id], |r| r.get(0)).await.unwrap();
                            assert_eq!(n, i);
                            let range = "SELECT n FROM t WHERE id > ?1 LIMIT 5";
                            assert!(!pool
                                .query_map(range, params![id - 3], |r| r.get::<i64>(0))
                                .await
                                .unwrap()
                                .is_empty());
                        }
                    });
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let rows: i64 = pool.query_row("SELECT count(*) FROM t", params![], |r| r.get(0)).await.unwrap();
        pool.close().await.unwrap();
        rows
    });
    println!("spinning={spinning} rows={rows}");
}
