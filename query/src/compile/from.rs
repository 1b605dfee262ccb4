//! FROM sources and joins: the sources an expression names, and ON clauses from foreign keys.

use std::sync::Arc;

use super::Compiler;
use super::Ctx;
use crate::error::{Error, Result};
use crate::expr::{ColumnRef, Expr, Source};
use crate::schema::Table;
use crate::select::{Join, JoinKind};

/// Whether two sources are the same one (not merely the same name).
pub(crate) fn same_source(a: &Source, b: &Source) -> bool {
    match (a, b) {
        (Source::Table(x), Source::Table(y)) => x == y,
        (Source::Alias(x), Source::Alias(y)) => x == y,
        (Source::Subquery(x), Source::Subquery(y)) => Arc::ptr_eq(&x.0, &y.0),
        // A recursive CTE's parts refer to an earlier version of it: the name is the CTE.
        (Source::Cte(x), Source::Cte(y)) => x.name() == y.name(),
        _ => false,
    }
}

/// Add `f` to `froms` unless it is there; a different source of the same name is an error, since SQL would
/// resolve both to one of them.
pub(crate) fn add_source(froms: &mut Vec<Source>, f: &Source) -> Result<bool> {
    match froms.iter().find(|x| x.name() == f.name()) {
        Some(x) if same_source(x, f) => Ok(false),
        Some(_) => Err(Error::compile(format!(
            "two different sources are named {:?} in one SELECT: alias one of them (table.alias(\"name\"))",
            f.name()
        ))),
        None => {
            froms.push(f.clone());
            Ok(true)
        }
    }
}

/// The sources of the columns in `e`, not looking into subqueries, in the order they are written. A walk with a
/// heap stack: the expression may nest deeper than the compiler goes (it reports that after this).
pub(crate) fn sources_in(e: &Expr, out: &mut Vec<Source>) {
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        if let Expr::Column(ColumnRef { source, .. }) = e {
            if !out.iter().any(|o| same_source(o, source)) {
                out.push(source.clone());
            }
        }
        todo.extend(e.children().rev());
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
    pub(crate) fn joins(&mut self, first: &Source, joins: &[Join]) -> Result<()> {
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
                Some(on) => {
                    // An ON clause names the statement's sources (or an enclosing query's), never another table.
                    let mut named = Vec::new();
                    sources_in(on, &mut named);
                    if let Some(x) = named.iter().find(|x| !self.scopes.iter().flatten().any(|n| n == x.name())) {
                        return Err(Error::compile(format!(
                            "the ON clause of the join to {:?} names {:?}, which is not in the statement's FROM",
                            j.target.name(),
                            x.name()
                        )));
                    }
                    if let Some(x) = named.iter().find(|x| self.out_of_reach(x.name())) {
                        return Err(Self::out_of_reach_error(x.name()));
                    }
                    self.condition(on, "an ON condition")?;
                }
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
}
