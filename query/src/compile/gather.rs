//! Gathering a cached statement's literals without the compiler: a walk over the statement's expressions that
//! picks up every literal in walk order, and, per shape, where each of the compiler's literals sits in that order.
//!
//! The compiler's literals (in slot order) depend only on the statement's shape, and so does the walk, so the map
//! from one order to the other is worked out once, when the shape is compiled, by comparing the addresses of the
//! values both saw in that one statement. A shape whose literals the walk does not find (it does not follow
//! subqueries, for one) keeps gathering them with the compiler. A shape without literals gathers nothing.

use asqlite::Value;

use super::Stmt;
use crate::expr::{Expr, Source};
use crate::select::Select;

/// How a cached shape gathers its literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gather {
    /// The shape has no literals.
    Nothing,
    /// Walk the statement; the compiler's literal `i` is the walk's literal `order[i]`.
    Walk(Box<[u32]>),
    /// Run the compiler without writing SQL.
    Compiler,
}

/// Push the literals of `stmt` in walk order; false if it holds parts the walk does not follow.
pub(crate) fn walk<'a>(stmt: Stmt<'a>, out: &mut Vec<&'a Value>) -> bool {
    match stmt {
        Stmt::Select(s) => walk_select(s, out),
        _ => false,
    }
}

fn walk_select<'a>(s: &'a Select, out: &mut Vec<&'a Value>) -> bool {
    let plain = |src: &Source| matches!(src, Source::Table(_) | Source::Alias(_));
    let c = s.clauses();
    if !c.from.iter().all(plain) || !c.joins.iter().all(|j| plain(&j.target)) {
        return false;
    }
    let exprs = s
        .columns
        .with_values()
        .iter()
        .chain(c.joins.iter().filter_map(|j| j.on.as_ref()))
        .chain(&s.where_)
        .chain(&c.group_by)
        .chain(&c.having)
        .chain(&c.order_by)
        .chain(&c.limit)
        .chain(&c.offset);
    let mut todo: Vec<&'a Expr> = Vec::new();
    for e in exprs {
        todo.push(e);
        while let Some(e) = todo.pop() {
            match e {
                Expr::Value(l) | Expr::Str(l) => out.push(&l.0),
                // Subqueries, and windows whose frame may hold values: not followed.
                Expr::InQuery { .. } | Expr::Exists(_) | Expr::Scalar(_) | Expr::Over { .. } => return false,
                _ => {
                    let at = todo.len();
                    todo.extend(e.children());
                    // Children in order: the stack takes them from the end.
                    todo[at..].reverse();
                }
            }
        }
    }
    true
}

/// Where each of the compiler's literals (by address) is in the walk of `stmt`.
pub(crate) fn plan(stmt: Stmt<'_>, compiled: &[usize]) -> Gather {
    if compiled.is_empty() {
        return Gather::Nothing;
    }
    let mut seen = Vec::new();
    if !walk(stmt, &mut seen) {
        return Gather::Compiler;
    }
    let order: Option<Vec<u32>> = compiled
        .iter()
        .map(|&addr| {
            let j = seen.iter().position(|v| std::ptr::from_ref::<Value>(v) as usize == addr)?;
            u32::try_from(j).ok()
        })
        .collect();
    order.map_or(Gather::Compiler, |o| Gather::Walk(o.into_boxed_slice()))
}

/// The literals of `stmt` in the compiler's order, by `order` (a [`Gather::Walk`] plan of its shape); `None` if
/// the walk does not find them (then the compiler gathers them).
pub(crate) fn gather(stmt: Stmt<'_>, order: &[u32]) -> Option<Vec<Value>> {
    let mut seen = Vec::with_capacity(order.len());
    if !walk(stmt, &mut seen) {
        return None;
    }
    order.iter().map(|&j| seen.get(usize::try_from(j).ok()?).map(|v| (*v).clone())).collect()
}
