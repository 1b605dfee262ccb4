//! PostgreSQL engine URLs, in SQLAlchemy's spelling: `postgresql://user:pass@host:port/dbname?options`, also
//! `postgres://` and `postgresql+asyncpg://` (or any `+driver`: the driver here is always tokio-postgres).
//!
//! The URL is libpq's (`host`, `port`, `user`, `password`, `dbname`, `application_name`, `connect_timeout`,
//! `options`, `sslmode`, `target_session_attrs`, ... as query options; a Unix socket directory as
//! `host=/var/run/postgresql`), plus this crate's own options:
//!
//! | option | meaning |
//! |---|---|
//! | `pool_size=N` | at most N connections (deadpool's default: 4 per CPU) |
//! | `cache_size=N` | the compiled-statement cache's capacity (0 turns it off) |
//! | `pool_timeout=SECONDS` | how long to wait for a free connection (no limit by default) |
//!
//! Connections are made without TLS: `sslmode=require` (and stricter) is an error, `prefer` connects in clear.

use std::str::FromStr;
use std::time::Duration;

use crate::engine::redact_url;
use crate::error::{Error, Result};

/// A parsed PostgreSQL URL.
#[derive(Debug, Clone)]
pub(crate) struct PgUrl {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) pool_size: Option<usize>,
    pub(crate) cache_size: Option<usize>,
    pub(crate) pool_timeout: Option<Duration>,
    /// The URL without its password, for `Debug` and errors.
    pub(crate) redacted: String,
}

fn bad(url: &str, why: &str) -> Error {
    Error::Url(format!("{:?}: {why}", redact_url(url)))
}

impl PgUrl {
    pub(crate) fn parse(url: &str) -> Result<PgUrl> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad(url, "expected postgresql://..."))?;
        let (dialect, _driver) = scheme.split_once('+').map_or((scheme, None), |(d, r)| (d, Some(r)));
        if !(dialect.eq_ignore_ascii_case("postgresql") || dialect.eq_ignore_ascii_case("postgres")) {
            return Err(bad(url, "expected postgresql://..."));
        }
        let (location, query) = rest.split_once('?').map_or((rest, None), |(l, q)| (l, Some(q)));
        let mut out = PgUrl {
            config: tokio_postgres::Config::new(),
            pool_size: None,
            cache_size: None,
            pool_timeout: None,
            redacted: redact_url(url),
        };
        let mut passed = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| bad(url, &format!("option {pair:?} has no value")))?;
            let num = |what: &str| -> Result<usize> {
                v.parse::<usize>().map_err(|_| bad(url, &format!("{what} must be a whole number, not {v:?}")))
            };
            match k {
                "pool_size" | "max_size" => out.pool_size = Some(num("pool_size")?.max(1)),
                "cache_size" => out.cache_size = Some(num("cache_size")?),
                "pool_timeout" => {
                    let secs: f64 =
                        v.parse().map_err(|_| bad(url, &format!("pool_timeout must be seconds, not {v:?}")))?;
                    if !(0.0..=86_400.0).contains(&secs) {
                        return Err(bad(url, "pool_timeout must be between 0 and 86400 seconds"));
                    }
                    out.pool_timeout = Some(Duration::from_secs_f64(secs));
                }
                "sslmode" if !matches!(v, "disable" | "prefer" | "allow") => {
                    return Err(bad(url, &format!("sslmode={v}: this build connects without TLS")));
                }
                _ => passed.push(pair),
            }
        }
        let mut libpq = format!("postgresql://{location}");
        if !passed.is_empty() {
            libpq.push('?');
            libpq.push_str(&passed.join("&"));
        }
        out.config = tokio_postgres::Config::from_str(&libpq).map_err(|e| bad(url, &e.to_string()))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlalchemy_spellings_and_options() {
        for url in [
            "postgresql://u:secret@127.0.0.1:5432/app",
            "postgres://u:secret@127.0.0.1:5432/app",
            "postgresql+asyncpg://u:secret@127.0.0.1:5432/app",
        ] {
            let u = PgUrl::parse(url).unwrap();
            assert_eq!(u.config.get_user(), Some("u"));
            assert_eq!(u.config.get_dbname(), Some("app"));
            assert_eq!(u.config.get_ports(), [5432]);
            assert!(!u.redacted.contains("secret"), "{}", u.redacted);
        }
        let u = PgUrl::parse("postgresql://u@localhost/app?pool_size=3&cache_size=0&application_name=x").unwrap();
        assert_eq!((u.pool_size, u.cache_size), (Some(3), Some(0)));
        assert_eq!(u.config.get_application_name(), Some("x"));
    }

    #[test]
    fn bad_urls_are_clear_errors_without_the_password() {
        for url in [
            "postgresql://u:secret@h/app?pool_size=x",
            "postgresql://u:secret@h/app?sslmode=require",
            "postgresql://u:secret@h/app?nonsense=1",
            "postgresql://u:secret@h:notaport/app",
            "mysql://u:secret@h/app",
        ] {
            let e = PgUrl::parse(url).unwrap_err();
            assert!(matches!(e, Error::Url(_)), "{url}: {e}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }
}
