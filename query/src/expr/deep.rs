//! Expressions of any depth: `Clone`, `Drop`, `Hash` and `Debug` that do not recurse once per level.
//!
//! An expression is a tree of boxes, and a program can nest it as deep as it likes (`x + 1 + 1 + ...` built in a
//! loop). The derived impls recurse once per level, so 20,000 levels overflowed a 2 MiB thread's stack and aborted
//! the process, whether the expression was compiled or only cloned, hashed for the statement cache, printed or
//! dropped. Here cloning and dropping walk the tree with a heap stack, so any depth works; hashing stops below
//! [`MAX_EXPR_DEPTH`] levels, deeper than any expression that compiles (the compiler refuses those), and printing
//! below [`DEBUG_DEPTH`].
//!
//! Only nesting of expressions in expressions is flattened: an expression inside a subquery starts again at the
//! top, and the subqueries themselves nest as deep as the program builds them.

use std::fmt;
use std::hash::{Hash, Hasher};

use super::Expr;
use crate::compile::MAX_EXPR_DEPTH;

/// Where a node keeps its child expressions, in order: up to three boxes, up to two lists (a window's PARTITION BY
/// and ORDER BY), the pairs of a `CASE` and its `ELSE`.
type Parts<'a> = ([Option<&'a Expr>; 3], [&'a [Expr]; 2], &'a [(Expr, Expr)], Option<&'a Expr>);

/// [`Parts`], mutably.
type PartsMut<'a> = ([Option<&'a mut Expr>; 3], [&'a mut [Expr]; 2], &'a mut [(Expr, Expr)], Option<&'a mut Expr>);

impl Expr {
    /// The expressions directly inside this one, in order (not those inside a subquery).
    pub(crate) fn children(&self) -> impl DoubleEndedIterator<Item = &Expr> {
        let none: &[Expr] = &[];
        let (fixed, lists, pairs, last): Parts<'_> = match self {
            Expr::Binary(a, _, b) | Expr::Like { expr: a, pattern: b, .. } | Expr::Filter(a, b) => {
                ([Some(a), Some(b), None], [none; 2], &[], None)
            }
            Expr::Not(a)
            | Expr::Neg(a)
            | Expr::IsNull { expr: a, .. }
            | Expr::InQuery { expr: a, .. }
            | Expr::Label(a, _)
            | Expr::Cast(a, _)
            | Expr::Ordered { expr: a, .. }
            | Expr::Collate(a, _)
            | Expr::Quantified { expr: a, .. } => ([Some(a), None, None], [none; 2], &[], None),
            Expr::And(v) | Expr::Or(v) | Expr::Tuple(v) | Expr::Func { args: v, .. } => {
                ([None; 3], [v, none], &[], None)
            }
            Expr::InList { expr, list, .. } => ([Some(expr), None, None], [list, none], &[], None),
            Expr::Between { expr, low, high, .. } => ([Some(expr), Some(low), Some(high)], [none; 2], &[], None),
            Expr::Case { value, whens, else_ } => ([value.as_deref(), None, None], [none; 2], whens, else_.as_deref()),
            Expr::Over { func, partition_by, order_by, .. } => {
                ([Some(func), None, None], [partition_by, order_by], &[], None)
            }
            Expr::Column(_)
            | Expr::Value(_)
            | Expr::Str(_)
            | Expr::Name(_)
            | Expr::BindParam(_)
            | Expr::Null
            | Expr::CountStar
            | Expr::Exists(_)
            | Expr::Scalar(_)
            | Expr::Text(_)
            | Expr::Excluded(_)
            | Expr::Star
            | Expr::Invalid(_) => ([None; 3], [none; 2], &[], None),
        };
        let [first, second] = lists;
        fixed.into_iter().flatten().chain(first).chain(second).chain(pairs.iter().flat_map(|(a, b)| [a, b])).chain(last)
    }

    /// [`children`](Expr::children), mutably, in the same order.
    fn children_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        let (fixed, lists, pairs, last): PartsMut<'_> = match self {
            Expr::Binary(a, _, b) | Expr::Like { expr: a, pattern: b, .. } | Expr::Filter(a, b) => {
                ([Some(a), Some(b), None], Default::default(), Default::default(), None)
            }
            Expr::Not(a)
            | Expr::Neg(a)
            | Expr::IsNull { expr: a, .. }
            | Expr::InQuery { expr: a, .. }
            | Expr::Label(a, _)
            | Expr::Cast(a, _)
            | Expr::Ordered { expr: a, .. }
            | Expr::Collate(a, _)
            | Expr::Quantified { expr: a, .. } => ([Some(a), None, None], Default::default(), Default::default(), None),
            Expr::And(v) | Expr::Or(v) | Expr::Tuple(v) | Expr::Func { args: v, .. } => {
                ([None, None, None], [v, Default::default()], Default::default(), None)
            }
            Expr::InList { expr, list, .. } => {
                ([Some(expr), None, None], [list, Default::default()], Default::default(), None)
            }
            Expr::Between { expr, low, high, .. } => {
                ([Some(expr), Some(low), Some(high)], Default::default(), Default::default(), None)
            }
            Expr::Case { value, whens, else_ } => {
                ([value.as_deref_mut(), None, None], Default::default(), whens, else_.as_deref_mut())
            }
            Expr::Over { func, partition_by, order_by, .. } => {
                ([Some(func), None, None], [partition_by, order_by], Default::default(), None)
            }
            Expr::Column(_)
            | Expr::Value(_)
            | Expr::Str(_)
            | Expr::Name(_)
            | Expr::BindParam(_)
            | Expr::Null
            | Expr::CountStar
            | Expr::Exists(_)
            | Expr::Scalar(_)
            | Expr::Text(_)
            | Expr::Excluded(_)
            | Expr::Star
            | Expr::Invalid(_) => ([None, None, None], Default::default(), Default::default(), None),
        };
        let [first, second] = lists;
        fixed
            .into_iter()
            .flatten()
            .chain(first)
            .chain(second)
            .chain(pairs.iter_mut().flat_map(|(a, b)| [a, b]))
            .chain(last)
    }

    fn has_children(&self) -> bool {
        !self.is_leaf() && self.children().next().is_some()
    }

    /// Whether the node is of a kind that never has child expressions (a quick answer before `children`).
    #[inline]
    fn is_leaf(&self) -> bool {
        matches!(
            self,
            Expr::Column(_)
                | Expr::Value(_)
                | Expr::Str(_)
                | Expr::Name(_)
                | Expr::BindParam(_)
                | Expr::Null
                | Expr::CountStar
                | Expr::Exists(_)
                | Expr::Scalar(_)
                | Expr::Text(_)
                | Expr::Excluded(_)
                | Expr::Star
                | Expr::Invalid(_)
        )
    }

    /// A copy of this node alone: its child expressions are `NULL`, to be filled in by [`Clone::clone`].
    fn clone_node(&self) -> Expr {
        fn hole() -> Box<Expr> {
            Box::new(Expr::Null)
        }
        fn holes(n: usize) -> Vec<Expr> {
            let mut v = Vec::with_capacity(n);
            v.resize_with(n, || Expr::Null);
            v
        }
        match self {
            Expr::Column(c) => Expr::Column(c.clone()),
            Expr::Value(l) => Expr::Value(l.clone()),
            Expr::Str(l) => Expr::Str(l.clone()),
            Expr::Name(n) => Expr::Name(n.clone()),
            Expr::BindParam(n) => Expr::BindParam(n.clone()),
            Expr::Null => Expr::Null,
            Expr::Binary(_, op, _) => Expr::Binary(hole(), *op, hole()),
            Expr::Like { negated, case_insensitive, escape, .. } => Expr::Like {
                expr: hole(),
                pattern: hole(),
                negated: *negated,
                case_insensitive: *case_insensitive,
                escape: *escape,
            },
            Expr::And(v) => Expr::And(holes(v.len())),
            Expr::Or(v) => Expr::Or(holes(v.len())),
            Expr::Not(_) => Expr::Not(hole()),
            Expr::Neg(_) => Expr::Neg(hole()),
            Expr::IsNull { negated, .. } => Expr::IsNull { expr: hole(), negated: *negated },
            Expr::InList { list, negated, .. } => {
                Expr::InList { expr: hole(), list: holes(list.len()), negated: *negated }
            }
            Expr::InQuery { query, negated, .. } => {
                Expr::InQuery { expr: hole(), query: query.clone(), negated: *negated }
            }
            Expr::Between { negated, .. } => {
                Expr::Between { expr: hole(), low: hole(), high: hole(), negated: *negated }
            }
            Expr::Func { name, args, distinct } => {
                Expr::Func { name: name.clone(), args: holes(args.len()), distinct: *distinct }
            }
            Expr::CountStar => Expr::CountStar,
            Expr::Label(_, name) => Expr::Label(hole(), name.clone()),
            Expr::Cast(_, ty) => Expr::Cast(hole(), ty.clone()),
            Expr::Case { value, whens, else_ } => Expr::Case {
                value: value.as_ref().map(|_| hole()),
                whens: whens.iter().map(|_| (Expr::Null, Expr::Null)).collect(),
                else_: else_.as_ref().map(|_| hole()),
            },
            Expr::Exists(q) => Expr::Exists(q.clone()),
            Expr::Scalar(q) => Expr::Scalar(q.clone()),
            Expr::Text(sql) => Expr::Text(sql.clone()),
            Expr::Tuple(v) => Expr::Tuple(holes(v.len())),
            Expr::Excluded(name) => Expr::Excluded(name.clone()),
            Expr::Star => Expr::Star,
            Expr::Ordered { desc, nulls, .. } => Expr::Ordered { expr: hole(), desc: *desc, nulls: *nulls },
            Expr::Collate(_, name) => Expr::Collate(hole(), name.clone()),
            Expr::Over { partition_by, order_by, frame, .. } => Expr::Over {
                func: hole(),
                partition_by: holes(partition_by.len()),
                order_by: holes(order_by.len()),
                frame: *frame,
            },
            Expr::Filter(..) => Expr::Filter(hole(), hole()),
            Expr::Quantified { all, .. } => Expr::Quantified { all: *all, expr: hole() },
            Expr::Invalid(msg) => Expr::Invalid(msg.clone()),
        }
    }

    /// Hash this node and what is inside it, `depth` levels below the expression being hashed. On the stack once
    /// per level, so it keeps only the child iterator: the node's own fields hash in [`hash_node`](Self::hash_node).
    fn hash_at<H: Hasher>(&self, h: &mut H, depth: usize) {
        if depth > MAX_EXPR_DEPTH {
            // Deeper than the compiler goes: a statement holding this never compiles, so its shape is never cached
            // and what lies below needs no hash. (No discriminant hashes as usize::MAX.)
            h.write_usize(usize::MAX);
            return;
        }
        self.hash_node(h);
        match self {
            _ if self.is_leaf() => {}
            // The common inner node, without the general child iterator.
            Expr::Binary(a, _, b) => {
                a.hash_at(h, depth + 1);
                b.hash_at(h, depth + 1);
            }
            _ => {
                for c in self.children() {
                    c.hash_at(h, depth + 1);
                }
            }
        }
    }

    /// Hash what this node holds besides its child expressions; lists hash their lengths, so that the children
    /// hashed after it read one way only.
    fn hash_node<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self).hash(h);
        match self {
            Expr::Column(c) => c.hash(h),
            Expr::Value(l) | Expr::Str(l) => l.hash(h),
            // A name in ORDER BY / GROUP BY is part of the shape (it picks the column), unlike a value.
            Expr::BindParam(n) | Expr::Text(n) | Expr::Excluded(n) | Expr::Name(n) | Expr::Collate(_, n) => n.hash(h),
            Expr::Binary(_, op, _) => op.hash(h),
            Expr::Like { negated, case_insensitive, escape, .. } => (negated, case_insensitive, escape).hash(h),
            Expr::And(v) | Expr::Or(v) | Expr::Tuple(v) => v.len().hash(h),
            Expr::IsNull { negated, .. } | Expr::Between { negated, .. } => negated.hash(h),
            Expr::InList { list, negated, .. } => (list.len(), negated).hash(h),
            Expr::InQuery { query, negated, .. } => (query, negated).hash(h),
            Expr::Func { name, args, distinct } => (name, args.len(), distinct).hash(h),
            Expr::Label(_, name) => name.hash(h),
            Expr::Cast(_, ty) => ty.hash(h),
            Expr::Case { value, whens, else_ } => (value.is_some(), whens.len(), else_.is_some()).hash(h),
            Expr::Exists(q) | Expr::Scalar(q) => q.hash(h),
            Expr::Ordered { desc, nulls, .. } => (desc, nulls).hash(h),
            Expr::Over { partition_by, order_by, frame, .. } => (partition_by.len(), order_by.len(), frame).hash(h),
            Expr::Quantified { all, .. } => all.hash(h),
            Expr::Invalid(msg) => msg.hash(h),
            Expr::Null | Expr::Not(_) | Expr::Neg(_) | Expr::CountStar | Expr::Star | Expr::Filter(..) => {}
        }
    }
}

