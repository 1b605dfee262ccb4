//! Fuzz entry point for the query compiler, shared by `fuzz/fuzz_targets/compile_query.rs` and the corpus replay.
//!
//! The bytes describe a schema (tables and columns with hostile names: keywords, quotes, spaces, parameter and
//! comment markers) and a statement over it (select with joins, subqueries, grouping, ordering and limits; a
//! compound select; insert with rows, select, upsert and returning; update with FROM; delete), built from random
//! expressions. The invariants:
//! - compiling never panics: it gives an error, or SQL that prepares on SQLite against a database made from the
//!   same schema by `create_all`, with as many parameters as the compiled statement has slots;
//! - the statement's shape (its `Hash`, what the engine's cache is keyed by) decides its SQL: the same structure
//!   built with other literal values either hashes differently or compiles to the same SQL and slots.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use asqlite::blocking::Connection;
use asqlite::Value;
use asqlite_query::expr::{func, Expr};
use asqlite_query::prelude::*;
use asqlite_query::select::{Query, Select, Subquery};
use asqlite_query::{Alias, Error};

use crate::fuzz::Bytes;

/// Names that have broken SQL generators: keywords, quotes, spaces, parameter and comment markers, non-ASCII.
const NAMES: &[&str] = &[
    "cars",
    "select",
    "a\"b",
    "my table",
    "Mixed",
    "order",
    "x; DROP TABLE t; --",
    "a:b",
    "?",
    "$x",
    "a$b",
    "--",
    "/*",
    "é",
    "'",
    "`q`",
    "[x]",
    "rowid",
    "excluded",
    "main",
    "id",
    "n",
    "group",
    "x\0y",
    "",
    "1a",
    "@p",
    "a.b",
];

/// Hostile text for values and LIKE patterns.
const TEXTS: &[&str] = &["", "%", "_", "/", "a%b_c/", "'); DROP TABLE cars; --", ":x", "?", "\"", "é", "\0"];

/// A source of columns in scope: a table, an alias or a named subquery.
#[derive(Clone)]
enum Src {
    Table(Table),
    Alias(Alias),
    Sub(Subquery),
}

impl Src {
    fn c(&self, name: &str) -> Expr {
        match self {
            Src::Table(t) => t.c(name),
            Src::Alias(a) => a.c(name),
            Src::Sub(s) => s.c(name),
        }
    }

    fn names(&self) -> Vec<String> {
        match self {
            Src::Table(t) => t.column_names().iter().map(|s| (*s).to_owned()).collect(),
            Src::Alias(a) => a.table().column_names().iter().map(|s| (*s).to_owned()).collect(),
            Src::Sub(s) => s.column_names(),
        }
    }
}

enum Stmt {
    Select(Select),
    Compound(asqlite_query::select::Compound),
    Insert(asqlite_query::insert::Insert),
    Update(asqlite_query::update::Update),
    Delete(asqlite_query::delete::Delete),
}

impl Stmt {
    fn exec(&self) -> &dyn Executable {
        match self {
            Stmt::Select(s) => s,
            Stmt::Compound(s) => s,
            Stmt::Insert(s) => s,
            Stmt::Update(s) => s,
            Stmt::Delete(s) => s,
        }
    }

    fn shape_hash(&self) -> u64 {
        let mut h = DefaultHasher::new();
        match self {
            Stmt::Select(s) => (0u8, s).hash(&mut h),
            Stmt::Compound(s) => (1u8, s).hash(&mut h),
            Stmt::Insert(s) => (2u8, s).hash(&mut h),
            Stmt::Update(s) => (3u8, s).hash(&mut h),
            Stmt::Delete(s) => (4u8, s).hash(&mut h),
        }
        h.finish()
    }
}

/// Builds schema and statements: structure from the fuzz bytes, literal values from a separate seed.
struct Gen<'a> {
    b: Bytes<'a>,
    seed: u64,
    tables: Vec<Table>,
    depth: u32,
    /// Where the sources of the select being built start in the scope: aggregates take only those (an
    /// aggregate of an enclosing query's columns belongs to that query, which SQLite refuses in a WHERE).
    own: usize,
}

