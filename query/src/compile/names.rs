//! Names in ORDER BY and GROUP BY: a string there (`order_by("year")`, `desc("total")`) names a label of the
//! select list, else a column of the select list, else a column of its FROM (its tables, aliases, subqueries and
//! joins), as SQLAlchemy resolves it. A name that is none of these, or more than one column, is an error: never a
//! bound value, which would order or group nothing.

use std::borrow::Cow;
use std::sync::Arc;

use super::from::same_source;
use crate::error::{Error, Result};
use crate::expr::{ColumnRef, Expr, Source};
use crate::select::Select;

fn has_name(e: &Expr) -> bool {
    match e {
        Expr::Name(_) => true,
        Expr::Ordered { expr, .. } => matches!(**expr, Expr::Name(_)),
        _ => false,
    }
}

/// `terms` (of `clause`) with every name resolved against `s`, whose FROM is `froms` (joins included); borrowed as
/// they are when they hold no name, which is the common case and costs one scan.
pub(crate) fn resolve_names<'t>(
    terms: &'t [Expr],
    s: &Select,
    froms: &[&Source],
    clause: &str,
) -> Result<Cow<'t, [Expr]>> {
    if !terms.iter().any(has_name) {
        return Ok(Cow::Borrowed(terms));
    }
    terms
        .iter()
        .map(|t| match t {
            Expr::Name(n) => resolve(n, s, froms, clause),
            Expr::Ordered { expr, desc, nulls } => match &**expr {
                Expr::Name(n) => {
                    Ok(Expr::Ordered { expr: Box::new(resolve(n, s, froms, clause)?), desc: *desc, nulls: *nulls })
                }
                _ => Ok(t.clone()),
            },
            t => Ok(t.clone()),
        })
        .collect::<Result<Vec<_>>>()
        .map(Cow::Owned)
}

fn column(source: &Source, name: &str) -> Expr {
    Expr::Column(ColumnRef { source: source.clone(), name: Arc::from(name) })
}

fn source_has(source: &Source, name: &str) -> bool {
    match source {
        Source::Table(t) => t.column(name).is_some(),
        Source::Alias(a) => a.table().column(name).is_some(),
        Source::Subquery(sq) => sq.column_names().iter().any(|n| !n.is_empty() && n == name),
        Source::Cte(c) => c.column_names().iter().any(|n| !n.is_empty() && n == name),
    }
}

/// What `name` stands for: the label itself (written as its name in ORDER BY / GROUP BY), or a column.
fn resolve(name: &str, s: &Select, froms: &[&Source], clause: &str) -> Result<Expr> {
    if let Some(label) = s.columns.iter().find(|c| matches!(c, Expr::Label(_, n) if &**n == name)) {
        return Ok(label.clone());
    }
    let mut found: Vec<&Source> = Vec::new();
    for c in s.columns.iter() {
        if let Expr::Column(ColumnRef { source, name: n }) = c {
            if &**n == name && !found.iter().any(|f| same_source(f, source)) {
                found.push(source);
            }
        }
    }
    if found.is_empty() {
        found = froms.iter().copied().filter(|f| source_has(f, name)).collect();
    }
    match found.as_slice() {
        [one] => Ok(column(one, name)),
        [] => Err(Error::compile(format!(
            "{clause}({name:?}) names no label or column of the statement: a string there names a label of the \
             select list or a column of it or of its FROM; write text({name:?}) for SQL text"
        ))),
        many => {
            let names: Vec<&str> = many.iter().map(|f| f.name()).collect();
            Err(Error::compile(format!(
                "{clause}({name:?}) is ambiguous: {names:?} each have a column named {name:?}; name the column \
                 (table.c({name:?})) instead"
            )))
        }
    }
}
