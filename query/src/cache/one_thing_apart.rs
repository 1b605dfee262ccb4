//! The statement cache against fresh compiles: selects that differ in one thing and random selects, compiled
//! through caches of both dialects (a thread's recent selects compared node by node, then keys) and run through
//! the engine, must give the fresh compile's SQL, slots, literals, rows and errors.

use super::*;
use crate::compile::{Executable, Postgres};
use crate::prelude::*;
use crate::select::Select;

/// Tables for [`variants`]: `t`, a table of the same name and columns in another `MetaData`, an earlier
/// definition of `t` in the same `MetaData` (replaced by `t`), and `u`.
struct Tables {
    t: Table,
    other_meta: Table,
    redefined: Table,
    u: Table,
}

fn tables(meta: &MetaData) -> Tables {
    let cols = || {
        [
            Column::new("id", Integer).primary_key(),
            Column::new("a", Text),
            Column::new("b", Integer),
            Column::new("j", Json),
        ]
    };
    let other_meta = Table::new("t", &MetaData::new(), cols());
    let redefined = Table::new("t", meta, cols());
    let t = Table::new("t", meta, cols());
    let u = Table::new("u", meta, [Column::new("id", Integer).primary_key(), Column::new("t_id", Integer)]);
    Tables { t, other_meta, redefined, u }
}

