//! What users may run: one read-only statement (a query, `EXPLAIN` of one, `SHOW TABLES`,
//! `SHOW COLUMNS`) naming tables of the lake, never files or URLs on the server. The limits on
//! memory, time, rows and concurrency that apply while it runs are in [`Limits`].

use std::ops::ControlFlow;
use std::time::Duration;

use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{Statement, visit_relations};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;

use crate::error::{ErrorCode, QueryError, Result};

/// Bounds on every user query.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Memory all running queries may hold together, in bytes.
    pub memory_bytes: usize,
    /// Time a query may run before it is cancelled.
    pub timeout: Duration,
    /// Rows a result may have.
    pub max_rows: usize,
    /// Queries that may run at once.
    pub max_concurrent: usize,
    /// How long a query waits for a free slot before it is refused.
    pub queue_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 2 << 30,
            timeout: Duration::from_secs(30),
            max_rows: 100_000,
            max_concurrent: 8,
            queue_wait: Duration::from_secs(5),
        }
    }
}

/// The checks DataFusion applies to the plan, as a second line behind [`check`].
pub fn sql_options() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Parses `sql` into the one statement a user may run.
pub fn parse(sql: &str) -> Result<DfStatement> {
    let mut statements =
        DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {}).map_err(|e| {
            QueryError::new(
                ErrorCode::InvalidSql,
                format!("the SQL does not parse: {e}"),
            )
        })?;
    if statements.len() != 1 {
        return Err(QueryError::new(
            ErrorCode::InvalidSql,
            format!(
                "send exactly one statement; this text holds {}",
                statements.len()
            ),
        ));
    }
    let statement = statements
        .pop_front()
        .ok_or_else(|| QueryError::new(ErrorCode::InvalidSql, "the SQL is empty"))?;
    check(&statement)?;
    Ok(statement)
}

/// Refuses anything but a read-only statement over the lake's tables.
pub fn check(statement: &DfStatement) -> Result<()> {
    match statement {
        DfStatement::Statement(s) => check_sql(s),
        DfStatement::Explain(e) => check(&e.statement),
        DfStatement::CreateExternalTable(_) => Err(read_only("CREATE EXTERNAL TABLE")),
        DfStatement::CopyTo(_) => Err(read_only("COPY")),
        DfStatement::Reset(_) => Err(read_only("RESET")),
    }
}

/// Refuses a parsed SQL statement unless it only reads the lake.
pub fn check_sql(statement: &Statement) -> Result<()> {
    match statement {
        Statement::Query(_)
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowVariable { .. } => {}
        Statement::Explain { statement, .. } => return check_sql(statement),
        other => {
            let text = other.to_string();
            let verb: String = text
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            return Err(read_only(&verb));
        }
    }
    let named_file = visit_relations(statement, |name| {
        let text = name.to_string();
        if looks_like_a_file(&text) {
            ControlFlow::Break(text)
        } else {
            ControlFlow::Continue(())
        }
    });
    if let ControlFlow::Break(name) = named_file {
        return Err(QueryError::new(
            ErrorCode::FileAccess,
            format!(
                "{name} names a file or URL; queries read only the lake's tables and views \
                 (`GET /api/tables` or `SHOW TABLES` lists them)"
            ),
        ));
    }
    Ok(())
}

/// Refuses a plan that would change anything, whatever produced it.
pub fn check_plan(plan: &LogicalPlan) -> Result<()> {
    sql_options()
        .verify_plan(plan)
        .map_err(|e| read_only(&e.to_string()))
}

fn read_only(what: &str) -> QueryError {
    QueryError::new(
        ErrorCode::ReadOnly,
        format!(
            "{what} is not allowed: SQL here is read-only (SELECT, WITH, EXPLAIN, SHOW); \
             data enters the lake only through `unionstat ingest`"
        ),
    )
}

fn looks_like_a_file(name: &str) -> bool {
    let bare = name.trim_matches(|c| c == '\'' || c == '"' || c == '`');
    bare.contains('/')
        || bare.contains('\\')
        || bare.contains("://")
        || [
            ".csv", ".parquet", ".json", ".avro", ".arrow", ".txt", ".xlsx",
        ]
        .iter()
        .any(|ext| bare.to_lowercase().ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(sql: &str) -> &'static str {
        parse(sql).err().map_or("ok", |e| e.code.as_str())
    }

    #[test]
    fn queries_pass_and_writes_are_refused() {
        assert_eq!(code("SELECT 1"), "ok");
        assert_eq!(code("WITH a AS (SELECT 1) SELECT * FROM a"), "ok");
        assert_eq!(code("EXPLAIN SELECT 1"), "ok");
        assert_eq!(code("SHOW TABLES"), "ok");
        assert_eq!(code("INSERT INTO regions VALUES (1)"), "read_only");
        assert_eq!(code("DELETE FROM regions"), "read_only");
        assert_eq!(code("DROP TABLE regions"), "read_only");
        assert_eq!(code("CREATE TABLE x AS SELECT 1"), "read_only");
        assert_eq!(
            code("CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'"),
            "read_only"
        );
        assert_eq!(code("COPY regions TO '/tmp/x.parquet'"), "read_only");
        assert_eq!(code("EXPLAIN DELETE FROM regions"), "read_only");
        assert_eq!(code("SET datafusion.execution.batch_size = 1"), "read_only");
        assert_eq!(code("SELECT 1; SELECT 2"), "invalid_sql");
    }

    #[test]
    fn files_and_urls_are_refused_wherever_they_are_named() {
        assert_eq!(code("SELECT * FROM '/etc/passwd'"), "file_access");
        assert_eq!(code("SELECT * FROM 'data/x.parquet'"), "file_access");
        assert_eq!(
            code("SELECT * FROM regions WHERE code IN (SELECT code FROM 's3://b/x.csv')"),
            "file_access"
        );
        assert_eq!(code("SELECT * FROM regions"), "ok");
    }
}
