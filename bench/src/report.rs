//! The report's bookkeeping and its markdown tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::median;
use crate::svg::{BarGroup, Chart};
use crate::{Kind, Sample, Workload};

/// Every sample of one contender on one workload.
#[derive(Debug, Default, Clone)]
pub struct Cell {
    /// Operations per second of each batch.
    pub rates: Vec<f64>,
    /// CPU time over every batch.
    pub cpu: Duration,
    /// Operations over every batch.
    pub ops: u64,
}

impl Cell {
    /// The median operations per second.
    pub fn median(&self) -> Option<f64> {
        median(&mut self.rates.clone())
    }

    /// CPU time per operation, in microseconds.
    pub fn cpu_per_op_us(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.ops > 0).then(|| self.cpu.as_secs_f64() * 1e6 / self.ops as f64)
    }
}

/// Peak memory of one contender, in KiB above the resident size before the workload.
#[derive(Debug, Default, Clone, Copy)]
pub struct Memory {
    /// Streaming every row of the big table.
    pub stream_kib: Option<u64>,
    /// Collecting them into a `Vec`.
    pub collect_kib: Option<u64>,
}

/// CPU a pool used while idle after a burst of queries.
#[derive(Debug, Clone)]
pub struct Idle {
    /// What was measured.
    pub label: String,
    /// (window, CPU time used in it).
    pub windows: Vec<(String, Duration)>,
}

/// How point reads scale over threads on this machine, with rusqlite and no async layer: the ceiling of `point64`.
#[derive(Debug, Clone, Copy)]
pub struct Parallel {
    /// Threads (each with its own connection) in the second measurement.
    pub threads: usize,
    /// Median point queries per second, one thread.
    pub one: f64,
    /// Median point queries per second, all threads together.
    pub many: f64,
}

/// The query layer's targets: a contender's throughput on a workload, as a ratio of the driver's `Pool` in the same
/// run (what the query layer costs over the driver).
pub const QUERY_TARGETS: [(&str, Kind, Workload, f64); 4] = [
    ("query layer point (asqlite-engine, ratio of asqlite-pool)", Kind::Engine, Workload::Point, 0.9),
    (
        "query layer point built per call (asqlite-engine-built, ratio of asqlite-pool)",
        Kind::EngineBuilt,
        Workload::Point,
        0.9,
    ),
    ("query layer insert of named rows (asqlite-engine, ratio of asqlite-pool)", Kind::Engine, Workload::Insert, 0.9),
    ("query layer scan into serde structs (asqlite-engine, ratio of asqlite-pool)", Kind::Engine, Workload::Scan, 0.9),
];

/// The query layer's memory target: collecting the big table through the engine, at most this times the pool's.
pub const QUERY_COLLECT_MEMORY_TARGET: f64 = 1.2;

/// Everything the report measured.
#[derive(Debug, Default)]
pub struct Results {
    /// The contenders in table order.
    pub kinds: Vec<Kind>,
    /// The workloads in table order.
    pub workloads: Vec<Workload>,
    /// Samples by contender and workload.
    pub cells: BTreeMap<(Kind, Workload), Cell>,
    /// Peak memory by contender.
    pub memory: BTreeMap<Kind, Memory>,
    /// Idle CPU measurements.
    pub idle: Vec<Idle>,
    /// The parallel-read ceiling, when measured.
    pub parallel: Option<Parallel>,
}

