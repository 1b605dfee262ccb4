//! A child process for the contention test: `contender <database> <increments>` adds 1 to the counter row that
//! many times through a pool (plain writes and transactions alternating) and exits non-zero on any error.

use asqlite::{params, Pool};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<u32>().ok())) else {
        eprintln!("usage: contender <database> <increments>");
        std::process::exit(2);
    };
    let result = futures::executor::block_on(async move {
        let pool = Pool::open(&path).await?;
        for i in 0..n {
            if i % 2 == 0 {
                pool.execute("UPDATE counter SET n = n + 1 WHERE id = 1", params![]).await?;
            } else {
                let tx = pool.begin().await?;
                tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1", params![]).await?;
                tx.commit().await?;
            }
        }
        pool.close().await
    });
    if let Err(e) = result {
        eprintln!("contender failed: {e}");
        std::process::exit(1);
    }
}
