//! A child process for permission faults, run as an unprivileged user (root ignores file permissions).
//! `fault_probe <scenario> <database>` prints one line: `ok ...` or `err <ErrorKind> <message>`.

use asqlite::{params, Pool};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(scenario), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: fault_probe <open|read_only_read> <database>");
        std::process::exit(2);
    };
    let out = futures::executor::block_on(async {
        match scenario.as_str() {
            // Open a pool for writing and write.
            "open" => {
                let pool = Pool::open(&path).await?;
                pool.execute("INSERT INTO t VALUES (1)", params![]).await?;
                pool.close().await?;
                Ok("wrote".to_owned())
            }
            // Open read-only and read.
            "read_only_read" => {
                let pool = Pool::builder().read_only(true).open(&path).await?;
                let n: i64 = pool.query_one("SELECT count(*) FROM t", params![]).await?.get(0)?;
                let write = pool.execute("INSERT INTO t VALUES (2)", params![]).await;
                pool.close().await?;
                Ok(format!("read {n}; write {}", write.map_or_else(|e| format!("{:?}", e.kind()), |_| "ok".into())))
            }
            other => Err(asqlite::Error::new(asqlite::ErrorKind::InvalidInput, format!("unknown scenario {other}"))),
        }
    });
    match out {
        Ok(s) => println!("ok {s}"),
        Err(e) => println!("err {:?} {e}", e.kind()),
    }
}
