//! Writing expressions: operators with SQLite's precedence, functions, `CASE`, subqueries, parameters.

use asqlite::Value;

use super::{literal_sql, Compiler, Ctx, Slot};
use crate::error::{Error, Result};
use crate::expr::{BinOp, Expr, Literal, Source};

fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Or(v) if v.len() > 1 => 1,
        Expr::And(v) if v.len() > 1 => 2,
        // One item is written as that item; a label inside an expression is written as what it labels.
        Expr::And(v) | Expr::Or(v) if v.len() == 1 => precedence(&v[0]),
        Expr::And(v) | Expr::Or(v) if v.is_empty() => 4,
        Expr::Label(inner, _) => precedence(inner),
        Expr::Not(_) => 3,
        Expr::Binary(_, op, _) => match op {
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
            BinOp::Concat => 9,
        },
        Expr::Like { .. } | Expr::IsNull { .. } | Expr::InList { .. } | Expr::InQuery { .. } | Expr::Between { .. } => {
            4
        }
        Expr::Neg(_) | Expr::Collate(..) => 10,
        Expr::Text(_) => 0,
        _ => 11,
    }
}

impl Compiler {
    pub(crate) fn column(&mut self, source: &Source, name: &str) {
        if self.unqualified.as_deref() != Some(source.name()) {
            self.ident(source.name());
            self.w(".");
        }
        self.ident(name);
    }