/// Selects side by side that differ in one thing each (a name, a table, an operator, a flag, a length, a
/// literal's type, a literal against a parameter or NULL or text, ...); `n` changes the literal values only.
fn variants(ts: &Tables, n: i64) -> Vec<Select> {
    let Tables { t, other_meta, redefined, u } = ts;
    let (x, y, x2) = (t.alias("x"), t.alias("y"), other_meta.alias("x"));
    let s = format!("s{n}");
    let s = s.as_str();
    let w = |c: Expr| select(t.clone()).where_(c);
    let sub = select(u.c("t_id")).where_(u.c("id").gt(n));
    let cte = select((t.c("id"), t.c("b"))).where_(t.c("b").gt(n)).cte("c");
    let cte2 = select((t.c("id"), t.c("b"))).where_(t.c("b").lt(n)).cte("c");
    vec![
        // Whole-table lists and their tables.
        select(t),
        select(other_meta),
        select(redefined),
        select(u),
        select(t.all_columns()),
        select(t).distinct(),
        // Columns: name, table, alias, order, count, label, text.
        select(t.c("a")),
        select(t.c("b")),
        select(other_meta.c("a")),
        select(redefined.c("a")),
        select(x.c("a")).select_from(&x),
        select(y.c("a")).select_from(&y),
        select(x2.c("a")).select_from(&x2),
        select((t.c("a"), t.c("b"))),
        select((t.c("b"), t.c("a"))),
        select((t.c("a"), t.c("b"), t.c("id"))),
        select(t.c("a").label("k")),
        select(t.c("a").label("l")),
        select(literal_column("a")).select_from(t),
        select(literal_column("b")).select_from(t),
        select(literal_column("t.a")).select_from(t),
        select(text("a")).select_from(t),
        select(t.c("a")).distinct(),
        // Expressions in the list.
        select(t.c("b") + n),
        select(t.c("b") - n),
        select(t.c("b") + lit(n as f64)),
        select(t.c("b") + lit(s)),
        select(t.c("b") + bindparam("p")),
        select(t.c("b") + bindparam("q")),
        select(t.c("b") + null()),
        select(t.c("b") + literal_column("1")),
        select(t.c("b") + literal_column("2")),
        select(-t.c("b")),
        select(func::max(t.c("b"))),
        select(func::min(t.c("b"))),
        select(func::count(t.c("b"))),
        select(func::count_distinct(t.c("b"))),
        select(func::count_star()),
        select(func::coalesce([t.c("b"), lit(n)])),
        select(func::coalesce([t.c("b"), lit(n), lit(n + 1)])),
        select(func::coalesce([t.c("b"), t.c("id")])),
        select(cast(t.c("a"), Integer)),
        select(cast(t.c("a"), Text)),
        select(cast(t.c("a"), Varchar(10))),
        select(cast(t.c("a"), Varchar(20))),
        select(t.c("a").collate("NOCASE")),
        select(t.c("a").collate("BINARY")),
        select(case([(t.c("b").gt(n), lit("big"))]).else_(lit("small"))),
        select(case([(t.c("b").gt(n), lit("big"))]).end()),
        select(case([(t.c("b").gt(n), lit("big")), (t.c("b").lt(n), lit("small"))]).end()),
        select(case([(lit(1), lit("one"))]).value(t.c("b")).end()),
        select(t.c("j").json_get(n)),
        select(t.c("j").json_get(s)),
        select(t.c("j").json_get_value(n)),
        select(t.c("a").concat(s)),
        select(tuple([t.c("a"), t.c("b")]).label("tp")).where_(t.c("b").eq(n)),
        select(func::count(t.c("b")).filter(t.c("b").gt(n))),
        select(func::count(t.c("b")).filter(t.c("b").lt(n))),
        // WHERE: operator, column, literal type, parameter name, NULL, text.
        w(t.c("b").eq(n)),
        w(t.c("b").ne(n)),
        w(t.c("b").lt(n)),
        w(t.c("b").le(n)),
        w(t.c("id").eq(n)),
        w(t.c("b").eq(s)),
        w(t.c("b").eq(lit(n as f64))),
        w(t.c("b").eq(lit(true))),
        w(t.c("b").eq(bindparam("p"))),
        w(t.c("b").eq(bindparam("q"))),
        w(t.c("b").eq(null())),
        w(t.c("b").is(null())),
        w(t.c("b").is_not(null())),
        w(t.c("b").is_null()),
        w(t.c("b").is_not_null()),
        w(t.c("b").is_distinct_from(n)),
        w(t.c("b").eq(t.c("id"))),
        w(t.c("b").eq(other_meta.c("b"))),
        w(t.c("b").eq(literal_column("1"))),
        w(text("b = 1").into_expr()),
        w(text("b = 2").into_expr()),
        w(text("b = :p").into_expr()),
        w(t.c("b").gt(n) & t.c("id").lt(n)),
        w(t.c("b").gt(n) | t.c("id").lt(n)),
        w(and_([t.c("b").gt(n), t.c("id").lt(n), t.c("a").is_null()])),
        w(and_(Vec::<Expr>::new())),
        w(or_(Vec::<Expr>::new())),
        w(not_(t.c("b").gt(n))),
        w(t.c("a").like(s)),
        w(t.c("a").not_like(s)),
        w(t.c("a").ilike(s)),
        w(t.c("a").contains(s)),
        w(t.c("a").startswith(s)),
        w(t.c("a").glob(s)),
        w(t.c("b").in_([n, n + 1])),
        w(t.c("b").in_([n, n + 1, n + 2])),
        w(t.c("b").in_(Vec::<i64>::new())),
        w(t.c("b").not_in([n, n + 1])),
        w(t.c("b").not_in(Vec::<i64>::new())),
        w(t.c("b").between(n, n + 9)),
        w(t.c("b").not_between(n, n + 9)),
        w(t.c("b").between(bindparam("p"), n + 9)),
        w(tuple([t.c("b"), t.c("id")]).eq(tuple([lit(n), lit(n)]))),
        w(t.c("b").in_query(sub.clone())),
        w(t.c("b").not_in_query(sub.clone())),
        w(sub.clone().exists()),
        w(t.c("b").eq(select(func::max(u.c("id"))).scalar_subquery())),
        w(t.c("b").eq(select(func::min(u.c("id"))).scalar_subquery())),
        // GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET.
        select((t.c("b"), func::count_star().label("n"))).group_by(t.c("b")),
        select((t.c("b"), func::count_star().label("n"))).group_by(t.c("a")),
        select((t.c("b"), func::count_star().label("n"))).group_by(t.c("b")).having(func::count_star().gt(n)),
        select((t.c("b"), func::count_star().label("n"))).group_by(t.c("b")).having(func::count_star().lt(n)),
        select((t.c("b"), func::count_star().label("n"))).group_by("b").order_by(desc("n")),
        select((t.c("b"), func::count_star().label("n"))).group_by("b").order_by(desc("b")),
        select(t).order_by(t.c("b")),
        select(t).order_by(t.c("a")),
        select(t).order_by(desc(t.c("b"))),
        select(t).order_by(t.c("b").nulls_first()),
        select(t).order_by(t.c("b").nulls_last()),
        select(t).order_by(desc(t.c("b")).nulls_last()),
        select(t).order_by((t.c("b"), t.c("a"))),
        select(t).order_by("b"),
        select(t).order_by("a"),
        select(t).limit(n),
        select(t).offset(n),
        select(t).limit(n).offset(n),
        select(t).order_by(t.c("b")).limit(n),
        // FROM and joins.
        select(t.c("a")).select_from(u),
        select(t.c("a")).select_from(t),
        select((x.c("id"), y.c("id"))).select_from(&x).join_on(&y, x.c("b").eq(y.c("b"))),
        select((x.c("id"), y.c("id"))).select_from(&x).outerjoin_on(&y, x.c("b").eq(y.c("b"))),
        select((x.c("id"), y.c("id"))).select_from(&x).full_join_on(&y, x.c("b").eq(y.c("b"))),
        select((x.c("id"), y.c("id"))).select_from(&x).join_on(&y, x.c("b").lt(y.c("b"))),
        select((x.c("id"), y.c("id"))).select_from(&y).join_on(&x, x.c("b").eq(y.c("b"))),
        select(t).join_on(u, u.c("t_id").eq(t.c("id"))),
        select(t).join_on(u, u.c("t_id").eq(t.c("b"))),
        select(t).join_on(&other_meta.alias("o"), t.c("b").eq(n)),
        // Subqueries, CTEs, windows.
        select(sub.clone().subquery("sq").c("t_id")),
        select(select(u.c("id")).where_(u.c("id").gt(n)).subquery("sq").c("id")),
        select(cte.c("b")),
        select(cte2.c("b")),
        select(func::row_number().over(t.c("a"), t.c("b"))),
        select(func::row_number().over(t.c("b"), t.c("a"))),
        select(func::row_number().over(t.c("a"), t.c("b")).rows_between(Some(-1), Some(1))),
        select(func::row_number().over(t.c("a"), t.c("b")).rows_between(Some(-2), Some(1))),
        select(t.c("b").eq(any_(select(u.c("id")).scalar_subquery()))),
        select(t.c("b").eq(all_(select(u.c("id")).scalar_subquery()))),
    ]
}

