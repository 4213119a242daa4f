//! The JSON API behind the UI. Each endpoint checks its parameters, takes its SQL statement from
//! [`unionstat_query::panels`] and answers through the engine; tables come as
//! `{"columns", "rows", "row_count", "versions"}` or, with `?format=`, as CSV, XLSX or Parquet.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use unionstat_export::ExportJobs;
use unionstat_query::output::{self, Format};
use unionstat_query::{Engine, ErrorCode, QueryError, Scope};
use unionstat_query::{indicators, panels};

use crate::geometry;
use crate::params::Params;
use crate::respond::{Reply, Responder};
use crate::telemetry::Telemetry;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    engine: Arc<Engine>,
    responder: Arc<Responder>,
    exports: Arc<ExportJobs>,
    /// Request counts for `/metrics`.
    pub telemetry: Arc<Telemetry>,
}

impl AppState {
    /// The state over `engine`, keeping answered bodies of up to `kept_bytes` together.
    pub fn new(engine: Arc<Engine>, exports: Arc<ExportJobs>, kept_bytes: usize) -> Self {
        AppState {
            responder: Arc::new(Responder::new(kept_bytes)),
            engine,
            exports,
            telemetry: Arc::new(Telemetry::default()),
        }
    }
}

/// The API's routes.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/api/indicators", get(indicator_list))
        .route("/api/industries", table(&[], industries))
        .route("/api/overview", table(&["county", "town"], overview))
        .route("/api/regions", get(regions))
        .route(
            "/api/map",
            table(&["metric", "year", "county", "industry"], map),
        )
        .route(
            "/api/rankings",
            table(&["metric", "year", "county", "industry", "limit"], rankings),
        )
        .route(
            "/api/breakdown",
            table(&["metric", "year", "county"], breakdown),
        )
        .route(
            "/api/trend",
            table(&["metric", "county", "town", "industry"], trend),
        )
        .route("/api/sites", table(&["year", "county", "kind"], sites))
        .route(
            "/api/unions",
            table(
                &[
                    "year",
                    "county",
                    "town",
                    "industry",
                    "q",
                    "page",
                    "page_size",
                ],
                unions,
            ),
        )
        .route("/api/quality/submissions", table(&[], submissions))
        .route("/api/quality/quarantine", table(&[], quarantine))
        .route("/api/quality/reconciliation", table(&[], reconciliation))
        .route("/api/exports", get(exports))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

type Raw = Query<HashMap<String, String>>;

/// The Delta version of each table.
type Versions = BTreeMap<String, i64>;

/// A table answer: the statement, the format asked for and the name of a downloaded file.
struct Table {
    sql: String,
    format: Format,
    name: &'static str,
}

/// Writes a table endpoint's statement from its checked parameters and the lake's versions.
type Build = fn(&Params, &Versions) -> Result<Table, QueryError>;

/// A GET route answering a table: the parameters `allowed` are checked, `build` writes the
/// statement, and the answer goes through the responder (304s, kept bodies, formats).
fn table(allowed: &'static [&'static str], build: Build) -> MethodRouter<AppState> {
    get(
        move |State(s): State<AppState>,
              Extension(scope): Extension<Scope>,
              uri: Uri,
              headers: HeaderMap,
              Query(raw): Raw| async move {
            let scope = Scope {
                interface: "dashboard",
                ..scope
            };
            let versions = match s.engine.refresh(false).await {
                Ok(v) => v,
                Err(e) => return e.into_response(),
            };
            let table = match Params::new(raw, allowed).and_then(|p| build(&p, &versions)) {
                Ok(t) => t,
                Err(e) => return e.into_response(),
            };
            let (engine, asker) = (s.engine.clone(), scope.clone());
            s.responder
                .reply(&uri, &headers, &scope, &versions, || async move {
                    let answer = engine.sql(&asker, &table.sql).await?;
                    let bytes = output::write(&answer, table.format)?;
                    Ok(Reply {
                        content_type: table.format.content_type(),
                        bytes: Bytes::from(bytes),
                        filename: (table.format != Format::Json)
                            .then(|| format!("{}.{}", table.name, table.format.extension())),
                    })
                })
                .await
        },
    )
}

async fn indicator_list() -> Response {
    axum::Json(indicators::catalogue()).into_response()
}

fn industries(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    Ok(Table {
        sql: panels::industries(),
        format: p.format()?,
        name: "industries",
    })
}

fn overview(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (county, town) = (p.county()?, p.town()?);
    Ok(Table {
        sql: panels::overview(county.as_deref(), town.as_deref()),
        format: p.format()?,
        name: "overview",
    })
}

