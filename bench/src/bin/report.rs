//! Runs every workload for every contender, alternating contenders over several rounds, and prints markdown
//! tables: median throughput and its ratio of rusqlite, CPU time per operation, peak memory of streaming against
//! collecting 1M rows (each in a child process), and the CPU an idle pool uses. Writes an SVG chart of the ratios.
//! The `arrow` workload (1M rows into Arrow record batches, against rusqlite into Arrow builders) has its own
//! contenders and table; `--connectorx` adds ConnectorX on the same file (`python3 bench/connectorx_arrow.py`).
//!
//! ```text
//! cargo run --release -p asqlite-bench --bin report -- [--rounds N] [--time-ms MS] [--readers N]
//!     [--workloads insert,point,point64,scan,stream,arrow] [--contenders rusqlite,asqlite-pool,...]
//!     [--multi-thread] [--no-spin] [--process-exclusive] [--small] [--svg PATH] [--fixture DIR] [--skip-memory]
//!     [--skip-idle] [--connectorx]
//! ```
//!
//! `ASQLITE_BENCH_ROUNDS` and `ASQLITE_BENCH_TIME_MS` set the defaults of `--rounds` (3) and `--time-ms` (400: the
//! least time each contender spends on each workload in each round; at least one batch runs). `--fixture DIR`
//! keeps the database in DIR and reuses it on the next run (a profiler then skips building it). `--contenders`
//! names the arrow contenders too (`rusqlite-arrow`, `asqlite-pool-stream`, ...; the floors always run).
//! `--process-exclusive` opens asqlite's contenders with `process_exclusive` and rusqlite's floor through the same
//! VFS (`unix-excl`), so the ratios compare like with like; the peers keep SQLite's usual locking.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use asqlite_bench::arrow::{ArrowKind, ArrowResults};
use asqlite_bench::measure::{cpu_time, peak_rss_kib, reset_peak_rss, rss_kib};
use asqlite_bench::report::{Idle, Memory, Parallel, Results};
use asqlite_bench::{Contender, Fixture, Kind, Options, Result, Sizes, Workload};

#[derive(Debug, Clone)]
struct Args {
    rounds: usize,
    time: Duration,
    options: Options,
    workloads: Vec<Workload>,
    kinds: Vec<Kind>,
    sizes: Sizes,
    svg: PathBuf,
    fixture: Option<PathBuf>,
    memory: bool,
    idle: bool,
    /// Run the arrow workload, with these contenders.
    arrow: bool,
    arrow_kinds: Vec<ArrowKind>,
    connectorx: bool,
    child: Option<Child>,
}

#[derive(Debug, Clone)]
enum Child {
    Memory { kind: Kind, workload: Workload, dir: PathBuf },
    Idle { kind: Kind, dir: PathBuf },
    Arrow { kind: ArrowKind, dir: PathBuf },
}

fn env_number(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(v) => Ok(v.parse().map_err(|e| format!("{name}={v}: {e}"))?),
        Err(_) => Ok(default),
    }
}

