//! Engine URLs, in SQLAlchemy's spelling.
//!
//! | URL | database |
//! |---|---|
//! | `sqlite://` or `sqlite:///:memory:` | in memory |
//! | `sqlite:///relative/path.db` | a file relative to the working directory |
//! | `sqlite:////absolute/path.db` | an absolute path |
//!
//! The scheme may name a driver (`sqlite+aiosqlite://`, `sqlite+pysqlite://`, `sqlite+asqlite://`). Query options:
//! `mode=ro` (read-only) / `mode=rw` (do not create) / `mode=rwc` (the default), `readers=N`,
//! `timeout=SECONDS` (busy timeout, as pysqlite spells it) or `busy_timeout=MILLISECONDS`, and `cache_size=N`
//! (the compiled-statement cache, 0 to turn it off). Path characters may be percent-encoded.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// A parsed engine URL.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EngineUrl {
    /// The database file; `None` for an in-memory database.
    pub path: Option<PathBuf>,
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
        let path = if location.is_empty() {
            None
        } else {
            let Some(p) = location.strip_prefix('/') else {
                return Err(bad(url, "a host is not allowed: write sqlite:///relative.db or sqlite:////absolute.db"));
            };
            match p {
                "" | ":memory:" => None,
                p => Some(PathBuf::from(percent_decode(url, p)?)),
            }
        };
        let mut out =
            EngineUrl { path, read_only: false, create: true, readers: None, busy_timeout: None, cache_size: None };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| bad(url, &format!("option {pair:?} has no value")))?;
            let num = |what: &str| -> Result<u64> {
                v.parse::<u64>().map_err(|_| bad(url, &format!("{what} must be a whole number, not {v:?}")))
            };
            match k {
                "mode" => match v {
                    "ro" => {
                        out.read_only = true;
                        out.create = false;
                    }
                    "rw" => out.create = false,
                    "rwc" => out.create = true,
                    "memory" => out.path = None,
                    _ => return Err(bad(url, &format!("mode must be ro, rw, rwc or memory, not {v:?}"))),
                },
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
                _ => return Err(bad(url, &format!("unknown option {k:?}"))),
            }
        }
        Ok(out)
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
