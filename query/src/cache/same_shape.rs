//! Whether two selects have the same shape, compared node by node: a cheaper question than writing out the key
//! of the new one, when a thread has the other at hand.
//!
//! A thread keeps a copy of each of the selects it ran last (see the module docs of the cache). A select built
//! again is compared with those first: the comparison walks both trees side by side and stops at the first
//! difference, whereas a key is written out in full, word by word, before it is compared.
//!
//! It must never say yes where the keys differ (the other statement's SQL would run), so it answers for the kinds
//! of nodes it knows only, each compared on exactly what its `Hash` writes (the keys are those writes); any other
//! node (a subquery, a window, ...) answers no, and the statement takes the key's way. A select that is not the
//! same shape as itself is made of such nodes: no copy of it is kept.

use std::sync::Arc;

use crate::expr::{ColumnRef, Expr, Source};
use crate::schema::Table;
use crate::select::{Clauses, Join, Select, SelectList};

/// How deep expressions are compared; deeper answers no (the key's way has no such limit below the compiler's).
const MAX_DEPTH: usize = 128;

/// Whether `a` and `b` have the same key words (see above): `false` may also mean "not known".
#[inline]
pub(crate) fn same_select(a: &Select, b: &Select) -> bool {
    // Every field, in `Select`'s order: a field added to it fails to compile here until it is compared.
    let Select { columns, where_, clauses } = a;
    same_list(columns, &b.columns)
        && same_opt(where_.as_ref(), b.where_.as_ref())
        && match (clauses, &b.clauses) {
            (None, None) => true,
            // No clauses hash as empty ones (see `Select`'s `Hash`): compared so.
            _ => same_clauses(a.clauses(), b.clauses()),
        }
}

fn same_clauses(a: &Clauses, b: &Clauses) -> bool {
    let Clauses { from, joins, group_by, having, order_by, limit, offset, distinct } = a;
    *distinct == b.distinct
        && from.len() == b.from.len()
        && from.iter().zip(&b.from).all(|(x, y)| same_source(x, y))
        && joins.len() == b.joins.len()
        && joins.iter().zip(&b.joins).all(|(x, y)| same_join(x, y))
        && same_exprs(group_by, &b.group_by, 0)
        && same_opt(having.as_ref(), b.having.as_ref())
        && same_exprs(order_by, &b.order_by, 0)
        && same_opt(limit.as_ref(), b.limit.as_ref())
        && same_opt(offset.as_ref(), b.offset.as_ref())
}

/// A word that selects of the same shape share (the table of a whole-table list, or the length of the list, and
/// whether there is a WHERE), compared before the selects are: a thread's other recent selects mostly differ in it,
/// and then cost one comparison each.
pub(crate) fn select_tag(s: &Select) -> u64 {
    let list = match s.columns.as_table() {
        Some(table) => table.inner.id,
        None => u64::try_from(s.columns.len()).unwrap_or(u64::MAX).rotate_right(1),
    };
    list ^ u64::from(s.where_.is_some()).rotate_right(2)
}

fn same_list(a: &SelectList, b: &SelectList) -> bool {
    match (a.as_table(), b.as_table()) {
        (Some(x), Some(y)) => same_table(x, y),
        (None, None) => same_exprs(a, b, 0),
        _ => false,
    }
}

fn same_join(a: &Join, b: &Join) -> bool {
    a.kind == b.kind && same_source(&a.target, &b.target) && same_opt(a.on.as_ref(), b.on.as_ref())
}

fn same_source(a: &Source, b: &Source) -> bool {
    match (a, b) {
        (Source::Table(x), Source::Table(y)) => same_table(x, y),
        (Source::Alias(x), Source::Alias(y)) => same_table(&x.table, &y.table) && same_name(&x.name, &y.name),
        // Subqueries and CTEs hash their statements: not compared here.
        _ => false,
    }
}

#[inline]
fn same_name(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || **a == **b
}

fn same_opt(a: Option<&Expr>, b: Option<&Expr>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => same_expr(x, y, 0),
        (None, None) => true,
        _ => false,
    }
}

