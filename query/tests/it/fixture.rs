//! The lake the tests query: the generator's clean scale-1 Longyan returns and reference files,
//! loaded by ingest once per test run.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use unionstat_generator::generate::Generator;
use unionstat_generator::returns::{self, Options as GenOptions};
use unionstat_ingest::pii::HashKey;
use unionstat_query::{Engine, EngineOptions, Limits, Scope};

/// Writes clean generated returns at `scale` into `dir`.
pub fn generate(dir: &Path, scale: f64) {
    let mut generator = Generator::new(scale, 42);
    let options = GenOptions {
        seed: 42,
        scale,
        dirty_rate: 0.0,
        members: false,
    };
    returns::write_all(dir, &mut generator, &options).expect("generated returns");
}

/// Ingests `paths` into the lake at `lake`, on a runtime of its own.
pub fn ingest(paths: Vec<PathBuf>, lake: &Path) {
    let lake = lake.to_string_lossy().to_string();
    std::thread::spawn(move || {
        let mut options = unionstat_ingest::Options::new(&lake);
        options.hash_key =
            Some(HashKey::new(b"a test key of sufficient length".to_vec()).expect("key"));
        let report = tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(unionstat_ingest::ingest(&paths, &options))
            .expect("ingest runs");
        assert_eq!(report.exit_code(), 0, "{}", report.summary());
    })
    .join()
    .expect("ingest thread");
}

/// The scale-1 lake, built on first use.
pub fn lake() -> &'static Path {
    static LAKE: OnceLock<PathBuf> = OnceLock::new();
    LAKE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("query-fixture");
        let _ = std::fs::remove_dir_all(&root);
        let data = root.join("data");
        let lake = root.join("lake");
        generate(&data, 1.0);
        ingest(vec![data.join("reference"), data.join("returns")], &lake);
        lake
    })
}

/// The generated returns the lake was built from.
pub fn data() -> PathBuf {
    lake().parent().expect("fixture root").join("data")
}

/// The generated return of `table_stem` for `year` and `county_code`.
pub fn return_file(table_stem: &str, year: i32, county_code: &str) -> PathBuf {
    let year_dir = data().join("returns").join(year.to_string());
    let county = std::fs::read_dir(&year_dir)
        .expect("year folder")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(county_code))
        })
        .expect("county folder");
    std::fs::read_dir(&county)
        .expect("county folder")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(table_stem))
        })
        .expect("return file")
}

/// An engine over the scale-1 lake with `limits`.
pub async fn engine_with(limits: Limits, result_cache: bool) -> Arc<Engine> {
    let lake = lake().to_string_lossy().to_string();
    let options = EngineOptions {
        limits,
        result_cache,
        ..EngineOptions::default()
    };
    Arc::new(Engine::open(&lake, options).await.expect("engine opens"))
}

/// An engine over the scale-1 lake with the default limits.
pub async fn engine() -> Arc<Engine> {
    engine_with(Limits::default(), false).await
}

/// The first column of the first row, as text.
pub async fn scalar(engine: &Engine, sql: &str) -> String {
    let answer = engine
        .sql(&Scope::local(), sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let batch = answer
        .batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .expect("a row");
    datafusion::arrow::util::display::array_value_to_string(batch.column(0), 0).expect("text")
}
