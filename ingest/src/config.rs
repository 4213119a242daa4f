//! The TOML configuration file's `[ingest]` section; command-line flags override it.
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
use std::path::{Path, PathBuf};

use crate::contract::CONTRACTS;
use crate::{Error, Result};

/// The whole configuration file (other sections belong to other commands).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Config {
    /// The `[ingest]` section.
    #[serde(default)]
    pub ingest: IngestConfig,
}

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

impl Config {
    /// Reads and checks the file: every mapped header must name a column some table has.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config: Config =
            toml::from_str(&text).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
        for (header, column) in &config.ingest.headers {
            if !CONTRACTS.iter().any(|c| c.spec.index(column).is_some()) {
                return Err(Error::Usage(format!(
                    "{}: [ingest.headers] maps 「{header}」 to `{column}`, which no table has; `unionstat schema` lists the columns",
                    path.display()
                )));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_maps_headers_and_catches_typos() {
        let dir = tempfile::tempdir().expect("tmp");
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "[ingest]\nerror_threshold = 0.05\n[ingest.headers]\n\"会员总数\" = \"members\"\n",
        )
        .expect("write");
        let config = Config::load(&good).expect("loads");
        assert_eq!(
            config.ingest.headers.get("会员总数").map(String::as_str),
            Some("members")
        );
        assert_eq!(config.ingest.error_threshold, Some(0.05));
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[ingest.headers]\n\"会员总数\" = \"member\"\n").expect("write");
        assert!(Config::load(&bad).is_err_and(|e| e.to_string().contains("no table has")));
        std::fs::write(&bad, "[ingest]\nerror_treshold = 0.05\n").expect("write");
        assert!(Config::load(&bad).is_err_and(|e| e.to_string().contains("error_treshold")));
    }
}
