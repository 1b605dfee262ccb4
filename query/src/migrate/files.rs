//! Migrations read from `NNNN_name.sql` files.

use std::path::Path;

use super::{Body, MigrateError, MigrateErrorKind, Migration, Migrator};
use crate::error::Result;

#[cold]
fn bad_file(file: &str, why: impl std::fmt::Display) -> MigrateError {
    MigrateError::new(MigrateErrorKind::File, format!("migration file {file:?}: {why}"))
}

/// Every `.sql` file of `dir` (hidden files and others skipped), parsed and sorted by version.
pub(super) fn from_dir(dir: &Path) -> Result<Migrator> {
    let cannot = |e: std::io::Error| {
        MigrateError::new(
            MigrateErrorKind::File,
            format!("cannot read the migrations directory {}: {e}", dir.display()),
        )
        .with_source(e)
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(cannot)? {
        let entry = entry.map_err(cannot)?;
        let os_name = entry.file_name();
        let lossy = os_name.to_string_lossy();
        let is_sql = Path::new(&os_name).extension().is_some_and(|e| e.eq_ignore_ascii_case("sql"));
        if !is_sql || lossy.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            continue;
        }
        let Some(name) = os_name.to_str() else {
            return Err(bad_file(&lossy, "the name is not UTF-8").into());
        };
        let bytes =
            std::fs::read(&path).map_err(|e| bad_file(name, format_args!("cannot read it: {e}")).with_source(e))?;
        let sql = String::from_utf8(bytes).map_err(|e| bad_file(name, format_args!("not UTF-8 text ({e})")))?;
        out.push(parse(name, sql)?);
    }
    sorted(out)
}

/// A migration from its file name (`0001_create_cars.sql`: version 1, "create cars") and text.
pub(super) fn parse(file: &str, sql: String) -> Result<Migration> {
    let expected = "expected NNNN_name.sql (a version number, an underscore, a name), as in 0001_create_cars.sql";
    let stem = match file.len().checked_sub(4) {
        Some(i) if file.is_char_boundary(i) && file[i..].eq_ignore_ascii_case(".sql") => &file[..i],
        _ => return Err(bad_file(file, expected).into()),
    };
    let Some((digits, name)) = stem.split_once('_') else {
        return Err(bad_file(file, expected).into());
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return Err(bad_file(file, expected).into());
    }
    if name.contains('.') {
        return Err(bad_file(
            file,
            "a name holds no dot (down migrations, name.down.sql, are not supported: write a new migration instead)",
        )
        .into());
    }
    let version: i64 = digits.parse().map_err(|_| bad_file(file, "the version number is too large"))?;
    Ok(Migration { version, name: name.replace('_', " "), body: Body::Sql(sql.into()), file: Some(file.to_owned()) })
}

/// Sort by version and check the set.
pub(super) fn sorted(mut migrations: Vec<Migration>) -> Result<Migrator> {
    migrations.sort_by_key(|m| m.version);
    let m = Migrator::new(migrations);
    m.validate()?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn kind(e: &Error) -> MigrateErrorKind {
        match e {
            Error::Migrate(m) => m.kind(),
            _ => panic!("not a migration error: {e}"),
        }
    }

    #[test]
    fn file_names_give_version_and_name() {
        let m = parse("0001_create_cars.sql", "CREATE TABLE cars (x)".into()).unwrap();
        assert_eq!((m.version(), m.name(), m.sql_text()), (1, "create cars", Some("CREATE TABLE cars (x)")));
        assert_eq!(parse("12_x.SQL", String::new()).unwrap().version(), 12);
        for bad in [
            "create_cars.sql",
            "0001.sql",
            "0001_.sql",
            "_x.sql",
            "00a1_x.sql",
            "0001_x.txt",
            "0001_x.down.sql",
            "99999999999999999999_x.sql",
            "é.sql",
        ] {
            let e = parse(bad, String::new()).unwrap_err();
            assert_eq!(kind(&e), MigrateErrorKind::File, "{bad}");
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn a_duplicate_or_gap_names_the_files() {
        let e = Migrator::from_files([("0001_a.sql", ""), ("1_b.sql", "")]).unwrap_err();
        assert_eq!(kind(&e), MigrateErrorKind::Invalid);
        assert!(e.to_string().contains("0001_a.sql") && e.to_string().contains("1_b.sql"), "{e}");
        let e = Migrator::from_files([("0001_a.sql", ""), ("0003_c.sql", "")]).unwrap_err();
        assert!(e.to_string().contains("0003_c.sql") && e.to_string().contains("skip from 1 to 3"), "{e}");
    }
}