/// What must not differ from a fresh compile: SQL, slots, literals, kind.
fn fingerprint(c: &Compiled) -> (String, Vec<crate::compile::Slot>, Vec<Value>, bool) {
    (c.sql().to_owned(), c.slots().to_vec(), c.literals.clone(), c.returns_rows())
}

fn check(cache: &StatementCache, s: &Select, what: &str) {
    let fresh = s.compile_for(cache.dialect());
    let cached = cache.compile(s.as_stmt(), None);
    match (fresh, cached) {
        (Ok(f), Ok(c)) => assert_eq!(fingerprint(&c), fingerprint(&f), "{what}: {s:?}"),
        (Err(f), Err(c)) => assert_eq!(c.to_string(), f.to_string(), "{what}"),
        (f, c) => {
            panic!("{what}: fresh {:?}, cached {:?}", f.map(|c| c.sql().to_owned()), c.map(|c| c.sql().to_owned()))
        }
    }
}

/// Selects that differ in one thing (or a few), compiled A, B, A, B, B, A (and again with other literal values)
/// through one cache per dialect and capacity, give what a fresh compile gives; and so does one long-lived cache
/// of each dialect going through them all, in order and back.
#[test]
fn selects_one_thing_apart_compile_as_fresh_through_the_cache_in_any_order() {
    let meta = MetaData::new();
    let ts = tables(&meta);
    let (v1, v7) = (variants(&ts, 1), variants(&ts, 7));
    let dialects: [&'static dyn Dialect; 2] = [&SQLITE, &Postgres];
    for dialect in dialects {
        let long = StatementCache::with_dialect(DEFAULT_CAPACITY, dialect);
        for round in 0..2 {
            let order: Vec<usize> = if round == 0 { (0..v1.len()).collect() } else { (0..v1.len()).rev().collect() };
            for i in order {
                check(&long, &v1[i], "long-lived");
                check(&long, &v7[i], "long-lived");
            }
        }
        // Neighbours differ in one thing; a few apart, in a few.
        for cap in [1, 2, DEFAULT_CAPACITY] {
            for i in 0..v1.len() {
                for j in i.saturating_sub(6)..(i + 7).min(v1.len()) {
                    if i == j {
                        continue;
                    }
                    let cache = StatementCache::with_dialect(cap, dialect);
                    let seq =
                        [(&v1[i], "A"), (&v1[j], "B"), (&v7[i], "A"), (&v7[j], "B"), (&v1[j], "B"), (&v7[i], "A")];
                    for (s, what) in seq {
                        check(&cache, s, &format!("{} pair {i}/{j} cap {cap} {what}", dialect.name()));
                    }
                }
            }
        }
    }
}

/// The parameters a statement of `c`'s shape takes, each given a value.
fn params_for(c: &Compiled) -> Params {
    let mut p = Params::none();
    for slot in c.slots() {
        if let crate::compile::Slot::Named(n) = slot {
            if p.get_named(n).is_none() {
                p.push_named(n.to_string(), &3);
            }
        }
    }
    p
}

fn outcome(r: Result<QueryResult>) -> String {
    match r {
        Ok(r) => format!("{:?} {} rows\n{r}", r.columns(), r.len()),
        Err(e) => format!("error: {e}"),
    }
}

/// The same selects run on a SQLite file through an engine (its cache, capacity 1 and the default), outside a
/// transaction and in one, in the order A, B, A, B, B, A: each gives the rows (or the error) the statement
/// compiled fresh gives, with its parameters and with a name it does not have.
#[test]
fn selects_one_thing_apart_run_as_fresh_through_the_engine() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let meta = MetaData::new();
        let ts = tables(&meta);
        for cap in [1, DEFAULT_CAPACITY] {
            let url = format!("sqlite:///{}?cache_size={cap}", dir.path().join(format!("c{cap}.db")).display());
            let engine = create_async_engine(&url).await.unwrap();
            engine.create_all(&meta).await.unwrap();
            let conn = engine.connect().await.unwrap();
            conn.execute(text(
                "INSERT INTO t VALUES (1, 's1', 1, '[1,2]'), (2, 's7', 7, '{\"s1\": 3}'), (3, NULL, NULL, NULL), \
                 (4, 'S1', 3, '[5]')",
            ))
            .await
            .unwrap();
            conn.execute(text("INSERT INTO u VALUES (1, 1), (2, 2), (3, 7)")).await.unwrap();
            conn.commit().await.unwrap();
            let (v1, v7) = (variants(&ts, 1), variants(&ts, 7));
            let n = v1.len();
            for k in 0..n {
                let (i, j) = (k, (k * 7 + 1) % n);
                let seq = [&v1[i], &v1[j], &v7[i], &v7[j], &v7[j], &v1[i]];
                for (step, s) in seq.into_iter().enumerate() {
                    let fresh = s.compile_for(engine.dialect());
                    let params = fresh.as_ref().map(params_for).unwrap_or_else(|_| Params::none());
                    let want = match &fresh {
                        Ok(c) => outcome(conn.execute_with(c, params.clone()).await),
                        Err(e) => format!("error: {e}"),
                    };
                    let what = format!("cap {cap} pair {i}/{j} step {step}: {s:?}");
                    assert_eq!(outcome(conn.execute_with(s, params.clone()).await), want, "{what}");
                    let bad = named_params! {"zz" => 1};
                    let want_bad = match &fresh {
                        Ok(c) => outcome(conn.execute_with(c, bad.clone()).await),
                        Err(e) => format!("error: {e}"),
                    };
                    assert_eq!(outcome(conn.execute_with(s, bad).await), want_bad, "{what}");
                    conn.begin().await.unwrap();
                    assert_eq!(outcome(conn.execute_with(s, params.clone()).await), want, "in a transaction: {what}");
                    conn.rollback().await.unwrap();
                }
            }
            engine.dispose().await.unwrap();
        }
    });
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
    }
}