fn same_exprs(a: &[Expr], b: &[Expr], depth: usize) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_expr(x, y, depth))
}

/// `hash_node`'s writes compared (see `expr::deep`), then the children in order. The leaves and the binary
/// operator a WHERE is mostly made of are compared here, without a call per node; the rest in [`same_node`].
fn same_expr(a: &Expr, b: &Expr, depth: usize) -> bool {
    if let Some(same) = same_leaf(a, b) {
        return same;
    }
    match (a, b) {
        (Expr::Binary(x, o, y), Expr::Binary(v, p, w)) => {
            depth < MAX_DEPTH
                && o == p
                && same_leaf(x, v).unwrap_or_else(|| same_expr(x, v, depth + 1))
                && same_leaf(y, w).unwrap_or_else(|| same_expr(y, w, depth + 1))
        }
        _ => same_node(a, b, depth),
    }
}

/// Two leaves of the kinds a WHERE mostly holds (a column, a parameter, a value) compared as [`same_node`]
/// compares them; `None` when either is another kind (which `same_node` then answers).
#[inline]
fn same_leaf(a: &Expr, b: &Expr) -> Option<bool> {
    Some(match (a, b) {
        (Expr::Column(x), Expr::Column(y)) => same_column(x, y),
        (Expr::BindParam(x), Expr::BindParam(y)) => same_name(x, y),
        (Expr::Value(x), Expr::Value(y)) => std::mem::discriminant(&x.0) == std::mem::discriminant(&y.0),
        _ => return None,
    })
}

/// [`same_expr`] for any node: its own fields, then its children.
fn same_node(a: &Expr, b: &Expr, depth: usize) -> bool {
    if depth > MAX_DEPTH || std::mem::discriminant(a) != std::mem::discriminant(b) {
        return false;
    }
    let node = match (a, b) {
        (Expr::Column(x), Expr::Column(y)) => same_column(x, y),
        (Expr::Value(x), Expr::Value(y)) | (Expr::Str(x), Expr::Str(y)) => {
            std::mem::discriminant(&x.0) == std::mem::discriminant(&y.0)
        }
        (Expr::BindParam(x), Expr::BindParam(y))
        | (Expr::Text(x), Expr::Text(y))
        | (Expr::Excluded(x), Expr::Excluded(y))
        | (Expr::Name(x), Expr::Name(y))
        | (Expr::Collate(_, x), Expr::Collate(_, y))
        | (Expr::Label(_, x), Expr::Label(_, y)) => same_name(x, y),
        (Expr::Binary(_, x, _), Expr::Binary(_, y, _)) => x == y,
        (
            Expr::Like { negated, case_insensitive, escape, .. },
            Expr::Like { negated: n, case_insensitive: c, escape: e, .. },
        ) => (negated, case_insensitive, escape) == (n, c, e),
        (Expr::And(x), Expr::And(y)) | (Expr::Or(x), Expr::Or(y)) | (Expr::Tuple(x), Expr::Tuple(y)) => {
            x.len() == y.len()
        }
        (Expr::IsNull { negated: x, .. }, Expr::IsNull { negated: y, .. })
        | (Expr::Between { negated: x, .. }, Expr::Between { negated: y, .. })
        | (Expr::Quantified { all: x, .. }, Expr::Quantified { all: y, .. }) => x == y,
        (Expr::InList { list: x, negated: n, .. }, Expr::InList { list: y, negated: m, .. }) => {
            x.len() == y.len() && n == m
        }
        (Expr::Func { name: x, args: a, distinct: d }, Expr::Func { name: y, args: b, distinct: e }) => {
            same_name(x, y) && a.len() == b.len() && d == e
        }
        (Expr::Cast(_, x), Expr::Cast(_, y)) => x == y,
        (Expr::Case { value: v, whens: w, else_: e }, Expr::Case { value: x, whens: y, else_: z }) => {
            (v.is_some(), w.len(), e.is_some()) == (x.is_some(), y.len(), z.is_some())
        }
        (Expr::Ordered { desc: d, nulls: n, .. }, Expr::Ordered { desc: e, nulls: m, .. }) => (d, n) == (e, m),
        (Expr::Null, _) | (Expr::Not(_), _) | (Expr::Neg(_), _) | (Expr::CountStar, _) | (Expr::Star, _) => true,
        (Expr::Filter(..), _) => true,
        // Subqueries, windows and invalid expressions: not compared here.
        _ => false,
    };
    node && same_children(a, b, depth + 1)
}

