//! Engine URLs, in SQLAlchemy's spelling.
//!
//! | URL | database |
//! |---|---|
//! | `sqlite://` or `sqlite:///:memory:` | in memory |
//! | `sqlite:///relative/path.db` | a file relative to the working directory |
//! | `sqlite:////absolute/path.db` | an absolute path |
//!
//! The scheme may name a driver (`sqlite+aiosqlite://`, `sqlite+pysqlite://`, `sqlite+asqlite://`). Path
//! characters may be percent-encoded. Query options:
//!
//! | option | meaning |
//! |---|---|
//! | `mode=ro` / `mode=rw` / `mode=rwc` | read-only / read-write, the file must exist / read-write, created if missing (the default) |
//! | `mode=memory` | an in-memory database |
//! | `readers=N` | the pool's reader connections |
//! | `timeout=SECONDS` | the busy timeout, as pysqlite spells it |
//! | `busy_timeout=MILLISECONDS` | the busy timeout |
//! | `cache_size=N` | the compiled-statement cache (0 turns it off) |
//! | `foreign_keys=on\|off` | enforce foreign keys (default on); also `true`/`false`, `1`/`0`, `yes`/`no` |
//! | `journal_mode=wal\|delete\|truncate\|persist\|memory\|off` | the journal mode (default WAL; the others have no readers, see [`asqlite::PoolBuilder::journal_mode`]) |
//! | `process_exclusive=on\|off` | lock the file for this process alone (default off; Unix only): no other process can use it while the engine is open, and reads take no file locks, see [`asqlite::PoolBuilder::process_exclusive`] |
//! | `uri=true` | the path is a SQLite URI (below) |
//! | `check_same_thread=...` | accepted and ignored (pysqlite's; asqlite's connections are thread-safe) |
//!
//! Any other option is an error that lists these.
//!
//! With `uri=true`, as in SQLAlchemy, the path is a SQLite URI filename that starts with `file:`, and the options
//! that are SQLite's URI parameters (`mode`, `cache`, `vfs`, `immutable`, `nolock`, `psow`, `modeof`) stay in it
//! for SQLite to read: `sqlite:///file:app.db?mode=ro&uri=true` opens `file:app.db?mode=ro`, read-only (the pool
//! knows it from `mode` too). The URI is handed to SQLite as written, percent escapes included (SQLite decodes
//! them). `sqlite:///file::memory:?cache=shared&uri=true` is an in-memory database.

use std::path::PathBuf;
use std::time::Duration;

use asqlite::JournalMode;

use crate::error::{Error, Result};

/// The options this module knows, for the error about one it does not.
const KNOWN: &str = "mode, readers, timeout, busy_timeout, cache_size, foreign_keys, journal_mode, \
                     process_exclusive, uri, check_same_thread (and with uri=true SQLite's URI parameters: cache, vfs, immutable, nolock, \
                     psow, modeof)";

/// SQLite's own URI parameters, passed through in the URI when `uri=true`.
const SQLITE_URI_PARAMS: &[&str] = &["mode", "cache", "vfs", "immutable", "nolock", "psow", "modeof"];

/// A parsed engine URL.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EngineUrl {
    /// The database file; `None` for an in-memory database. With [`uri`](Self::uri), a SQLite URI filename
    /// (`file:app.db?mode=ro`).
    pub path: Option<PathBuf>,
    /// The path is a SQLite URI (`uri=true`).
    pub uri: bool,
    /// Open read-only.
    pub read_only: bool,
    /// Create the file if missing.
    pub create: bool,
    /// The number of reader connections.
    pub readers: Option<usize>,
    /// The busy timeout.
    pub busy_timeout: Option<Duration>,
    /// The compiled-statement cache's capacity.
    pub cache_size: Option<usize>,
    /// Enforce foreign keys (`foreign_keys=on|off`); unset, the pool's default (on).
    pub foreign_keys: Option<bool>,
    /// The journal mode (`journal_mode=...`); unset, the pool's default (WAL).
    pub journal_mode: Option<JournalMode>,
    /// Lock the file for this process alone (`process_exclusive=on`); see
    /// [`asqlite::PoolBuilder::process_exclusive`].
    pub process_exclusive: bool,
}

fn bad(url: &str, why: &str) -> Error {
    Error::Url(format!("{url:?}: {why}"))
}

fn percent_decode(url: &str, s: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                .ok_or_else(|| bad(url, "a `%` must be followed by two hex digits"))?;
            let v = u8::from_str_radix(hex, 16).map_err(|_| bad(url, "a `%` must be followed by two hex digits"))?;
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad(url, "the path is not UTF-8 once decoded"))
}

