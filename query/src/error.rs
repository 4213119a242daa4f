//! What can go wrong with a query, as the user who sent it should hear it: a stable code that
//! programs match on and a message that says what happened and what to do.

use datafusion::error::DataFusionError;

/// A refused or failed query.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct QueryError {
    /// Stable, machine-readable: `invalid_sql`, `read_only`, `file_access`, `unknown_table`,
    /// `memory_limit`, `timeout`, `too_many_rows`, `busy`, `lake`, `internal`, and for HTTP,
    /// `bad_request` and `not_found`.
    pub code: &'static str,
    /// For people.
    pub message: String,
}

/// The crate's result type.
pub type Result<T, E = QueryError> = std::result::Result<T, E>;

impl QueryError {
    /// An error with this code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        QueryError {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status that fits the code.
    pub fn http_status(&self) -> u16 {
        match self.code {
            "invalid_sql" | "unknown_table" | "read_only" | "file_access" | "bad_request" => 400,
            "too_many_rows" | "memory_limit" => 422,
            "not_found" => 404,
            "timeout" => 408,
            "busy" => 503,
            _ => 500,
        }
    }

    /// The SQLSTATE a Postgres client expects for the code.
    pub fn sqlstate(&self) -> &'static str {
        match self.code {
            "invalid_sql" => "42601",
            "unknown_table" => "42P01",
            "read_only" => "25006",
            "file_access" => "42501",
            "memory_limit" => "53200",
            "timeout" => "57014",
            "too_many_rows" => "54000",
            "busy" => "53300",
            _ => "XX000",
        }
    }
}

impl From<DataFusionError> for QueryError {
    fn from(e: DataFusionError) -> Self {
        let root = e.find_root();
        match root {
            DataFusionError::ResourcesExhausted(m) => QueryError::new(
                "memory_limit",
                format!(
                    "the query needs more memory than the server allows ({m}); filter or aggregate \
                     earlier, or ask for fewer columns"
                ),
            ),
            DataFusionError::SQL(..) | DataFusionError::NotImplemented(_) => {
                QueryError::new("invalid_sql", root.to_string())
            }
            DataFusionError::Plan(m) if m.contains("not found") => QueryError::new(
                "unknown_table",
                format!("{m}; `GET /api/tables` lists what exists"),
            ),
            DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => {
                QueryError::new("invalid_sql", root.to_string())
            }
            _ => QueryError::new("internal", root.to_string()),
        }
    }
}

impl From<deltalake::DeltaTableError> for QueryError {
    fn from(e: deltalake::DeltaTableError) -> Self {
        QueryError::new("lake", format!("reading the lake failed: {e}"))
    }
}
