//! What can go wrong with a query, as the user who sent it should hear it: a stable code that
//! programs match on and a message that says what happened and what to do. Each code is mapped
//! once, here, to its HTTP status and its SQLSTATE.

use std::sync::Arc;

use datafusion::error::DataFusionError;

/// The stable, machine-readable kind of a refused or failed query, as `error` over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The statement does not parse or plan.
    InvalidSql,
    /// The statement would change something.
    ReadOnly,
    /// The statement reads server files or URLs.
    FileAccess,
    /// A table or view that does not exist.
    UnknownTable,
    /// The query needs more memory than it may have.
    MemoryLimit,
    /// The query ran past its time.
    Timeout,
    /// The answer has more rows than allowed.
    TooManyRows,
    /// Too many queries are running; none became free in time.
    Busy,
    /// The lake could not be read.
    Lake,
    /// A fault of the server.
    Internal,
    /// An HTTP request with a bad parameter.
    BadRequest,
    /// Nothing is served at the path.
    NotFound,
    /// No login, or a login that is not valid.
    Unauthorized,
    /// Logged in, but the account may not do this.
    Forbidden,
    /// Too many failed logins: wait before trying again.
    Throttled,
}

impl ErrorCode {
    /// The code as users and programs see it: `invalid_sql`, `timeout`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidSql => "invalid_sql",
            ErrorCode::ReadOnly => "read_only",
            ErrorCode::FileAccess => "file_access",
            ErrorCode::UnknownTable => "unknown_table",
            ErrorCode::MemoryLimit => "memory_limit",
            ErrorCode::Timeout => "timeout",
            ErrorCode::TooManyRows => "too_many_rows",
            ErrorCode::Busy => "busy",
            ErrorCode::Lake => "lake",
            ErrorCode::Internal => "internal",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Throttled => "throttled",
        }
    }

    /// The HTTP status that fits the code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidSql
            | ErrorCode::UnknownTable
            | ErrorCode::ReadOnly
            | ErrorCode::FileAccess
            | ErrorCode::BadRequest => 400,
            ErrorCode::TooManyRows | ErrorCode::MemoryLimit => 422,
            ErrorCode::NotFound => 404,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::Throttled => 429,
            ErrorCode::Timeout => 408,
            ErrorCode::Busy => 503,
            ErrorCode::Lake | ErrorCode::Internal => 500,
        }
    }

    /// The SQLSTATE a Postgres client expects for the code.
    pub fn sqlstate(self) -> &'static str {
        match self {
            ErrorCode::InvalidSql => "42601",
            ErrorCode::UnknownTable => "42P01",
            ErrorCode::ReadOnly => "25006",
            ErrorCode::FileAccess => "42501",
            ErrorCode::MemoryLimit => "53200",
            ErrorCode::Timeout => "57014",
            ErrorCode::TooManyRows => "54000",
            ErrorCode::Busy => "53300",
            ErrorCode::Unauthorized | ErrorCode::Throttled => "28000",
            ErrorCode::Forbidden => "42501",
            ErrorCode::Lake | ErrorCode::Internal | ErrorCode::BadRequest | ErrorCode::NotFound => {
                "XX000"
            }
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A refused or failed query.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct QueryError {
    /// What kind of failure, for programs.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// The error this one reports, kept for logs.
    #[source]
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The crate's result type.
pub type Result<T, E = QueryError> = std::result::Result<T, E>;

impl QueryError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        QueryError {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// The same error, reporting `source`.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The HTTP status that fits the code.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// The SQLSTATE a Postgres client expects for the code.
    pub fn sqlstate(&self) -> &'static str {
        self.code.sqlstate()
    }
}

impl From<DataFusionError> for QueryError {
    fn from(e: DataFusionError) -> Self {
        let root = e.find_root();
        // A refusal of ours raised inside DataFusion (a policy, a bounded function) keeps its code.
        if let DataFusionError::External(inner) = root
            && let Some(ours) = inner.downcast_ref::<QueryError>()
        {
            return ours.clone();
        }
        let error = match root {
            DataFusionError::ResourcesExhausted(m) => QueryError::new(
                ErrorCode::MemoryLimit,
                format!(
                    "the query needs more memory than the server allows ({m}); filter or aggregate \
                     earlier, or ask for fewer columns"
                ),
            ),
            DataFusionError::SQL(..) | DataFusionError::NotImplemented(_) => {
                QueryError::new(ErrorCode::InvalidSql, root.to_string())
            }
            DataFusionError::Plan(m) if m.contains("not found") => QueryError::new(
                ErrorCode::UnknownTable,
                format!("{m}; `GET /api/tables` lists what exists"),
            ),
            DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => {
                QueryError::new(ErrorCode::InvalidSql, root.to_string())
            }
            _ => QueryError::new(ErrorCode::Internal, root.to_string()),
        };
        error.with_source(e)
    }
}

impl From<deltalake::DeltaTableError> for QueryError {
    fn from(e: deltalake::DeltaTableError) -> Self {
        QueryError::new(ErrorCode::Lake, format!("reading the lake failed: {e}")).with_source(e)
    }
}
