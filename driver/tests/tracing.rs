//! With the `tracing` feature, every job runs in an `asqlite.statement` span carrying its SQL, rows and duration,
//! and slow jobs log a warning. Run with `cargo test -p asqlite --features tracing`.
#![cfg(feature = "tracing")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asqlite::{params, Pool};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(Default)]
struct Seen {
    spans: HashMap<u64, HashMap<String, String>>,
    warnings: Vec<String>,
}

#[derive(Clone, Default)]
struct Collector {
    seen: Arc<Mutex<Seen>>,
    next: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Collector {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = HashMap::new();
        fields.insert("name".to_owned(), span.metadata().name().to_owned());
        span.record(&mut Fields(&mut fields));
        self.seen.lock().unwrap().spans.insert(id, fields);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(fields) = self.seen.lock().unwrap().spans.get_mut(&span.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut fields = HashMap::new();
            event.record(&mut Fields(&mut fields));
            self.seen.lock().unwrap().warnings.push(format!("{fields:?}"));
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn statements_are_spans_with_sql_rows_and_duration() {
    let collector = Collector::default();
    tracing::subscriber::set_global_default(collector.clone()).unwrap();
    futures::executor::block_on(async {
        let pool = Pool::builder().slow_statement_threshold(Duration::from_millis(20)).open(":memory:").await.unwrap();
        pool.execute_batch("CREATE TABLE t (x)").await.unwrap();
        pool.execute_many("INSERT INTO t VALUES (?1)", (0..5).map(|i| params![i])).await.unwrap();
        let rows = pool.query("SELECT x FROM t WHERE x > ?1", params![1]).await.unwrap();
        assert_eq!(rows.len(), 3);
        let slow =
            "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r LIMIT 300000) SELECT count(*) FROM r";
        pool.query(slow, params![]).await.unwrap();
        pool.close().await.unwrap();
    });
    let seen = collector.seen.lock().unwrap();
    let query = seen
        .spans
        .values()
        .find(|f| f.get("sql").is_some_and(|s| s == "SELECT x FROM t WHERE x > ?1"))
        .expect("a span for the query");
    assert_eq!(query["name"], "asqlite.statement");
    assert_eq!(query["rows"], "3");
    assert!(query.contains_key("duration_us"), "{query:?}");
    let many = seen.spans.values().find(|f| f.get("sql").is_some_and(|s| s.starts_with("INSERT"))).unwrap();
    assert_eq!(many["rows"], "5");
    assert!(!seen.warnings.is_empty(), "the slow query must log a warning");
}
