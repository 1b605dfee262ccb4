//! A child process that opens and migrates a database at a given moment, so that several of them race:
//! `migrate_race <database> <start: Unix time in ms>` waits until the start, opens an engine, runs three
//! migrations (the second one slow, and counting its runs in a table) and prints `applied <versions...>` and
//! `version <n>`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use asqlite_query::migrate::{Migration, Migrator};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(start)) = (args.next(), args.next().and_then(|s| s.parse::<u64>().ok())) else {
        eprintln!("usage: migrate_race <database> <start-unix-ms>");
        std::process::exit(2);
    };
    let migrator = Migrator::new([
        Migration::sql(1, "create cars", "CREATE TABLE cars (car_id INTEGER PRIMARY KEY, make TEXT)"),
        Migration::with_fn(2, "seed slowly", |c: &mut asqlite::blocking::Connection| {
            std::thread::sleep(Duration::from_millis(400));
            c.execute_batch("CREATE TABLE seed_runs (pid INTEGER)")?;
            c.execute("INSERT INTO seed_runs VALUES (?1)", asqlite::params![i64::from(std::process::id())])?;
            c.execute("INSERT INTO cars (make) VALUES ('Honda Civic')", ())?;
            Ok(())
        }),
        Migration::sql(3, "add year", "ALTER TABLE cars ADD COLUMN year INTEGER"),
    ]);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let at = Duration::from_millis(start);
    if at > now {
        std::thread::sleep(at - now);
    }
    let report = futures::executor::block_on(async {
        // The opens race too: a new file switched to WAL by several processes at once.
        let engine = match asqlite_query::create_async_engine(&format!("sqlite:///{path}")).await {
            Ok(engine) => engine,
            Err(e) => {
                eprintln!("open failed: {e}");
                std::process::exit(1);
            }
        };
        let report = engine.migrate(&migrator).await;
        engine.dispose().await.expect("dispose");
        report
    });
    match report {
        Ok(r) => {
            let versions: Vec<String> = r.applied.iter().map(|a| a.version.to_string()).collect();
            println!("applied {}", versions.join(" "));
            println!("version {}", r.version.unwrap_or(0));
        }
        Err(e) => {
            eprintln!("migrate failed: {e}");
            std::process::exit(1);
        }
    }
}
