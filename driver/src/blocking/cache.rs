//! The prepared-statement cache: least-recently-used, keyed by SQL text.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::ffi::RawStatement;

/// A cached statement and its column names.
pub(crate) struct Cached {
    pub raw: RawStatement,
    pub columns: Arc<[String]>,
    /// How often SQLite had re-prepared the statement when `columns` were read.
    pub reprepares: u32,
    /// The cost of the last run through [`Statement`](super::Statement)'s run methods (`u32::MAX` until one
    /// finishes): its virtual-machine steps plus [`PAGE_STEPS`](super::statement::PAGE_STEPS) per page it read;
    /// what the pool reads to decide whether a read is cheap enough to run inline.
    pub last_steps: u32,
    /// Whether the statement makes no direct change (`sqlite3_stmt_readonly`, read once): only reads' costs are
    /// measured, since only reads may run inline.
    pub readonly: bool,
    /// Whether a run can always be stopped by the progress handler: false when one virtual-machine step may do
    /// unbounded work (`count(*)` walks a whole table in one `Count` step, however the table grew since the cost
    /// was measured). Such statements never run inline.
    pub stoppable: bool,
}

/// Opcodes that do a whole table's work in one step, out of the progress handler's reach.
const UNSTOPPABLE_OPCODES: &[&str] = &["Count", "IntegrityCk"];

impl Cached {
    pub fn new(raw: RawStatement) -> Self {
        let columns = super::statement::column_names(&raw);
        let reprepares = raw.reprepare_count();
        let readonly = raw.readonly();
        // Only statements that may hold such an opcode are explained (a look at the text first, so a point query
        // pays nothing at prepare).
        let suspect = readonly && {
            let sql = raw.sql().as_bytes();
            contains_ci(sql, b"count") || contains_ci(sql, b"pragma")
        };
        let stoppable = !(suspect && raw.uses_opcode(UNSTOPPABLE_OPCODES));
        Cached { raw, columns, reprepares, last_steps: u32::MAX, readonly, stoppable }
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

/// A fast, non-cryptographic hash for SQL text (the keys are the application's own SQL, not attacker input).
#[derive(Default, Clone, Copy)]
pub(crate) struct SqlHasher(u64);

impl Hasher for SqlHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Where a checked-out statement goes back: its slot (a hit), or a new entry under its SQL (a miss).
#[derive(Debug)]
pub(crate) enum CacheKey {
    Slot(usize),
    New(Box<str>),
}

struct Slot {
    /// None while checked out (or after eviction, when the slot is free).
    cached: Option<Box<Cached>>,
    key: Option<Box<str>>,
    last_used: u64,
}

/// Statements are checked out of their slot while in use and put back when their handle drops, so a statement is
/// never used twice at once and a hit costs one hash lookup. Eviction finalizes the least recently used statement
/// that is not checked out.
pub(crate) struct StatementCache {
    index: HashMap<Box<str>, usize, BuildHasherDefault<SqlHasher>>,
    slots: Vec<Slot>,
    free: Vec<usize>,
    capacity: usize,
    clock: u64,
    hits: u64,
    misses: u64,
    /// The slot of the last statement looked up: a loop running one statement finds it by comparing text, without
    /// hashing it.
    last: usize,
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
        StatementCache {
            index: HashMap::with_capacity_and_hasher(capacity.min(256), BuildHasherDefault::default()),
            slots: Vec::new(),
            free: Vec::new(),
            capacity,
            clock: 0,
            hits: 0,
            misses: 0,
            last: usize::MAX,
        }
    }

    /// The slot holding `sql`, if any.
    #[inline]
    fn find(&mut self, sql: &str) -> Option<usize> {
        if self.slots.get(self.last).is_some_and(|s| s.key.as_deref() == Some(sql)) {
            return Some(self.last);
        }
        let slot = *self.index.get(sql)?;
        self.last = slot;
        Some(slot)
    }

    /// Check out the statement for `sql`, with the key to return it under.
    #[inline]
    pub fn take(&mut self, sql: &str) -> Option<(CacheKey, Box<Cached>)> {
        if let Some(slot) = self.find(sql) {
            if let Some(cached) = self.slots[slot].cached.take() {
                self.hits += 1;
                return Some((CacheKey::Slot(slot), cached));
            }
        }
        self.misses += 1;
        None
    }

    /// Whether the cached statement for `sql` is read-only, without checking it out or counting a hit.
    #[inline]
    pub fn peek_readonly(&mut self, sql: &str) -> Option<bool> {
        let slot = self.find(sql)?;
        self.slots[slot].cached.as_ref().map(|c| c.raw.readonly())
    }

    /// Whether the cached statement for `sql` may run inline (read-only, every step stoppable, and no application
    /// code: a user-defined function or collation must not run while a caller holds a leased connection), and the
    /// steps of its last run, without checking it out or counting a hit.
    #[inline]
    pub fn peek_cost(&mut self, sql: &str) -> Option<(bool, u32)> {
        let slot = self.find(sql)?;
        self.slots[slot].cached.as_ref().map(|c| (c.readonly && c.stoppable && !c.raw.runs_user_code(), c.last_steps))
    }

    /// Return a checked-out statement, or add a new one. It must be reset.
    pub fn put(&mut self, key: CacheKey, cached: Box<Cached>) {
        self.clock += 1;
        match key {
            CacheKey::Slot(slot) => {
                if let Some(s) = self.slots.get_mut(slot).filter(|s| s.key.is_some() && s.cached.is_none()) {
                    s.cached = Some(cached);
                    s.last_used = self.clock;
                }
                // Otherwise the slot was cleared meanwhile: the statement is finalized.
            }
            CacheKey::New(sql) => {
                if self.capacity == 0 || self.index.contains_key(&sql) {
                    return;
                }
                if self.index.len() >= self.capacity && !self.evict_oldest() {
                    return; // every statement is checked out
                }
                let slot = Slot { cached: Some(cached), key: Some(sql.clone()), last_used: self.clock };
                let i = match self.free.pop() {
                    Some(i) => {
                        self.slots[i] = slot;
                        i
                    }
                    None => {
                        self.slots.push(slot);
                        self.slots.len() - 1
                    }
                };
                self.index.insert(sql, i);
            }
        }
    }

    /// Finalize every statement not checked out.
    pub fn clear(&mut self) {
        while self.evict_oldest() {}
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        while self.index.len() > capacity && self.evict_oldest() {}
    }

    /// Drop the least recently used statement that is not checked out; false if there is none.
    fn evict_oldest(&mut self) -> bool {
        let oldest = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.cached.is_some())
            .min_by_key(|(_, s)| s.last_used)
            .map(|(i, _)| i);
        let Some(i) = oldest else { return false };
        let slot = &mut self.slots[i];
        slot.cached = None;
        if let Some(key) = slot.key.take() {
            self.index.remove(&key);
        }
        self.free.push(i);
        true
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats { hits: self.hits, misses: self.misses, size: self.index.len(), capacity: self.capacity }
    }
}

/// Whether `hay` contains `needle` (lowercase ASCII), ignoring ASCII case.
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}
