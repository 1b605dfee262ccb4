//! SELECT and compound selects: FROM resolution and correlation, GROUP BY / ORDER BY, LIMIT / OFFSET.

use super::from::{add_source, same_source, sources_in};
use super::names::resolve_names;
use super::{Compiler, Ctx};
use crate::error::{Error, Result};
use crate::expr::{ColumnRef, Expr, Source};
use crate::select::{Compound, Query, Select};

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
                let c = s.clauses();
                if !c.order_by.is_empty() || c.limit.is_some() || c.offset.is_some() {
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

    /// A compound select, one level deeper (see [`MAX_EXPR_DEPTH`](super::MAX_EXPR_DEPTH)).
    fn compound_impl(&mut self, c: &Compound, correlated: bool, force_where: bool) -> Result<()> {
        self.descend()?;
        let r = self.compound_members(c, correlated, force_where);
        self.depth -= 1;
        r
    }

    fn compound_members(&mut self, c: &Compound, correlated: bool, force_where: bool) -> Result<()> {
        if let Some(first) = c.first.width() {
            if let Some((op, n)) = c.rest.iter().find_map(|(op, q)| q.width().filter(|n| *n != first).map(|n| (op, n)))
            {
                return Err(Error::compile(format!(
                    "the selects of a {} must have the same number of columns: {first} and {n}",
                    op.sql()
                )));
            }
        }
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
            for (i, e) in c.order_by.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                self.compound_order_term(e, &c.first)?;
            }
        }
        self.limit_offset(c.limit.as_ref(), c.offset.as_ref())
    }

    /// A term of a compound's ORDER BY names a result column: it is written as that column of the first select
    /// (its label, or the column qualified as there), which SQLite matches however many of the first select's
    /// sources have a column of that name.
    fn compound_order_term(&mut self, e: &Expr, first: &Query) -> Result<()> {
        let (inner, desc, nulls) = match e {
            Expr::Ordered { expr, desc, nulls } => (&**expr, *desc, *nulls),
            e => (e, None, None),
        };
        let (Expr::Column(ColumnRef { name, .. }) | Expr::Label(_, name) | Expr::Name(name)) = inner else {
            return Err(Error::compile(
                "the ORDER BY of a UNION/INTERSECT/EXCEPT takes result columns (columns or labels of the first \
                 select), not expressions",
            ));
        };
        let mut q = first;
        let columns = loop {
            match q {
                Query::Select(s) => break &s.columns,
                Query::Compound(c) => q = &c.first,
            }
        };
        // ("" stands for a result column without a name, which cannot be named.)
        match columns.iter().find(|c| c.output_name().is_some_and(|n| !n.is_empty() && n == &**name)) {
            Some(Expr::Label(_, label)) => self.ident(label),
            Some(Expr::Column(c)) if self.dialect.compound_order_by_qualified() => self.column(&c.source, &c.name),
            Some(Expr::Column(c)) => self.ident(&c.name),
            _ => {
                return Err(Error::compile(format!(
                    "the ORDER BY of a UNION/INTERSECT/EXCEPT names result columns, and {name:?} is not one of {:?}",
                    first.column_names()
                )));
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
        // A select is one level deeper (see MAX_EXPR_DEPTH).
        self.descend()?;
        // Columns render unqualified only in the RETURNING / ON CONFLICT clause itself, never in a subquery there.
        let unqualified = self.unqualified.take();
        let r = self.select_scoped(s, correlated, force_where);
        self.unqualified = unqualified;
        self.depth -= 1;
        r
    }

    fn select_scoped(&mut self, s: &Select, correlated: bool, force_where: bool) -> Result<()> {
        let c = s.clauses();
        // FROM: the explicit sources, then the sources of the columns and WHERE, then those only GROUP BY,
        // HAVING or ORDER BY name (SQLAlchemy leaves the last out, and writes SQL that names a missing table).
        let mut implicit = Vec::new();
        for e in s.columns.iter().chain(s.where_.iter()) {
            sources_in(e, &mut implicit);
        }
        let mut grouping = Vec::new();
        for e in c.group_by.iter().chain(c.order_by.iter()) {
            sources_in(e, &mut grouping);
        }
        if let Some(h) = &c.having {
            sources_in(h, &mut implicit);
        }
        for g in &grouping {
            if !implicit.iter().any(|x| same_source(x, g)) {
                implicit.push(g.clone());
            }
        }
        let join_names: Vec<&str> = c.joins.iter().map(|j| j.target.name()).collect();
        let mut froms: Vec<Source> = Vec::new();
        for f in &c.from {
            add_source(&mut froms, f)?;
        }
        let explicit = froms.len();
        let in_outer = |scopes: &[Vec<String>], name: &str| scopes.iter().any(|sc| sc.iter().any(|n| n == name));
        let mut correlated_away = 0;
        for f in implicit {
            if let Some(j) = c.joins.iter().find(|j| j.target.name() == f.name()) {
                if !same_source(&j.target, &f) {
                    return Err(Error::compile(format!(
                        "two different sources are named {:?} in one SELECT: alias one of them",
                        f.name()
                    )));
                }
                continue;
            }
            if add_source(&mut froms, &f)? && correlated && in_outer(&self.scopes, f.name()) {
                correlated_away += 1;
            }
        }
        // As SQLAlchemy does, a subquery correlates an enclosing query's FROM only if it has more than one FROM:
        // `(SELECT avg(cars.mileage) FROM cars)` inside a query on cars keeps its FROM.
        if correlated_away > 0 && froms.len() > 1 {
            let scopes = &self.scopes;
            let mut i = 0;
            let mut gone = Vec::new();
            froms.retain(|f| {
                let keep = i < explicit || !in_outer(scopes, f.name());
                i += 1;
                if !keep {
                    gone.push(f.name().to_owned());
                }
                keep
            });
            if froms.is_empty() && c.joins.is_empty() {
                return Err(Error::compile(
                    "every FROM of this subquery is a table of the enclosing query, so auto-correlation leaves it \
                     with no FROM; name its FROM with select_from()",
                ));
            }
            // SQLite resolves an enclosing query's columns in WHERE, HAVING and the select list, not in GROUP BY
            // or ORDER BY.
            if let Some(g) = grouping.iter().find(|g| gone.iter().any(|n| n == g.name())) {
                return Err(Error::compile(format!(
                    "the GROUP BY or ORDER BY of a subquery cannot name {:?} of the enclosing query on SQLite",
                    g.name()
                )));
            }
            // Nor in a subquery inside a GROUP BY or ORDER BY: there it sees the select that GROUP BY or ORDER BY
            // belongs to, and nothing outside it (whether that is a SELECT, UPDATE or DELETE).
            if let Some(n) = gone.iter().find(|n| self.out_of_reach(n)) {
                return Err(Self::out_of_reach_error(n));
            }
        }
        if froms.is_empty() && !c.joins.is_empty() {
            return Err(Error::compile("a join needs a FROM to join to: add select_from()"));
        }
        if let Some(j) = c.joins.iter().find(|j| {
            froms.iter().any(|f| f.name() == j.target.name())
                || c.joins.iter().filter(|k| k.target.name() == j.target.name()).count() > 1
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
        self.w(if s.clauses().distinct { "SELECT DISTINCT " } else { "SELECT " });
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
                self.joins(f, &s.clauses().joins)?;
            }
        }
        if let Some(w) = &s.where_ {
            self.w(" WHERE ");
            self.condition(w, "a WHERE condition")?;
        } else if force_where {
            // `1`, not `true`: a column named "true" would take that word's place.
            self.w(" WHERE 1");
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
        let r = self.group_order(s, froms);
        self.labels = outer_labels;
        r?;
        self.limit_offset(s.clauses().limit.as_ref(), s.clauses().offset.as_ref())
    }

    fn group_order(&mut self, s: &Select, froms: &[Source]) -> Result<()> {
        // This select's scope is the innermost: every scope outside it is out of reach in GROUP BY and ORDER BY.
        let hidden = self.scopes.len().saturating_sub(1);
        let outer_hidden = std::mem::replace(&mut self.hidden_scopes, hidden);
        let r = self.group_order_terms(s, froms, hidden, outer_hidden);
        self.hidden_scopes = outer_hidden;
        r
    }

    fn group_order_terms(&mut self, s: &Select, froms: &[Source], hidden: usize, outer_hidden: usize) -> Result<()> {
        let c = s.clauses();
        let sources: Vec<&Source> = froms.iter().chain(c.joins.iter().map(|j| &j.target)).collect();
        let group_by = resolve_names(&c.group_by, s, &sources, "group_by")?;
        let order_by = resolve_names(&c.order_by, s, &sources, "order_by")?;
        if !group_by.is_empty() {
            self.w(" GROUP BY ");
            for (i, e) in group_by.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                self.expr(e, Ctx::GroupBy)?;
            }
        }
        if let Some(h) = &c.having {
            // HAVING, unlike GROUP BY and ORDER BY, sees the enclosing queries.
            self.hidden_scopes = outer_hidden;
            self.w(" HAVING ");
            self.condition(h, "a HAVING condition")?;
            self.hidden_scopes = hidden;
        }
        if !order_by.is_empty() {
            self.w(" ORDER BY ");
            for (i, e) in order_by.iter().enumerate() {
                if i > 0 {
                    self.w(", ");
                }
                self.expr(e, Ctx::OrderBy)?;
            }
        }
        Ok(())
    }
}