impl Clone for Expr {
    /// A deep copy, made with a heap stack: any depth clones.
    fn clone(&self) -> Expr {
        let mut root = self.clone_node();
        let mut todo: Vec<(&Expr, &mut Expr)> = self.children().zip(root.children_mut()).collect();
        while let Some((from, to)) = todo.pop() {
            *to = from.clone_node();
            todo.extend(from.children().zip(to.children_mut()));
        }
        drop(todo);
        root
    }
}

impl Drop for Expr {
    /// Children that have children of their own are moved to a heap stack and dropped from there, each after its
    /// own such children were moved out: dropping never recurses more than one level, at any depth.
    ///
    /// Inlined for a leaf and a binary operator on two leaves, which have nothing to move (most nodes of a WHERE).
    #[inline]
    fn drop(&mut self) {
        let shallow = match self {
            _ if self.is_leaf() => true,
            Expr::Binary(a, _, b) => a.is_leaf() && b.is_leaf(),
            _ => false,
        };
        if !shallow {
            drop_nested(self);
        }
    }
}

/// [`Expr`]'s `drop` for a node that may have nested children.
#[inline(never)]
fn drop_nested(e: &mut Expr) {
    let shallow = match e {
        Expr::Binary(a, _, b) => !a.has_children() && !b.has_children(),
        _ => !e.children().any(Expr::has_children),
    };
    if shallow {
        return;
    }
    let mut nested = Vec::new();
    take_nested(e, &mut nested);
    while let Some(mut e) = nested.pop() {
        take_nested(&mut e, &mut nested);
    }
}

