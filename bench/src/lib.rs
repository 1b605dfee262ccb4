//! # asqlite-bench
//!
//! Benchmarks of the asqlite stack against the synchronous floor (rusqlite, same bundled SQLite) and the async
//! crates people use (tokio-rusqlite, async-sqlite, sqlx).
//!
//! Every contender runs the same [`Workload`]s on the same [`Fixture`]: a file database in WAL mode with
//! `synchronous = NORMAL` and a 100k-row `cars` table (plus a 1M-row copy for streaming). A [`Contender`] times
//! only the measured part of a batch and returns a [`Sample`] with its wall time, process CPU time, operation count
//! and a checksum of what it read, so that the harnesses can check that every contender did the same work.
//!
//! Two harnesses use this library: the criterion benches in `benches/` (`cargo bench -p asqlite-bench`) and the
//! `report` binary (`cargo run --release -p asqlite-bench --bin report`), which alternates contenders over several
//! rounds and prints ratios against rusqlite, CPU per operation and peak memory.
//!
//! ## Adding a contender
//!
//! Add a variant to [`Kind`], give it a name and a group in [`Kind::groups`], and open it in [`Kind::open`] from a
//! module under `contenders/` that implements [`Contender`]. The query layer's `Engine` (`asqlite-engine`) is one,
//! in the `sync_vs_async` group; the report also checks its point throughput against the `Pool`'s.

pub mod contender;
mod contenders;
pub mod data;
pub mod measure;
pub mod report;
pub mod svg;

pub use contender::{Contender, Group, Kind, Options, Sample, Workload};
/// The arrow workload and its contenders (the report's `--workloads arrow`).
pub use contenders::arrow;
pub use data::{Car, Fixture, NewCar, Sizes};

/// Errors of the harness: any error of any contender, boxed.
pub type Error = Box<dyn std::error::Error + Send + Sync + 'static>;
/// The harness's result.
pub type Result<T> = std::result::Result<T, Error>;
