//! The configuration file's `[query]` section: the guards' limits and the Postgres login.
//! The environment, command-line flags and `UNIONSTAT_PG_USER` / `UNIONSTAT_PG_PASSWORD` override it.
//!
//! ```toml
//! [query]
//! memory_limit_mb = 2048      # all running queries together
//! timeout_seconds = 30
//! max_rows = 100000
//! max_concurrent = 8
//! result_cache = true         # keep answers until the lake changes
//! result_cache_mb = 256       # ... within this much memory
//! pg_user = "analyst"
//! pg_password = "change me"
//! ```

use std::time::Duration;

use crate::EngineOptions;
use crate::guard::Limits;
use crate::pg::Credentials;

/// Settings of the SQL engine and its endpoints.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryConfig {
    /// Memory all running queries may hold together, in MiB.
    pub memory_limit_mb: Option<usize>,
    /// Seconds a query may run.
    pub timeout_seconds: Option<f64>,
    /// Rows a result may have.
    pub max_rows: Option<usize>,
    /// Queries that may run at once.
    pub max_concurrent: Option<usize>,
    /// Keep answers until a table they read changes (default on).
    pub result_cache: Option<bool>,
    /// MiB the kept answers may take together (default 256; least recently used leave first).
    pub result_cache_mb: Option<usize>,
    /// Postgres login user.
    pub pg_user: Option<String>,
    /// Postgres login password.
    pub pg_password: Option<String>,
}

impl QueryConfig {
    /// The limits, defaults where the file is silent.
    pub fn limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            memory_bytes: self.memory_limit_mb.map_or(d.memory_bytes, |m| m << 20),
            timeout: self
                .timeout_seconds
                .map_or(d.timeout, Duration::from_secs_f64),
            max_rows: self.max_rows.unwrap_or(d.max_rows),
            max_concurrent: self.max_concurrent.unwrap_or(d.max_concurrent).max(1),
            queue_wait: d.queue_wait,
        }
    }

    /// The engine's options: these limits and the result cache, defaults elsewhere.
    pub fn engine_options(&self) -> EngineOptions {
        let defaults = EngineOptions::default();
        EngineOptions {
            limits: self.limits(),
            result_cache: self.result_cache.unwrap_or(defaults.result_cache),
            result_cache_bytes: self
                .result_cache_mb
                .map_or(defaults.result_cache_bytes, |m| m << 20),
            ..defaults
        }
    }

    /// The Postgres login: the environment first, then the file.
    pub fn credentials(&self) -> Option<Credentials> {
        crate::pg::credentials_from_env().or_else(|| {
            Some(Credentials {
                user: self.pg_user.clone()?,
                password: self.pg_password.clone()?,
            })
        })
    }
}