fn list<T>(value: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>> {
    value.split(',').map(|s| parse(s.trim()).ok_or_else(|| format!("unknown name {s:?}").into())).collect()
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        rounds: usize::try_from(env_number("ASQLITE_BENCH_ROUNDS", 3)?)?,
        time: Duration::from_millis(env_number("ASQLITE_BENCH_TIME_MS", 400)?),
        options: Options::default(),
        workloads: Workload::MEASURED.to_vec(),
        kinds: Kind::all(),
        sizes: Sizes::FULL,
        svg: Path::new(env!("CARGO_MANIFEST_DIR")).join("report.svg"),
        fixture: None,
        memory: true,
        idle: true,
        arrow: true,
        arrow_kinds: ArrowKind::ALL.to_vec(),
        connectorx: false,
        child: None,
    };
    let mut it = std::env::args().skip(1);
    let value = |it: &mut dyn Iterator<Item = String>, flag: &str| -> Result<String> {
        it.next().ok_or_else(|| format!("{flag} needs a value").into())
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--rounds" => args.rounds = value(&mut it, &flag)?.parse()?,
            "--time-ms" => args.time = Duration::from_millis(value(&mut it, &flag)?.parse()?),
            "--readers" => args.options.readers = value(&mut it, &flag)?.parse()?,
            "--workloads" => {
                let v = value(&mut it, &flag)?;
                args.arrow = v.split(',').any(|w| w.trim() == "arrow");
                let rest: Vec<&str> = v.split(',').filter(|w| w.trim() != "arrow").collect();
                args.workloads = if rest.is_empty() { Vec::new() } else { list(&rest.join(","), Workload::parse)? };
            }
            "--contenders" => {
                let v = value(&mut it, &flag)?;
                let names: Vec<&str> = v.split(',').map(str::trim).collect();
                args.arrow_kinds = names.iter().filter_map(|n| ArrowKind::parse(n)).collect();
                args.kinds = names.iter().filter_map(|n| Kind::parse(n)).collect();
                if let Some(bad) = names.iter().find(|n| Kind::parse(n).is_none() && ArrowKind::parse(n).is_none()) {
                    return Err(format!("unknown name {bad:?}").into());
                }
            }
            "--connectorx" => args.connectorx = true,
            "--multi-thread" => args.options.multi_thread = true,
            "--no-spin" => args.options.spin = false,
            "--process-exclusive" => args.options.process_exclusive = true,
            "--small" => args.sizes = Sizes::SMALL,
            "--svg" => args.svg = PathBuf::from(value(&mut it, &flag)?),
            "--fixture" => args.fixture = Some(value(&mut it, &flag)?.into()),
            "--skip-memory" => args.memory = false,
            "--skip-idle" => args.idle = false,
            "--child-memory" => {
                let kind = Kind::parse(&value(&mut it, &flag)?).ok_or("unknown contender")?;
                let workload = Workload::parse(&value(&mut it, &flag)?).ok_or("unknown workload")?;
                args.child = Some(Child::Memory { kind, workload, dir: value(&mut it, &flag)?.into() });
            }
            "--child-arrow" => {
                let kind = ArrowKind::parse(&value(&mut it, &flag)?).ok_or("unknown arrow contender")?;
                args.child = Some(Child::Arrow { kind, dir: value(&mut it, &flag)?.into() });
            }
            "--child-idle" => {
                let kind = Kind::parse(&value(&mut it, &flag)?).ok_or("unknown contender")?;
                args.child = Some(Child::Idle { kind, dir: value(&mut it, &flag)?.into() });
            }
            "-h" | "--help" => {
                let doc: Vec<&str> = include_str!("report.rs").lines().take_while(|l| l.starts_with("//!")).collect();
                println!("{}", doc.join("\n"));
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    if args.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    if !args.kinds.contains(&Kind::Rusqlite) {
        args.kinds.insert(0, Kind::Rusqlite); // every ratio is of rusqlite
    }
    if !args.arrow_kinds.contains(&ArrowKind::Rusqlite) {
        args.arrow_kinds.insert(0, ArrowKind::Rusqlite); // and of rusqlite into builders
    }
    Ok(args)
}

/// Run one batch and check that it did the work every other contender does.
fn batch(c: &mut dyn Contender, fixture: &Fixture, w: Workload) -> Result<asqlite_bench::Sample> {
    let s = c.run(w)?;
    let expected = fixture.expected(w);
    if s.checksum != expected {
        return Err(
            format!("{} on {}: checksum {} but expected {expected}", c.kind().name(), w.name(), s.checksum).into()
        );
    }
    Ok(s)
}

fn measure(args: &Args, fixture: &Fixture, results: &mut Results) -> Result<()> {
    let mut contenders = Vec::new();
    for &k in &args.kinds {
        eprintln!("opening {}", k.name());
        contenders.push(k.open(fixture, &args.options)?);
    }
    for &w in &args.workloads {
        for c in &mut contenders {
            batch(c.as_mut(), fixture, w)?; // warm-up, and a check of every contender's answer
        }
    }
    for round in 0..args.rounds {
        for &w in &args.workloads {
            let n = contenders.len();
            for i in 0..n {
                // Alternate the order from round to round, so no contender always follows the same one.
                let c = &mut contenders[(i + round) % n];
                let start = Instant::now();
                let mut batches = 0;
                while batches == 0 || start.elapsed() < args.time {
                    let s = batch(c.as_mut(), fixture, w)?;
                    results.add(c.kind(), w, &s);
                    batches += 1;
                }
                eprintln!(
                    "round {}/{} {:<8} {:<20} {:>3} batches, median so far {:>10.0} {}/s",
                    round + 1,
                    args.rounds,
                    w.name(),
                    c.kind().name(),
                    batches,
                    results.median(c.kind(), w).unwrap_or(0.0),
                    w.unit()
                );
            }
        }
    }
    Ok(())
}

/// Run this binary again as a child with `child_args`, returning the `key=value` it prints.
fn run_child(args: &Args, child_args: &[&str], key: &str) -> Result<Vec<u64>> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(child_args).args(["--readers", &args.options.readers.to_string()]);
    if args.options.multi_thread {
        cmd.arg("--multi-thread");
    }
    if args.sizes == Sizes::SMALL {
        cmd.arg("--small");
    }
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(format!("child {child_args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .ok_or_else(|| format!("child {child_args:?} printed no {key}"))?;
    Ok(line.split_whitespace().map(str::parse).collect::<std::result::Result<_, _>>()?)
}

fn child_memory(args: &Args, kind: Kind, workload: Workload, dir: &Path) -> Result<()> {
    let fixture = Fixture::open(dir, args.sizes)?;
    let mut c = kind.open(&fixture, &args.options)?;
    batch(c.as_mut(), &fixture, Workload::Point)?; // threads started, statements prepared, caches warm
    let reset = reset_peak_rss();
    let before = rss_kib().ok_or("no /proc/self/status")?;
    batch(c.as_mut(), &fixture, workload)?;
    let peak = peak_rss_kib().ok_or("no /proc/self/status")?;
    if !reset {
        eprintln!("could not reset the peak RSS: the figure includes start-up");
    }
    println!("peak_kib={}", peak.saturating_sub(before));
    Ok(())
}

/// Peak memory of one arrow contender: one read to warm up, then the measured one.
fn child_arrow(args: &Args, kind: ArrowKind, dir: &Path) -> Result<()> {
    let fixture = Fixture::open(dir, args.sizes)?;
    let mut c = kind.open(&fixture, &args.options)?;
    c.run()?;
    let reset = reset_peak_rss();
    let before = rss_kib().ok_or("no /proc/self/status")?;
    c.run()?;
    let peak = peak_rss_kib().ok_or("no /proc/self/status")?;
    if !reset {
        eprintln!("could not reset the peak RSS: the figure includes start-up");
    }
    println!("peak_kib={}", peak.saturating_sub(before));
    Ok(())
}

/// The arrow workload: every contender, alternating over the rounds, then each one's peak memory in a child, then
/// ConnectorX if asked.
fn measure_arrow(args: &Args, fixture: &Fixture) -> Result<ArrowResults> {
    eprintln!("arrow: preparing the table");
    let expected = asqlite_bench::arrow::prepare(fixture)?;
    let mut results = ArrowResults {
        kinds: args.arrow_kinds.clone(),
        rows: u64::from(fixture.sizes.stream_rows),
        ..ArrowResults::default()
    };
    let mut contenders = Vec::new();
    for &k in &args.arrow_kinds {
        let mut c = k.open(fixture, &args.options)?;
        let s = c.run()?; // warm-up, and a check of its answer
        if s.checksum != expected {
            return Err(format!("arrow {}: checksum {} but expected {expected}", k.name(), s.checksum).into());
        }
        contenders.push(c);
    }
    for round in 0..args.rounds {
        let n = contenders.len();
        for i in 0..n {
            let c = &mut contenders[(i + round) % n];
            let start = Instant::now();
            let mut batches = 0;
            while batches == 0 || start.elapsed() < args.time {
                let s = c.run()?;
                if s.checksum != expected {
                    return Err(
                        format!("arrow {}: checksum {} but expected {expected}", c.kind().name(), s.checksum).into()
                    );
                }
                results.add(c.kind(), &s);
                batches += 1;
            }
            eprintln!("round {}/{} arrow    {:<20} {:>3} batches", round + 1, args.rounds, c.kind().name(), batches);
        }
    }
    drop(contenders);
    let dir = fixture.dir().to_string_lossy().into_owned();
    if args.memory {
        for &k in &args.arrow_kinds {
            eprintln!("peak memory: arrow {}", k.name());
            if let Some(kib) = run_child(args, &["--child-arrow", k.name(), &dir], "peak_kib")?.first() {
                results.memory.insert(k, *kib);
            }
        }
    }
    if args.connectorx {
        results.connectorx = Some(connectorx(args, fixture)?);
    }
    Ok(results)
}

/// ConnectorX on the same file: `python3 bench/connectorx_arrow.py`, which prints `rows_per_s=` and `peak_kib=`.
fn connectorx(args: &Args, fixture: &Fixture) -> Result<(f64, Option<u64>)> {
    eprintln!("arrow: connectorx");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("connectorx_arrow.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&fixture.path)
        .args(["--rounds", &args.rounds.to_string(), "--time-ms", &args.time.as_millis().to_string()])
        .output()?;
    if !out.status.success() {
        return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)).into());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| stdout.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('=').map(str::to_owned));
    let rate: f64 = field("rows_per_s").ok_or("connectorx printed no rows_per_s")?.parse()?;
    let kib = field("peak_kib").and_then(|v| v.parse().ok());
    Ok((rate, kib))
}

fn child_idle(args: &Args, kind: Kind, dir: &Path) -> Result<()> {
    let fixture = Fixture::open(dir, args.sizes)?;
    let mut c = kind.open(&fixture, &args.options)?;
    for _ in 0..3 {
        batch(c.as_mut(), &fixture, Workload::Point)?;
    }
    batch(c.as_mut(), &fixture, Workload::Point64)?;
    batch(c.as_mut(), &fixture, Workload::Point)?;
    let t0 = cpu_time();
    std::thread::sleep(Duration::from_millis(10));
    let t1 = cpu_time();
    std::thread::sleep(Duration::from_millis(190));
    let t2 = cpu_time();
    std::thread::sleep(Duration::from_millis(200));
    let t3 = cpu_time();
    println!("idle_us={} {} {}", (t1 - t0).as_micros(), (t2 - t1).as_micros(), (t3 - t2).as_micros());
    Ok(())
}

/// Point queries per second from `threads` threads, each with its own rusqlite connection, for about `time`.
fn point_rate(fixture: &Fixture, threads: usize, time: Duration) -> Result<f64> {
    let sql = asqlite_bench::data::sql::POINT;
    let barrier = std::sync::Barrier::new(threads);
    let counts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || -> std::result::Result<(u64, Duration), rusqlite::Error> {
                    let conn = rusqlite::Connection::open(&fixture.path)?;
                    let mut stmt = conn.prepare_cached(sql)?;
                    let ids = &fixture.point_ids;
                    let mut n = 0u64;
                    barrier.wait();
                    let start = Instant::now();
                    while start.elapsed() < time {
                        for &id in ids.iter().skip(t) {
                            stmt.query_row([id], |r| r.get::<_, i64>(0))?;
                            n += 1;
                        }
                    }
                    Ok((n, start.elapsed()))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().map_err(|_| "a reader thread panicked")).collect::<Vec<_>>()
    });
    let mut rate = 0.0;
    for c in counts {
        let (n, took) = c??;
        rate += n as f64 / took.as_secs_f64();
    }
    Ok(rate)
}

