//! A child process for `tests/tests/exclusive.rs`: another program using the same database file, with SQLite's
//! default locking and no busy timeout.
//!
//! `read PATH`: opens the file, counts the rows of `t` and prints `read <n>`, or `error <kind>` when it cannot.
//! `hold PATH`: opens the file, reads it (which takes its shared lock), prints `holding` and keeps the file open
//! until its standard input closes.

use std::io::{BufRead, Write};
use std::time::Duration;

use asqlite::blocking::OpenOptions;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mode, path) = (args.next().expect("mode"), args.next().expect("path"));
    let opened = OpenOptions::new().create(false).busy_timeout(Duration::ZERO).open(&path);
    let mut conn = match opened {
        Ok(conn) => conn,
        Err(e) => {
            println!("error {:?}", e.kind());
            return;
        }
    };
    let count = conn.query_row("SELECT count(*) FROM t", (), |r| r.get::<i64>(0));
    match (mode.as_str(), count) {
        (_, Err(e)) => println!("error {:?}", e.kind()),
        ("read", Ok(n)) => println!("read {n}"),
        ("hold", Ok(_)) => {
            // A read transaction held open: the file stays locked whatever the journal mode.
            let tx = conn.transaction().expect("begin");
            tx.query_row("SELECT count(*) FROM t", (), |r| r.get::<i64>(0)).expect("read in the transaction");
            println!("holding");
            std::io::stdout().flush().expect("flush");
            for _ in std::io::stdin().lock().lines() {}
            drop(tx);
        }
        (other, _) => panic!("unknown mode {other}"),
    }
}
