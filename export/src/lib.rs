//! Parquet snapshots of the lake for other systems: every chosen table and view at one Delta
//! version per table, with a manifest, published as a whole to a folder or an object store
//! ([`snapshot`], [`publish`]), once or on the cron schedule of the config file's `[export]`
//! section ([`schedule`]). Exports read the lake through [`unionstat_query::Engine`], like every
//! other reader.
//!
//! ```no_run
//! # async fn run() -> Result<(), unionstat_export::ExportError> {
//! use unionstat_export::{Options, Outcome, run};
//!
//! let options = Options { to: "exports".into(), tables: None, views: None, keep: 7, force: false };
//! if let Outcome::Published(report) = run("data/lake", &options).await? {
//!     assert!(report.files > 0);
//! }
//! # Ok(())
//! # }
//! ```

pub mod publish;
pub mod schedule;
pub mod snapshot;

pub use schedule::{ExportConfig, ExportJobs};
pub use snapshot::{ExportError, Options, Outcome, run};
