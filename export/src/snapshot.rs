//! One export run: every chosen table and view of the lake written as Parquet at one fixed Delta
//! version per table, with a `manifest.json` and `_SUCCESS`, then published as a whole (see
//! [`crate::publish`]). Facts are partitioned by `year=`, rows sorted by the place keys users filter
//! on, and `regions` and `service_sites` written as GeoParquet 1.1.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow::array::{Array as _, AsArray as _};
use arrow::datatypes::Float64Type;
use datafusion::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::col;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use unionstat_query::{Engine, EngineOptions, QueryError, Scope};

use crate::publish::{Destination, files_under};

/// What can stop an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The lake could not be read or a statement failed.
    #[error("reading the lake failed: {0}")]
    Query(#[from] QueryError),
    /// Writing the snapshot failed.
    #[error("writing {path} failed: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The destination refused a file.
    #[error("publishing to {to} failed: {message}")]
    Publish {
        /// The destination.
        to: String,
        /// Why.
        message: String,
    },
    /// A table or view asked for does not exist.
    #[error("{0}")]
    Unknown(String),
}

impl From<datafusion::error::DataFusionError> for ExportError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        ExportError::Query(e.into())
    }
}

/// The crate's export result.
pub type Result<T, E = ExportError> = std::result::Result<T, E>;

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What to export and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// A folder, or an object-store URL (`s3://bucket/prefix`, `file:///...`).
    pub to: String,
    /// Tables to export; all when `None`.
    pub tables: Option<Vec<String>>,
    /// Views to export; all when `None`.
    pub views: Option<Vec<String>>,
    /// Snapshots to keep at the destination.
    pub keep: usize,
    /// Export even when nothing changed since the last snapshot.
    pub force: bool,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A new snapshot was published.
    Published(Report),
    /// The lake had not changed since the snapshot named.
    Skipped(String),
}

/// A published snapshot.
#[derive(Debug, Clone)]
pub struct Report {
    /// Its name (a UTC time stamp).
    pub snapshot: String,
    /// Where it is.
    pub location: String,
    /// Tables and views written.
    pub datasets: usize,
    /// Rows written.
    pub rows: u64,
    /// Parquet files written.
    pub files: usize,
    /// Their size.
    pub bytes: u64,
}

/// A file of the snapshot, as the manifest lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileEntry {
    /// Path inside the snapshot, `/`-separated.
    pub path: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
}

/// Keys users filter on, in sort order, where a dataset has them.
const SORT_KEYS: [&str; 5] = [
    "county_code",
    "town_code",
    "industry_code",
    "code",
    "union_uscc",
];

/// Tables with a geometry: the SELECT that gives WKB `geometry` and a `bbox` covering column.
fn geometry_select(table: &str) -> Option<String> {
    let bbox = |g: &str| {
        format!(
            "named_struct('xmin', ST_XMin({g}), 'ymin', ST_YMin({g}), 'xmax', ST_XMax({g}), \
             'ymax', ST_YMax({g})) AS bbox"
        )
    };
    match table {
        "regions" => Some(format!(
            "SELECT * EXCEPT (geometry), CAST(geometry AS BYTEA) AS geometry, {} FROM regions",
            bbox("ST_GeomFromWKB(geometry)")
        )),
        "service_sites" => Some(format!(
            "SELECT *, ST_AsBinary(ST_Point(lon, lat)) AS geometry, {} FROM service_sites",
            bbox("ST_Point(lon, lat)")
        )),
        _ => None,
    }
}

