//! A child process that opens pools whose connection setup fails (an `on_connect` hook that errs on a reader or
//! panics on the writer, a pragma SQLite refuses), many times, and prints its threads and open files before and
//! after: `setup_probe <database>` prints `threads <before> <after> files <before> <after>`. A process of its own,
//! so no other test's threads count.

use std::time::{Duration, Instant};

use asqlite::{blocking, ErrorKind, Pool};

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

fn files() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: setup_probe <database>");
        std::process::exit(2);
    };
    // The hooks below panic on purpose: keep their messages out of the test's output.
    std::panic::set_hook(Box::new(|_| {}));
    futures::executor::block_on(async {
        let pool = Pool::open(&path).await.expect("open");
        pool.close().await.expect("close");
    });
    let (threads_before, files_before) = (threads(), files());
    futures::executor::block_on(async {
        for _ in 0..20 {
            let e = Pool::builder()
                .readers(3)
                .on_connect(|c: &mut blocking::Connection| {
                    if c.is_readonly() && std::thread::current().name().is_some_and(|n| n.ends_with("reader-2")) {
                        return c.execute_batch("SELECT * FROM no_such_table");
                    }
                    Ok(())
                })
                .open(&path)
                .await
                .expect_err("a hook that fails on reader 2");
            assert!(e.to_string().contains("reader 2"), "{e}");

            let e = Pool::builder()
                .readers(2)
                .on_connect(|c: &mut blocking::Connection| {
                    if !c.is_readonly() {
                        panic!("boom");
                    }
                    Ok(())
                })
                .open(&path)
                .await
                .expect_err("a hook that panics on the writer");
            assert_eq!(e.kind(), ErrorKind::Panicked, "{e}");

            let e = Pool::builder()
                .readers(2)
                .pragma("no_such_schema.cache_size", 10)
                .open(&path)
                .await
                .expect_err("a pragma SQLite refuses");
            assert!(e.to_string().contains("no_such_schema"), "{e}");
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while (threads() > threads_before || files() > files_before) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("threads {threads_before} {} files {files_before} {}", threads(), files());
}
