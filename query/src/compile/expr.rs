//! Writing expressions: operators with SQLite's precedence, functions, `CASE`, subqueries, parameters.

use asqlite::Value;

use super::dialect::Dialect;
use super::{literal_sql, Compiler, Ctx, Slot};
use crate::error::{Error, Result};
use crate::expr::{BinOp, Expr, Frame, Literal, Source};

/// How tightly a binary operator binds as SQLite parses it (higher binds tighter), on the scale of [`precedence`].
pub(crate) fn sqlite_binary_precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Eq
        | BinOp::Ne
        | BinOp::Is
        | BinOp::IsNot
        | BinOp::Like
        | BinOp::NotLike
        | BinOp::Glob
        | BinOp::Regexp
        | BinOp::NotRegexp => 4,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 5,
        BinOp::BitAnd | BinOp::BitOr => 6,
        BinOp::Add | BinOp::Sub => 7,
        BinOp::Mul | BinOp::Div | BinOp::Rem => 8,
        // SQLite parses `->` and `->>` at the level of `||`, left to right.
        BinOp::Concat | BinOp::JsonGet | BinOp::JsonGetValue => 9,
    }
}

/// How tightly an expression binds, as the dialect's database parses it (higher binds tighter): SQLite's
/// levels, with binary operators placed by [`Dialect::binary_precedence`].
fn precedence(e: &Expr, d: &dyn Dialect) -> u8 {
    // One item is written as that item, and a label inside an expression as what it labels: look through them
    // (a loop, as such wrappers may nest deep).
    let mut e = e;
    loop {
        match e {
            Expr::And(v) | Expr::Or(v) if v.len() == 1 => e = &v[0],
            Expr::Label(inner, _) => e = inner,
            _ => break,
        }
    }
    match e {
        Expr::Or(v) if v.len() > 1 => 1,
        Expr::And(v) if v.len() > 1 => 2,
        Expr::And(_) | Expr::Or(_) => 4,
        Expr::Not(_) => 3,
        Expr::Binary(_, op, _) => d.binary_precedence(*op),
        Expr::Like { .. } | Expr::IsNull { .. } | Expr::InList { .. } | Expr::InQuery { .. } | Expr::Between { .. } => {
            4
        }
        Expr::Neg(_) | Expr::Collate(..) => 10,
        Expr::Text(_) => 0,
        _ => 11,
    }
}

#[cold]
fn err(msg: String) -> Error {
    Error::compile(msg)
}

/// A node writer was handed a node of another kind (a bug in [`Compiler::node`]'s table).
#[cold]
fn misrouted() -> Error {
    Error::compile("internal error: an expression node reached the wrong writer")
}

/// Writes one kind of expression node; all take the node whole, so that [`Compiler::node`] only picks one.
type NodeWriter = fn(&mut Compiler, &Expr, Ctx) -> Result<()>;

/// Stack left below which [`Compiler::expr`] continues on a new segment.
const STACK_RED_ZONE: usize = 64 * 1024;
/// The size of each new stack segment.
const STACK_SEGMENT: usize = 1024 * 1024;

impl Compiler {
    pub(crate) fn column(&mut self, source: &Source, name: &str) {
        if self.unqualified.as_deref() != Some(source.name()) {
            self.ident(source.name());
            self.w(".");
        }
        self.ident(name);
    }

    fn child(&mut self, e: &Expr, parent: u8, right: bool) -> Result<()> {
        let p = precedence(e, self.dialect);
        if p < parent || (right && p == parent && p >= 4) {
            self.w("(");
            let r = self.expr(e, Ctx::Plain);
            self.w(")");
            r
        } else {
            self.expr(e, Ctx::Plain)
        }
    }

