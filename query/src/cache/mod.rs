//! The compiled-statement cache: SQL keyed by statement shape.
//!
//! A statement's shape is everything but its literal values (which are bound as parameters), so the same query
//! built again with other values maps to the same key. A hit skips compilation: only the literals are gathered
//! (see `compile::gather`; a shape without literals gathers nothing). The SQL text is then the same string every
//! time, so the driver's prepared statement cache prepares it once per connection.
//!
//! The key is the shape itself, written out as the words its `Hash` feeds a hasher (no SQL is rendered): a hit
//! compares the whole key, so two shapes never share an entry however their hashes fall. The words are written
//! into a buffer the thread keeps, so a hit allocates nothing for its key.
//!
//! Each thread also keeps the 16 shapes it used last, by cache, and looks there before it takes the cache's lock:
//! a service runs the same few statements over and over, and its threads then share no lock and no map for them.
//! (A thread that cycles through more shapes than that finds none there and pays a look and a copy of the key.)
//! A shape is the same SQL whoever holds it, so a thread's copy of one the cache has since evicted is still right;
//! [`StatementCache::clear`] makes the threads' copies stale as well.
//!
//! With a select's shape, a thread keeps a copy of the select, and a select is compared with those copies, node
//! by node, before its key is written (`same_shape`): most differ at their first node, and the one of the same
//! shape is found without writing and comparing some 30 words. (The copies hold their tables, as long as the
//! thread keeps them.)

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::compile::gather::{self, Gather};
use crate::compile::{collect_literals, compile_shape, compile_stmt, Compiled, Dialect, Shape, Stmt, SQLITE};
use crate::error::Result;
use crate::schema::lock;
use crate::select::Select;

#[cfg(test)]
mod one_thing_apart;
mod same_shape;

use self::same_shape::{same_select, select_tag};

/// Hits, misses and size of a statement cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Statements whose SQL came from the cache.
    pub hits: u64,
    /// Statements that had to be compiled.
    pub misses: u64,
    /// Shapes held now.
    pub size: usize,
}

/// A bounded cache of compiled SQL by statement shape, for one dialect. Shared by every connection of an engine.
#[derive(Debug)]
pub struct StatementCache {
    map: Mutex<ShapeMap>,
    /// Unique in the process, and bumped by `clear`: what a thread's recent shapes are keyed by.
    id: AtomicU64,
    capacity: usize,
    dialect: &'static dyn Dialect,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Compiled shapes by key words.
type ShapeMap = HashMap<Box<[u64]>, Arc<Shape>, BuildHasherDefault<WordHasher>>;

/// Writes what a `Hash` implementation feeds a hasher as words: integers one word each, bytes as their length
/// and then eight to a word. Equal words mean equal shapes (every `Hash` of the statement types writes its
/// lengths and discriminants), which is what makes the words a key.
struct KeyWriter<'a>(&'a mut Vec<u64>);

impl Hasher for KeyWriter<'_> {
    fn finish(&self) -> u64 {
        0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0.push(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        for_words(bytes, |w| self.0.push(w));
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0.push(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.0.push(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0.push(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.0.push(u64::try_from(i).unwrap_or(u64::MAX));
    }
}

/// Feed `bytes` to `f` eight at a time (little-endian), the last word padded with zeros. Whole words are read as
/// words and the tail byte by byte: copying each chunk into a buffer costs a `memcpy` call per word.
#[inline]
fn for_words(bytes: &[u8], mut f: impl FnMut(u64)) {
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        f(u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or_default()));
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        f(tail_word(tail));
    }
}

/// The word of up to 8 bytes, zero-padded: two loads that may overlap (the bytes they share are the same bytes at
/// the same place), instead of a loop over the bytes.
#[inline]
pub(crate) fn tail_word(tail: &[u8]) -> u64 {
    let n = tail.len();
    let le32 = |b: &[u8]| u64::from(u32::from_le_bytes(<[u8; 4]>::try_from(b).unwrap_or_default()));
    let le16 = |b: &[u8]| u64::from(u16::from_le_bytes(<[u8; 2]>::try_from(b).unwrap_or_default()));
    match n {
        4.. => le32(&tail[..4]) | le32(&tail[n - 4..]) << (8 * (n - 4)),
        2.. => le16(&tail[..2]) | le16(&tail[n - 2..]) << (8 * (n - 2)),
        _ => tail.first().map_or(0, |&b| u64::from(b)),
    }
}

/// The map's hasher over key words (equality of the whole key decides a hit, so it only needs to spread them).
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for_words(bytes, |w| self.write_u64(w));
    }

    fn write_u64(&mut self, i: u64) {
        let m = u128::from(self.0 ^ i) * u128::from(0x9E37_79B9_7F4A_7C15_u64);
        self.0 = u64::try_from(m >> 64).unwrap_or(0) ^ u64::try_from(m & u128::from(u64::MAX)).unwrap_or(0);
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(u64::try_from(i).unwrap_or(u64::MAX));
    }
}

