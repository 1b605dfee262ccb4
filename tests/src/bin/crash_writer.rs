//! A child process for the crash-safety test: writes batches through a pool forever and prints `ack <batch> <rows>`
//! after each commit returns. The parent kills it with SIGKILL at a random moment and checks the database.
//! `crash_writer PATH exclusive` opens the pool with `process_exclusive`.

use std::io::Write;

use asqlite::{params, Pool};

fn main() {
    let path = std::env::args().nth(1).expect("usage: crash_writer <database path> [exclusive]");
    let exclusive = std::env::args().nth(2).is_some_and(|a| a == "exclusive");
    futures::executor::block_on(async move {
        let pool = Pool::builder().readers(1).process_exclusive(exclusive).open(&path).await.expect("open");
        pool.execute_batch("CREATE TABLE IF NOT EXISTS batches (batch INTEGER NOT NULL, row INTEGER NOT NULL, size INTEGER NOT NULL, payload BLOB)")
            .await
            .expect("create");
        let start: i64 =
            pool.query_one("SELECT coalesce(max(batch), 0) + 1 FROM batches", params![]).await.unwrap().get(0).unwrap();
        let mut out = std::io::stdout().lock();
        for batch in start.. {
            let size = 1 + batch % 17;
            let payload = vec![u8::try_from(batch % 251).unwrap_or(0); 512];
            let insert = "INSERT INTO batches (batch, row, size, payload) VALUES (?1, ?2, ?3, ?4)";
            if batch % 2 == 0 {
                let tx = pool.begin().await.expect("begin");
                for row in 0..size {
                    tx.execute(insert, params![batch, row, size, payload]).await.expect("insert");
                }
                tx.commit().await.expect("commit");
            } else {
                let sets: Vec<_> = (0..size).map(|row| params![batch, row, size, payload]).collect();
                pool.execute_many(insert, sets).await.expect("execute_many");
            }
            writeln!(out, "ack {batch} {size}").and_then(|()| out.flush()).expect("stdout");
        }
    });
}
