//! The views' answers over the scale-1 lake, as sqllogictest files in `tests/slt/`.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::array_value_to_string;
use sqllogictest::{DBOutput, DefaultColumnType};
use unionstat_query::{Engine, ErrorCode, QueryError, Scope};

use crate::fixture;

struct EngineDb(Arc<Engine>);

fn column_type(t: &DataType) -> DefaultColumnType {
    if t.is_integer() {
        DefaultColumnType::Integer
    } else if t.is_floating() || matches!(t, DataType::Decimal128(..)) {
        DefaultColumnType::FloatingPoint
    } else {
        DefaultColumnType::Text
    }
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for EngineDb {
    type Error = QueryError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, QueryError> {
        let answer = self.0.sql(&Scope::local(), sql).await?;
        let types = answer
            .schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let mut rows = Vec::new();
        for batch in answer.batches.iter() {
            for row in 0..batch.num_rows() {
                let cells = batch
                    .columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(row) {
                            Ok("NULL".to_string())
                        } else {
                            array_value_to_string(c, row)
                                .map_err(|e| QueryError::new(ErrorCode::Internal, e.to_string()))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                rows.push(cells);
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

/// The `.slt` files of `tests/slt/`, each run by a test of its own below.
const CASES: [&str; 3] = [
    "aid_contracts_rights",
    "kpi_reconciliation_spatial",
    "union_coverage",
];

/// Runs `tests/slt/{name}.slt` against the scale-1 lake. With `UNIONSTAT_SLT_REWRITE=1` the
/// engine's answers are written into the file instead of checked (review the diff before
/// committing it).
async fn run_slt(name: &str) {
    let engine = fixture::engine().await;
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/slt")
        .join(format!("{name}.slt"));
    let mut runner = sqllogictest::Runner::new(move || {
        let engine = engine.clone();
        async move { Ok(EngineDb(engine)) }
    });
    runner.with_column_validator(sqllogictest::strict_column_validator);
    if std::env::var_os("UNIONSTAT_SLT_REWRITE").is_some_and(|v| v == "1") {
        runner
            .update_test_file(
                &file,
                " ",
                sqllogictest::default_validator,
                sqllogictest::default_normalizer,
                sqllogictest::strict_column_validator,
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        return;
    }
    runner
        .run_file_async(&file)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
}

#[tokio::test(flavor = "multi_thread")]
async fn aid_contracts_and_rights_answer_as_their_slt_file_says() {
    run_slt(CASES[0]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kpi_reconciliation_and_spatial_sql_answer_as_their_slt_file_says() {
    run_slt(CASES[1]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn union_coverage_answers_as_its_slt_file_says() {
    run_slt(CASES[2]).await;
}

#[test]
fn every_slt_file_is_a_case_of_its_own() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("slt folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    files.sort();
    assert_eq!(
        files, CASES,
        "add a test for each new .slt file, and list it in CASES"
    );
}

#[test]
fn contract_coverage_knows_every_kind_the_ingest_accepts() {
    let contract = unionstat_tables::contract("collective_contracts").expect("contract");
    assert_eq!(
        contract.allowed("kind").expect("kinds"),
        unionstat_query::views::CONTRACT_KINDS
    );
}