/// A rate with a metric suffix: `812`, `45.3k`, `1.21M`.
pub fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn mib(kib: Option<u64>) -> String {
    #[allow(clippy::cast_precision_loss)]
    kib.map_or_else(|| "n/a".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

impl Results {
    /// Record one batch.
    pub fn add(&mut self, kind: Kind, workload: Workload, sample: &Sample) {
        let cell = self.cells.entry((kind, workload)).or_default();
        cell.rates.push(sample.ops_per_sec());
        cell.cpu += sample.cpu;
        cell.ops += sample.ops;
    }

    /// The median rate of a contender on a workload.
    pub fn median(&self, kind: Kind, workload: Workload) -> Option<f64> {
        self.cells.get(&(kind, workload)).and_then(Cell::median)
    }

    /// A contender's median rate as a ratio of rusqlite's.
    pub fn ratio(&self, kind: Kind, workload: Workload) -> Option<f64> {
        Some(self.median(kind, workload)? / self.median(Kind::Rusqlite, workload)?)
    }

    /// A contender's throughput on a workload as a ratio of the driver's `Pool` (the query layer's targets).
    pub fn ratio_of_pool(&self, kind: Kind, workload: Workload) -> Option<f64> {
        Some(self.median(kind, workload)? / self.median(Kind::Pool, workload)?)
    }

    /// The engine's peak memory collecting the big table, as a ratio of the pool's.
    pub fn collect_memory_ratio(&self) -> Option<f64> {
        let kib = |k: Kind| self.memory.get(&k).and_then(|m| m.collect_kib);
        // KiB counts far below 2^52: exact as f64.
        #[allow(clippy::cast_precision_loss)]
        Some(kib(Kind::Engine)? as f64 / kib(Kind::Pool)?.max(1) as f64)
    }

    /// The markdown tables.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let header = |s: &mut String, first: &str| {
            let _ = write!(s, "| {first} |");
            for w in &self.workloads {
                let _ = write!(s, " {} |", w.name());
            }
            s.push_str("\n|---|");
            for _ in &self.workloads {
                s.push_str("---:|");
            }
            s.push('\n');
        };

        s.push_str("**Throughput**: median operations per second (rows for insert, scan and stream; queries for point and point64), and the ratio of rusqlite's.\n\n");
        header(&mut s, "contender");
        for &k in &self.kinds {
            let _ = write!(s, "| {} |", k.name());
            for &w in &self.workloads {
                match (self.median(k, w), self.ratio(k, w)) {
                    (Some(m), Some(r)) => {
                        let _ = write!(s, " {} ({r:.2}) |", si(m));
                    }
                    (Some(m), None) => {
                        let _ = write!(s, " {} |", si(m));
                    }
                    _ => s.push_str(" – |"),
                }
            }
            s.push('\n');
        }

        s.push_str("\n**CPU time per operation** (µs of process user + system time, all threads, over the measured batches).\n\n");
        header(&mut s, "contender");
        for &k in &self.kinds {
            let _ = write!(s, "| {} |", k.name());
            for &w in &self.workloads {
                match self.cells.get(&(k, w)).and_then(Cell::cpu_per_op_us) {
                    Some(us) if us >= 10.0 => {
                        let _ = write!(s, " {us:.1} |");
                    }
                    Some(us) => {
                        let _ = write!(s, " {us:.2} |");
                    }
                    None => s.push_str(" – |"),
                }
            }
            s.push('\n');
        }

        let targets: Vec<Workload> = self.workloads.iter().copied().filter(|w| w.target().is_some()).collect();
        if self.kinds.contains(&Kind::Pool) && !targets.is_empty() {
            s.push_str("\n**Targets** (asqlite's `Pool`, ratio of rusqlite).\n\n| workload | target | measured | met |\n|---|---:|---:|---|\n");
            for w in targets {
                let target = w.target().unwrap_or(0.0);
                match self.ratio(Kind::Pool, w) {
                    Some(r) => {
                        let _ = writeln!(
                            s,
                            "| {} | >= {target:.1} | {r:.2} | {} |",
                            w.name(),
                            if r >= target { "yes" } else { "no" }
                        );
                    }
                    None => {
                        let _ = writeln!(s, "| {} | >= {target:.1} | – | – |", w.name());
                    }
                }
            }
            for (label, kind, workload, target) in QUERY_TARGETS {
                if !self.kinds.contains(&kind) || !self.workloads.contains(&workload) {
                    continue;
                }
                match self.ratio_of_pool(kind, workload) {
                    Some(r) => {
                        let _ = writeln!(
                            s,
                            "| {label} | >= {target:.1} | {r:.2} | {} |",
                            if r >= target { "yes" } else { "no" }
                        );
                    }
                    None => {
                        let _ = writeln!(s, "| {label} | >= {target:.1} | – | – |");
                    }
                }
            }
            if let Some(r) = self.collect_memory_ratio() {
                let target = QUERY_COLLECT_MEMORY_TARGET;
                let _ = writeln!(
                    s,
                    "| query layer collect memory (asqlite-engine, ratio of asqlite-pool) | <= {target:.1} | {r:.2} | {} |",
                    if r <= target { "yes" } else { "no" }
                );
            }
        }

        if !self.memory.is_empty() {
            s.push_str("\n**Peak memory**: growth of the resident high-water mark over the resident size before the workload, every row of the big table read, each contender in its own process.\n\n| contender | stream | collect into a Vec |\n|---|---:|---:|\n");
            for (k, m) in &self.memory {
                let _ = writeln!(s, "| {} | {} | {} |", k.name(), mib(m.stream_kib), mib(m.collect_kib));
            }
        }

        if let Some(p) = self.parallel {
            let _ = write!(
                s,
                "\n**Parallel reads** (the ceiling of `point64`): rusqlite point queries on 1 thread and on {} threads, each \
                 thread with its own connection to the same file.\n\n| threads | queries/s | ratio of 1 thread |\n|---|---:|---:|\n\
                 | 1 | {} | 1.00 |\n| {} | {} | {:.2} |\n",
                p.threads,
                si(p.one),
                p.threads,
                si(p.many),
                p.many / p.one
            );
        }

        if !self.idle.is_empty() {
            s.push_str("\n**Idle CPU**: process CPU time after a burst of queries, while the pool sits idle (the first window also \
                holds CPU the burst used just before it: the kernel adds a running thread's time at its next tick).\n\n");
            if let Some(first) = self.idle.first() {
                s.push_str("| pool |");
                for (w, _) in &first.windows {
                    let _ = write!(s, " {w} |");
                }
                s.push_str("\n|---|");
                for _ in &first.windows {
                    s.push_str("---:|");
                }
                s.push('\n');
            }
            for i in &self.idle {
                let _ = write!(s, "| {} |", i.label);
                for (_, d) in &i.windows {
                    let _ = write!(s, " {} µs |", d.as_micros());
                }
                s.push('\n');
            }
        }
        s
    }

    /// The chart of ratios.
    pub fn chart(&self, title: &str) -> Chart {
        Chart {
            title: title.to_owned(),
            y_label: "throughput, ratio of rusqlite".to_owned(),
            series: self.kinds.iter().map(|k| k.name().to_owned()).collect(),
            groups: self
                .workloads
                .iter()
                .map(|&w| BarGroup {
                    label: w.name().to_owned(),
                    values: self.kinds.iter().map(|&k| self.ratio(k, w)).collect(),
                    target: w.target(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ops: u64, millis: u64) -> Sample {
        Sample { elapsed: Duration::from_millis(millis), cpu: Duration::from_millis(millis), ops, checksum: 0 }
    }

    #[test]
    fn ratios_are_of_rusqlite_medians() {
        let mut r =
            Results { kinds: vec![Kind::Rusqlite, Kind::Pool], workloads: vec![Workload::Point], ..Default::default() };
        for ms in [10, 20, 30] {
            r.add(Kind::Rusqlite, Workload::Point, &sample(1000, ms));
        }
        r.add(Kind::Pool, Workload::Point, &sample(1000, 40));
        let ratio = r.ratio(Kind::Pool, Workload::Point).unwrap();
        assert!((ratio - 0.5).abs() < 1e-9, "{ratio}");
        let md = r.markdown();
        assert!(md.contains("| asqlite-pool | 25.0k (0.50) |"), "{md}");
        assert!(md.contains("| point | >= 0.9 | 0.50 | no |"), "{md}");
    }

    #[test]
    fn the_engine_point_target_is_of_the_pool() {
        let mut r = Results {
            kinds: vec![Kind::Rusqlite, Kind::Pool, Kind::Engine],
            workloads: vec![Workload::Point],
            ..Default::default()
        };
        r.add(Kind::Rusqlite, Workload::Point, &sample(1000, 10));
        r.add(Kind::Pool, Workload::Point, &sample(1000, 20));
        r.add(Kind::Engine, Workload::Point, &sample(1000, 25));
        let ratio = r.ratio_of_pool(Kind::Engine, Workload::Point).unwrap();
        assert!((ratio - 0.8).abs() < 1e-9, "{ratio}");
        let md = r.markdown();
        assert!(
            md.contains("| query layer point (asqlite-engine, ratio of asqlite-pool) | >= 0.9 | 0.80 | no |"),
            "{md}"
        );
    }

    /// Every query-layer target is a ratio of the pool in the same run: built point, insert and scan rows appear
    /// when their contender and workload ran, and collect memory when both were measured.
    #[test]
    fn the_query_layer_targets_are_of_the_pool() {
        let mut r = Results {
            kinds: vec![Kind::Pool, Kind::Engine, Kind::EngineBuilt],
            workloads: vec![Workload::Point, Workload::Insert],
            ..Default::default()
        };
        for (k, ms) in [(Kind::Pool, 10), (Kind::Engine, 11), (Kind::EngineBuilt, 20)] {
            r.add(k, Workload::Point, &sample(1000, ms));
            r.add(k, Workload::Insert, &sample(1000, ms));
        }
        r.memory.insert(Kind::Pool, Memory { stream_kib: Some(1), collect_kib: Some(1000) });
        r.memory.insert(Kind::Engine, Memory { stream_kib: Some(1), collect_kib: Some(1300) });
        let md = r.markdown();
        for row in [
            "| query layer point built per call (asqlite-engine-built, ratio of asqlite-pool) | >= 0.9 | 0.50 | no |",
            "| query layer insert of named rows (asqlite-engine, ratio of asqlite-pool) | >= 0.9 | 0.91 | yes |",
            "| query layer collect memory (asqlite-engine, ratio of asqlite-pool) | <= 1.2 | 1.30 | no |",
        ] {
            assert!(md.contains(row), "{row}\n{md}");
        }
        assert!(!md.contains("scan into serde structs"), "{md}");
    }

    #[test]
    fn si_suffixes() {
        assert_eq!(si(812.0), "812");
        assert_eq!(si(45_300.0), "45.3k");
        assert_eq!(si(1_210_000.0), "1.21M");
    }
}
