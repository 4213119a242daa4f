//! `unionstat ingest`: returns into the lake, with a progress bar and a report.

use std::path::PathBuf;

use clap::Args;
use unionstat_datasets::crs::Crs;
use unionstat_ingest::config::IngestConfig;
use unionstat_ingest::identify::Overrides;

use crate::config::Config;
use crate::error::{CliError, Result};
use crate::progress;
use crate::sql::runtime;

/// `unionstat ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or folders of returns (.xlsx, .xls, .csv); folders are walked in name order.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The lake: a folder (created if missing) or an object-store URL.
    #[arg(long)]
    pub lake: String,
    /// The table the returns are for, when file names do not say (see `unionstat schema`).
    #[arg(long)]
    pub table: Option<String>,
    /// The reporting county (code or name), when file and folder names do not say.
    #[arg(long)]
    pub county: Option<String>,
    /// The reporting year, when file names do not say.
    #[arg(long)]
    pub period: Option<i32>,
    /// Validate and report only; write nothing to the lake.
    #[arg(long)]
    pub dry_run: bool,
    /// Coordinate system of points in returns that do not say (WGS-84, CGCS2000, GCJ-02, BD-09);
    /// default WGS-84.
    #[arg(long, value_parser = parse_crs)]
    pub source_crs: Option<Crs>,
    /// Share of bad rows above which a whole return is rejected, 0 to 1; default 0.1.
    #[arg(long, value_parser = parse_rate)]
    pub error_threshold: Option<f64>,
    /// Write the report here: a CSV of every error if the name ends in .csv, JSON otherwise.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// File holding the key that hashes ID numbers (created on first use); the environment
    /// variable UNIONSTAT_ID_HASH_KEY takes precedence.
    #[arg(long)]
    pub id_hash_key_file: Option<PathBuf>,
    /// TOML configuration file ([ingest] error_threshold, source_crs, id_hash_key_file, and
    /// [ingest.headers] mapping a county's header to a column); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

fn parse_crs(s: &str) -> Result<Crs, String> {
    Crs::parse(s).ok_or_else(|| format!("`{s}` is not a coordinate system unionstat knows: use WGS-84, CGCS2000, GCJ-02 or BD-09"))
}

pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a rate: give a share between 0 and 1, e.g. 0.01"
        )),
    }
}

fn default_key_file() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("unionstat").join("id-hash.key")
}

/// How returns are validated for `lake`: the config file's `[ingest]` section, with the ID-hash
/// key from `key_file` (else the section's, else the default file), created on first use.
pub fn options(
    lake: &str,
    config: IngestConfig,
    key_file: Option<PathBuf>,
) -> Result<unionstat_ingest::Options> {
    let key_file = key_file
        .or(config.id_hash_key_file)
        .unwrap_or_else(default_key_file);
    let key =
        unionstat_ingest::pii::load_or_create_key(&key_file).map_err(CliError::io(format!(
            "cannot read or create the ID-hash key {}",
            key_file.display()
        )))?;
    let config_crs = match config.source_crs.as_deref() {
        Some(name) => Some(parse_crs(name).map_err(CliError::Usage)?),
        None => None,
    };
    let mut options = unionstat_ingest::Options::new(lake);
    options.error_threshold = config.error_threshold.unwrap_or(options.error_threshold);
    options.source_crs = config_crs.unwrap_or(options.source_crs);
    options.hash_key = Some(key);
    options.header_mapping = config.headers;
    Ok(options)
}

/// Runs `unionstat ingest`.
pub fn run_ingest(args: &IngestArgs) -> Result<u8> {
    let config = Config::load(args.config.as_deref())?.ingest;
    let mut options = options(&args.lake, config, args.id_hash_key_file.clone())?;
    options.dry_run = args.dry_run;
    if let Some(threshold) = args.error_threshold {
        options.error_threshold = threshold;
    }
    if let Some(crs) = args.source_crs {
        options.source_crs = crs;
    }
    options.progress = Some(std::sync::Arc::new(progress::IngestProgress::new()));
    options.overrides = Overrides {
        table: args.table.clone(),
        county: args.county.clone(),
        period: args.period,
    };
    let report = runtime()?.block_on(unionstat_ingest::ingest(&args.paths, &options))?;
    print!("{}", report.summary());
    if let Some(path) = &args.report {
        report.write(path)?;
        println!("report written to {}", path.display());
    }
    Ok(report.exit_code())
}
