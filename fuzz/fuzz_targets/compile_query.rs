#![no_main]
//! The query compiler: statements built from fuzzed schemas and expressions compile to SQL that prepares on
//! SQLite with the right parameter count, or to a clean error.

libfuzzer_sys::fuzz_target!(|data: &[u8]| asqlite_tests::fuzz_query::compile_query(data));
