//! A child process for `tests/tests/mutexes.rs`: opens a pool in a fresh process, either as the first user of
//! SQLite (`asqlite-first`: asqlite installs its spinning mutexes) or after another library initialized SQLite
//! (`other-first`: SQLite keeps its own), then reads and writes from several threads at once and checks every row.
//! Prints `spinning=<bool> rows=<n>`.
//!
//! `odd-kinds`: as `asqlite-first`, after asking SQLite for mutexes of kinds that do not exist.
//!
//! `init-race`: another thread is inside `sqlite3_initialize` (held there by a page cache whose `xInit` waits) when
//! asqlite's initialization runs, as when another library opens its first connection on another thread while
//! asqlite opens its first pool: SQLite has set up its own mutexes by then, so asqlite must leave them in place.

use std::ffi::{c_int, c_void};
use std::sync::{Condvar, Mutex, OnceLock};

use asqlite::{libsqlite3_sys as ffi, params, Pool};

/// SQLite's own page cache, which the waiting one hands on to.
struct DefaultCache(ffi::sqlite3_pcache_methods2);

// SAFETY: SQLite's default page-cache methods: function pointers and a null argument, shared read-only.
#[allow(unsafe_code)]
unsafe impl Sync for DefaultCache {}
// SAFETY: as for `Sync`.
#[allow(unsafe_code)]
unsafe impl Send for DefaultCache {}

static DEFAULT_CACHE: OnceLock<DefaultCache> = OnceLock::new();

/// 0: nothing yet; 1: `sqlite3_initialize` is in the page cache's `xInit`; 2: the other thread is done.
static STAGE: (Mutex<u8>, Condvar) = (Mutex::new(0), Condvar::new());

fn set_stage(n: u8) {
    *STAGE.0.lock().unwrap() = n;
    STAGE.1.notify_all();
}

fn wait_stage(n: u8) {
    let mut g = STAGE.0.lock().unwrap();
    while *g < n {
        g = STAGE.1.wait(g).unwrap();
    }
}

/// A page cache `xInit` that waits, inside `sqlite3_initialize`, for the other thread.
#[allow(unsafe_code)]
unsafe extern "C" fn waiting_init(arg: *mut c_void) -> c_int {
    set_stage(1);
    wait_stage(2);
    let init = DEFAULT_CACHE.get().and_then(|d| d.0.xInit).expect("the default page cache");
    // SAFETY: SQLite's own xInit, with the argument SQLite passed.
    unsafe { init(arg) }
}

#[allow(unsafe_code)]
fn main() {
    let mut args = std::env::args().skip(1);
    let (mode, path) = (args.next().expect("mode"), args.next().expect("database path"));
    let spinning = match mode.as_str() {
        "asqlite-first" => asqlite::initialize(),
        "odd-kinds" => {
            // An application asking SQLite for mutexes of kinds that do not exist: SQLite (built with API armor)
            // answers null, and so must asqlite's methods, without panicking.
            let spinning = asqlite::initialize();
            for kind in [c_int::MIN, c_int::MIN + 1, -2, -1, 14, 15, 1000, c_int::MAX] {
                // SAFETY: sqlite3_mutex_alloc takes any kind; a null answer needs no free.
                let m = unsafe { ffi::sqlite3_mutex_alloc(kind) };
                assert!(m.is_null(), "a mutex of kind {kind}");
            }
            for kind in [ffi::SQLITE_MUTEX_FAST, ffi::SQLITE_MUTEX_RECURSIVE] {
                // SAFETY: a dynamic mutex, entered, left and freed once by this thread.
                unsafe {
                    let m = ffi::sqlite3_mutex_alloc(kind);
                    assert!(!m.is_null());
                    ffi::sqlite3_mutex_enter(m);
                    assert_eq!(ffi::sqlite3_mutex_try(m), ffi::SQLITE_OK, "mutexes are reentrant");
                    ffi::sqlite3_mutex_leave(m);
                    ffi::sqlite3_mutex_leave(m);
                    ffi::sqlite3_mutex_free(m);
                }
            }
            spinning
        }
        "other-first" => {
            // What rusqlite or any other library does when it opens a connection first.
            // SAFETY: no other thread uses SQLite yet.
            assert_eq!(unsafe { ffi::sqlite3_initialize() }, ffi::SQLITE_OK);
            asqlite::initialize()
        }
        "init-race" => {
            // SAFETY: no other thread uses SQLite yet; the methods are plain data SQLite copies.
            let mut cache: ffi::sqlite3_pcache_methods2 = unsafe { std::mem::zeroed() };
            // SAFETY: as above; GETPCACHE2 writes the default methods into `cache`.
            assert_eq!(unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETPCACHE2, &mut cache) }, ffi::SQLITE_OK);
            let mut waiting = cache;
            waiting.xInit = Some(waiting_init);
            assert!(DEFAULT_CACHE.set(DefaultCache(cache)).is_ok());
            // SAFETY: as above; SQLite copies the methods.
            assert_eq!(unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_PCACHE2, &waiting) }, ffi::SQLITE_OK);
            let other = std::thread::spawn(|| {
                wait_stage(1);
                let spinning = asqlite::initialize();
                set_stage(2);
                spinning
            });
            // SAFETY: SQLite's own initialization; the other thread only configures.
            assert_eq!(unsafe { ffi::sqlite3_initialize() }, ffi::SQLITE_OK);
            other.join().unwrap()
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