impl Gen<'_> {
    fn pick(&mut self, n: usize) -> usize {
        usize::from(self.b.byte()) % n.max(1)
    }

    fn chance(&mut self, in_eight: u8) -> bool {
        self.b.byte() % 8 < in_eight
    }

    fn next_seed(&mut self) -> u64 {
        // xorshift64: literal values vary with the seed, never with the structure bytes.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    fn name(&mut self) -> String {
        if self.chance(1) {
            let n = self.pick(5);
            String::from_utf8_lossy(self.b.take(n)).into_owned()
        } else {
            NAMES[self.pick(NAMES.len())].to_owned()
        }
    }

    fn text(&mut self) -> String {
        TEXTS[self.pick(TEXTS.len())].to_owned()
    }

    fn value(&mut self) -> Expr {
        let s = self.next_seed();
        match s % 6 {
            0 => null(),
            1 => lit(i64::from_le_bytes(s.to_le_bytes())),
            2 => lit(f64::from_bits(s)),
            3 => lit(TEXTS[usize::try_from(s >> 8).unwrap_or(0) % TEXTS.len()]),
            4 => lit(s.to_le_bytes().to_vec().as_slice()),
            _ => lit(s & 1 == 0),
        }
    }

    fn sql_type(&mut self) -> SqlType {
        match self.pick(13) {
            0 => Integer.into(),
            1 => BigInteger.into(),
            2 => SmallInteger.into(),
            3 => Float.into(),
            4 => Numeric.into(),
            5 => Text.into(),
            6 => Varchar(u32::from(self.b.byte())).into(),
            7 => Blob.into(),
            8 => Boolean.into(),
            9 => Date.into(),
            10 => DateTime.into(),
            11 => Json.into(),
            _ => SqlType::Null,
        }
    }

    fn schema(&mut self, meta: &MetaData) {
        let mut taken: Vec<String> = Vec::new();
        for _ in 0..1 + self.pick(3) {
            let name = self.name();
            let key = name.to_ascii_lowercase();
            if taken.contains(&key) || key.starts_with("sqlite_") {
                continue;
            }
            taken.push(key);
            let mut cols: Vec<Column> = Vec::new();
            let mut col_keys: Vec<String> = Vec::new();
            for i in 0..1 + self.pick(4) {
                let cname = self.name();
                let ckey = cname.to_ascii_lowercase();
                if col_keys.contains(&ckey) {
                    continue;
                }
                col_keys.push(ckey);
                let mut c = Column::new(cname, self.sql_type());
                match self.pick(8) {
                    0 if i == 0 => c = c.primary_key(),
                    1 => c = c.unique(),
                    2 => c = c.index(),
                    3 => c = c.default(Value::Integer(7)),
                    4 => c = c.server_default(self.text()),
                    5 => {
                        // A foreign key must reference a key of its parent, or SQLite refuses statements on it.
                        // ("table.column" is split at its last dot, so a column name with a dot cannot be named.)
                        if let Some(pk) = self.tables.last().and_then(|t| t.primary_key().pop().map(|k| (t, k))) {
                            if !pk.1.contains('.') {
                                c = c.foreign_key(&format!("{}.{}", pk.0.name(), pk.1));
                            }
                        }
                    }
                    _ => {}
                }
                cols.push(c);
            }
            self.tables.push(Table::new(name, meta, cols));
        }
    }

    fn table(&mut self) -> Option<Table> {
        let n = self.tables.len();
        if n == 0 {
            return None;
        }
        let i = self.pick(n);
        Some(self.tables[i].clone())
    }

    fn column(&mut self, scope: &[Src]) -> Expr {
        if scope.is_empty() {
            return self.value();
        }
        let src = &scope[self.pick(scope.len())];
        let names = src.names();
        if names.is_empty() || self.b.byte() < 8 {
            let n = self.name();
            return src.c(&n);
        }
        let n = &names[usize::from(self.b.byte()) % names.len()];
        src.c(n)
    }

    fn exprs(&mut self, scope: &[Src], agg: bool, max: usize) -> Vec<Expr> {
        (0..self.pick(max + 1)).map(|_| self.expr(scope, agg)).collect()
    }

    /// A random expression over the columns in `scope`; aggregates only where `agg` allows them.
    fn expr(&mut self, scope: &[Src], agg: bool) -> Expr {
        if self.depth > 3 {
            return if self.chance(4) { self.column(scope) } else { self.value() };
        }
        self.depth += 1;
        let e = self.expr_inner(scope, agg);
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self, scope: &[Src], agg: bool) -> Expr {
        match self.pick(26) {
            0..=2 => self.column(scope),
            3 | 4 => self.value(),
            5 => {
                let n = self.name();
                bindparam(&n)
            }
            6 => {
                let (a, b) = (self.expr(scope, agg), self.expr(scope, agg));
                match self.pick(8) {
                    0 => a.eq(b),
                    1 => a.ne(b),
                    2 => a.lt(b),
                    3 => a.le(b),
                    4 => a.gt(b),
                    5 => a.ge(b),
                    6 => a.is(b),
                    _ => a.is_not(b),
                }
            }
            7 => {
                let (a, b) = (self.expr(scope, agg), self.expr(scope, agg));
                match self.pick(6) {
                    0 => a + b,
                    1 => a - b,
                    2 => a * b,
                    3 => a / b,
                    4 => a % b,
                    _ => a.concat(b),
                }
            }
            8 => {
                let items = self.exprs(scope, agg, 3);
                if self.chance(4) {
                    and_(items)
                } else {
                    or_(items)
                }
            }
            9 => !self.expr(scope, agg),
            10 => -self.expr(scope, agg),
            11 => {
                let e = self.expr(scope, agg);
                if self.chance(4) {
                    e.is_null()
                } else {
                    e.is_not_null()
                }
            }
            12 => {
                let e = self.expr(scope, agg);
                let items = self.exprs(scope, agg, 3);
                if self.chance(4) {
                    e.in_(items)
                } else {
                    e.not_in(items)
                }
            }
            13 => {
                let e = self.expr(scope, agg);
                let t = self.text();
                match self.pick(8) {
                    0 => e.like(t),
                    1 => e.not_like(t),
                    2 => e.ilike(t),
                    3 => e.not_ilike(t),
                    4 => e.contains(&t),
                    5 => e.startswith(&t),
                    6 => e.endswith(&t),
                    _ => e.glob(t),
                }
            }
            14 => {
                let (e, lo, hi) = (self.expr(scope, agg), self.expr(scope, agg), self.expr(scope, agg));
                if self.chance(4) {
                    e.between(lo, hi)
                } else {
                    e.not_between(lo, hi)
                }
            }
            15 => {
                let a = self.expr(scope, agg);
                match self.pick(7) {
                    0 => func::abs(a),
                    1 => func::lower(a),
                    2 => func::upper(a),
                    3 => func::length(a),
                    4 => func::round(a, 2),
                    5 => {
                        let b = self.expr(scope, agg);
                        func::coalesce([a, b])
                    }
                    _ => {
                        let b = self.expr(scope, agg);
                        func::call("max", [a, b])
                    }
                }
            }
            16 => {
                let e = self.expr(scope, agg);
                let t = self.sql_type();
                cast(e, t)
            }
            17 => {
                let mut c = case([(self.expr(scope, agg), self.expr(scope, agg))]);
                if self.chance(2) {
                    c = c.value(self.expr(scope, agg));
                }
                if self.chance(4) {
                    c.else_(self.expr(scope, agg))
                } else {
                    c.end()
                }
            }
            18 => self.select(scope, true).exists(),
            19 => self.select(scope, true).scalar_subquery(),
            20 => {
                let e = self.expr(scope, agg);
                e.in_query(self.select(scope, true))
            }
            21 => {
                let n = self.name();
                self.expr(scope, agg).label(&n)
            }
            22 => {
                let arity = 1 + self.pick(2);
                let left = tuple((0..arity).map(|_| self.expr(scope, agg)).collect::<Vec<_>>());
                // The list is written as `VALUES (...)`, a select of its own: no aggregates there.
                let items: Vec<Expr> = (0..self.pick(3))
                    .map(|_| tuple((0..arity).map(|_| self.expr(scope, false)).collect::<Vec<_>>()))
                    .collect();
                left.in_(items)
            }
            23 if agg => {
                let own = &scope[self.own.min(scope.len())..];
                let a = self.expr(own, false);
                match self.pick(7) {
                    0 => func::count_star(),
                    1 => func::count(a),
                    2 => func::sum(a),
                    3 => func::avg(a),
                    4 => func::min(a),
                    5 => func::max(a),
                    _ => func::count_distinct(a),
                }
            }
            24 => {
                let n = self.name();
                excluded(&n)
            }
            _ => self.column(scope),
        }
    }

    /// A source for FROM: a table, an alias of one, or a named subquery.
    fn source(&mut self, outer: &[Src]) -> Option<Src> {
        let t = self.table()?;
        Some(match self.pick(6) {
            0 => {
                let n = self.name();
                Src::Alias(t.alias(n))
            }
            1 if self.depth < 3 => {
                self.depth += 1;
                let q = self.select(outer, false);
                self.depth -= 1;
                let n = self.name();
                Src::Sub(q.subquery(&n))
            }
            _ => Src::Table(t),
        })
    }

    fn select(&mut self, outer: &[Src], single: bool) -> Select {
        self.depth += 1;
        let own = std::mem::replace(&mut self.own, outer.len());
        let s = self.select_inner(outer, single);
        self.own = own;
        self.depth -= 1;
        s
    }

    fn select_inner(&mut self, outer: &[Src], single: bool) -> Select {
        let Some(base) = self.source(outer) else {
            return select(self.value());
        };
        let mut scope = outer.to_vec();
        scope.push(base.clone());
        let mut joined = Vec::new();
        if self.chance(2) {
            if let Some(target) = self.source(outer) {
                joined.push(target);
            }
        }
        let mut inner_scope = scope.clone();
        inner_scope.extend(joined.iter().cloned());
        let columns: Vec<Expr> = if single {
            vec![self.expr(&inner_scope, true)]
        } else if self.chance(2) {
            base.names().iter().map(|n| base.c(n)).collect()
        } else {
            let mut v = self.exprs(&inner_scope, true, 3);
            if v.is_empty() && self.chance(6) {
                v.push(self.expr(&inner_scope, true));
            }
            v
        };
        let mut s = select(columns);
        if self.chance(6) {
            s = match &base {
                Src::Table(t) => s.select_from(t),
                Src::Alias(a) => s.select_from(a),
                Src::Sub(q) => s.select_from(q),
            };
        }
        for j in &joined {
            let on = self.chance(4).then(|| self.expr(&inner_scope, false));
            let outer_join = self.chance(2);
            s = match (j, on, outer_join) {
                (Src::Table(t), None, false) => s.join(t),
                (Src::Table(t), None, true) => s.outerjoin(t),
                (Src::Table(t), Some(on), false) => s.join_on(t, on),
                (Src::Table(t), Some(on), true) => s.outerjoin_on(t, on),
                (Src::Alias(a), None, _) => s.join(a),
                (Src::Alias(a), Some(on), _) => s.join_on(a, on),
                (Src::Sub(q), Some(on), _) => s.join_on(q, on),
                (Src::Sub(q), None, _) => s.join(q),
            };
        }
        if self.chance(4) {
            s = s.where_(self.expr(&inner_scope, false));
        }
        // SQLite cannot resolve an enclosing query's columns in a subquery's GROUP BY, HAVING or ORDER BY.
        let own_scope = inner_scope[outer.len()..].to_vec();
        if self.chance(2) {
            let g = self.exprs(&own_scope, false, 2);
            let grouped = !g.is_empty();
            s = s.group_by(g);
            if grouped && self.chance(4) {
                s = s.having(self.expr(&own_scope, true));
            }
        }
        if self.chance(3) {
            let mut order = Vec::new();
            for _ in 0..1 + self.pick(2) {
                let e = self.expr(&own_scope, false);
                order.push(match self.pick(6) {
                    0 => e.asc(),
                    1 => e.desc(),
                    2 => e.desc().nulls_last(),
                    3 => e.nulls_first(),
                    _ => e,
                });
            }
            s = s.order_by(order);
        }
        if self.chance(2) {
            s = s.limit(i64::from(self.b.byte()));
        }
        if self.chance(1) {
            s = s.offset(i64::from(self.b.byte()));
        }
        if self.chance(1) {
            s = s.distinct();
        }
        s
    }

    fn compound(&mut self) -> asqlite_query::select::Compound {
        let first = self.select(&[], false);
        let second = self.select(&[], false);
        let mut c = match self.pick(4) {
            0 => union(first, second),
            1 => union_all(first, second),
            2 => intersect(first, second),
            _ => except_(first, second),
        };
        if self.chance(2) {
            let third = self.select(&[], false);
            c = c.union_all(third);
        }
        if self.chance(3) {
            let q: Query = self.select(&[], false).into();
            let e = self.column(&[]);
            let names = q.column_names();
            let term = match names.first() {
                Some(n) if self.chance(4) => {
                    let n = n.clone();
                    self.table().map_or(e, |t| t.c(&n))
                }
                _ => e,
            };
            c = c.order_by(term.desc());
        }
        if self.chance(2) {
            c = c.limit(i64::from(self.b.byte()));
        }
        c
    }

    fn conflict_target(&mut self, t: &Table) -> Vec<String> {
        let pk = t.primary_key();
        if !pk.is_empty() && self.chance(6) {
            return pk;
        }
        t.columns().iter().filter(|c| c.is_unique()).take(1).map(|c| c.name().to_owned()).collect()
    }

    fn insert(&mut self, t: &Table) -> asqlite_query::insert::Insert {
        let names: Vec<String> = t.column_names().iter().map(|s| (*s).to_owned()).collect();
        let scope = [Src::Table(t.clone())];
        let mut ins = t.insert();
        let pick_cols = |g: &mut Self| -> Vec<String> {
            let mut cols: Vec<String> = Vec::new();
            for _ in 0..1 + g.pick(3) {
                let c = if g.b.byte() < 16 { g.name() } else { names[g.pick(names.len())].clone() };
                if !cols.contains(&c) {
                    cols.push(c);
                }
            }
            cols
        };
        match self.pick(4) {
            0 => {
                for c in pick_cols(self) {
                    let v = self.expr(&[], false);
                    ins = ins.value(&c, v);
                }
            }
            1 => {
                let cols = pick_cols(self);
                let rows: Vec<asqlite::Params> = (0..1 + self.pick(3))
                    .map(|_| {
                        let mut p = asqlite::Params::named_with_capacity(cols.len());
                        for c in &cols {
                            let s = self.next_seed();
                            p.push_named(c.clone(), &i64::from_le_bytes(s.to_le_bytes()));
                        }
                        p
                    })
                    .collect();
                ins = ins.rows(rows);
            }
            2 => {
                let cols = pick_cols(self);
                let q = self.select(&[], false);
                ins = ins.from_select(cols, q);
            }
            _ => {}
        }
        if self.chance(1) {
            ins = ins.or(OrAction::Ignore);
        }
        match self.pick(4) {
            0 => {
                let target = self.conflict_target(t);
                ins = ins.on_conflict_do_nothing(target);
            }
            1 => {
                let target = self.conflict_target(t);
                let c = names[self.pick(names.len())].clone();
                let v = self.expr(&scope, false);
                ins = ins.on_conflict_do_update(target, [(c, v)]);
                if self.chance(3) {
                    ins = ins.on_conflict_where(self.expr(&scope, false));
                }
            }
            _ => {}
        }
        if self.chance(2) {
            ins = ins.returning(self.exprs(&scope, false, 2));
        }
        ins
    }

    fn update(&mut self, t: &Table) -> asqlite_query::update::Update {
        let mut scope = vec![Src::Table(t.clone())];
        if self.chance(2) {
            if let Some(other) = self.table() {
                scope.push(Src::Table(other));
            }
        }
        let names: Vec<String> = t.column_names().iter().map(|s| (*s).to_owned()).collect();
        let mut u = t.update();
        for _ in 0..self.pick(3) {
            let c = if self.b.byte() < 16 { self.name() } else { names[self.pick(names.len())].clone() };
            let v = self.expr(&scope, false);
            u = u.set(&c, v);
        }
        if self.chance(5) {
            u = u.where_(self.expr(&scope, false));
        }
        if self.chance(2) {
            u = u.returning(self.exprs(&scope[..1], false, 2));
        }
        u
    }

    fn delete(&mut self, t: &Table) -> asqlite_query::delete::Delete {
        let scope = [Src::Table(t.clone())];
        let mut d = t.delete();
        if self.chance(5) {
            d = d.where_(self.expr(&scope, false));
        }
        if self.chance(2) {
            d = d.returning(self.exprs(&scope, false, 2));
        }
        d
    }

    fn statement(&mut self) -> Stmt {
        let Some(t) = self.table() else {
            return Stmt::Select(select(self.value()));
        };
        match self.pick(6) {
            0 | 1 => Stmt::Select(self.select(&[], false)),
            2 => Stmt::Compound(self.compound()),
            3 => Stmt::Insert(self.insert(&t)),
            4 => Stmt::Update(self.update(&t)),
            _ => Stmt::Delete(self.delete(&t)),
        }
    }
}