    fn child(&mut self, e: &Expr, parent: u8, right: bool) -> Result<()> {
        let p = precedence(e);
        if p < parent || (right && p == parent && p >= 4) {
            self.w("(");
            self.expr(e, Ctx::Plain)?;
            self.w(")");
            Ok(())
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

    pub(crate) fn expr(&mut self, e: &Expr, ctx: Ctx) -> Result<()> {
        let prec = precedence(e);
        match e {
            Expr::Column(c) => self.column(&c.source, &c.name),
            Expr::Value(l) => self.literal(&l.0),
            Expr::Str(l) => {
                if ctx == Ctx::SelectList {
                    return Err(bare_string(l, "a result column"));
                }
                self.literal(&l.0);
            }
            Expr::Name(n) => {
                return Err(Error::compile(format!(
                    "the name {n:?} stands only in order_by() or group_by(), where it names a label or column of \
                     the statement; elsewhere write the column (table.c({n:?})) or a label"
                )));
            }
            Expr::BindParam(n) => self.slot(Slot::Named(n.clone())),
            Expr::Null => self.w("NULL"),
            Expr::Binary(a, op, b) => {
                self.child(a, prec, false)?;
                self.w(" ");
                self.w(op.sql());
                self.w(" ");
                self.child(b, prec, true)?;
            }
            Expr::Like { expr, pattern, negated, case_insensitive, escape } => {
                if *case_insensitive {
                    self.w("lower(");
                    self.expr(expr, Ctx::Plain)?;
                    self.w(")");
                } else {
                    self.child(expr, prec, false)?;
                }
                self.w(if *negated { " NOT LIKE " } else { " LIKE " });
                if *case_insensitive {
                    self.w("lower(");
                    self.expr(pattern, Ctx::Plain)?;
                    self.w(")");
                } else {
                    self.child(pattern, prec, true)?;
                }
                if let Some(c) = escape {
                    self.w(" ESCAPE ");
                    let lit = literal_sql(&Value::Text(c.to_string()));
                    self.w(&lit);
                }
            }
            Expr::And(items) | Expr::Or(items) => {
                let and = matches!(e, Expr::And(_));
                if let Some(Expr::Str(l)) = items.iter().find(|i| matches!(i, Expr::Str(_))) {
                    return Err(bare_string(l, if and { "a condition of and_()" } else { "a condition of or_()" }));
                }
                match items.len() {
                    // Not `1` / `0`: an integer constant in GROUP BY or ORDER BY is a column number to SQLite.
                    0 => self.w(if and { "1 = 1" } else { "1 != 1" }),
                    1 => self.expr(&items[0], Ctx::Plain)?,
                    _ => {
                        for (i, item) in items.iter().enumerate() {
                            if i > 0 {
                                self.w(if and { " AND " } else { " OR " });
                            }
                            self.child(item, prec, false)?;
                        }
                    }
                }
            }
            Expr::Not(inner) => {
                if let Expr::Str(l) = &**inner {
                    return Err(bare_string(l, "the condition of not_()"));
                }
                self.w("NOT ");
                self.child(inner, 11, false)?;
            }
            Expr::Neg(inner) => {
                self.w("-");
                // As a right operand, a nested negation is parenthesized: `--x` would start a comment.
                self.child(inner, prec, true)?;
            }
            Expr::IsNull { expr, negated } => {
                self.child(expr, prec + 1, false)?;
                self.w(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Expr::InList { expr, list, negated } => self.in_list(expr, list, *negated, prec)?,
            Expr::InQuery { expr, query, negated } => {
                let arity = match &**expr {
                    Expr::Tuple(items) => items.len(),
                    _ => 1,
                };
                if let Some(n) = query.width().filter(|n| *n != arity) {
                    return Err(Error::compile(format!(
                        "IN (SELECT ...) compares {arity} value(s) with a select of {n} column(s)"
                    )));
                }
                self.child(expr, prec + 1, false)?;
                self.w(if *negated { " NOT IN (" } else { " IN (" });
                self.query(query, true)?;
                self.w(")");
            }
            Expr::Between { expr, low, high, negated } => {
                self.child(expr, prec + 1, false)?;
                self.w(if *negated { " NOT BETWEEN " } else { " BETWEEN " });
                self.child(low, prec + 1, false)?;
                self.w(" AND ");
                self.child(high, prec + 1, false)?;
            }
            Expr::Func { name, args, distinct } => {
                if !is_plain_name(name) {
                    return Err(Error::compile(format!("{name:?} is not a function name")));
                }
                self.w(name);
                self.w(if *distinct { "(DISTINCT " } else { "(" });
                self.list(args, Ctx::Plain)?;
                self.w(")");
            }
            Expr::CountStar => self.w("count(*)"),
            Expr::Label(inner, name) => match ctx {
                Ctx::SelectList => {
                    self.expr(inner, Ctx::Plain)?;
                    self.w(" AS ");
                    self.ident(name);
                }
                // ORDER BY / GROUP BY name a label of the select list; a label that is not there is its expression.
                Ctx::OrderBy | Ctx::GroupBy if self.labels.iter().any(|l| l == name) => self.ident(name),
                _ => self.expr(inner, Ctx::Plain)?,
            },
            Expr::Cast(inner, ty) => {
                self.w("CAST(");
                self.expr(inner, Ctx::Plain)?;
                self.w(" AS ");
                let ddl = self.dialect.cast_type(ty);
                if ddl.is_empty() {
                    return Err(Error::compile("cast() needs a type to cast to"));
                }
                if !ddl.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '(' | ')' | ',' | '_')) {
                    return Err(Error::compile(format!("{ddl:?} is not a type name")));
                }
                self.w(&ddl);
                self.w(")");
            }
            Expr::Collate(inner, name) => {
                self.child(inner, 11, false)?;
                self.w(" COLLATE ");
                self.ident(name);
            }
            Expr::Over { func, partition_by, order_by, frame } => {
                if !matches!(**func, Expr::Func { .. } | Expr::CountStar | Expr::Filter(..)) {
                    return Err(Error::compile(
                        "over() applies to a function call (func::row_number(), func::sum(x), ...)",
                    ));
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
                    self.w(if f.range { "RANGE BETWEEN " } else { "ROWS BETWEEN " });
                    self.w(&frame_bound(f.start, "UNBOUNDED PRECEDING"));
                    self.w(" AND ");
                    self.w(&frame_bound(f.end, "UNBOUNDED FOLLOWING"));
                }
                self.w(")");
            }
            Expr::Filter(func, cond) => {
                if !matches!(**func, Expr::Func { .. } | Expr::CountStar) {
                    return Err(Error::compile(
                        "filter() applies to an aggregate function call (func::count_star(), ...)",
                    ));
                }
                self.expr(func, Ctx::Plain)?;
                self.w(" FILTER (WHERE ");
                self.condition(cond, "a FILTER condition")?;
                self.w(")");
            }
            Expr::Quantified { all, expr } => {
                if !self.dialect.supports_any_all() {
                    let (name, instead) = if *all {
                        ("ALL", "for `x != all_(subquery)` write x.not_in_query(subquery); compare with max()/min() of the subquery for < and >")
                    } else {
                        ("ANY", "for `x == any_(subquery)` write x.in_query(subquery); compare with min()/max() of the subquery for < and >")
                    };
                    return Err(Error::compile(format!(
                        "{name} (any_/all_) cannot be expressed on {}: {instead}",
                        self.dialect.name()
                    )));
                }
                self.w(if *all { "ALL (" } else { "ANY (" });
                match &**expr {
                    Expr::Scalar(q) => self.query(q, true)?,
                    e => self.expr(e, Ctx::Plain)?,
                }
                self.w(")");
            }
            Expr::Case { value, whens, else_ } => {
                if whens.is_empty() {
                    return Err(Error::compile("CASE needs at least one WHEN"));
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
            }
            Expr::Exists(q) => {
                self.w("EXISTS (");
                self.query(q, true)?;
                self.w(")");
            }
            Expr::Scalar(q) => {
                if let Some(n) = q.width().filter(|n| *n != 1) {
                    return Err(Error::compile(format!("a scalar subquery must select exactly one column, not {n}")));
                }
                self.w("(");
                self.query(q, true)?;
                self.w(")");
            }
            Expr::Text(sql) => {
                let sql = sql.clone();
                self.text(&sql)?;
            }
            Expr::Tuple(items) => {
                self.w("(");
                self.list(items, Ctx::Plain)?;
                self.w(")");
            }
            Expr::Excluded(name) => {
                let Some(table) = &self.upsert else {
                    return Err(Error::compile(format!(
                        "excluded({name:?}) is only valid in ON CONFLICT DO UPDATE (on_conflict_do_update)"
                    )));
                };
                if table.column(name).is_none() {
                    return Err(Error::compile(format!(
                        "excluded({name:?}): table {:?} has no column named {name:?}",
                        table.name()
                    )));
                }
                self.w("excluded.");
                self.ident(name);
            }
            Expr::Star => {
                if ctx != Ctx::SelectList {
                    return Err(Error::compile("`*` is only valid in a select list"));
                }
                self.w("*");
            }
            Expr::Ordered { expr, desc, nulls } => {
                if ctx != Ctx::OrderBy && ctx != Ctx::Window {
                    return Err(Error::compile("asc()/desc()/nulls_first()/nulls_last() belong in ORDER BY"));
                }
                self.expr(expr, if ctx == Ctx::Window { Ctx::Plain } else { Ctx::OrderBy })?;
                self.ordering(*desc, *nulls);
            }
            Expr::Invalid(msg) => return Err(Error::compile(msg.clone())),
        }
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

    fn in_list(&mut self, expr: &Expr, list: &[Expr], negated: bool, prec: u8) -> Result<()> {
        let arity = match expr {
            Expr::Tuple(items) => Some(items.len()),
            _ => None,
        };
        self.child(expr, prec + 1, false)?;
        self.w(if negated { " NOT IN (" } else { " IN (" });
        if list.is_empty() {
            // An empty set, as SQLAlchemy writes it for SQLite. Not `IN ()`: SQLite folds that to a constant, and
            // `IN () AND x` to the integer 0, which GROUP BY and ORDER BY read as a column number.
            self.w("SELECT 1");
            for _ in 1..arity.unwrap_or(1) {
                self.w(", 1");
            }
            self.w(" FROM (SELECT 1) WHERE 1 != 1)");
            return Ok(());
        }
        if arity.is_some() {
            self.w("VALUES ");
        }
        self.list(list, Ctx::Plain)?;
        self.w(")");
        Ok(())
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

/// Whether a name is a plain identifier (letters, digits, `_`; not starting with a digit).
pub(crate) fn is_plain_name(name: &str) -> bool {
    let mut cs = name.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