fn random_leaf(r: &mut Rng, ts: &Tables, n: i64) -> Expr {
    let x = ts.t.alias("x");
    match r.below(14) {
        0 => ts.t.c("a"),
        1 => ts.t.c("b"),
        2 => ts.other_meta.c("b"),
        3 => ts.redefined.c("b"),
        4 => x.c("b"),
        5 => lit(n),
        6 => lit(format!("s{n}")),
        7 => lit(n as f64),
        8 => bindparam(["p", "q"][r.below(2)]),
        9 => null(),
        10 => literal_column(["1", "2", "t.b"][r.below(3)]),
        11 => text(["b", "t.a"][r.below(2)]).into_expr(),
        12 => ts.t.c("j"),
        _ => ts.u.c("id"),
    }
}

fn random_expr(r: &mut Rng, ts: &Tables, n: i64, depth: usize) -> Expr {
    if depth == 0 {
        return random_leaf(r, ts, n);
    }
    let a = random_expr(r, ts, n, depth - 1);
    let b = random_expr(r, ts, n, depth - 1);
    match r.below(26) {
        0 => a.eq(b),
        1 => a.ne(b),
        2 => a.lt(b),
        3 => a + b,
        4 => a - b,
        5 => a.concat(b),
        6 => a & b,
        7 => a | b,
        8 => not_(a),
        9 => -a,
        10 => a.is_null(),
        11 => a.is(b),
        12 => a.like(b),
        13 => a.ilike(b),
        14 => a.in_([b]),
        15 => a.not_in([b, lit(n)]),
        16 => a.between(b, lit(n)),
        17 => func::coalesce([a, b]),
        18 => func::max(a),
        19 => cast(a, [SqlType::Integer, SqlType::Text, SqlType::Varchar(3)][r.below(3)].clone()),
        20 => a.collate(["NOCASE", "BINARY"][r.below(2)]),
        21 => case([(a, b)]).end(),
        22 => a.json_get(b),
        23 => a.label(["k", "l"][r.below(2)]),
        24 => tuple([a, b]),
        _ => a.is_distinct_from(b),
    }
}

