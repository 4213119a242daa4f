//! The one configuration file, `--config unionstat.toml`: a section per part, each typed by the
//! crate it configures. A key no section knows is refused with its name. Every key can be set in
//! the environment as `UNIONSTAT_<SECTION>_<KEY>` (`UNIONSTAT_QUERY_TIMEOUT_SECONDS=10`), which
//! overrides the file; command-line flags override both.
//!
//! ```toml
//! [ingest]
//! error_threshold = 0.05
//! [query]
//! timeout_seconds = 30
//! [serve]
//! http = "0.0.0.0:8080"
//! [export]
//! to = "exports"
//! schedule = "0 2 * * *"
//! ```

use std::path::Path;

use unionstat_export::ExportConfig;
use unionstat_ingest::config::IngestConfig;
use unionstat_query::config::QueryConfig;

use crate::error::{CliError, Result};

/// Where `serve` and `demo` listen.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Address of the dashboard, the API and SQL over HTTP (default 127.0.0.1:8080).
    pub http: Option<String>,
    /// Address of the Postgres endpoint (default 127.0.0.1:5433).
    pub pg: Option<String>,
    /// The accounts file (default `<lake>/_system/accounts.json`).
    pub accounts: Option<std::path::PathBuf>,
    /// MiB of answered bodies the dashboard keeps until the lake changes (default 128).
    pub response_cache_mb: Option<usize>,
    /// PEM certificate chain: with `tls_key`, HTTP is HTTPS and Postgres accepts TLS.
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// MiB a return uploaded through the dashboard may have (default 200).
    pub max_upload_mb: Option<usize>,
    /// When returns for year Y are due, as `MM-DD` of year Y+1 (default `03-31`); returns
    /// not approved by then show as overdue in the review matrix.
    pub return_deadline: Option<String>,
}

/// The whole file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `unionstat ingest`.
    #[serde(default)]
    pub ingest: IngestConfig,
    /// The SQL engine, its limits and the Postgres login.
    #[serde(default)]
    pub query: QueryConfig,
    /// Addresses of `serve`.
    #[serde(default)]
    pub serve: ServeConfig,
    /// The scheduled export of `serve`.
    pub export: Option<ExportConfig>,
}

/// The sections the environment can set keys of.
const SECTIONS: [&str; 4] = ["ingest", "query", "serve", "export"];

impl Config {
    /// The file at `path` (none: every default) with the environment's overrides, checked.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let mut table = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(CliError::io(format!(
                    "cannot read the config file {}",
                    path.display()
                )))?;
                text.parse::<toml::Table>()
                    .map_err(|e| invalid(path, e.to_string()))?
            }
            None => toml::Table::new(),
        };
        overlay(&mut table, std::env::vars());
        let where_ = path.unwrap_or(Path::new("the environment"));
        let config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| invalid(where_, e.to_string()))?;
        config.ingest.check().map_err(|e| invalid(where_, e))?;
        if let Some(export) = &config.export {
            export.check().map_err(|e| invalid(where_, e))?;
        }
        Ok(config)
    }
}

fn invalid(path: &Path, message: String) -> CliError {
    CliError::Usage(format!(
        "the configuration in {} is not valid: {}",
        path.display(),
        message.trim()
    ))
}

/// Sets `UNIONSTAT_<SECTION>_<KEY>=value` as `key = value` in `[section]`. A value that reads as
/// TOML (a number, `true`, a list) is taken as such where the key takes that type, and as text
/// otherwise, so that `UNIONSTAT_QUERY_PG_PASSWORD=123456` stays a password.
fn overlay(table: &mut toml::Table, vars: impl Iterator<Item = (String, String)>) {
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("UNIONSTAT_") else {
            continue;
        };
        let rest = rest.to_ascii_lowercase();
        let Some((section, key)) = SECTIONS.iter().find_map(|s| {
            let key = rest.strip_prefix(s)?.strip_prefix('_')?;
            (!key.is_empty()).then_some((*s, key.to_string()))
        }) else {
            continue;
        };
        let typed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"));
        let set = |table: &mut toml::Table, value: toml::Value| {
            if let toml::Value::Table(section) = table
                .entry(section)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            {
                section.insert(key.clone(), value);
            }
        };
        if let Some(typed) = typed {
            let mut trial = table.clone();
            set(&mut trial, typed);
            if trial.clone().try_into::<Config>().is_ok() {
                *table = trial;
                continue;
            }
        }
        set(table, toml::Value::String(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Config> {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("unionstat.toml");
        std::fs::write(&path, text).expect("write");
        Config::load(Some(&path))
    }

    #[test]
    fn a_config_file_maps_headers_and_catches_typos() {
        let config = load_text(
            "[ingest]\nerror_threshold = 0.05\n[ingest.headers]\n\"会员总数\" = \"members\"\n",
        )
        .expect("loads");
        assert_eq!(
            config.ingest.headers.get("会员总数").map(String::as_str),
            Some("members")
        );
        assert_eq!(config.ingest.error_threshold, Some(0.05));
        let e =
            load_text("[ingest.headers]\n\"会员总数\" = \"member\"\n").expect_err("no such column");
        assert!(e.to_string().contains("no table has"), "{e}");
        let e = load_text("[ingest]\nerror_treshold = 0.05\n").expect_err("a typo");
        assert!(e.to_string().contains("error_treshold"), "{e}");
    }

    #[test]
    fn an_unknown_section_or_key_is_refused_by_name() {
        let e = load_text("[qeury]\ntimeout_seconds = 5\n").expect_err("a typo");
        assert!(e.to_string().contains("qeury"), "{e}");
        let e = load_text("[query]\ntimeout = 5\n").expect_err("a typo");
        assert!(e.to_string().contains("timeout"), "{e}");
        let e =
            load_text("[export]\nto = \"x\"\nschedule = \"0 25 * * *\"\n").expect_err("hour 25");
        assert!(e.to_string().contains("hour field"), "{e}");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let mut table: toml::Table = "[query]\ntimeout_seconds = 30\nmax_rows = 5\n"
            .parse()
            .expect("TOML");
        let vars = [
            ("UNIONSTAT_QUERY_TIMEOUT_SECONDS", "10"),
            ("UNIONSTAT_SERVE_HTTP", "0.0.0.0:80"),
            ("UNIONSTAT_QUERY_PG_PASSWORD", "123456"),
            ("UNIONSTAT_LOG", "debug"),
            ("UNIONSTAT_EXPORT", "/some/folder"),
        ];
        overlay(
            &mut table,
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let config: Config = table.try_into().expect("a config");
        assert_eq!(config.query.timeout_seconds, Some(10.0));
        assert_eq!(config.query.max_rows, Some(5));
        assert_eq!(config.query.pg_password.as_deref(), Some("123456"));
        assert_eq!(config.serve.http.as_deref(), Some("0.0.0.0:80"));
        assert!(config.export.is_none());
    }

    #[test]
    fn the_documented_example_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/unionstat.toml");
        let config = Config::load(Some(&path)).expect("docs/unionstat.toml loads");
        assert_eq!(config.query.max_rows, Some(100_000));
        assert_eq!(config.serve.pg.as_deref(), Some("127.0.0.1:5433"));
        assert_eq!(config.export.map(|e| e.keep), Some(Some(7)));
    }
}
