//! `unionstat export`: one Parquet snapshot of the lake's tables and views, published at once.

use clap::Args;
use unionstat_export::{self as export, Options, Outcome};

use crate::error::Result;
use crate::sql::runtime;

/// `unionstat export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The lake `unionstat ingest` wrote.
    #[arg(long)]
    pub lake: String,
    /// Where snapshots go: a folder, or an object-store URL (s3://bucket/prefix, file:///path).
    #[arg(long)]
    pub to: String,
    /// Tables to export, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub tables: Option<Vec<String>>,
    /// Views to export, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub views: Option<Vec<String>>,
    /// Tables only, no views.
    #[arg(long, conflicts_with = "views")]
    pub no_views: bool,
    /// Snapshots to keep at the destination.
    #[arg(long, default_value_t = 7)]
    pub keep: usize,
    /// Export even when nothing changed since the last snapshot.
    #[arg(long)]
    pub force: bool,
}

/// Runs `unionstat export`; exit code 0 whether a snapshot was written or none was needed.
pub fn run_export(args: &ExportArgs) -> Result<u8> {
    let options = Options {
        to: args.to.clone(),
        tables: args.tables.clone(),
        views: if args.no_views {
            Some(Vec::new())
        } else {
            args.views.clone()
        },
        keep: args.keep,
        force: args.force,
    };
    let started = std::time::Instant::now();
    let outcome = runtime()?.block_on(export::run(&args.lake, &options))?;
    match outcome {
        Outcome::Published(r) => println!(
            "exported {} tables and views, {} rows in {} Parquet files ({:.1} MiB) to {} in {:.1} s",
            r.datasets,
            r.rows,
            r.files,
            r.bytes as f64 / 1048576.0,
            r.location,
            started.elapsed().as_secs_f64()
        ),
        Outcome::Skipped(snapshot) => {
            println!(
                "nothing changed since snapshot {snapshot}; no new snapshot written (--force writes one)"
            )
        }
    }
    Ok(0)
}
