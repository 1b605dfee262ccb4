//! End-to-end tests of asqlite: one test binary, one module per concern.

mod arrow;
mod attack;
#[cfg(unix)]
mod attack_exclusive;
mod attack_inline;
mod attack_reuse;
mod blocking;
mod checkpoints;
mod common;
mod conn_state;
mod contract;
mod core_input;
#[cfg(unix)]
mod exclusive;
mod faults;
mod fuzz_replay;
mod inline_lease;
mod large_results;
mod lifecycle;
mod load;
mod migrate;
mod mutexes;
mod pool;
mod powers;
mod query_bad_input;
mod regressions;
mod setup;
mod streams;
mod tx_aborted;
mod types;