thread_local! {
    /// The buffer a thread writes keys into, kept between calls.
    static KEY: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
    /// The shapes the thread used last (see the module docs).
    static RECENT: RefCell<Recent> =
        const { RefCell::new(Recent { entries: Vec::new(), next: 0, last_select: Cell::new(0) }) };
}

/// Cache ids: one per cache and per `clear`.
static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

/// How many shapes a thread keeps.
const RECENT_SHAPES: usize = 16;

/// Longer keys are not kept: a statement that large (a multi-row insert, say) spends its time elsewhere, and a
/// thread would hold its key and SQL after the engine is gone.
const RECENT_KEY_WORDS: usize = 64;

/// A thread's recent shapes: a ring, the oldest replaced in place (its key buffer reused).
#[derive(Default)]
struct Recent {
    entries: Vec<RecentShape>,
    /// The entry to replace next once the ring is full.
    next: usize,
    /// The entry a select was last found in, looked at first.
    last_select: Cell<usize>,
}

/// A shape a thread used, with the cache (id) and key it was found under.
struct RecentShape {
    cache: u64,
    key: Vec<u64>,
    /// A copy of the select it was found for, when [`same_select`] compares every node of it: a select built
    /// again is compared with it before any key is written (see `same_shape`). With its [`select_tag`].
    template: Option<(u64, Select)>,
    shape: Arc<Shape>,
}

/// The shape of `key` in cache `cache` if this thread used it lately.
fn recent(cache: u64, key: &[u64]) -> Option<Arc<Shape>> {
    with_recent(|recent| {
        recent.entries.iter().find(|r| r.cache == cache && *r.key == *key).map(|r| Arc::clone(&r.shape))
    })
}

/// The shape of `select` in cache `cache` if this thread used a select of the same shape lately.
fn recent_select(cache: u64, select: &Select) -> Option<Arc<Shape>> {
    let tag = select_tag(select);
    let found = |r: &RecentShape| {
        r.cache == cache && r.template.as_ref().is_some_and(|(t, s)| *t == tag && same_select(select, s))
    };
    with_recent(|recent| {
        let last = recent.last_select.get();
        if let Some(r) = recent.entries.get(last).filter(|r| found(r)) {
            return Some(Arc::clone(&r.shape));
        }
        let (at, r) = recent.entries.iter().enumerate().find(|(_, r)| found(r))?;
        recent.last_select.set(at);
        Some(Arc::clone(&r.shape))
    })
}

/// Run `f` on this thread's recent shapes: nothing is found while they are in use (nothing that runs here looks
/// them up again, but a miss is always a right answer) or once the thread is ending.
fn with_recent(f: impl FnOnce(&Recent) -> Option<Arc<Shape>>) -> Option<Arc<Shape>> {
    RECENT.try_with(|r| r.try_borrow().ok().and_then(|recent| f(&recent))).ok().flatten()
}

/// Keep `shape` among this thread's recent ones (in place of the oldest when full), found for `stmt`.
fn remember(cache: u64, key: &[u64], stmt: Stmt<'_>, shape: &Arc<Shape>) {
    if key.len() > RECENT_KEY_WORDS {
        return;
    }
    let template = match stmt {
        Stmt::Select(s) if same_select(s, s) => Some((select_tag(s), s.clone())),
        _ => None,
    };
    let _ = RECENT.try_with(|r| {
        let Ok(mut recent) = r.try_borrow_mut() else { return };
        if recent.entries.len() < RECENT_SHAPES {
            recent.entries.push(RecentShape { cache, key: key.to_vec(), template, shape: Arc::clone(shape) });
        } else {
            let at = recent.next % RECENT_SHAPES;
            recent.next = at + 1;
            if let Some(old) = recent.entries.get_mut(at) {
                old.cache = cache;
                old.key.clear();
                old.key.extend_from_slice(key);
                old.template = template;
                old.shape = Arc::clone(shape);
            }
        }
    });
}

