//! The one error type of the command line: whatever stopped a subcommand, with the error behind
//! it kept as its source. `main` prints it and exits with code 3.

use unionstat_dashboard::app::AppError;
use unionstat_export::ExportError;
use unionstat_query::QueryError;

/// What stopped a subcommand.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Writing the generated returns failed.
    #[error(transparent)]
    Generate(#[from] unionstat_generator::returns::Error),
    /// Ingest could not run (a rejected return is a report, not this error).
    #[error(transparent)]
    Ingest(#[from] unionstat_ingest::Error),
    /// A statement failed or was refused: its code and message.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The lake or the config file could not be opened: the message says which and why.
    #[error("{}", .0.message)]
    Open(#[source] QueryError),
    /// The server could not start or stopped with an error.
    #[error(transparent)]
    Serve(#[from] AppError),
    /// An export failed.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// A bad argument or configuration.
    #[error("{0}")]
    Usage(String),
    /// Reading, writing or starting something failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    /// An I/O failure while doing `what`.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
        let what = what.into();
        move |source| CliError::Io { what, source }
    }
}

/// What subcommands return: an exit code, or what stopped them.
pub type Result<T, E = CliError> = std::result::Result<T, E>;
