//! The prepared-statement cache: least-recently-used, keyed by SQL text.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ffi::RawStatement;

/// A cached statement and its column names.
pub(crate) struct Cached {
    pub raw: RawStatement,
    pub columns: Arc<[String]>,
    /// How often SQLite had re-prepared the statement when `columns` were read.
    pub reprepares: u32,
}

impl Cached {
    pub fn new(raw: RawStatement) -> Self {
        let columns = super::statement::column_names(&raw);
        let reprepares = raw.reprepare_count();
        Cached { raw, columns, reprepares }
    }

    /// Read the column names again if SQLite re-prepared the statement since they were read.
    #[inline]
    pub fn refresh_columns(&mut self) {
        let n = self.raw.reprepare_count();
        if n != self.reprepares {
            self.reprepares = n;
            self.columns = super::statement::column_names(&self.raw);
        }
    }
}

struct Entry {
    cached: Cached,
    last_used: u64,
}

/// Statements are checked out (removed) while in use and put back when their handle drops, so a statement is never
/// used twice at once. Eviction drops the least recently used entry, finalizing it.
pub(crate) struct StatementCache {
    map: HashMap<Box<str>, Entry>,
    capacity: usize,
    clock: u64,
    hits: u64,
    misses: u64,
}

/// Hit and miss counts of a statement cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found a prepared statement.
    pub hits: u64,
    /// Lookups that had to prepare.
    pub misses: u64,
    /// Statements held now.
    pub size: usize,
    /// The most statements held.
    pub capacity: usize,
}

impl StatementCache {
    pub fn new(capacity: usize) -> Self {
        StatementCache { map: HashMap::with_capacity(capacity.min(256)), capacity, clock: 0, hits: 0, misses: 0 }
    }

    /// Check out the statement for `sql`, with its key to return it under.
    #[inline]
    pub fn take(&mut self, sql: &str) -> Option<(Box<str>, Cached)> {
        match self.map.remove_entry(sql) {
            Some((k, e)) => {
                self.hits += 1;
                Some((k, e.cached))
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Whether the cached statement for `sql` is read-only, without checking it out or counting a hit.
    #[inline]
    pub fn peek_readonly(&self, sql: &str) -> Option<bool> {
        self.map.get(sql).map(|e| e.cached.raw.readonly())
    }

    /// Return (or add) a statement. It must be reset.
    pub fn put(&mut self, key: Box<str>, cached: Cached) {
        if self.capacity == 0 {
            return;
        }
        self.clock += 1;
        if self.map.len() >= self.capacity && !self.map.contains_key(&key) {
            self.evict_oldest();
        }
        self.map.insert(key, Entry { cached, last_used: self.clock });
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        while self.map.len() > capacity {
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        if let Some(oldest) = self.map.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| k.clone()) {
            self.map.remove(&oldest);
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats { hits: self.hits, misses: self.misses, size: self.map.len(), capacity: self.capacity }
    }
}