impl EngineUrl {
    /// Parse a URL.
    pub fn parse(url: &str) -> Result<EngineUrl> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad(url, "expected sqlite://..."))?;
        let (dialect, driver) = scheme.split_once('+').map_or((scheme, None), |(d, r)| (d, Some(r)));
        if !dialect.eq_ignore_ascii_case("sqlite") {
            return Err(bad(url, &format!("unsupported database {dialect:?}: only sqlite")));
        }
        if let Some(d) = driver {
            if !["aiosqlite", "pysqlite", "asqlite"].contains(&d.to_ascii_lowercase().as_str()) {
                return Err(bad(url, &format!("unknown driver {d:?} (aiosqlite, pysqlite or asqlite)")));
            }
        }
        let (location, query) = rest.split_once('?').map_or((rest, None), |(l, q)| (l, Some(q)));
        let mut pairs = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| bad(url, &format!("option {pair:?} has no value")))?;
            pairs.push((k, v));
        }
        let mut uri = false;
        for (k, v) in &pairs {
            if *k == "uri" {
                uri = flag(url, k, v)?;
            }
        }
        let location = match location {
            "" => None,
            l => match l.strip_prefix('/') {
                Some("" | ":memory:") => None,
                Some(p) => Some(p),
                None => {
                    return Err(bad(
                        url,
                        "a host is not allowed: write sqlite:///relative.db or sqlite:////absolute.db",
                    ))
                }
            },
        };
        let path = match location {
            None if uri => {
                return Err(bad(
                    url,
                    "uri=true needs a file: URI as the path, as in sqlite:///file:app.db?mode=ro&uri=true",
                ))
            }
            None => None,
            Some(p) if uri && !p.starts_with("file:") => {
                return Err(bad(
                    url,
                    &format!("with uri=true the path must be a SQLite URI starting with file:, not {p:?}"),
                ))
            }
            // SQLite decodes a URI's escapes itself.
            Some(p) if uri => Some(p.to_owned()),
            Some(p) => Some(percent_decode(url, p)?),
        };
        let mut out = EngineUrl {
            path: None,
            uri,
            read_only: false,
            create: true,
            readers: None,
            busy_timeout: None,
            cache_size: None,
            foreign_keys: None,
            journal_mode: None,
            process_exclusive: false,
        };
        let mut memory = false;
        let mut passed: Vec<String> = Vec::new();
        for (k, v) in pairs {
            let num = |what: &str| -> Result<u64> {
                v.parse::<u64>().map_err(|_| bad(url, &format!("{what} must be a whole number, not {v:?}")))
            };
            if uri && SQLITE_URI_PARAMS.contains(&k) {
                passed.push(format!("{k}={v}"));
            }
            match k {
                "mode" => match v {
                    "ro" => {
                        out.read_only = true;
                        out.create = false;
                    }
                    "rw" => out.create = false,
                    "rwc" => out.create = true,
                    // With a URI SQLite reads it there (and the pool sees a memory database in the URI).
                    "memory" => memory = !uri,
                    _ => return Err(bad(url, &format!("mode must be ro, rw, rwc or memory, not {v:?}"))),
                },
                "foreign_keys" => out.foreign_keys = Some(flag(url, k, v)?),
                "process_exclusive" => out.process_exclusive = flag(url, k, v)?,
                "journal_mode" => {
                    out.journal_mode = Some(v.parse().map_err(|_| {
                        bad(
                            url,
                            &format!("journal_mode must be wal, delete, truncate, persist, memory or off, not {v:?}"),
                        )
                    })?);
                }
                _ if uri && SQLITE_URI_PARAMS.contains(&k) => {}
                "readers" => {
                    out.readers = Some(usize::try_from(num("readers")?).map_err(|_| bad(url, "readers too large"))?);
                }
                "timeout" => {
                    let secs: f64 = v.parse().map_err(|_| bad(url, &format!("timeout must be seconds, not {v:?}")))?;
                    if !(0.0..=86_400.0).contains(&secs) {
                        return Err(bad(url, "timeout must be between 0 and 86400 seconds"));
                    }
                    out.busy_timeout = Some(Duration::from_secs_f64(secs));
                }
                "busy_timeout" => out.busy_timeout = Some(Duration::from_millis(num("busy_timeout")?)),
                "cache_size" => {
                    out.cache_size =
                        Some(usize::try_from(num("cache_size")?).map_err(|_| bad(url, "cache_size too large"))?);
                }
                "uri" | "check_same_thread" => {}
                _ if SQLITE_URI_PARAMS.contains(&k) => {
                    return Err(bad(
                        url,
                        &format!("{k} is a SQLite URI parameter: add uri=true and a file: path to use it"),
                    ))
                }
                _ => return Err(bad(url, &format!("unknown option {k:?}; the options are {KNOWN}"))),
            }
        }
        out.path = match path {
            _ if memory => None,
            Some(p) if !passed.is_empty() => Some(PathBuf::from(format!("{p}?{}", passed.join("&")))),
            p => p.map(PathBuf::from),
        };
        Ok(out)
    }
}