/// Outlines of the counties, or of the towns of `county`, as GeoJSON.
async fn regions(
    State(s): State<AppState>,
    Extension(scope): Extension<Scope>,
    uri: Uri,
    headers: HeaderMap,
    Query(raw): Raw,
) -> Response {
    let sql =
        Params::new(raw, &["county"]).and_then(|p| Ok(panels::regions(p.county()?.as_deref())));
    let (sql, versions) = match (sql, s.engine.refresh(false).await) {
        (Ok(sql), Ok(versions)) => (sql, versions),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let scope = Scope {
        interface: "dashboard",
        ..scope
    };
    let (engine, asker) = (s.engine.clone(), scope.clone());
    s.responder
        .reply(&uri, &headers, &scope, &versions, || async move {
            let answer = engine.sql(&asker, &sql).await?;
            let collection = geometry::feature_collection(&answer)?;
            Ok(Reply {
                content_type: "application/geo+json",
                bytes: Bytes::from(collection.to_string()),
                filename: None,
            })
        })
        .await
}

fn map(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (indicator, year, county) = (p.metric()?, p.required_year()?, p.county()?);
    Ok(Table {
        sql: panels::map(indicator, year, county.as_deref(), p.industry()?)?,
        format: p.format()?,
        name: "map",
    })
}

fn rankings(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (indicator, year, county) = (p.metric()?, p.required_year()?, p.county()?);
    let limit = p.number("limit", 1..=50, 10)?;
    Ok(Table {
        sql: panels::rankings(indicator, year, county.as_deref(), p.industry()?, limit)?,
        format: p.format()?,
        name: "rankings",
    })
}

fn breakdown(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (indicator, year, county) = (p.metric()?, p.required_year()?, p.county()?);
    Ok(Table {
        sql: panels::breakdown(indicator, year, county.as_deref())?,
        format: p.format()?,
        name: "breakdown",
    })
}

fn trend(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (indicator, county, town) = (p.metric()?, p.county()?, p.town()?);
    Ok(Table {
        sql: panels::trend(indicator, county.as_deref(), town.as_deref(), p.industry()?)?,
        format: p.format()?,
        name: "trend",
    })
}

fn sites(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (year, county) = (p.required_year()?, p.county()?);
    Ok(Table {
        sql: panels::sites(year, county.as_deref(), p.site_kind()?.as_deref()),
        format: p.format()?,
        name: "sites",
    })
}

fn unions(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (county, town, search) = (p.county()?, p.town()?, p.text("q")?);
    let filter = panels::UnionFilter {
        year: p.required_year()?,
        county: county.as_deref(),
        town: town.as_deref(),
        industry: p.industry()?,
        search: search.as_deref(),
        // Up to 10,000 rows, so a whole county's list downloads as one file.
        page_size: p.number("page_size", 1..=10_000, 20)?,
        page: p.number("page", 1..=100_000, 1)?,
    };
    Ok(Table {
        sql: panels::unions(&filter),
        format: p.format()?,
        name: "unions",
    })
}

fn submissions(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    Ok(Table {
        sql: panels::submissions(),
        format: p.format()?,
        name: "submissions",
    })
}

fn quarantine(p: &Params, versions: &Versions) -> Result<Table, QueryError> {
    Ok(Table {
        sql: panels::quarantine(versions.contains_key("quarantine")),
        format: p.format()?,
        name: "quarantine",
    })
}

fn reconciliation(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    Ok(Table {
        sql: panels::reconciliation(),
        format: p.format()?,
        name: "reconciliation",
    })
}

/// The scheduled export and its recent runs, newest first (for admin accounts: exports hold
/// every county's rows).
async fn exports(State(s): State<AppState>, Extension(scope): Extension<Scope>) -> Response {
    if !scope.is_admin() {
        return QueryError::new(ErrorCode::Forbidden, "the exports are for admin accounts")
            .into_response();
    }
    axum::Json(s.exports.describe()).into_response()
}

/// Up when the lake can be read.
async fn healthz(State(s): State<AppState>) -> Response {
    match s.engine.refresh(false).await {
        Ok(versions) => axum::Json(serde_json::json!({"status": "ok", "tables": versions.len()}))
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                serde_json::json!({"status": "unavailable", "error": e.code, "message": e.message}),
            ),
        )
            .into_response(),
    }
}

/// Prometheus metrics: requests by route, and the engine's load and table versions.
async fn metrics(State(s): State<AppState>) -> Response {
    let mut out = String::new();
    s.telemetry.render(&mut out);
    s.exports.render(&mut out);
    let engine = &s.engine;
    out.push_str(&format!(
        "# HELP unionstat_queries_running SQL statements running now.\n\
         # TYPE unionstat_queries_running gauge\nunionstat_queries_running {}\n\
         # HELP unionstat_query_memory_bytes Memory the running statements hold.\n\
         # TYPE unionstat_query_memory_bytes gauge\nunionstat_query_memory_bytes {}\n\
         # HELP unionstat_result_cache_bytes Memory the kept answers hold.\n\
         # TYPE unionstat_result_cache_bytes gauge\nunionstat_result_cache_bytes {}\n\
         # HELP unionstat_table_version Delta version each table is read at.\n\
         # TYPE unionstat_table_version gauge\n",
        engine.running(),
        engine.memory_reserved(),
        engine.result_cache_bytes()
    ));
    for (table, version) in engine.refresh(false).await.unwrap_or_default() {
        out.push_str(&format!(
            "unionstat_table_version{{table=\"{table}\"}} {version}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// Anything else.
pub async fn not_found(uri: Uri) -> Response {
    QueryError::new(
        ErrorCode::NotFound,
        format!(
            "nothing is served at {}; the dashboard is at / and the API is described at \
             /api/openapi.json",
            uri.path()
        ),
    )
    .into_response()
}