/// The default number of shapes a cache holds.
pub const DEFAULT_CAPACITY: usize = 500;

fn hash_stmt<H: Hasher>(stmt: Stmt<'_>, keys: Option<&[Arc<str>]>, h: &mut H) {
    match stmt {
        Stmt::Select(s) => (0u8, s).hash(h),
        Stmt::Compound(c) => (1u8, c).hash(h),
        Stmt::Insert(i) => (2u8, i).hash(h),
        Stmt::Update(u) => (3u8, u).hash(h),
        Stmt::Delete(d) => (4u8, d).hash(h),
        Stmt::Text(t) => (5u8, t).hash(h),
        Stmt::Compiled(c) => (6u8, &*c.shape.sql).hash(h),
    }
    keys.hash(h);
}

impl StatementCache {
    /// A cache of SQLite SQL holding up to `capacity` shapes (0 turns caching off).
    pub fn new(capacity: usize) -> Self {
        Self::with_dialect(capacity, &SQLITE)
    }

    /// A cache of `dialect`'s SQL holding up to `capacity` shapes (0 turns caching off).
    pub fn with_dialect(capacity: usize, dialect: &'static dyn Dialect) -> Self {
        StatementCache {
            map: Mutex::new(HashMap::default()),
            id: AtomicU64::new(NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed)),
            capacity,
            dialect,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Compile `stmt`, or take its SQL from the cache and gather only its literals. A statement compiled already
    /// is borrowed as it is (binding reads its literals; nothing needs a copy).
    ///
    /// Inlined for the compiled statement's few instructions; the rest is a call.
    #[inline]
    pub(crate) fn compile<'s>(&self, stmt: Stmt<'s>, keys: Option<&[Arc<str>]>) -> Result<Cow<'s, Compiled>> {
        if let Stmt::Compiled(c) = stmt {
            crate::compile::check_dialect(c, self.dialect)?;
            return Ok(Cow::Borrowed(c));
        }
        self.compile_new(stmt, keys).map(Cow::Owned)
    }

    /// [`compile`](StatementCache::compile) for a statement not compiled yet.
    fn compile_new(&self, stmt: Stmt<'_>, keys: Option<&[Arc<str>]>) -> Result<Compiled> {
        if self.capacity == 0 {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return compile_stmt(stmt, keys, self.dialect);
        }
        if let (Stmt::Select(select), None) = (stmt, keys) {
            if let Some(shape) = recent_select(self.id.load(Ordering::Relaxed), select) {
                return self.hit(stmt, keys, shape);
            }
        }
        let mut key = KEY.with(Cell::take);
        key.clear();
        hash_stmt(stmt, keys, &mut KeyWriter(&mut key));
        let out = self.compile_keyed(stmt, keys, &key);
        KEY.with(|k| k.set(key));
        out
    }

    fn compile_keyed(&self, stmt: Stmt<'_>, keys: Option<&[Arc<str>]>, key: &[u64]) -> Result<Compiled> {
        let id = self.id.load(Ordering::Relaxed);
        let mut cached = recent(id, key);
        if cached.is_none() {
            cached = lock(&self.map).get(key).cloned();
            if let Some(shape) = &cached {
                remember(id, key, stmt, shape);
            }
        }
        if let Some(shape) = cached {
            return self.hit(stmt, keys, shape);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let compiled = compile_shape(stmt, keys, self.dialect, true)?;
        let mut map = lock(&self.map);
        if map.len() >= self.capacity {
            if let Some(k) = map.keys().next().cloned() {
                map.remove(&k);
            }
        }
        map.insert(key.into(), compiled.shape.clone());
        drop(map);
        remember(id, key, stmt, &compiled.shape);
        Ok(compiled)
    }

    /// A statement of a cached shape: only its literals are gathered.
    #[inline]
    fn hit(&self, stmt: Stmt<'_>, keys: Option<&[Arc<str>]>, shape: Arc<Shape>) -> Result<Compiled> {
        self.hits.fetch_add(1, Ordering::Relaxed);
        let literals = match &shape.gather {
            Gather::Nothing => Vec::new(),
            Gather::Walk(order) => match gather::gather(stmt, order) {
                Some(literals) => literals,
                None => collect_literals(stmt, keys, self.dialect)?,
            },
            Gather::Compiler => collect_literals(stmt, keys, self.dialect)?,
        };
        Ok(Compiled { shape, literals })
    }

    /// Hit and miss counts and the current size.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            size: lock(&self.map).len(),
        }
    }

    /// The dialect whose SQL the cache holds.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    /// Forget every shape (the threads' recent ones too).
    pub fn clear(&self) {
        let mut map = lock(&self.map);
        map.clear();
        self.id.store(NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
    }
}

