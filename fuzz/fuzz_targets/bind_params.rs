#![no_main]
//! Parameter binding: fuzzed values bound positionally or by fuzzed names to fuzzed SQL shapes.

libfuzzer_sys::fuzz_target!(|data: &[u8]| asqlite_tests::fuzz::bind_params(data));
