//! The compiled-statement cache: SQL keyed by statement shape.
//!
//! A statement's shape is everything but its literal values (which are bound as parameters), so the same query
//! built again with other values maps to the same key. A hit skips compilation: only the literals are gathered
//! (a walk that writes no SQL). The SQL text is then the same string every time, so the driver's prepared
//! statement cache prepares it once per connection.

use std::collections::hash_map::{DefaultHasher, RandomState};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::compile::{collect_literals, compile_stmt, Compiled, Dialect, Shape, Stmt, SQLITE};
use crate::error::Result;
use crate::schema::lock;

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
    map: Mutex<HashMap<(u64, u64), Arc<Shape>>>,
    capacity: usize,
    dialect: &'static dyn Dialect,
    hits: AtomicU64,
    misses: AtomicU64,
    state: RandomState,
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
            map: Mutex::new(HashMap::new()),
            capacity,
            dialect,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            state: RandomState::new(),
        }
    }

    /// Compile `stmt`, or take its SQL from the cache and gather only its literals.
    pub(crate) fn compile(&self, stmt: Stmt<'_>, keys: Option<&[Arc<str>]>) -> Result<Compiled> {
        if let Stmt::Compiled(c) = stmt {
            crate::compile::check_dialect(c, self.dialect)?;
            return Ok(c.clone());
        }
        if self.capacity == 0 {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return compile_stmt(stmt, keys, self.dialect);
        }
        // Two independent 64-bit hashes: a 128-bit key, so a collision is not a practical concern.
        let mut h1 = DefaultHasher::new();
        hash_stmt(stmt, keys, &mut h1);
        let mut h2 = self.state.build_hasher();
        hash_stmt(stmt, keys, &mut h2);
        let key = (h1.finish(), h2.finish());
        let cached = lock(&self.map).get(&key).cloned();
        if let Some(shape) = cached {
            self.hits.fetch_add(1, Ordering::Relaxed);
            let literals = collect_literals(stmt, keys, self.dialect)?;
            return Ok(Compiled { shape, literals });
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let compiled = compile_stmt(stmt, keys, self.dialect)?;
        let mut map = lock(&self.map);
        if map.len() >= self.capacity {
            if let Some(k) = map.keys().next().copied() {
                map.remove(&k);
            }
        }
        map.insert(key, compiled.shape.clone());
        Ok(compiled)
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

    /// Forget every shape.
    pub fn clear(&self) {
        lock(&self.map).clear();
    }
}

impl Default for StatementCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}