/// A boolean option, as SQLAlchemy and SQLite accept them.
fn flag(url: &str, key: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(bad(url, &format!("{key} must be on or off (true/false, 1/0, yes/no), not {v:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlalchemy_spellings() {
        let u = EngineUrl::parse("sqlite+aiosqlite:///async_local.db").unwrap();
        assert_eq!(u.path, Some(PathBuf::from("async_local.db")));
        let u = EngineUrl::parse("sqlite:////tmp/x%20y.db?mode=ro&timeout=1.5").unwrap();
        assert_eq!(u.path, Some(PathBuf::from("/tmp/x y.db")));
        assert!(u.read_only);
        assert_eq!(u.busy_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(EngineUrl::parse("sqlite://").unwrap().path, None);
        assert_eq!(EngineUrl::parse("sqlite:///:memory:").unwrap().path, None);
    }

    #[test]
    fn setup_options() {
        let u = EngineUrl::parse("sqlite:///app.db?foreign_keys=off&journal_mode=wal").unwrap();
        assert_eq!((u.foreign_keys, u.journal_mode), (Some(false), Some(JournalMode::Wal)));
        for (v, on) in [("on", true), ("OFF", false), ("true", true), ("False", false), ("1", true), ("0", false)] {
            let u = EngineUrl::parse(&format!("sqlite:///app.db?foreign_keys={v}")).unwrap();
            assert_eq!(u.foreign_keys, Some(on), "{v}");
        }
        for m in JournalMode::ALL {
            let u = EngineUrl::parse(&format!("sqlite:///a.db?journal_mode={}", m.as_str().to_lowercase())).unwrap();
            assert_eq!(u.journal_mode, Some(m));
        }
        let u = EngineUrl::parse("sqlite:///app.db").unwrap();
        assert_eq!((u.foreign_keys, u.journal_mode, u.uri, u.process_exclusive), (None, None, false, false));
        assert!(EngineUrl::parse("sqlite:///app.db?process_exclusive=on").unwrap().process_exclusive);
        assert!(!EngineUrl::parse("sqlite:///app.db?process_exclusive=false").unwrap().process_exclusive);
        assert!(EngineUrl::parse("sqlite:///app.db?process_exclusive=maybe").is_err());
    }

    #[test]
    fn uri_true_keeps_sqlite_parameters_in_the_uri() {
        let u = EngineUrl::parse("sqlite:///file:x.db?mode=ro&uri=true").unwrap();
        assert_eq!(u.path, Some(PathBuf::from("file:x.db?mode=ro")));
        assert!(u.uri && u.read_only && !u.create);
        let u = EngineUrl::parse("sqlite:///file:x%20y.db?uri=true&timeout=2&cache=shared&nolock=1").unwrap();
        assert_eq!(
            u.path,
            Some(PathBuf::from("file:x%20y.db?cache=shared&nolock=1")),
            "escapes are SQLite's to decode"
        );
        assert_eq!(u.busy_timeout, Some(Duration::from_secs(2)), "pysqlite's options are not passed");
        let u = EngineUrl::parse("sqlite:///file::memory:?mode=memory&cache=shared&uri=true").unwrap();
        assert_eq!(u.path, Some(PathBuf::from("file::memory:?mode=memory&cache=shared")));
        let u = EngineUrl::parse("sqlite:///file:x.db?uri=false").unwrap();
        assert_eq!(u.path, Some(PathBuf::from("file:x.db")));
        assert!(!u.uri);
    }

    #[test]
    fn unknown_options_list_the_known_ones() {
        let e = EngineUrl::parse("sqlite:///x.db?foreign_key=off").unwrap_err().to_string();
        for known in ["foreign_keys", "journal_mode", "uri", "mode", "readers", "busy_timeout"] {
            assert!(e.contains(known), "{e}");
        }
        let e = EngineUrl::parse("sqlite:///x.db?cache=shared").unwrap_err().to_string();
        assert!(e.contains("uri=true"), "{e}");
        for url in [
            "sqlite:///x.db?foreign_keys=maybe",
            "sqlite:///x.db?journal_mode=wall",
            "sqlite:///x.db?uri=true",
            "sqlite://?uri=true",
            "sqlite:///x.db?uri=perhaps",
            "sqlite:///file:x.db?uri=true&what=1",
        ] {
            let e = EngineUrl::parse(url).unwrap_err();
            assert!(matches!(e, Error::Url(_)), "{url}: {e}");
        }
    }

    #[test]
    fn malformed_urls_are_clear_errors() {
        for url in [
            "",
            "postgres://x",
            "sqlite:/x.db",
            "sqlite+foo:///x",
            "sqlite://host/x.db",
            "sqlite:///x?mode=zz",
            "sqlite:///x?what=1",
            "sqlite:///x?readers=-1",
            "sqlite:///%zz",
            "sqlite:///%+1x.db",
            "sqlite:///x?mode",
        ] {
            let e = EngineUrl::parse(url).unwrap_err();
            assert!(matches!(e, Error::Url(_)), "{url}: {e}");
        }
    }
}
