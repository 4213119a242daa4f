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
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

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

/// How deeply a statement's expressions and set operations may nest, counted by [`nesting`].
/// Planning and running a statement recurses once per level; a thousand levels of each kind
/// measured well within a 2 MiB thread stack, and the server's threads have 8 MiB.
pub const MAX_NESTING: usize = 1_000;

/// An upper bound on how deeply the statement in `sql` nests, from its tokens alone, so that a
/// text that would nest too deeply is refused before anything recursive (parsing, planning,
/// even dropping the syntax tree) touches it. Each bracket counts one level; within a bracket,
/// a chain of operators nests once per operator, and a chain of `AND`/`OR` once per keyword plus
/// the longest chain of other operators between them. Commas and clause keywords end a chain.
/// Set operations (`UNION`, `INTERSECT`, `EXCEPT`) count for their whole bracket.
pub fn nesting(sql: &str) -> usize {
    depth(&tokens(sql))
}

/// The tokens of `sql`; none when it does not tokenize (the parser then says what is wrong).
fn tokens(sql: &str) -> Vec<Token> {
    Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize()
        .unwrap_or_default()
}

/// [`nesting`] of a statement's tokens.
fn depth(tokens: &[Token]) -> usize {
    /// One bracket's chains.
    #[derive(Default)]
    struct Level {
        sets: usize,
        logical: usize,
        other: usize,
        other_max: usize,
    }
    impl Level {
        fn depth(&self) -> usize {
            1 + self.sets + self.logical + self.other_max
        }
        fn end_chain(&mut self) {
            (self.logical, self.other, self.other_max) = (0, 0, 0);
        }
    }
    let mut levels = vec![Level::default()];
    // The sum of the levels' depths, kept as tokens change them.
    let mut total = 1;
    let mut deepest = total;
    for token in tokens {
        let Some(level) = levels.last_mut() else {
            break;
        };
        let before = level.depth();
        match token {
            Token::LParen | Token::LBracket => {
                levels.push(Level::default());
                total += 1;
                deepest = deepest.max(total);
                continue;
            }
            Token::RParen | Token::RBracket => {
                if levels.len() > 1 {
                    levels.pop();
                    total -= before;
                }
                continue;
            }
            Token::Comma | Token::SemiColon => level.end_chain(),
            Token::Word(word) => match word.keyword {
                Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT | Keyword::MINUS => {
                    level.sets += 1;
                    level.end_chain();
                }
                Keyword::AND | Keyword::OR | Keyword::NOT | Keyword::XOR => {
                    level.logical += 1;
                    level.other = 0;
                }
                Keyword::IS
                | Keyword::LIKE
                | Keyword::ILIKE
                | Keyword::SIMILAR
                | Keyword::BETWEEN
                | Keyword::IN
                | Keyword::COLLATE
                | Keyword::AT
                | Keyword::OVERLAPS => {
                    level.other += 1;
                    level.other_max = level.other_max.max(level.other);
                }
                Keyword::SELECT
                | Keyword::FROM
                | Keyword::WHERE
                | Keyword::GROUP
                | Keyword::HAVING
                | Keyword::ORDER
                | Keyword::LIMIT
                | Keyword::OFFSET
                | Keyword::WHEN
                | Keyword::THEN
                | Keyword::ELSE
                | Keyword::END
                | Keyword::ON
                | Keyword::JOIN
                | Keyword::AS
                | Keyword::WITH => level.end_chain(),
                _ => {}
            },
            Token::EOF
            | Token::Whitespace(_)
            | Token::Number(..)
            | Token::Char(_)
            | Token::Period
            | Token::Placeholder(_)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::NationalStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_) => {}
            // Every other token is an operator: `+`, `||`, `::`, `->`, `=`, `~`, ...
            _ => {
                level.other += 1;
                level.other_max = level.other_max.max(level.other);
            }
        }
        total = total + level.depth() - before;
        deepest = deepest.max(total);
    }
    deepest
}