/// Build a schema and a statement from `data`, compile it, and check it prepares with the right parameter count.
pub fn compile_query(data: &[u8]) {
    let meta = MetaData::new();
    let mut g = Gen { b: Bytes(data), seed: 0x9E37_79B9_7F4A_7C15, tables: Vec::new(), depth: 0, own: 0 };
    g.schema(&meta);
    let conn = Connection::open_in_memory().expect("an in-memory database");
    match meta.create_all(&conn) {
        Ok(()) => {}
        // Names SQLite cannot take (a NUL) are refused before any SQL runs.
        Err(Error::Compile(_)) => return,
        Err(e) => panic!("create_all failed for {meta:?}: {e}"),
    }
    let tables = g.tables.clone();
    let rest = g.b.0;
    let stmt = g.statement();
    // The same structure with other literal values.
    let mut g2 = Gen { b: Bytes(rest), seed: 0x2545_F491_4F6C_DD1D, tables, depth: 0, own: 0 };
    let twin = g2.statement();

    let compiled = match stmt.exec().compile() {
        Ok(c) => c,
        Err(e) => {
            assert!(matches!(e, Error::Compile(_)), "compile gave a non-compile error: {e:?}");
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let sql = compiled.sql();
    let _ = compiled.debug_sql();
    let prepared = conn.prepare(sql);
    let st = match prepared {
        Ok(st) => st,
        Err(e) => panic!("compiled SQL does not prepare: {e}\nSQL: {sql}\nschema: {:?}", meta.tables()),
    };
    assert_eq!(st.parameter_count(), compiled.slots().len(), "parameter count vs slots\nSQL: {sql}");
    drop(st);

    if stmt.shape_hash() == twin.shape_hash() {
        match twin.exec().compile() {
            Ok(c2) => {
                assert_eq!(c2.sql(), sql, "equal shapes compiled to different SQL");
                assert_eq!(c2.slots(), compiled.slots(), "equal shapes with different slots\nSQL: {sql}");
                assert_eq!(c2.literals().len(), compiled.literals().len(), "literal count\nSQL: {sql}");
            }
            Err(e) => panic!("equal shapes: one compiles, the other fails with {e}\nSQL: {sql}"),
        }
    }
}