/// The child expressions of two nodes of the same kind, field by field: the kinds a select commonly holds
/// directly, the others through the general iterator (several times slower).
fn same_children(a: &Expr, b: &Expr, depth: usize) -> bool {
    match (a, b) {
        (Expr::Binary(x, _, y), Expr::Binary(v, _, w))
        | (Expr::Like { expr: x, pattern: y, .. }, Expr::Like { expr: v, pattern: w, .. })
        | (Expr::Filter(x, y), Expr::Filter(v, w)) => same_expr(x, v, depth) && same_expr(y, w, depth),
        (Expr::And(x), Expr::And(y))
        | (Expr::Or(x), Expr::Or(y))
        | (Expr::Tuple(x), Expr::Tuple(y))
        | (Expr::Func { args: x, .. }, Expr::Func { args: y, .. }) => same_exprs(x, y, depth),
        (Expr::Not(x), Expr::Not(y))
        | (Expr::Neg(x), Expr::Neg(y))
        | (Expr::IsNull { expr: x, .. }, Expr::IsNull { expr: y, .. })
        | (Expr::Label(x, _), Expr::Label(y, _))
        | (Expr::Cast(x, _), Expr::Cast(y, _))
        | (Expr::Collate(x, _), Expr::Collate(y, _))
        | (Expr::Ordered { expr: x, .. }, Expr::Ordered { expr: y, .. })
        | (Expr::Quantified { expr: x, .. }, Expr::Quantified { expr: y, .. }) => same_expr(x, y, depth),
        (Expr::InList { expr: x, list: v, .. }, Expr::InList { expr: y, list: w, .. }) => {
            same_expr(x, y, depth) && same_exprs(v, w, depth)
        }
        (Expr::Between { expr: x, low: l, high: h, .. }, Expr::Between { expr: y, low: m, high: i, .. }) => {
            same_expr(x, y, depth) && same_expr(l, m, depth) && same_expr(h, i, depth)
        }
        (
            Expr::Column(_)
            | Expr::Value(_)
            | Expr::Str(_)
            | Expr::BindParam(_)
            | Expr::Name(_)
            | Expr::Text(_)
            | Expr::Excluded(_)
            | Expr::Null
            | Expr::CountStar
            | Expr::Star,
            _,
        ) => true,
        _ => {
            let (mut xs, mut ys) = (a.children(), b.children());
            loop {
                match (xs.next(), ys.next()) {
                    (Some(x), Some(y)) if same_expr(x, y, depth) => {}
                    (None, None) => break true,
                    _ => break false,
                }
            }
        }
    }
}

#[inline]
fn same_column(a: &ColumnRef, b: &ColumnRef) -> bool {
    let source = match (&a.source, &b.source) {
        (Source::Table(x), Source::Table(y)) => same_table(x, y),
        (x, y) => same_source(x, y),
    };
    source && same_name(&a.name, &b.name)
}