/// Refuses a text that nests deeper than [`MAX_NESTING`].
pub fn check_nesting(sql: &str) -> Result<()> {
    check_depth(depth(&tokens(sql)))
}

fn check_depth(depth: usize) -> Result<()> {
    if depth > MAX_NESTING {
        return Err(QueryError::new(
            ErrorCode::InvalidSql,
            format!(
                "the statement nests too deeply: its operators, brackets or set operations \
                 chain about {depth} levels deep, and the limit is {MAX_NESTING}; use \
                 `col IN (a, b, ...)` instead of long OR chains, or split the statement"
            ),
        ));
    }
    Ok(())
}

/// Parses `sql` into the one statement a user may run.
pub fn parse(sql: &str) -> Result<DfStatement> {
    check_nesting(sql)?;
    let mut statements =
        DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {}).map_err(|e| {
            QueryError::new(
                ErrorCode::InvalidSql,
                format!("the SQL does not parse: {e}"),
            )
        })?;
    if statements.len() != 1 {
        return Err(several(statements.len()));
    }
    let statement = statements
        .pop_front()
        .ok_or_else(|| QueryError::new(ErrorCode::InvalidSql, "the SQL is empty"))?;
    check(&statement)?;
    Ok(statement)
}

/// Refuses a text of more than one statement, or one that nests too deeply, from its tokens:
/// a statement after a `;` is any token but another `;` or white space.
pub fn one_statement(sql: &str) -> Result<()> {
    let tokens = tokens(sql);
    check_depth(depth(&tokens))?;
    let mut count = 0;
    let mut open = false;
    for token in &tokens {
        match token {
            Token::SemiColon => open = false,
            Token::Whitespace(_) | Token::EOF => {}
            _ if !open => {
                open = true;
                count += 1;
            }
            _ => {}
        }
    }
    if count > 1 {
        return Err(several(count));
    }
    Ok(())
}

fn several(count: usize) -> QueryError {
    QueryError::new(
        ErrorCode::InvalidSql,
        format!("send exactly one statement; this text holds {count}"),
    )
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
        assert!(one_statement("SELECT 1; DROP TABLE regions").is_err());
        assert!(one_statement("SELECT ';' AS x;;  ").is_ok());
        assert!(one_statement("  SELECT 1  ").is_ok());
    }

    fn chain(op: &str, n: usize) -> String {
        format!("SELECT {}", vec!["1"; n].join(op))
    }

    #[test]
    fn nesting_bounds_operator_chains_brackets_and_set_operations() {
        assert_eq!(nesting("SELECT 1"), 1);
        assert_eq!(nesting(&chain(" + ", 1000)), 1000);
        assert_eq!(code(&chain(" + ", 1000)), "ok");
        assert_eq!(code(&chain(" + ", 1001)), "invalid_sql");
        assert_eq!(code(&chain(" || ", 5000)), "invalid_sql");
        assert_eq!(
            code(&vec!["SELECT 1"; 2000].join(" UNION ALL ")),
            "invalid_sql"
        );
        assert_eq!(code(&vec!["SELECT 1"; 900].join(" UNION ALL ")), "ok");
        // `a = 1 AND b = 2 AND ...` nests once per AND, plus the comparison.
        let ands: Vec<String> = (0..900).map(|i| format!("code <> '{i}'")).collect();
        let sql = format!("SELECT * FROM regions WHERE {}", ands.join(" AND "));
        assert_eq!(nesting(&sql), 901);
        // Long lists and many columns do not nest.
        let list: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
        let sql = format!("SELECT * FROM regions WHERE code IN ({})", list.join(", "));
        assert!(nesting(&sql) < 5, "{}", nesting(&sql));
        let columns: Vec<String> = (0..5_000).map(|i| format!("{i} + {i}")).collect();
        assert!(nesting(&format!("SELECT {}", columns.join(", "))) < 5);
        // Brackets count, closed ones no longer do.
        assert_eq!(nesting("SELECT ((1 + 2)) + (3)"), 4);
        let deep = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert_eq!(code(&deep), "invalid_sql");
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
