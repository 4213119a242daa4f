//! The configuration file's `[ingest]` section; the environment and command-line flags override it.
//!
//! ```toml
//! [ingest]
//! error_threshold = 0.05
//! source_crs = "GCJ-02"
//! id_hash_key_file = "/etc/unionstat/id-hash.key"
//!
//! [ingest.headers]            # header as a county writes it = column (see `unionstat schema`)
//! "会员总数" = "members"
//! ```

use std::collections::HashMap;
use std::path::PathBuf;

use unionstat_tables::CONTRACTS;

/// Settings of `unionstat ingest`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Extra headers: as a county writes it -> canonical column name.
    #[serde(default)]
    pub headers: HashMap<String, String>,
    /// Share of bad rows above which a return is rejected.
    pub error_threshold: Option<f64>,
    /// CRS of points in returns that do not say.
    pub source_crs: Option<String>,
    /// File holding the ID-hash key.
    pub id_hash_key_file: Option<PathBuf>,
}

impl IngestConfig {
    /// Checks what the types cannot: every mapped header must name a column some table has.
    pub fn check(&self) -> Result<(), String> {
        for (header, column) in &self.headers {
            if !CONTRACTS.iter().any(|c| c.spec.index(column).is_some()) {
                return Err(format!(
                    "[ingest.headers] maps 「{header}」 to `{column}`, which no table has; `unionstat schema` lists the columns"
                ));
            }
        }
        Ok(())
    }
}