    fn list(&mut self, items: &[Expr], ctx: Ctx) -> Result<()> {
        for (i, e) in items.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            self.expr(e, ctx)?;
        }
        Ok(())
    }

    /// Write an expression one level deeper than the one being written; past [`MAX_EXPR_DEPTH`] levels (of
    /// expressions and subqueries together) that is an error.
    ///
    /// The recursion goes through this, [`node`](Self::node), one writer per kind of node and
    /// [`child`](Self::child), each with a small frame, so a level costs little stack: an expression just under
    /// the limit compiles on a 2 MiB thread, even unoptimized.
    ///
    /// [`MAX_EXPR_DEPTH`]: super::MAX_EXPR_DEPTH
    ///
    /// Frames grow with the build (unoptimized, more features): where less than [`STACK_RED_ZONE`] of the thread's
    /// stack is left, the rest of the expression is written on a fresh stack segment, so no limit of the caller's
    /// thread can be overflowed before [`MAX_EXPR_DEPTH`] refuses the expression.
    pub(crate) fn expr(&mut self, e: &Expr, ctx: Ctx) -> Result<()> {
        self.descend()?;
        let r = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || self.node(e, ctx));
        self.depth -= 1;
        r
    }

    /// Pick the writer for a node: no bindings, no temporaries, so the frame on the stack once per level is small.
    fn node(&mut self, e: &Expr, ctx: Ctx) -> Result<()> {
        let write: NodeWriter = match e {
            Expr::Binary(..) => Self::binary,
            Expr::And(_) | Expr::Or(_) => Self::and_or,
            Expr::Not(_) | Expr::Neg(_) => Self::not_neg,
            Expr::IsNull { .. } => Self::is_null,
            Expr::Like { .. } => Self::like,
            Expr::InList { .. } => Self::in_list,
            Expr::InQuery { .. } => Self::in_query,
            Expr::Between { .. } => Self::between,
            Expr::Func { .. } => Self::func,
            Expr::Label(..) => Self::label,
            Expr::Cast(..) => Self::cast,
            Expr::Case { .. } => Self::case,
            Expr::Exists(_) | Expr::Scalar(_) => Self::subquery,
            Expr::Tuple(_) => Self::tuple,
            Expr::Ordered { .. } => Self::ordered,
            Expr::Collate(..) => Self::collate,
            Expr::Over { .. } => Self::over,
            Expr::Filter(..) => Self::filter,
            Expr::Quantified { .. } => Self::quantified,
            Expr::Column(_)
            | Expr::Value(_)
            | Expr::Str(_)
            | Expr::Name(_)
            | Expr::BindParam(_)
            | Expr::Null
            | Expr::CountStar
            | Expr::Text(_)
            | Expr::Excluded(_)
            | Expr::Star
            | Expr::Invalid(_) => Self::leaf,
        };
        write(self, e, ctx)
    }

    /// A node without child expressions.
    fn leaf(&mut self, e: &Expr, ctx: Ctx) -> Result<()> {
        match e {
            Expr::Column(c) => self.column(&c.source, &c.name),
            Expr::Value(l) => self.literal(&l.0),
            Expr::Str(l) => {
                if ctx == Ctx::SelectList {
                    return Err(bare_string(l, "a result column"));
                }
                self.literal(&l.0);
            }
            Expr::Name(n) => return Err(stray_name(n)),
            Expr::BindParam(n) => self.slot(Slot::Named(n.clone())),
            Expr::Null => self.w("NULL"),
            Expr::CountStar => self.w("count(*)"),
            Expr::Text(sql) => {
                let sql = sql.clone();
                self.text(&sql)?;
            }
            Expr::Excluded(name) => self.excluded(name)?,
            Expr::Star => {
                if ctx != Ctx::SelectList {
                    return Err(err("`*` is only valid in a select list".to_owned()));
                }
                self.w("*");
            }
            Expr::Invalid(msg) => return Err(err(msg.clone())),
            _ => return Err(misrouted()),
        }
        Ok(())
    }

    fn binary(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Binary(a, op, b) = e else { return Err(misrouted()) };
        let prec = precedence(e, self.dialect);
        // `IS NULL` is the same everywhere; only a comparison of two values needs the dialect's null-safe form.
        let sql = match (op, &**b) {
            (BinOp::Is | BinOp::IsNot, Expr::Null) => op.sql(),
            _ => self.dialect.binary_operator(*op)?,
        };
        self.child(a, prec, false)?;
        self.w(" ");
        self.w(sql);
        self.w(" ");
        // An integer after `->` / `->>` is an array index; where the database would read a parameter there as a
        // key (text), the dialect names its type.
        if let (BinOp::JsonGet | BinOp::JsonGetValue, Expr::Value(Literal(asqlite::Value::Integer(_))), Some(ty)) =
            (op, &**b, self.dialect.json_index_type())
        {
            self.w("CAST(");
            self.expr(b, Ctx::Plain)?;
            self.w(" AS ");
            self.w(ty);
            self.w(")");
            return Ok(());
        }
        self.child(b, prec, true)
    }

    fn and_or(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let (items, and) = match e {
            Expr::And(items) => (items, true),
            Expr::Or(items) => (items, false),
            _ => return Err(misrouted()),
        };
        if let Some(Expr::Str(l)) = items.iter().find(|i| matches!(i, Expr::Str(_))) {
            return Err(bare_string(l, if and { "a condition of and_()" } else { "a condition of or_()" }));
        }
        match &items[..] {
            [] => {
                if self.emit {
                    self.dialect.write_bool(and, &mut self.out);
                }
            }
            [one] => return self.expr(one, Ctx::Plain),
            _ => {
                let prec = precedence(e, self.dialect);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.w(if and { " AND " } else { " OR " });
                    }
                    self.child(item, prec, false)?;
                }
            }
        }
        Ok(())
    }

    fn not_neg(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        match e {
            Expr::Not(inner) => {
                if let Expr::Str(l) = &**inner {
                    return Err(bare_string(l, "the condition of not_()"));
                }
                self.w("NOT ");
                self.child(inner, 11, false)
            }
            Expr::Neg(inner) => {
                self.w("-");
                // As a right operand, a nested negation is parenthesized: `--x` would start a comment.
                self.child(inner, 10, true)
            }
            _ => Err(misrouted()),
        }
    }

    fn is_null(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::IsNull { expr, negated } = e else { return Err(misrouted()) };
        self.child(expr, 5, false)?;
        self.w(if *negated { " IS NOT NULL" } else { " IS NULL" });
        Ok(())
    }

    fn like(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Like { expr, pattern, negated, case_insensitive: ci, escape } = e else {
            return Err(misrouted());
        };
        if *ci && self.dialect.has_ilike() {
            self.child(expr, 4, false)?;
            self.w(if *negated { " NOT ILIKE " } else { " ILIKE " });
            self.child(pattern, 4, true)?;
            return self.like_escape(*escape);
        }
        if *ci {
            self.w("lower(");
            self.expr(expr, Ctx::Plain)?;
            self.w(")");
        } else {
            self.child(expr, 4, false)?;
        }
        self.w(if *negated { " NOT LIKE " } else { " LIKE " });
        if *ci {
            self.w("lower(");
            self.expr(pattern, Ctx::Plain)?;
            self.w(")");
        } else {
            self.child(pattern, 4, true)?;
        }
        self.like_escape(*escape)
    }

    fn like_escape(&mut self, escape: Option<char>) -> Result<()> {
        if let Some(c) = escape {
            self.w(" ESCAPE ");
            let lit = literal_sql(&Value::Text(c.to_string()));
            self.w(&lit);
        }
        Ok(())
    }

    fn in_list(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::InList { expr, list, negated } = e else { return Err(misrouted()) };
        let arity = match &**expr {
            Expr::Tuple(items) => Some(items.len()),
            _ => None,
        };
        self.child(expr, 5, false)?;
        if list.is_empty() {
            if self.emit {
                self.dialect.write_empty_in(*negated, arity.unwrap_or(1), &mut self.out);
            }
            return Ok(());
        }
        self.w(if *negated { " NOT IN (" } else { " IN (" });
        if arity.is_some() && self.dialect.tuple_in_values() {
            self.w("VALUES ");
        }
        self.list(list, Ctx::Plain)?;
        self.w(")");
        Ok(())
    }

    fn in_query(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::InQuery { expr, query, negated } = e else { return Err(misrouted()) };
        let arity = match &**expr {
            Expr::Tuple(items) => items.len(),
            _ => 1,
        };
        if let Some(n) = query.width().filter(|n| *n != arity) {
            return Err(err(format!("IN (SELECT ...) compares {arity} value(s) with a select of {n} column(s)")));
        }
        self.child(expr, 5, false)?;
        self.w(if *negated { " NOT IN (" } else { " IN (" });
        self.query(query, true)?;
        self.w(")");
        Ok(())
    }

    fn between(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Between { expr, low, high, negated } = e else { return Err(misrouted()) };
        self.child(expr, 5, false)?;
        self.w(if *negated { " NOT BETWEEN " } else { " BETWEEN " });
        self.child(low, 5, false)?;
        self.w(" AND ");
        self.child(high, 5, false)
    }

    fn func(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Func { name, args, distinct } = e else { return Err(misrouted()) };
        if !is_plain_name(name) {
            return Err(err(format!("{name:?} is not a function name")));
        }
        self.w(name);
        self.w(if *distinct { "(DISTINCT " } else { "(" });
        self.list(args, Ctx::Plain)?;
        self.w(")");
        Ok(())
    }

    fn label(&mut self, e: &Expr, ctx: Ctx) -> Result<()> {
        let Expr::Label(inner, name) = e else { return Err(misrouted()) };
        match ctx {
            Ctx::SelectList => {
                self.expr(inner, Ctx::Plain)?;
                self.w(" AS ");
                self.ident(name);
            }
            // ORDER BY / GROUP BY name a label of the select list; a label that is not there is its expression.
            Ctx::OrderBy | Ctx::GroupBy if self.labels.iter().any(|l| l == name) => self.ident(name),
            _ => self.expr(inner, Ctx::Plain)?,
        }
        Ok(())
    }

    fn cast(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Cast(inner, ty) = e else { return Err(misrouted()) };
        self.w("CAST(");
        self.expr(inner, Ctx::Plain)?;
        self.w(" AS ");
        let ddl = self.dialect.cast_type(ty);
        if ddl.is_empty() {
            return Err(err("cast() needs a type to cast to".to_owned()));
        }
        if !ddl.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '(' | ')' | ',' | '_')) {
            return Err(err(format!("{ddl:?} is not a type name")));
        }
        self.w(&ddl);
        self.w(")");
        Ok(())
    }

    fn case(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Case { value, whens, else_ } = e else { return Err(misrouted()) };
        if whens.is_empty() {
            return Err(err("CASE needs at least one WHEN".to_owned()));
        }
        self.w("CASE");
        if let Some(v) = value {
            self.w(" ");
            self.expr(v, Ctx::Plain)?;
        }
        for (c, r) in whens {
            self.w(" WHEN ");
            if value.is_none() {
                self.condition(c, "a WHEN condition of case()")?;
            } else {
                self.expr(c, Ctx::Plain)?;
            }
            self.w(" THEN ");
            self.expr(r, Ctx::Plain)?;
        }
        if let Some(el) = else_ {
            self.w(" ELSE ");
            self.expr(el, Ctx::Plain)?;
        }
        self.w(" END");
        Ok(())
    }

    /// `EXISTS (...)` or a scalar `(...)`.
    fn subquery(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let (q, open) = match e {
            Expr::Exists(q) => (q, "EXISTS ("),
            Expr::Scalar(q) => {
                if let Some(n) = q.width().filter(|n| *n != 1) {
                    return Err(err(format!("a scalar subquery must select exactly one column, not {n}")));
                }
                (q, "(")
            }
            _ => return Err(misrouted()),
        };
        self.w(open);
        self.query(q, true)?;
        self.w(")");
        Ok(())
    }

    fn tuple(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Tuple(items) = e else { return Err(misrouted()) };
        self.w("(");
        self.list(items, Ctx::Plain)?;
        self.w(")");
        Ok(())
    }

    fn ordered(&mut self, e: &Expr, ctx: Ctx) -> Result<()> {
        let Expr::Ordered { expr, desc, nulls } = e else { return Err(misrouted()) };
        if ctx != Ctx::OrderBy && ctx != Ctx::Window {
            return Err(err("asc()/desc()/nulls_first()/nulls_last() belong in ORDER BY".to_owned()));
        }
        // In a window's ORDER BY the select list's labels are not in reach: the ordered expression is plain.
        self.expr(expr, if ctx == Ctx::Window { Ctx::Plain } else { Ctx::OrderBy })?;
        self.ordering(*desc, *nulls);
        Ok(())
    }

    fn collate(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Collate(inner, name) = e else { return Err(misrouted()) };
        self.child(inner, 11, false)?;
        self.w(" COLLATE ");
        self.ident(name);
        Ok(())
    }

    /// A window function: `func OVER (PARTITION BY ... ORDER BY ... [ROWS|RANGE BETWEEN ...])`.
    fn over(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Over { func, partition_by, order_by, frame } = e else { return Err(misrouted()) };
        if !matches!(**func, Expr::Func { .. } | Expr::CountStar | Expr::Filter(..)) {
            return Err(err("over() applies to a function call (func::row_number(), func::sum(x), ...)".to_owned()));
        }
        self.expr(func, Ctx::Plain)?;
        self.w(" OVER (");
        if !partition_by.is_empty() {
            self.w("PARTITION BY ");
            self.list(partition_by, Ctx::Plain)?;
        }
        if !order_by.is_empty() {
            self.w(if partition_by.is_empty() { "ORDER BY " } else { " ORDER BY " });
            self.list(order_by, Ctx::Window)?;
        }
        if let Some(f) = frame {
            if !partition_by.is_empty() || !order_by.is_empty() {
                self.w(" ");
            }
            self.frame(f);
        }
        self.w(")");
        Ok(())
    }

    fn frame(&mut self, f: &Frame) {
        self.w(if f.range { "RANGE BETWEEN " } else { "ROWS BETWEEN " });
        self.w(&frame_bound(f.start, "UNBOUNDED PRECEDING"));
        self.w(" AND ");
        self.w(&frame_bound(f.end, "UNBOUNDED FOLLOWING"));
    }

    /// An aggregate with a filter: `func FILTER (WHERE cond)`.
    fn filter(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Filter(func, cond) = e else { return Err(misrouted()) };
        if !matches!(**func, Expr::Func { .. } | Expr::CountStar) {
            return Err(err("filter() applies to an aggregate function call (func::count_star(), ...)".to_owned()));
        }
        self.expr(func, Ctx::Plain)?;
        self.w(" FILTER (WHERE ");
        self.condition(cond, "a FILTER condition")?;
        self.w(")");
        Ok(())
    }

    /// `ANY (...)` / `ALL (...)`, where the dialect has them.
    fn quantified(&mut self, e: &Expr, _: Ctx) -> Result<()> {
        let Expr::Quantified { all, expr } = e else { return Err(misrouted()) };
        if !self.dialect.supports_any_all() {
            return Err(no_any_all(*all, self.dialect.name()));
        }
        self.w(if *all { "ALL (" } else { "ANY (" });
        match &**expr {
            Expr::Scalar(q) => self.query(q, true)?,
            e => self.expr(e, Ctx::Plain)?,
        }
        self.w(")");
        Ok(())
    }

    /// Write a condition (WHERE, HAVING, ON, ...): a bare string there is an error, not a bound value that is
    /// always true (SQLAlchemy refuses it too).
    pub(crate) fn condition(&mut self, e: &Expr, clause: &str) -> Result<()> {
        if let Expr::Str(l) = e {
            return Err(bare_string(l, clause));
        }
        self.expr(e, Ctx::Plain)
    }

    fn excluded(&mut self, name: &str) -> Result<()> {
        let Some(table) = &self.upsert else {
            return Err(err(format!(
                "excluded({name:?}) is only valid in ON CONFLICT DO UPDATE (on_conflict_do_update)"
            )));
        };
        if table.column(name).is_none() {
            return Err(err(format!("excluded({name:?}): table {:?} has no column named {name:?}", table.name())));
        }
        self.w("excluded.");
        self.ident(name);
        Ok(())
    }

    pub(crate) fn ordering(&mut self, desc: Option<bool>, nulls: Option<bool>) {
        match desc {
            Some(true) => self.w(" DESC"),
            Some(false) => self.w(" ASC"),
            None => {}
        }
        match nulls {
            Some(true) => self.w(" NULLS FIRST"),
            Some(false) => self.w(" NULLS LAST"),
            None => {}
        }
    }
}