impl Default for StatementCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::Executable;
    use crate::prelude::*;
    use crate::select::Select;

    fn cars(meta: &MetaData) -> Table {
        Table::new(
            "cars",
            meta,
            [Column::new("car_id", Integer).primary_key(), Column::new("make", Text), Column::new("year", Integer)],
        )
    }

    /// Statements of one shape built with other values: the cache's hit gathers what compiling anew gathers.
    #[test]
    fn a_hit_gathers_the_literals_compiling_would() {
        let meta = MetaData::new();
        let t = cars(&meta);
        let owners = Table::new("owners", &meta, [Column::new("id", Integer).primary_key()]);
        type Make<'a> = Box<dyn Fn(i64) -> Select + 'a>;
        let shapes: Vec<(Make<'_>, Gather)> = vec![
            (Box::new(|_| select(&t).where_(t.c("car_id").eq(bindparam("id")))), Gather::Nothing),
            (
                Box::new(|n| {
                    select((t.c("make"), (t.c("year") + n).label("later")))
                        .where_(t.c("year").between(n, n + 5) & t.c("make").ne("x").or(t.c("car_id").in_([n, 2, 3])))
                        .order_by(t.c("year"))
                        .limit(n)
                        .offset(n + 1)
                }),
                Gather::Walk(Box::default()),
            ),
            (
                Box::new(|n| {
                    select(&t)
                        .where_(t.c("year").gt(n))
                        .where_(t.c("car_id").in_query(select(owners.c("id")).where_(owners.c("id").lt(n))))
                }),
                Gather::Compiler,
            ),
        ];
        for (make, kind) in shapes {
            let cache = StatementCache::new(10);
            cache.compile(make(1).as_stmt(), None).unwrap();
            for n in [2, 7] {
                let stmt = make(n);
                let hit = cache.compile(stmt.as_stmt(), None).unwrap();
                let fresh = stmt.compile().unwrap();
                assert_eq!((hit.sql(), hit.literals()), (fresh.sql(), fresh.literals()));
                assert_eq!(std::mem::discriminant(&hit.shape.gather), std::mem::discriminant(&kind), "{}", hit.sql());
            }
            assert_eq!(cache.stats().misses, 1);
        }
    }

    /// The key is the whole shape: shapes that differ only in a name, a literal's type or an operator miss.
    #[test]
    fn shapes_that_differ_do_not_share_an_entry() {
        let meta = MetaData::new();
        let t = cars(&meta);
        let cache = StatementCache::new(10);
        let stmts = [
            select(&t).where_(t.c("year").gt(1)),
            select(&t).where_(t.c("year").gt("1")),
            select(&t).where_(t.c("year").ge(1)),
            select(&t).where_(t.c("car_id").gt(1)),
            select(t.c("year")).where_(t.c("year").gt(1)),
        ];
        let sqls: Vec<String> =
            stmts.iter().map(|s| cache.compile(s.as_stmt(), None).unwrap().sql().to_owned()).collect();
        assert_eq!(cache.stats(), CacheStats { hits: 0, misses: 5, size: 5 });
        for (s, sql) in stmts.iter().zip(&sqls) {
            assert_eq!(cache.compile(s.as_stmt(), None).unwrap().sql(), sql);
        }
        assert_eq!(cache.stats().hits, 5);
    }

    /// A thread looks at the shapes it used last before the cache: those of another cache (another dialect's SQL)
    /// are not taken, a shape the cache evicted still gives its SQL, and `clear` makes them all stale.
    #[test]
    fn a_threads_recent_shapes_belong_to_their_cache_and_clear_forgets_them() {
        let meta = MetaData::new();
        let t = cars(&meta);
        let q = || select(&t).where_(t.c("year").gt(2000)).limit(3);
        let sqlite = StatementCache::new(1);
        let pg = StatementCache::with_dialect(1, &crate::compile::Postgres);
        let a = sqlite.compile(q().as_stmt(), None).unwrap().into_owned();
        let b = pg.compile(q().as_stmt(), None).unwrap().into_owned();
        assert_ne!(a.sql(), b.sql());
        assert_eq!(pg.compile(q().as_stmt(), None).unwrap().sql(), b.sql());
        assert_eq!(sqlite.compile(q().as_stmt(), None).unwrap().sql(), a.sql());
        // Another shape evicts the first from the cache (capacity 1); this thread's copy still answers, rightly.
        let other = select(t.c("make"));
        sqlite.compile(other.as_stmt(), None).unwrap();
        let again = sqlite.compile(q().as_stmt(), None).unwrap().into_owned();
        assert_eq!((again.sql(), again.literals()), (a.sql(), a.literals()));
        assert_eq!(sqlite.stats(), CacheStats { hits: 2, misses: 2, size: 1 });
        sqlite.clear();
        sqlite.compile(q().as_stmt(), None).unwrap();
        assert_eq!(sqlite.stats(), CacheStats { hits: 2, misses: 3, size: 1 });
        // Another thread has none of this thread's shapes: it finds the shape in the cache.
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(sqlite.compile(q().as_stmt(), None).unwrap().sql(), a.sql()));
        });
        assert_eq!(sqlite.stats(), CacheStats { hits: 3, misses: 3, size: 1 });
    }

    /// A thread cycling through more shapes than it keeps replaces them in place: each still compiles to its own
    /// SQL and literals, round after round, and so do shapes too large to keep.
    #[test]
    fn a_thread_cycling_through_more_shapes_than_it_keeps_gets_each_ones_sql() {
        let meta = MetaData::new();
        let t = cars(&meta);
        let cache = StatementCache::new(100);
        let shape = |i: usize| {
            let mut q = select(&t).where_(t.c("year").gt(i64::try_from(i).unwrap_or(0)));
            for _ in 0..i {
                q = q.where_(t.c("make").ne("x"));
            }
            q
        };
        let n = RECENT_SHAPES + 5;
        for _ in 0..3 {
            for i in (0..n).chain([40]) {
                let stmt = shape(i);
                let (hit, fresh) = (cache.compile(stmt.as_stmt(), None).unwrap(), stmt.compile().unwrap());
                assert_eq!((hit.sql(), hit.literals()), (fresh.sql(), fresh.literals()), "shape {i}");
            }
        }
        assert_eq!(cache.stats(), CacheStats { hits: 2 * (n as u64 + 1), misses: n as u64 + 1, size: n + 1 });
    }

    /// Words are read whole and tails byte by byte: every length gives the words of the bytes zero-padded, and
    /// strings that differ in any byte, or only in length, give other keys.
    #[test]
    fn key_words_are_the_bytes_padded_and_keep_strings_apart() {
        let bytes: Vec<u8> = (1..=20).collect();
        for n in 0..=bytes.len() {
            let mut got = Vec::new();
            for_words(&bytes[..n], |w| got.push(w));
            let want: Vec<u64> = bytes[..n]
                .chunks(8)
                .map(|c| {
                    let mut w = [0u8; 8];
                    w[..c.len()].copy_from_slice(c);
                    u64::from_le_bytes(w)
                })
                .collect();
            assert_eq!(got, want, "{n} bytes");
        }
        let key = |s: &str| {
            let mut k = Vec::new();
            s.hash(&mut KeyWriter(&mut k));
            k
        };
        assert_ne!(key("make"), key("make\0"));
        assert_ne!(key("mileage_"), key("mileage"));
        assert_ne!(key("abcdefghi"), key("abcdefghj"));
    }
}
