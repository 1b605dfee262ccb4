//! A child process that drops `Pool::open` and `create_async_engine` futures part-way, many times, and prints its
//! threads and open files before and after: `open_cancel_probe <database>` prints
//! `threads <before> <after> files <before> <after>`. A process of its own, so no other test's threads count.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

fn files() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

/// Poll `fut` `polls` times (letting the workers move between polls), then drop it. Whether it finished or not
/// is what the probe varies; a finished open's pool is dropped too.
fn poll_then_drop<F: Future>(fut: F, polls: usize) {
    let mut fut = Box::pin(fut);
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for _ in 0..polls {
        if let Poll::Ready(out) = Pin::as_mut(&mut fut).poll(&mut cx) {
            drop(out);
            return;
        }
        std::thread::sleep(Duration::from_micros(300));
    }
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: open_cancel_probe <database>");
        std::process::exit(2);
    };
    // Create the database once, so the opens below do the same work every time.
    futures::executor::block_on(async {
        let pool = asqlite::Pool::open(&path).await.expect("open");
        pool.close().await.expect("close");
    });
    let (threads_before, files_before) = (threads(), files());
    let url = format!("sqlite:///{path}");
    for round in 0..60 {
        let polls = round % 6;
        poll_then_drop(asqlite::Pool::builder().readers(4).open(&path), polls);
        poll_then_drop(asqlite_query::create_async_engine(&url), polls);
    }
    // The workers of an abandoned open stop on their own once they have opened; give them time.
    let deadline = Instant::now() + Duration::from_secs(20);
    while (threads() > threads_before || files() > files_before) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("threads {threads_before} {} files {files_before} {}", threads(), files());
}