/// The table's geometry types and overall bounds, for the GeoParquet metadata.
async fn geo_metadata(engine: &Engine, select: &str) -> Result<String> {
    let ctx = engine.context_for(&Scope::local());
    let batches = ctx
        .sql(&format!(
            "SELECT array_agg(DISTINCT ST_GeometryType(ST_GeomFromWKB(geometry))) AS types, \
               min(bbox['xmin']) AS xmin, min(bbox['ymin']) AS ymin, max(bbox['xmax']) AS xmax, \
               max(bbox['ymax']) AS ymax FROM ({select}) WHERE geometry IS NOT NULL"
        ))
        .await?
        .collect()
        .await?;
    let (types, bounds) = batches
        .first()
        .filter(|b| b.num_rows() > 0)
        .map(|b| {
            let types = b.column(0).as_list::<i32>().value(0);
            let types = arrow::compute::cast(&types, &arrow::datatypes::DataType::Utf8)?;
            let types: Vec<String> = types
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(|t| t.trim_start_matches("ST_").to_string())
                .collect();
            let bounds: Vec<Option<f64>> = (1..5)
                .map(|c| {
                    let column = b.column(c).as_primitive::<Float64Type>();
                    column.is_valid(0).then(|| column.value(0))
                })
                .collect();
            Ok::<_, arrow::error::ArrowError>((types, bounds))
        })
        .transpose()
        .map_err(datafusion::error::DataFusionError::from)?
        .unwrap_or_default();
    let geo = json!({
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {"geometry": {
            "encoding": "WKB",
            "geometry_types": types,
            "crs": serde_json::from_str::<Value>(CRS84).unwrap_or(Value::Null),
            "bbox": bounds,
            "covering": {"bbox": {
                "xmin": ["bbox", "xmin"], "ymin": ["bbox", "ymin"],
                "xmax": ["bbox", "xmax"], "ymax": ["bbox", "ymax"],
            }},
        }},
    });
    Ok(geo.to_string())
}

/// WGS-84 longitude/latitude (OGC:CRS84) as PROJJSON: the lake stores every geometry in it.
const CRS84: &str = include_str!("crs84.projjson");

/// A table or view to write.
#[derive(Debug)]
struct Dataset {
    name: String,
    kind: &'static str,
}

fn choose(
    engine: &Engine,
    versions: &BTreeMap<String, i64>,
    options: &Options,
) -> Result<Vec<Dataset>> {
    let tables: Vec<String> = versions.keys().cloned().collect();
    let missing: Vec<&str> = engine.missing_views().iter().map(|(v, _)| *v).collect();
    let views: Vec<String> = unionstat_query::views::views()
        .iter()
        .map(|v| v.name.to_string())
        .filter(|v| !missing.contains(&v.as_str()))
        .collect();
    let pick = |wanted: &Option<Vec<String>>, have: &[String], what: &str| {
        let Some(wanted) = wanted else {
            return Ok(have.to_vec());
        };
        for w in wanted {
            if !have.contains(w) {
                return Err(ExportError::Unknown(format!(
                    "there is no {what} `{w}` in the lake; {what}s are {}",
                    have.join(", ")
                )));
            }
        }
        Ok(wanted.clone())
    };
    let mut chosen: Vec<Dataset> = pick(&options.tables, &tables, "table")?
        .into_iter()
        .map(|name| Dataset {
            name,
            kind: "table",
        })
        .collect();
    chosen.extend(
        pick(&options.views, &views, "view")?
            .into_iter()
            .map(|name| Dataset { name, kind: "view" }),
    );
    Ok(chosen)
}

/// Runs one export of the lake at `lake`.
pub async fn run(lake: &str, options: &Options) -> Result<Outcome> {
    // The engine never looks for newer commits: every table stays at the version it opened at,
    // so tables and the views over them agree even while returns are being loaded.
    let engine = Engine::open(
        lake,
        EngineOptions {
            result_cache: false,
            refresh_interval: Duration::MAX,
            spill_to_disk: true,
            ..EngineOptions::default()
        },
    )
    .await?;
    let versions = engine.refresh(false).await?;
    let datasets = choose(&engine, &versions, options)?;
    let names: Vec<&str> = datasets.iter().map(|d| d.name.as_str()).collect();
    let destination = Destination::parse(&options.to)?;
    if !options.force
        && let Some((snapshot, manifest)) = destination.latest().await?
        && manifest["versions"] == json!(versions)
        && manifest["datasets"].as_array().is_some_and(|d| {
            d.iter()
                .map(|x| x["name"].as_str())
                .eq(names.iter().map(|n| Some(*n)))
        })
    {
        return Ok(Outcome::Skipped(snapshot));
    }
    let snapshot = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let staging = destination.staging(&snapshot)?;
    let mut listed = Vec::new();
    let (mut rows, mut files, mut bytes) = (0u64, 0usize, 0u64);
    for dataset in &datasets {
        let (entry, written) = write_dataset(&engine, &staging, dataset, &versions).await?;
        rows += written.iter().map(|f| f.rows).sum::<u64>();
        bytes += written.iter().map(|f| f.bytes).sum::<u64>();
        files += written.len();
        listed.push(entry);
    }
    let manifest = json!({
        "snapshot": snapshot,
        "created_at": chrono::Utc::now().to_rfc3339(),
        "producer": format!("unionstat {}", env!("CARGO_PKG_VERSION")),
        "versions": versions,
        "datasets": listed,
    });
    let path = staging.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    std::fs::write(&path, text).map_err(io(&path))?;
    let done = staging.join("_SUCCESS");
    std::fs::write(&done, b"").map_err(io(&done))?;
    let location = destination.publish(&staging, &snapshot).await?;
    destination.prune(options.keep).await?;
    Ok(Outcome::Published(Report {
        snapshot,
        location,
        datasets: datasets.len(),
        rows,
        files,
        bytes,
    }))
}

