//! The views' answers over the scale-1 lake, as sqllogictest files in `tests/slt/`.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::array_value_to_string;
use sqllogictest::{DBOutput, DefaultColumnType};
use unionstat_query::{Engine, QueryError};

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
        let answer = self.0.sql(sql).await?;
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
                                .map_err(|e| QueryError::new("internal", e.to_string()))
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

#[tokio::test(flavor = "multi_thread")]
async fn the_views_answer_as_the_slt_files_say() {
    let engine = fixture::engine().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("slt folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let engine = engine.clone();
        let mut runner = sqllogictest::Runner::new(move || {
            let engine = engine.clone();
            async move { Ok(EngineDb(engine)) }
        });
        runner.with_column_validator(sqllogictest::strict_column_validator);
        runner
            .run_file_async(&file)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

#[test]
fn contract_coverage_knows_every_kind_the_ingest_accepts() {
    let contract = unionstat_ingest::contract::contract("collective_contracts").expect("contract");
    assert_eq!(
        contract.allowed("kind").expect("kinds"),
        unionstat_query::views::CONTRACT_KINDS
    );
}
