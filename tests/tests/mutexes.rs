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

/// The bug: asqlite's initialization (run by the first open) installed its mutexes whenever SQLite had not finished
/// initializing, including while another thread was inside `sqlite3_initialize` on SQLite's own mutexes (another
/// library opening its first connection at the same moment). SQLite then finished on a mix: the mutexes it had
/// allocated its own way were entered, left and freed through asqlite's methods, which took them for theirs (the
/// child aborted). SQLite's mutex methods already being set up now means SQLite keeps them.
#[test]
fn asqlite_initializing_while_another_thread_is_inside_sqlite3_initialize_keeps_sqlites_mutexes() {
    assert_eq!(probe("init-race"), "spinning=false rows=2400");
}

/// The bug: asking for a mutex of a kind that does not exist (`sqlite3_mutex_alloc(i32::MIN)`, an application's
/// mistake SQLite's API armor answers with null) overflowed computing the static mutex's index, a panic inside
/// SQLite's callback that aborts the process in a debug build.
#[test]
fn a_mutex_of_a_kind_that_does_not_exist_is_null_not_a_panic() {
    assert_eq!(probe("odd-kinds"), "spinning=true rows=2400");
}
