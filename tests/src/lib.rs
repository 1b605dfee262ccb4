//! Support code for the end-to-end tests: fuzz entry points shared with the fuzz targets in `fuzz/`.

pub mod fuzz;
pub mod fuzz_query;