/// Move the children of `e` that have children of their own into `into`, leaving `NULL` in their place.
fn take_nested(e: &mut Expr, into: &mut Vec<Expr>) {
    into.extend(e.children_mut().filter(|c| c.has_children()).map(|c| std::mem::replace(c, Expr::Null)));
}

impl Hash for Expr {
    /// The expression's shape (literal values hash to nothing), down to [`MAX_EXPR_DEPTH`] levels.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.hash_at(state, 0);
    }
}

/// How many levels of an expression `Debug` prints; below that it prints `..`. Far fewer than compile: deeper is
/// unreadable anyway, and each level printed costs a few frames.
pub const DEBUG_DEPTH: usize = 100;

/// An expression printed `depth` levels below the one being printed.
struct At<'a>(&'a Expr, usize);

/// A list of expressions `depth` levels below the one being printed.
struct List<'a>(&'a [Expr], usize);

impl fmt::Debug for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|e| At(e, self.1))).finish()
    }
}

impl fmt::Debug for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let At(e, depth) = *self;
        if depth > DEBUG_DEPTH {
            return f.write_str("..");
        }
        let d = depth + 1;
        match e {
            Expr::Column(c) => f.debug_tuple("Column").field(c).finish(),
            Expr::Value(l) => f.debug_tuple("Value").field(l).finish(),
            Expr::Str(l) => f.debug_tuple("Str").field(l).finish(),
            Expr::Name(n) => f.debug_tuple("Name").field(n).finish(),
            Expr::BindParam(n) => f.debug_tuple("BindParam").field(n).finish(),
            Expr::Null => f.write_str("Null"),
            Expr::Binary(a, op, b) => f.debug_tuple("Binary").field(&At(a, d)).field(op).field(&At(b, d)).finish(),
            Expr::Like { expr, pattern, negated, case_insensitive, escape } => f
                .debug_struct("Like")
                .field("expr", &At(expr, d))
                .field("pattern", &At(pattern, d))
                .field("negated", negated)
                .field("case_insensitive", case_insensitive)
                .field("escape", escape)
                .finish(),
            Expr::And(v) => f.debug_tuple("And").field(&List(v, d)).finish(),
            Expr::Or(v) => f.debug_tuple("Or").field(&List(v, d)).finish(),
            Expr::Not(a) => f.debug_tuple("Not").field(&At(a, d)).finish(),
            Expr::Neg(a) => f.debug_tuple("Neg").field(&At(a, d)).finish(),
            Expr::IsNull { expr, negated } => {
                f.debug_struct("IsNull").field("expr", &At(expr, d)).field("negated", negated).finish()
            }
            Expr::InList { expr, list, negated } => f
                .debug_struct("InList")
                .field("expr", &At(expr, d))
                .field("list", &List(list, d))
                .field("negated", negated)
                .finish(),
            Expr::InQuery { expr, query, negated } => f
                .debug_struct("InQuery")
                .field("expr", &At(expr, d))
                .field("query", query)
                .field("negated", negated)
                .finish(),
            Expr::Between { expr, low, high, negated } => f
                .debug_struct("Between")
                .field("expr", &At(expr, d))
                .field("low", &At(low, d))
                .field("high", &At(high, d))
                .field("negated", negated)
                .finish(),
            Expr::Func { name, args, distinct } => f
                .debug_struct("Func")
                .field("name", name)
                .field("args", &List(args, d))
                .field("distinct", distinct)
                .finish(),
            Expr::CountStar => f.write_str("CountStar"),
            Expr::Label(a, name) => f.debug_tuple("Label").field(&At(a, d)).field(name).finish(),
            Expr::Cast(a, ty) => f.debug_tuple("Cast").field(&At(a, d)).field(ty).finish(),
            Expr::Case { value, whens, else_ } => f
                .debug_struct("Case")
                .field("value", &value.as_deref().map(|v| At(v, d)))
                .field("whens", &Pairs(whens, d))
                .field("else_", &else_.as_deref().map(|v| At(v, d)))
                .finish(),
            Expr::Exists(q) => f.debug_tuple("Exists").field(q).finish(),
            Expr::Scalar(q) => f.debug_tuple("Scalar").field(q).finish(),
            Expr::Text(sql) => f.debug_tuple("Text").field(sql).finish(),
            Expr::Tuple(v) => f.debug_tuple("Tuple").field(&List(v, d)).finish(),
            Expr::Excluded(name) => f.debug_tuple("Excluded").field(name).finish(),
            Expr::Star => f.write_str("Star"),
            Expr::Ordered { expr, desc, nulls } => {
                f.debug_struct("Ordered").field("expr", &At(expr, d)).field("desc", desc).field("nulls", nulls).finish()
            }
            Expr::Collate(a, name) => f.debug_tuple("Collate").field(&At(a, d)).field(name).finish(),
            Expr::Over { func, partition_by, order_by, frame } => f
                .debug_struct("Over")
                .field("func", &At(func, d))
                .field("partition_by", &List(partition_by, d))
                .field("order_by", &List(order_by, d))
                .field("frame", frame)
                .finish(),
            Expr::Filter(a, cond) => f.debug_tuple("Filter").field(&At(a, d)).field(&At(cond, d)).finish(),
            Expr::Quantified { all, expr } => {
                f.debug_struct("Quantified").field("all", all).field("expr", &At(expr, d)).finish()
            }
            Expr::Invalid(msg) => f.debug_tuple("Invalid").field(msg).finish(),
        }
    }
}

/// The `WHEN`/`THEN` pairs of a `CASE`, `depth` levels below the expression being printed.
struct Pairs<'a>(&'a [(Expr, Expr)], usize);

impl fmt::Debug for Pairs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(a, b)| (At(a, self.1), At(b, self.1)))).finish()
    }
}

impl fmt::Debug for Expr {
    /// As derived, down to [`DEBUG_DEPTH`] levels; deeper levels print as `..`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        At(self, 0).fmt(f)
    }
}
