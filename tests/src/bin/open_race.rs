//! A child process that opens pools on new files at given moments, so that several of them race to switch each
//! file to WAL: `open_race <dir> <start: Unix time in ms> <files>` opens `<dir>/race-<k>.db` at the start plus
//! 50 ms times k, for each k below `files`, and exits with an error at the first open that fails.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(start), Some(files)) =
        (args.next(), args.next().and_then(|s| s.parse::<u64>().ok()), args.next().and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("usage: open_race <dir> <start-unix-ms> <files>");
        std::process::exit(2);
    };
    for k in 0..files {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let at = Duration::from_millis(start + 50 * k);
        if at > now {
            std::thread::sleep(at - now);
        }
        let path = std::path::Path::new(&dir).join(format!("race-{k}.db"));
        let opened = futures::executor::block_on(async {
            let pool = asqlite::Pool::builder().readers(1).open(&path).await?;
            pool.execute_batch("CREATE TABLE IF NOT EXISTS t (x)").await?;
            pool.close().await
        });
        if let Err(e) = opened {
            eprintln!("open {k} failed: {e}");
            std::process::exit(1);
        }
    }
}