/// A bound of a window frame, as SQLAlchemy gives it: `None` unbounded, `0` the current row, `-n` n preceding,
/// `n` n following (written as integers: they are part of the statement's shape).
fn frame_bound(b: Option<i64>, unbounded: &str) -> String {
    match b {
        None => unbounded.to_owned(),
        Some(0) => "CURRENT ROW".to_owned(),
        Some(n) if n < 0 => format!("{} PRECEDING", n.unsigned_abs()),
        Some(n) => format!("{n} FOLLOWING"),
    }
}

/// The error for a bare string where SQL is meant: it would be bound as a value.
#[cold]
fn bare_string(l: &Literal, place: &str) -> Error {
    let s = match &l.0 {
        Value::Text(s) => s.as_str(),
        _ => "",
    };
    Error::compile(format!(
        "a bare string cannot be {place}: {s:?} would be bound as a value, not read as SQL; write text({s:?}) for \
         SQL text, or lit({s:?}) for the value"
    ))
}

/// The error for a name (`order_by("year")`) that reached a place other than ORDER BY / GROUP BY.
#[cold]
fn stray_name(n: &str) -> Error {
    Error::compile(format!(
        "the name {n:?} stands only in order_by() or group_by(), where it names a label or column of the \
         statement; elsewhere write the column (table.c({n:?})) or a label"
    ))
}

/// The error for `ANY` / `ALL` on a dialect without them, saying what to write instead.
#[cold]
fn no_any_all(all: bool, dialect: &str) -> Error {
    let (name, instead) = if all {
        ("ALL", "for `x != all_(subquery)` write x.not_in_query(subquery); compare with max()/min() of the subquery for < and >")
    } else {
        ("ANY", "for `x == any_(subquery)` write x.in_query(subquery); compare with min()/max() of the subquery for < and >")
    };
    Error::compile(format!("{name} (any_/all_) cannot be expressed on {dialect}: {instead}"))
}

/// Whether a name is a plain identifier (letters, digits, `_`; not starting with a digit).
pub(crate) fn is_plain_name(name: &str) -> bool {
    let mut cs = name.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