/// The parallel-read ceiling: median rates of 1 thread and of `threads` threads, alternating.
fn parallel(fixture: &Fixture, threads: usize, rounds: usize, time: Duration) -> Result<Parallel> {
    let (mut one, mut many) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        one.push(point_rate(fixture, 1, time)?);
        many.push(point_rate(fixture, threads, time)?);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok(Parallel { threads, one: median(&mut one), many: median(&mut many) })
}

fn machine() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{} cores, load average {} before the run, SQLite {}",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        load.join(" "),
        asqlite::sqlite_version()
    )
}

/// The main workloads: throughput, the parallel-read ceiling, peak memory and idle CPU.
fn measure_main(args: &Args, fixture: &Fixture, results: &mut Results) -> Result<()> {
    measure(args, fixture, results)?;

    if args.workloads.contains(&Workload::Point64) {
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get).max(2);
        eprintln!("parallel reads: 1 and {threads} threads");
        results.parallel = Some(parallel(fixture, threads, args.rounds, args.time)?);
    }

    let dir = fixture.dir().to_string_lossy().into_owned();
    if args.memory {
        for &k in &args.kinds {
            let mut m = Memory::default();
            for (w, slot) in [(Workload::Stream, &mut m.stream_kib), (Workload::Collect, &mut m.collect_kib)] {
                eprintln!("peak memory: {} {}", k.name(), w.name());
                *slot = run_child(args, &["--child-memory", k.name(), w.name(), &dir], "peak_kib")?.first().copied();
            }
            results.memory.insert(k, m);
        }
    }
    if args.idle {
        let windows = ["0–10 ms", "10–200 ms", "200–400 ms"];
        for (kind, spin, label) in [
            (Kind::Pool, true, "asqlite-pool (spin on, default)"),
            (Kind::Pool, false, "asqlite-pool (spin off)"),
            (Kind::Connection, true, "asqlite-connection (spin on)"),
        ] {
            if !args.kinds.contains(&kind) {
                continue;
            }
            eprintln!("idle CPU: {label}");
            let mut child_args = vec!["--child-idle", kind.name(), &dir];
            if !spin {
                child_args.push("--no-spin");
            }
            let us = run_child(args, &child_args, "idle_us")?;
            results.idle.push(Idle {
                label: label.to_owned(),
                windows: windows.iter().zip(us).map(|(w, us)| ((*w).to_owned(), Duration::from_micros(us))).collect(),
            });
        }
    }
    Ok(())
}

