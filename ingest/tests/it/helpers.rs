//! Shared set-up: generated returns, a lake, SQL over it.

use std::path::{Path, PathBuf};

use deltalake::DeltaTable;
use deltalake::arrow::array::{Array, RecordBatch};
use deltalake::datafusion::prelude::SessionContext;
use unionstat_generator::generate;
use unionstat_generator::returns::{self, Options as GenOptions};
use unionstat_ingest::pii::HashKey;
use unionstat_ingest::{Options, Report, ingest};

pub fn key() -> HashKey {
    HashKey::new(b"a test key of sufficient length".to_vec()).expect("a key")
}

/// Two empty folders, removed when dropped: one for the returns, one for the lake.
pub fn returns_and_lake() -> (tempfile::TempDir, tempfile::TempDir) {
    (
        tempfile::tempdir().expect("a folder for the returns"),
        tempfile::tempdir().expect("a folder for the lake"),
    )
}

pub fn options(lake: &Path) -> Options {
    let mut o = Options::new(&lake.to_string_lossy());
    o.hash_key = Some(key());
    o
}

/// Generated returns at `scale` under `dir`; the manifest's file list in submission order.
pub fn generate_into(dir: &Path, scale: f64, seed: u64, dirty_rate: f64) -> Vec<serde_json::Value> {
    let mut generator = generate::Generator::new(scale, seed);
    returns::write_all(
        dir,
        &mut generator,
        &GenOptions {
            seed,
            scale,
            dirty_rate,
            members: false,
        },
    )
    .expect("generated");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    manifest["files"].as_array().expect("files").clone()
}

pub fn run(paths: &[PathBuf], options: &Options) -> Report {
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(ingest(paths, options))
        .expect("ingest runs")
}

/// SQL over every table of a lake, as of when it was opened.
pub struct LakeSql {
    rt: tokio::runtime::Runtime,
    ctx: SessionContext,
}

impl LakeSql {
    /// Registers each table of the lake under its name.
    pub fn open(lake: &Path) -> Self {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let ctx = SessionContext::new();
        rt.block_on(async {
            for entry in std::fs::read_dir(lake).expect("lake folder") {
                let path = entry.expect("entry").path();
                if !path.join("_delta_log").is_dir() {
                    continue;
                }
                let url =
                    url::Url::from_directory_path(path.canonicalize().expect("abs")).expect("url");
                let table = DeltaTable::try_from_url(url).await.expect("table");
                if table.version().is_none() {
                    // Created by an ingest that was stopped before its first commit.
                    continue;
                }
                table
                    .update_datafusion_session(&ctx.state())
                    .expect("session");
                let name = path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .to_string();
                ctx.register_table(
                    name.as_str(),
                    table.table_provider().await.expect("provider"),
                )
                .expect("register");
            }
        });
        LakeSql { rt, ctx }
    }

    /// Runs a query.
    pub fn sql(&self, sql: &str) -> Vec<RecordBatch> {
        self.rt.block_on(async {
            self.ctx
                .sql(sql)
                .await
                .expect("sql plans")
                .collect()
                .await
                .expect("sql runs")
        })
    }

    /// Whether the lake held table `name` (with at least one commit) when it was opened.
    pub fn has(&self, name: &str) -> bool {
        self.ctx.table_exist(name).expect("table name")
    }

    /// The single number a query returns.
    pub fn number(&self, query: &str) -> f64 {
        let batches = self.sql(query);
        let batch = batches.iter().find(|b| b.num_rows() > 0).expect("a row");
        let col = deltalake::arrow::compute::cast(
            batch.column(0),
            &deltalake::arrow::datatypes::DataType::Float64,
        )
        .expect("numeric");
        let col = col
            .as_any()
            .downcast_ref::<deltalake::arrow::array::Float64Array>()
            .expect("f64");
        if col.is_null(0) { 0.0 } else { col.value(0) }
    }

    /// Rows of a query, every column as text.
    pub fn rows(&self, query: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for b in self.sql(query) {
            let cols: Vec<_> = b
                .columns()
                .iter()
                .map(|c| {
                    deltalake::arrow::compute::cast(c, &deltalake::arrow::datatypes::DataType::Utf8)
                        .expect("text")
                })
                .collect();
            for i in 0..b.num_rows() {
                out.push(
                    cols.iter()
                        .map(|c| {
                            let c = c
                                .as_any()
                                .downcast_ref::<deltalake::arrow::array::StringArray>()
                                .expect("utf8");
                            if c.is_null(i) {
                                String::new()
                            } else {
                                c.value(i).to_string()
                            }
                        })
                        .collect(),
                );
            }
        }
        out
    }
}

/// The single number a query returns, on a freshly opened lake.
pub fn number(lake: &Path, query: &str) -> f64 {
    LakeSql::open(lake).number(query)
}