/// The same table: one definition (its handles share it), else the same identity.
#[inline]
fn same_table(a: &Table, b: &Table) -> bool {
    Arc::ptr_eq(&a.inner, &b.inner) || a.inner.id == b.inner.id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{hash_stmt, KeyWriter};
    use crate::compile::Executable;
    use crate::prelude::*;

    fn key(s: &Select) -> Vec<u64> {
        let mut k = Vec::new();
        hash_stmt(s.as_stmt(), None, &mut KeyWriter(&mut k));
        k
    }

    /// Selects of many shapes, each built twice with other values; those that differ from another by one name,
    /// type, operator, flag or length sit side by side.
    fn corpus(meta: &MetaData) -> Vec<(Select, Select)> {
        let t = Table::new(
            "t",
            meta,
            [Column::new("id", Integer).primary_key(), Column::new("a", Text), Column::new("b", Integer)],
        );
        let u = Table::new("u", meta, [Column::new("id", Integer).primary_key(), Column::new("t_id", Integer)]);
        let (x, y) = (t.alias("x"), t.alias("y"));
        let make = |n: i64| {
            let s = n.to_string();
            vec![
                select(&t),
                select(&u),
                select(&t).where_(t.c("id").eq(bindparam("id"))),
                select(&t).where_(t.c("id").eq(bindparam("ix"))),
                select(&t).where_(t.c("b").eq(bindparam("id"))),
                select(&t).where_(t.c("id").ne(bindparam("id"))),
                select(&t).where_(t.c("id").eq(n)),
                select(&t).where_(t.c("id").eq(s.as_str())),
                select(&t).where_(t.c("id").gt(n) & t.c("b").lt(n + 1)),
                select(&t).where_(t.c("id").gt(n) | t.c("b").lt(n + 1)),
                select(&t).where_(and_([t.c("id").gt(n), t.c("b").lt(n), t.c("a").is_null()])),
                select(&t).where_(t.c("a").like(s.as_str())),
                select(&t).where_(t.c("a").not_like(s.as_str())),
                select(&t).where_(t.c("id").in_([n, n + 1])),
                select(&t).where_(t.c("id").in_([n, n + 1, n + 2])),
                select(&t).where_(t.c("id").not_in([n, n + 1])),
                select(&t).where_(t.c("id").between(n, n + 9)),
                select(&t).where_(not_(t.c("a").is_null())),
                select((t.c("id"), t.c("a"))),
                select((t.c("a"), t.c("id"))),
                select((t.c("id"), t.c("a"), t.c("b"))),
                select((t.c("id").label("k"), func::count_star().label("n"))).group_by(t.c("id")),
                select((t.c("id").label("j"), func::count_star().label("n"))).group_by(t.c("id")),
                select(func::max(t.c("b"))),
                select(func::min(t.c("b"))),
                select(cast(t.c("a"), Integer)),
                select(cast(t.c("a"), Text)),
                select(t.c("a").collate("NOCASE")),
                select(&t).order_by(desc(t.c("b"))).limit(n).offset(n),
                select(&t).order_by(asc(t.c("b"))).limit(n),
                select(&t).order_by(t.c("b")).distinct(),
                select((x.c("id"), y.c("id"))).select_from(&x).join_on(&y, x.c("b").eq(y.c("b"))),
                select((x.c("id"), y.c("id"))).select_from(&x).outerjoin_on(&y, x.c("b").eq(y.c("b"))),
                select(&t).join(&u),
                select(&t).where_(t.c("id").in_query(select(u.c("t_id")).where_(u.c("id").gt(n)))),
                select(t.c("b").over(t.c("a"), t.c("id"))),
            ]
        };
        make(1).into_iter().zip(make(7)).collect()
    }

    /// The comparison says yes only where the keys are equal, and does say yes for the same shape built again
    /// (other than for the nodes it leaves to the key: a subquery, a window).
    #[test]
    fn same_select_agrees_with_the_key_and_finds_a_shape_built_again() {
        let meta = MetaData::new();
        let pairs = corpus(&meta);
        let all: Vec<&Select> = pairs.iter().flat_map(|(a, b)| [a, b]).collect();
        for a in &all {
            for b in &all {
                if same_select(a, b) {
                    assert_eq!(key(a), key(b), "{a} and {b} compared the same");
                }
            }
        }
        let mut found = 0;
        for (a, b) in &pairs {
            assert_eq!(key(a), key(b), "{a}");
            assert_eq!(select_tag(a), select_tag(b), "{a}");
            found += usize::from(same_select(a, b));
        }
        assert_eq!(found, pairs.len() - 2, "all but the subquery and the window compare");
    }
}
