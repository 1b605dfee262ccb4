//! SQLite's mutexes (`asqlite::initialize`): asqlite gives SQLite mutexes that spin before they sleep when it is
//! the first to use SQLite in a process, and leaves SQLite's own in place when another library got there first.
//! Either way every read and write from many threads at once lands. Each case runs in a fresh child process
//! (`tests/src/bin/mutex_probe.rs`), since the choice is made once per process.

use crate::common::temp_db;

fn probe(mode: &str) -> String {
    let (_dir, path) = temp_db();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mutex_probe")).arg(mode).arg(&path).output().unwrap();
    assert!(out.status.success(), "{mode}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn asqlite_first_in_a_process_runs_sqlite_on_spinning_mutexes_and_loses_nothing_under_threads() {
    assert_eq!(probe("asqlite-first"), "spinning=true rows=2400");
}

#[test]
fn after_another_library_initialized_sqlite_asqlite_keeps_sqlites_mutexes_and_works() {
    assert_eq!(probe("other-first"), "spinning=false rows=2400");
}

#[test]
fn initialize_gives_the_same_answer_every_time() {
    let first = asqlite::initialize();
    assert_eq!(asqlite::initialize(), first);
    // This test binary opens its pools through asqlite before anything else uses SQLite.
    assert!(first, "asqlite was not the first to use SQLite in the test process");
}
