//! Textual SQL with named parameters: `text("SELECT * FROM cars WHERE year > :year")`.
//!
//! `:name` placeholders are found outside string literals, quoted identifiers and comments, and bound by name
//! like [`bindparam`](crate::expr::bindparam); a bare `?` binds by position.

use std::sync::Arc;

/// Trusted SQL text whose `:name` placeholders are bound at execution.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct TextClause {
    pub(crate) sql: Arc<str>,
}

/// SQL text with `:name` parameters, as a statement or inside expressions.
pub fn text(sql: &str) -> TextClause {
    TextClause { sql: Arc::from(sql) }
}

impl TextClause {
    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.sql
    }
}

/// The name of a parameter without its `:`, `@` or `$` prefix.
#[inline]
pub(crate) fn strip_param_prefix(name: &str) -> &str {
    // The prefixes are ASCII: a byte test, without decoding the first character.
    match name.as_bytes().first() {
        Some(b':' | b'@' | b'$') => name.get(1..).unwrap_or(name),
        _ => name,
    }
}

/// A piece of parsed text.
#[derive(Debug, PartialEq)]
pub(crate) enum Piece<'a> {
    Sql(&'a str),
    Named(&'a str),
    Positional,
}

/// Split SQL text into literal SQL, `:name` parameters and `?` parameters.
pub(crate) fn parse(sql: &str) -> Result<Vec<Piece<'_>>, String> {
    let b = sql.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'[' => {
                while i < b.len() && b[i] != b']' {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            // `x::int`: a cast (PostgreSQL's), not a parameter.
            b':' if b.get(i + 1) == Some(&b':') => i += 2,
            b':' if b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') => {
                pieces.push(Piece::Sql(&sql[start..i]));
                let name_start = i + 1;
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                pieces.push(Piece::Named(&sql[name_start..i]));
                start = i;
            }
            b'?' => {
                if b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    return Err("numbered `?NNN` parameters are not supported in text(); use :name".into());
                }
                pieces.push(Piece::Sql(&sql[start..i]));
                pieces.push(Piece::Positional);
                i += 1;
                start = i;
            }
            b'@' | b'$' if b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') => {
                return Err("`@name` and `$name` parameters are not supported in text(); use :name".into());
            }
            _ => i += 1,
        }
    }
    let end = i.min(b.len());
    if start < end {
        pieces.push(Piece::Sql(&sql[start..end]));
    }
    pieces.retain(|p| !matches!(p, Piece::Sql("")));
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_names_outside_literals_and_comments() {
        let p = parse("SELECT ':no', \"a:b\" FROM t WHERE x = :x -- :c\n AND y = ? /* :d */ AND z = :z_1").unwrap();
        let names: Vec<&Piece<'_>> = p.iter().filter(|p| !matches!(p, Piece::Sql(_))).collect();
        assert_eq!(names, [&Piece::Named("x"), &Piece::Positional, &Piece::Named("z_1")]);
        assert!(parse("SELECT ?1").is_err());
        assert!(parse("SELECT 'unterminated").is_ok());
    }

    #[test]
    fn odd_input_never_panics() {
        for s in ["", ":", "?", "é:ñ", "'é", "[é", "/*é", "--é", "é:a", ":a:b", "\"é\":x", "x::y", "$", "@", "?é"]
        {
            let _ = parse(s);
        }
        let p = parse("x::int = :a").unwrap();
        assert_eq!(p, [Piece::Sql("x::int = "), Piece::Named("a")]);
        let p = parse("é = :a").unwrap();
        assert_eq!(p, [Piece::Sql("é = "), Piece::Named("a")]);
    }
}