fn random_select(r: &mut Rng, ts: &Tables, n: i64) -> Select {
    let depth = r.below(3);
    let mut q = match r.below(4) {
        0 => select(&ts.t),
        1 => select(random_expr(r, ts, n, depth)),
        2 => {
            let a = random_expr(r, ts, n, depth);
            select((a, random_expr(r, ts, n, 0)))
        }
        _ => select(ts.t.c("a")),
    };
    if r.below(2) == 0 {
        let d = 1 + r.below(2);
        q = q.where_(random_expr(r, ts, n, d));
    }
    if r.below(4) == 0 {
        let d = r.below(2);
        q = q.order_by(random_expr(r, ts, n, d));
    }
    if r.below(5) == 0 {
        let g = random_expr(r, ts, n, 0);
        q = q.group_by(g).having(random_expr(r, ts, n, 1));
    }
    if r.below(5) == 0 {
        q = q.limit(n);
    }
    if r.below(6) == 0 {
        q = q.offset(n);
    }
    if r.below(6) == 0 {
        q = q.distinct();
    }
    q
}

fn key_of(s: &Select) -> Vec<u64> {
    let mut k = Vec::new();
    hash_stmt(s.as_stmt(), None, &mut KeyWriter(&mut k));
    k
}

/// Random selects (from a small alphabet, so that many share a shape): those of one key, and those the
/// node-by-node comparison calls the same, compile fresh to the same SQL and slots; and each compiles through
/// one long-lived cache per dialect as it compiles fresh.
#[test]
fn random_selects_of_one_key_compile_to_one_sql() {
    let meta = MetaData::new();
    let ts = tables(&meta);
    // Caches of both dialects, large and small, used in turn on this one thread.
    let caches = [
        StatementCache::with_dialect(DEFAULT_CAPACITY, &SQLITE),
        StatementCache::with_dialect(3, &SQLITE),
        StatementCache::with_dialect(DEFAULT_CAPACITY, &Postgres),
        StatementCache::with_dialect(3, &Postgres),
    ];
    type Seen = HashMap<Vec<u64>, (String, Vec<crate::compile::Slot>, String)>;
    let mut by_key: [Seen; 2] = Default::default();
    let mut recent: Vec<Select> = Vec::new();
    for i in 0..20_000u64 {
        // Three of each structure in a row, with other values.
        let mut r = Rng(0x9E37_79B9_7F4A_7C15 ^ (i / 3).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let n = [1, 7, 2][usize::try_from(i % 3).unwrap_or(0)];
        let s = random_select(&mut r, &ts, n);
        for cache in &caches {
            check(cache, &s, "random");
        }
        for (d, seen) in [&SQLITE as &'static dyn Dialect, &Postgres].into_iter().zip(&mut by_key) {
            let Ok(fresh) = s.compile_for(d) else { continue };
            let got = (fresh.sql().to_owned(), fresh.slots().to_vec(), format!("{s:?}"));
            let entry = seen.entry(key_of(&s)).or_insert_with(|| got.clone());
            assert_eq!((&entry.0, &entry.1), (&got.0, &got.1), "one key, two SQLs:\n{}\n{}", entry.2, got.2);
        }
        for o in &recent {
            if same_shape::same_select(&s, o) {
                assert_eq!(key_of(&s), key_of(o), "same shape, other keys: {s:?} / {o:?}");
            }
        }
        recent.push(s);
        if recent.len() > 40 {
            recent.remove(0);
        }
    }
    assert!(by_key.iter().all(|k| k.len() > 100), "{} shapes", by_key[0].len());
    assert!(caches[0].stats().hits > 5000, "{:?}", caches[0].stats());
}

/// Binding in one walk gives the values, or the error, that checking and then binding gave before it, for
/// statements with named, repeated, prefixed and positional parameters and many kinds of parameter sets.
#[test]
fn one_walk_binding_matches_check_then_bind() {
    let meta = MetaData::new();
    let ts = tables(&meta);
    let t = &ts.t;
    let stmts: Vec<Compiled> = vec![
        select(t).compile().unwrap(),
        select(t).where_(t.c("b").eq(bindparam("p"))).compile().unwrap(),
        select(t)
            .where_(t.c("b").eq(bindparam(":p")) | t.c("id").eq(bindparam("p")) | t.c("b").gt(3))
            .compile()
            .unwrap(),
        select(t).where_(t.c("b").between(bindparam("p"), bindparam("q"))).compile().unwrap(),
        text("SELECT ? + ?").compile().unwrap(),
        text("SELECT :p + ?").compile().unwrap(),
        text("SELECT :q, :p, :p").compile().unwrap(),
    ];
    let mut sets: Vec<Params> = vec![Params::none(), params![1], params![1, 2], params![1, 2, 3]];
    let names = ["p", ":p", "@p", "$q", "q", "zz", "$p"];
    for a in names {
        sets.push(named_params! {a => 1});
        for b in names {
            sets.push(named_params! {a => 1, b => 2});
            for c in ["p", "q", "zz"] {
                sets.push(named_params! {a => 1, b => 2, c => 3});
            }
        }
    }
    for c in &stmts {
        for p in &sets {
            let old = c.shape.check_params(p).and_then(|()| c.bind(p)).map_err(|e| e.to_string());
            let new = c.shape.check_and_bind(&c.literals, p).map(|v| v.positional_values().to_vec());
            assert_eq!(new.map_err(|e| e.to_string()), old, "{} with {p:?}", c.sql());
        }
    }
}

/// A future of `execute` dropped before it is polled runs nothing and begins nothing; a read built outside a
/// transaction and first polled inside one reads in it (the choice is made when it starts, as before); a read
/// after `dispose` is refused, on the readers' way as on the others.
#[test]
fn execute_futures_dropped_unpolled_run_nothing_and_reads_follow_the_transaction() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let meta = MetaData::new();
        let ts = tables(&meta);
        let url = format!("sqlite:///{}", dir.path().join("f.db").display());
        let engine = create_async_engine(&url).await.unwrap();
        engine.create_all(&meta).await.unwrap();
        let conn = engine.connect().await.unwrap();
        let ins = insert(&ts.u).values(named_params! {"id" => 1, "t_id" => 1});
        drop(conn.execute(&ins));
        drop(conn.execute_with(text("INSERT INTO u VALUES (2, 2)"), Params::none()));
        assert!(!conn.in_transaction());
        let count = select(func::count_star()).select_from(&ts.u);
        let n = |r: QueryResult| r.scalars::<i64>().unwrap()[0];
        assert_eq!(n(conn.execute(&count).await.unwrap()), 0);
        let early = conn.execute(&count);
        conn.begin().await.unwrap();
        conn.execute(&ins).await.unwrap();
        assert_eq!(n(early.await.unwrap()), 1, "polled first in the transaction: reads in it");
        let other = engine.connect().await.unwrap();
        assert_eq!(n(other.execute(&count).await.unwrap()), 0, "not committed");
        conn.rollback().await.unwrap();
        assert_eq!(n(conn.execute(&count).await.unwrap()), 0);
        engine.dispose().await.unwrap();
        let after = conn.execute(&count).await.map(|_| ()).unwrap_err().to_string();
        let after_text = conn.execute(text("SELECT 1")).await.map(|_| ()).unwrap_err().to_string();
        assert_eq!(after, after_text);
    });
}
