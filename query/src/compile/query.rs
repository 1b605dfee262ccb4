//! SELECT, compound selects, FROM sources, joins and CTEs.

use std::sync::Arc;

use super::{Compiler, Ctx, Slot};
use crate::error::{Error, Result};
use crate::expr::{ColumnRef, Expr, Source};
use crate::schema::Table;
use crate::select::{Compound, Cte, Join, JoinKind, Query, Select};

/// A CTE met while compiling, and its rendered body once done.
pub(crate) struct CteEntry {
    name: String,
    cte: Cte,
    sql: String,
    slots: Vec<Slot>,
    deps: Vec<String>,
}

/// The sources of the columns in `e`, not looking into subqueries.
pub(crate) fn sources_in(e: &Expr, out: &mut Vec<Source>) {
    let mut push = |s: &Source| {
        if !out.iter().any(|o| o.name() == s.name()) {
            out.push(s.clone());
        }
    };
    match e {
        Expr::Column(ColumnRef { source, .. }) => push(source),
        Expr::Binary(a, _, b) => {
            sources_in(a, out);
            sources_in(b, out);
        }
        Expr::Like { expr, pattern, .. } => {
            sources_in(expr, out);
            sources_in(pattern, out);
        }
        Expr::And(v) | Expr::Or(v) | Expr::Tuple(v) | Expr::Func { args: v, .. } => {
            v.iter().for_each(|x| sources_in(x, out));
        }
        Expr::Not(x) | Expr::Neg(x) | Expr::Label(x, _) | Expr::Cast(x, _) => sources_in(x, out),
        Expr::IsNull { expr, .. } | Expr::InQuery { expr, .. } | Expr::Ordered { expr, .. } => sources_in(expr, out),
        Expr::InList { expr, list, .. } => {
            sources_in(expr, out);
            list.iter().for_each(|x| sources_in(x, out));
        }
        Expr::Between { expr, low, high, .. } => {
            sources_in(expr, out);
            sources_in(low, out);
            sources_in(high, out);
        }
        Expr::Case { value, whens, else_ } => {
            if let Some(v) = value {
                sources_in(v, out);
            }
            for (a, b) in whens {
                sources_in(a, out);
                sources_in(b, out);
            }
            if let Some(e) = else_ {
                sources_in(e, out);
            }
        }
        _ => {}
    }
}

fn table_of(s: &Source) -> Option<&Table> {
    match s {
        Source::Table(t) => Some(t),
        Source::Alias(a) => Some(a.table()),
        _ => None,
    }
}

fn col(source: &Source, name: &str) -> Expr {
    Expr::Column(ColumnRef { source: source.clone(), name: Arc::from(name) })
}