/// Writes one table or view under `staging/<name>/`; returns its manifest entry and files.
async fn write_dataset(
    engine: &Engine,
    staging: &Path,
    dataset: &Dataset,
    versions: &BTreeMap<String, i64>,
) -> Result<(Value, Vec<FileEntry>)> {
    let ctx = engine.context_for(&Scope::local());
    let geometry = (dataset.kind == "table")
        .then(|| geometry_select(&dataset.name))
        .flatten();
    let select = geometry
        .clone()
        .unwrap_or_else(|| format!("SELECT * FROM {}", dataset.name));
    let frame = ctx.sql(&select).await?;
    let schema = frame.schema().as_arrow().clone();
    let has = |c: &str| schema.field_with_name(c).is_ok();
    let sort: Vec<&str> = SORT_KEYS.into_iter().filter(|k| has(k)).collect();
    // Facts are read a year at a time; geometry tables stay whole so one bbox covers the file.
    let partition = dataset.kind == "table" && geometry.is_none() && has("year");
    let mut parquet = TableParquetOptions::default();
    // Plain Parquet types (no Arrow view or dictionary types) so every reader opens the files.
    parquet.global.skip_arrow_metadata = true;
    if let Some(select) = &geometry {
        parquet
            .key_value_metadata
            .insert("geo".into(), Some(geo_metadata(engine, select).await?));
    }
    let folder = staging.join(&dataset.name);
    std::fs::create_dir_all(&folder).map_err(io(&folder))?;
    let mut write = DataFrameWriteOptions::new()
        .with_sort_by(sort.iter().map(|k| col(*k).sort(true, true)).collect());
    let target = if partition {
        write = write.with_partition_by(vec!["year".into()]);
        format!("{}/", folder.display())
    } else {
        write = write.with_single_file_output(true);
        folder.join("part-0.parquet").display().to_string()
    };
    frame.write_parquet(&target, write, Some(parquet)).await?;
    let files = parquet_files(&folder, staging)?;
    let fields: Vec<Value> = schema
        .fields()
        .iter()
        .map(|f| json!({"name": f.name(), "type": f.data_type().to_string(), "nullable": f.is_nullable()}))
        .collect();
    let entry = json!({
        "name": dataset.name,
        "kind": dataset.kind,
        "delta_version": versions.get(&dataset.name),
        "rows": files.iter().map(|f| f.rows).sum::<u64>(),
        "partitioned_by": if partition { vec!["year"] } else { vec![] },
        "sorted_by": sort,
        "geoparquet": geometry.is_some(),
        "schema": fields,
        "files": files,
    });
    Ok((entry, files))
}

/// Every Parquet file under `folder`, with its path inside `root`, rows (from the footer), size
/// and checksum, in path order.
fn parquet_files(folder: &Path, root: &Path) -> Result<Vec<FileEntry>> {
    use parquet::file::reader::FileReader as _;
    let mut out = Vec::new();
    for (path, relative) in files_under(folder, root)? {
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let file = std::fs::File::open(&path).map_err(io(&path))?;
        let reader = parquet::file::reader::SerializedFileReader::new(file).map_err(|e| {
            ExportError::Io {
                path: path.clone(),
                source: std::io::Error::other(e),
            }
        })?;
        let rows = u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0);
        let (sha256, bytes) = checksum(&path)?;
        out.push(FileEntry {
            path: relative,
            rows,
            bytes,
            sha256,
        });
    }
    Ok(out)
}

/// SHA-256 (hex) and size of a file.
fn checksum(path: &Path) -> Result<(String, u64)> {
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((hex::encode(hash.finalize()), bytes))
}
