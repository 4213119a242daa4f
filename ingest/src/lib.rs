//! Ingest: county returns (Excel workbooks, CSV in UTF-8 or GBK with Chinese headers, JSON,
//! Parquet, points as GeoJSON or Shapefile), boundaries and reference tables into a Delta Lake,
//! every row validated against its table's contract. Good rows load; bad rows go to the
//! `quarantine` table with the rule they broke; nothing is lost.
//!
//! ```no_run
//! use unionstat_ingest::{Options, ingest};
//!
//! # async fn run() -> Result<(), unionstat_ingest::Error> {
//! let options = Options::new("lake");
//! let report = ingest(&["data/longyan/returns".into()], &options).await?;
//! println!("{}", report.summary());
//! # Ok(()) }
//! ```

pub mod annotate;
pub mod config;
pub mod dictionary;
pub mod facts;
pub mod headers;
pub mod identify;
pub mod keys;
pub mod lake;
pub mod normalise;
pub mod pii;
pub mod places;
pub mod publish;
pub mod read;
pub mod records;
pub mod reference;
pub mod regions;
pub mod report;
pub mod rules;
pub mod run;
pub mod template;
pub mod validate;
pub mod workflow;

use std::path::{Path, PathBuf};

pub use report::Report;
pub use run::{Options, Progress, ingest};

/// What can stop an ingest as a whole (row problems are findings, not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Neither UTF-8 nor GBK.
    #[error(
        "{path}: the file is neither UTF-8 nor GBK text; save it as CSV (UTF-8) or as a workbook and send it again"
    )]
    Encoding {
        /// The file.
        path: PathBuf,
    },
    /// A file type ingest does not read.
    #[error("{path}: not a file type unionstat reads ({exts})", exts = read::RETURN_EXTENSIONS)]
    UnsupportedFile {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be parsed.
    #[error("{path}: cannot be read: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The lake could not be read or written.
    #[error("lake table {table}: {message}")]
    Lake {
        /// The table.
        table: String,
        /// What went wrong.
        message: String,
        /// The error behind it, when deltalake or DataFusion gave one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Another writer committed to the table first; the write may be tried again on the new
    /// version.
    #[error("lake table {table}: another writer committed first ({source})")]
    Conflict {
        /// The table.
        table: String,
        /// What deltalake said.
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    /// Arrow could not assemble a batch (a bug).
    #[error("internal error assembling rows: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Bad command-line use or configuration.
    #[error("{0}")]
    Usage(String),
    /// A step of a return's review that cannot be taken.
    #[error("{message}")]
    Workflow {
        /// Why, for the status a server answers.
        kind: workflow::Refusal,
        /// What to tell the person.
        message: String,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The result of ingest operations.
pub type Result<T> = std::result::Result<T, Error>;
