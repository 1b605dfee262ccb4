//! End-to-end tests of asqlite: one test binary, one module per concern.

mod blocking;
mod common;
mod contract;
mod core_input;
mod faults;
mod fuzz_replay;
mod load;
mod pool;
mod query_bad_input;
mod regressions;