fn run(args: &Args) -> Result<()> {
    if let Some(child) = &args.child {
        return match child {
            Child::Memory { kind, workload, dir } => child_memory(args, *kind, *workload, dir),
            Child::Idle { kind, dir } => child_idle(args, *kind, dir),
            Child::Arrow { kind, dir } => child_arrow(args, *kind, dir),
        };
    }
    let header = machine();
    eprintln!("building the fixture ({} rows, {} streamed)", args.sizes.rows, args.sizes.stream_rows);
    let fixture = match &args.fixture {
        Some(dir) => Fixture::reuse_or_create(dir, args.sizes)?,
        None => Fixture::create(args.sizes)?,
    };
    let mut results = Results { kinds: args.kinds.clone(), workloads: args.workloads.clone(), ..Default::default() };
    let main_tables = !args.workloads.is_empty();
    if main_tables {
        measure_main(args, &fixture, &mut results)?;
    }
    let arrow = if args.arrow { Some(measure_arrow(args, &fixture)?) } else { None };

    let command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    println!(
        "Measured by `cargo run --release -p asqlite-bench --bin report{}{command}` on {header}.",
        if command.is_empty() { "" } else { " -- " }
    );
    println!(
        "{} rounds, at least {} ms per contender per workload per round; runtime: tokio {}; pool size {}; spin {}.\n",
        args.rounds,
        args.time.as_millis(),
        if args.options.multi_thread { "multi-thread" } else { "current-thread" },
        args.options.readers,
        if args.options.spin { "on" } else { "off" }
    );
    if main_tables {
        print!("{}", results.markdown());
        let chart = results.chart("asqlite and peers: throughput as a ratio of rusqlite (higher is better)");
        std::fs::write(&args.svg, chart.render())?;
        eprintln!("wrote {}", args.svg.display());
    }
    if let Some(arrow) = arrow {
        if main_tables {
            println!();
        }
        print!("{}", arrow.markdown());
    }
    Ok(())
}

fn main() -> ExitCode {
    // Before any contender (or the fixture's rusqlite connection) initializes SQLite: asqlite's mutexes, which every
    // contender linking this SQLite shares (see `asqlite::initialize`).
    asqlite::initialize();
    match parse_args().and_then(|args| run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