/// The ON condition of a join from the foreign key between `right` and one of `left`.
fn fk_on(left: &[Source], right: &Source) -> Result<Expr> {
    let rt = table_of(right)
        .ok_or_else(|| Error::compile(format!("joining {:?} needs an explicit ON clause (join_on)", right.name())))?;
    let mut found = Vec::new();
    for l in left {
        let Some(lt) = table_of(l) else { continue };
        for fk in rt.foreign_keys().iter().filter(|fk| fk.target_table == lt.name()) {
            let conds = fk.columns.iter().zip(&fk.target_columns).map(|(c, t)| col(right, c).eq(col(l, t)));
            found.push(crate::expr::and_(conds));
        }
        if lt.name() != rt.name() {
            for fk in lt.foreign_keys().iter().filter(|fk| fk.target_table == rt.name()) {
                let conds = fk.columns.iter().zip(&fk.target_columns).map(|(c, t)| col(l, c).eq(col(right, t)));
                found.push(crate::expr::and_(conds));
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::compile(format!(
            "no foreign key links {:?} to the statement's FROM; give the ON clause with join_on",
            right.name()
        ))),
        _ => Err(Error::compile(format!(
            "several foreign keys link {:?} to the statement's FROM; give the ON clause with join_on",
            right.name()
        ))),
    }
}

impl Compiler {
    pub(crate) fn query(&mut self, q: &Query, correlated: bool) -> Result<()> {
        match q {
            Query::Select(s) => self.select(s, correlated, false),
            Query::Compound(c) => self.compound_impl(c, correlated, false),
        }
    }

    pub(crate) fn compound(&mut self, c: &Compound, force_where: bool) -> Result<()> {
        self.compound_impl(c, false, force_where)
    }

    fn member(&mut self, q: &Query, correlated: bool, force_where: bool) -> Result<()> {
        match q {
            Query::Select(s) => {
                if !s.order_by.is_empty() || s.limit.is_some() || s.offset.is_some() {
                    return Err(Error::compile(
                        "a member of UNION/INTERSECT/EXCEPT cannot have its own ORDER BY, LIMIT or OFFSET on \
                         SQLite; select from it as a subquery instead",
                    ));
                }
                self.select(s, correlated, force_where)
            }
            Query::Compound(c) => {
                if !c.order_by.is_empty() || c.limit.is_some() || c.offset.is_some() {
                    return Err(Error::compile(
                        "a nested compound select cannot have its own ORDER BY, LIMIT or OFFSET on SQLite",
                    ));
                }
                self.compound_impl(c, correlated, force_where)
            }
        }
    }

    fn compound_impl(&mut self, c: &Compound, correlated: bool, force_where: bool) -> Result<()> {
        let last = c.rest.len();
        self.member(&c.first, correlated, force_where && last == 0)?;
        for (i, (op, q)) in c.rest.iter().enumerate() {
            self.w(" ");
            self.w(op.sql());
            self.w(" ");
            self.member(q, correlated, force_where && i + 1 == last)?;
        }
        if !c.order_by.is_empty() {
            self.w(" ORDER BY ");
            // Terms of a compound's ORDER BY name result columns: write columns bare.
            let names = c.first.column_names();
            for (i, e) in c.order_by.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                self.compound_order_term(e, &names)?;
            }
        }
        self.limit_offset(c.limit.as_ref(), c.offset.as_ref())
    }

    /// A term of a compound's ORDER BY: a column or a label names a result column, so it is written bare.
    fn compound_order_term(&mut self, e: &Expr, names: &[String]) -> Result<()> {
        let (inner, desc, nulls) = match e {
            Expr::Ordered { expr, desc, nulls } => (&**expr, *desc, *nulls),
            e => (e, None, None),
        };
        match inner {
            Expr::Column(ColumnRef { name, .. }) | Expr::Label(_, name) if names.iter().any(|n| **n == **name) => {
                self.ident(name);
            }
            Expr::Column(ColumnRef { name, .. }) | Expr::Label(_, name) => {
                return Err(Error::compile(format!(
                    "the ORDER BY of a UNION/INTERSECT/EXCEPT names result columns, and {name:?} is not one of {names:?}"
                )));
            }
            _ => {
                return Err(Error::compile(
                    "the ORDER BY of a UNION/INTERSECT/EXCEPT takes result columns (columns or labels of the first \
                     select), not expressions",
                ))
            }
        }
        self.ordering(desc, nulls);
        Ok(())
    }

    fn limit_offset(&mut self, limit: Option<&Expr>, offset: Option<&Expr>) -> Result<()> {
        match (limit, offset) {
            (Some(l), o) => {
                self.w(" LIMIT ");
                self.expr(l, Ctx::Plain)?;
                if let Some(o) = o {
                    self.w(" OFFSET ");
                    self.expr(o, Ctx::Plain)?;
                }
            }
            (None, Some(o)) => {
                if let Some(l) = self.dialect.limit_for_offset_only() {
                    self.w(" LIMIT ");
                    self.w(l);
                }
                self.w(" OFFSET ");
                self.expr(o, Ctx::Plain)?;
            }
            (None, None) => {}
        }
        Ok(())
    }

    pub(crate) fn select(&mut self, s: &Select, correlated: bool, force_where: bool) -> Result<()> {
        if s.columns.is_empty() {
            return Err(Error::compile("a SELECT needs at least one column"));
        }
        let mut implicit = Vec::new();
        for e in s.columns.iter().chain(s.where_.iter()) {
            sources_in(e, &mut implicit);
        }
        let join_names: Vec<&str> = s.joins.iter().map(|j| j.target.name()).collect();
        let mut froms: Vec<Source> = Vec::new();
        for f in &s.from {
            if !froms.iter().any(|x| x.name() == f.name()) {
                froms.push(f.clone());
            }
        }
        let explicit = froms.len();
        let mut correlated_away = 0;
        for f in implicit {
            if froms.iter().any(|x| x.name() == f.name()) || join_names.contains(&f.name()) {
                continue;
            }
            if correlated && self.scopes.iter().any(|sc| sc.iter().any(|n| n == f.name())) {
                correlated_away += 1;
            }
            froms.push(f);
        }
        // As SQLAlchemy does, a subquery correlates an enclosing query's FROM only if it has more than one FROM:
        // `(SELECT avg(cars.mileage) FROM cars)` inside a query on cars keeps its FROM.
        if correlated_away > 0 && froms.len() > 1 {
            let scopes = &self.scopes;
            let mut i = 0;
            froms.retain(|f| {
                let keep = i < explicit || !scopes.iter().any(|sc| sc.iter().any(|n| n == f.name()));
                i += 1;
                keep
            });
            if froms.is_empty() && s.joins.is_empty() {
                return Err(Error::compile(
                    "every FROM of this subquery is a table of the enclosing query, so auto-correlation leaves it \
                     with no FROM; name its FROM with select_from()",
                ));
            }
        }
        if froms.is_empty() && !s.joins.is_empty() {
            return Err(Error::compile("a join needs a FROM to join to: add select_from()"));
        }
        if let Some(j) = s.joins.iter().find(|j| {
            froms.iter().any(|f| f.name() == j.target.name())
                || s.joins.iter().filter(|k| k.target.name() == j.target.name()).count() > 1
        }) {
            return Err(Error::compile(format!(
                "{:?} appears twice in FROM and its joins: join an alias of it (table.alias(\"name\"))",
                j.target.name()
            )));
        }
        let mut scope: Vec<String> = froms.iter().map(|f| f.name().to_owned()).collect();
        scope.extend(join_names.iter().map(|n| (*n).to_owned()));
        self.scopes.push(scope);
        let r = self.select_body(s, &froms, force_where);
        self.scopes.pop();
        r
    }

    fn select_body(&mut self, s: &Select, froms: &[Source], force_where: bool) -> Result<()> {
        self.w(if s.distinct { "SELECT DISTINCT " } else { "SELECT " });
        for (i, e) in s.columns.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            self.expr(e, Ctx::SelectList)?;
        }
        for (i, f) in froms.iter().enumerate() {
            self.w(if i == 0 { " FROM " } else { ", " });
            self.source(f)?;
            if i == 0 {
                self.joins(f, &s.joins)?;
            }
        }
        if let Some(w) = &s.where_ {
            self.w(" WHERE ");
            self.expr(w, Ctx::Plain)?;
        } else if force_where {
            self.w(" WHERE true");
        }
        let labels = s
            .columns
            .iter()
            .filter_map(|c| match c {
                Expr::Label(_, n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        let outer_labels = std::mem::replace(&mut self.labels, labels);
        let r = self.group_order(s);
        self.labels = outer_labels;
        r?;
        self.limit_offset(s.limit.as_ref(), s.offset.as_ref())
    }

    fn group_order(&mut self, s: &Select) -> Result<()> {
        if !s.group_by.is_empty() {
            self.w(" GROUP BY ");
            for (i, e) in s.group_by.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                self.expr(e, Ctx::GroupBy)?;
            }
        }
        if let Some(h) = &s.having {
            self.w(" HAVING ");
            self.expr(h, Ctx::Plain)?;
        }
        if !s.order_by.is_empty() {
            self.w(" ORDER BY ");
            for (i, e) in s.order_by.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                self.expr(e, Ctx::OrderBy)?;
            }
        }
        Ok(())
    }

    fn joins(&mut self, first: &Source, joins: &[Join]) -> Result<()> {
        let mut left = vec![first.clone()];
        for j in joins {
            self.w(match j.kind {
                JoinKind::Inner => " JOIN ",
                JoinKind::Left => " LEFT OUTER JOIN ",
                JoinKind::Full => " FULL OUTER JOIN ",
            });
            self.source(&j.target)?;
            self.w(" ON ");
            match &j.on {
                Some(on) => self.expr(on, Ctx::Plain)?,
                None => {
                    let on = fk_on(&left, &j.target)?;
                    self.expr(&on, Ctx::Plain)?;
                }
            }
            left.push(j.target.clone());
        }
        Ok(())
    }

    pub(crate) fn source(&mut self, s: &Source) -> Result<()> {
        match s {
            Source::Table(t) => self.ident(t.name()),
            Source::Alias(a) => {
                self.ident(a.table().name());
                self.w(" AS ");
                self.ident(a.name());
            }
            Source::Subquery(sq) => {
                self.w("(");
                self.query(&sq.0.query, false)?;
                self.w(") AS ");
                self.ident(sq.name());
            }
            Source::Cte(c) => {
                self.use_cte(c);
                self.ident(c.name());
            }
        }
        Ok(())
    }

    fn use_cte(&mut self, cte: &Cte) {
        let name = cte.name();
        if let Some(cur) = self.rendering_ctes.last().cloned() {
            if cur != name {
                if let Some(e) = self.ctes.iter_mut().find(|e| e.name == cur) {
                    if !e.deps.iter().any(|d| d == name) {
                        e.deps.push(name.to_owned());
                    }
                }
            }
        }
        if self.rendering_ctes.iter().any(|n| n == name) || self.ctes.iter().any(|e| e.name == name) {
            return;
        }
        self.ctes.push(CteEntry {
            name: name.to_owned(),
            cte: cte.clone(),
            sql: String::new(),
            slots: Vec::new(),
            deps: Vec::new(),
        });
    }

    /// Write `WITH ...` in front of the statement for every CTE it used.
    pub(crate) fn prepend_ctes(&mut self) -> Result<()> {
        if self.ctes.is_empty() {
            return Ok(());
        }
        let body = std::mem::take(&mut self.out);
        let body_slots = std::mem::take(&mut self.slots);
        let mut i = 0;
        while i < self.ctes.len() {
            let cte = self.ctes[i].cte.clone();
            self.rendering_ctes.push(cte.name().to_owned());
            self.recursive |= cte.is_recursive();
            self.ident(cte.name());
            self.w(" AS (");
            let r = (|| {
                self.query(&cte.0.query, false)?;
                for (op, q) in &cte.0.parts {
                    self.w(" ");
                    self.w(op.sql());
                    self.w(" ");
                    self.query(q, false)?;
                }
                Ok::<(), Error>(())
            })();
            self.w(")");
            self.rendering_ctes.pop();
            r?;
            self.ctes[i].sql = std::mem::take(&mut self.out);
            self.ctes[i].slots = std::mem::take(&mut self.slots);
            i += 1;
        }
        // Dependencies first.
        let mut order: Vec<usize> = Vec::new();
        fn visit(i: usize, ctes: &[CteEntry], order: &mut Vec<usize>, seen: &mut Vec<bool>) {
            if seen[i] {
                return;
            }
            seen[i] = true;
            for d in &ctes[i].deps {
                if let Some(j) = ctes.iter().position(|e| &e.name == d) {
                    visit(j, ctes, order, seen);
                }
            }
            order.push(i);
        }
        let mut seen = vec![false; self.ctes.len()];
        for i in 0..self.ctes.len() {
            visit(i, &self.ctes, &mut order, &mut seen);
        }
        self.w(if self.recursive { "WITH RECURSIVE " } else { "WITH " });
        for (n, &i) in order.iter().enumerate() {
            if n > 0 {
                self.w(", ");
            }
            let sql = std::mem::take(&mut self.ctes[i].sql);
            self.w(&sql);
            let slots = std::mem::take(&mut self.ctes[i].slots);
            self.slots.extend(slots);
        }
        self.w(" ");
        self.w(&body);
        self.slots.extend(body_slots);
        self.ctes.clear();
        Ok(())
    }
}
