//! The JSON API behind the UI. Each endpoint checks its parameters, writes one SQL statement over
//! the semantic views and answers through the engine; tables come as
//! `{"columns", "rows", "row_count", "versions"}` or, with `?format=`, as CSV, XLSX or Parquet.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use unionstat_query::output::{self, Format};
use unionstat_query::{Engine, QueryError};

use crate::geometry;
use crate::indicators::{self, Indicator};
use crate::params::Params;
use crate::respond::{Reply, Responder};
use crate::schedule::ExportJobs;
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
    /// The state over `engine`.
    pub fn new(engine: Arc<Engine>, exports: Arc<ExportJobs>) -> Self {
        AppState {
            responder: Arc::new(Responder::default()),
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
        move |State(s): State<AppState>, uri: Uri, headers: HeaderMap, Query(raw): Raw| async move {
            let versions = match s.engine.refresh(false).await {
                Ok(v) => v,
                Err(e) => return e.into_response(),
            };
            let table = match Params::new(raw, allowed).and_then(|p| build(&p, &versions)) {
                Ok(t) => t,
                Err(e) => return e.into_response(),
            };
            let engine = s.engine.clone();
            s.responder
                .reply(&uri, &headers, &versions, || async move {
                    let answer = engine.sql(&table.sql).await?;
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

/// Where a figure is read: the whole city, a county or a town.
#[derive(Debug, Clone, Copy)]
enum Level {
    City,
    County,
    Town,
}

impl Level {
    fn of(county: &Option<String>, town: &Option<String>) -> Self {
        match (county, town) {
            (_, Some(_)) => Level::Town,
            (Some(_), None) => Level::County,
            (None, None) => Level::City,
        }
    }

    /// The views' `grain` of the place level, alone or cut by industry.
    fn grain(self, by_industry: bool) -> &'static str {
        match (self, by_industry) {
            (Level::City, false) => "city",
            (Level::County, false) => "county",
            (Level::Town, false) => "town",
            (Level::City, true) => "industry",
            (Level::County, true) => "county_industry",
            (Level::Town, true) => "town_industry",
        }
    }
}

/// The place filter of `county` and `town`, for a source aliased `alias`.
fn place_filter(alias: &str, county: &Option<String>, town: &Option<String>) -> String {
    let mut filter = String::new();
    if let Some(c) = county {
        filter.push_str(&format!(" AND {alias}.county_code = '{c}'"));
    }
    if let Some(t) = town {
        filter.push_str(&format!(" AND {alias}.town_code = '{t}'"));
    }
    filter
}

/// A figure's values at one place level (and industry), as rows of
/// (year, county_code, town_code, value).
fn values(
    indicator: &Indicator,
    level: Level,
    industry: Option<char>,
) -> Result<String, QueryError> {
    let Some(industry) = industry else {
        return Ok(format!(
            "SELECT year, county_code, town_code, value FROM kpi \
             WHERE metric = '{}' AND grain = '{}'",
            indicator.key,
            level.grain(false)
        ));
    };
    let (view, aggregate) = by_industry(indicator)?;
    let grain = level.grain(true);
    Ok(format!(
        "SELECT year, county_code, town_code, CAST({aggregate} AS DOUBLE) AS value FROM {view} \
         WHERE grain = '{grain}' AND industry_code = '{industry}' \
         GROUP BY year, county_code, town_code"
    ))
}

fn by_industry(indicator: &Indicator) -> Result<(&'static str, &'static str), QueryError> {
    indicator.by_industry.ok_or_else(|| {
        let with: Vec<&str> = indicators::INDICATORS
            .iter()
            .filter(|i| i.by_industry.is_some())
            .map(|i| i.key)
            .collect();
        QueryError::new(
            "bad_request",
            format!(
                "`{}` ({}) is not recorded by industry; figures by industry are {}",
                indicator.key,
                indicator.zh,
                with.join(", ")
            ),
        )
    })
}

async fn indicator_list() -> Response {
    axum::Json(indicators::catalogue()).into_response()
}

/// The industry sections (GB/T 4754-2017), for the industry filters.
fn industries(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    Ok(Table {
        sql: "SELECT code, name_zh, name_en FROM industries ORDER BY code".into(),
        format: p.format()?,
        name: "industries",
    })
}

/// The headline figures of every year at one place, with 同比.
fn overview(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (county, town) = (p.county()?, p.town()?);
    let grain = Level::of(&county, &town).grain(false);
    Ok(Table {
        sql: format!(
            "SELECT k.metric, k.year, k.value, k.previous_value, k.yoy FROM kpi_yoy k \
             WHERE k.grain = '{grain}'{} ORDER BY k.metric, k.year",
            place_filter("k", &county, &town)
        ),
        format: p.format()?,
        name: "overview",
    })
}

/// Outlines of the counties, or of the towns of `county`, as GeoJSON.
async fn regions(
    State(s): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Query(raw): Raw,
) -> Response {
    let sql = Params::new(raw, &["county"]).and_then(|p| {
        let filter = match p.county()? {
            Some(c) => format!("parent_code = '{c}' AND level IN ('town', 'park')"),
            None => "level = 'county'".to_string(),
        };
        Ok(format!(
            "SELECT code, name_zh, name_en, level, geometry_source, area_km2, centroid_lon, \
             centroid_lat, geometry FROM regions WHERE {filter} AND geometry IS NOT NULL ORDER BY code"
        ))
    });
    let (sql, versions) = match (sql, s.engine.refresh(false).await) {
        (Ok(sql), Ok(versions)) => (sql, versions),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let engine = s.engine.clone();
    s.responder
        .reply(&uri, &headers, &versions, || async move {
            let answer = engine.sql(&sql).await?;
            let collection = geometry::feature_collection(&answer)?;
            Ok(Reply {
                content_type: "application/geo+json",
                bytes: Bytes::from(collection.to_string()),
                filename: None,
            })
        })
        .await
}

/// A figure for each county (or each town of `county`) in a year, ranked.
fn map(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (indicator, year, county) = (p.metric()?, p.required_year()?, p.county()?);
    let (level, code) = match county {
        Some(_) => (Level::Town, "town_code"),
        None => (Level::County, "county_code"),
    };
    let source = values(indicator, level, p.industry()?)?;
    Ok(Table {
        sql: format!(
            "SELECT v.{code} AS code, r.name_zh, r.name_en, v.value, \
               CAST(rank() OVER (ORDER BY v.value DESC NULLS LAST) AS BIGINT) AS rank, \
               count(*) OVER () AS places \
             FROM ({source}) v LEFT JOIN regions r ON r.code = v.{code} \
             WHERE v.year = {year}{} ORDER BY rank, code",
            place_filter("v", &county, &None)
        ),
        format: p.format()?,
        name: "map",
    })
}

/// The towns with the highest and lowest values of a figure.
fn rankings(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (indicator, year, county) = (p.metric()?, p.required_year()?, p.county()?);
    let limit = p.number("limit", 1..=50, 10)?;
    let source = values(indicator, Level::Town, p.industry()?)?;
    Ok(Table {
        sql: format!(
            "SELECT * FROM ( \
               SELECT v.town_code AS code, rt.name_zh, rt.name_en, v.county_code, \
                 rc.name_zh AS county_name_zh, rc.name_en AS county_name_en, v.value, \
                 CAST(rank() OVER (ORDER BY v.value DESC) AS BIGINT) AS rank, \
                 CAST(rank() OVER (ORDER BY v.value ASC) AS BIGINT) AS rank_from_bottom, \
                 count(*) OVER () AS places \
               FROM ({source}) v LEFT JOIN regions rt ON rt.code = v.town_code \
                 LEFT JOIN regions rc ON rc.code = v.county_code \
               WHERE v.year = {year} AND v.value IS NOT NULL{}) \
             WHERE rank <= {limit} OR rank_from_bottom <= {limit} ORDER BY rank, code",
            place_filter("v", &county, &None)
        ),
        format: p.format()?,
        name: "rankings",
    })
}

/// A figure by industry in a year, for the city or one county.
fn breakdown(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (indicator, year, county) = (p.metric()?, p.required_year()?, p.county()?);
    let (view, aggregate) = by_industry(indicator)?;
    let grain = Level::of(&county, &None).grain(true);
    Ok(Table {
        sql: format!(
            "SELECT v.industry_code, i.name_zh, i.name_en, CAST({aggregate} AS DOUBLE) AS value \
             FROM {view} v LEFT JOIN industries i ON i.code = v.industry_code \
             WHERE v.grain = '{grain}' AND v.year = {year}{} \
             GROUP BY v.industry_code, i.name_zh, i.name_en \
             ORDER BY value DESC NULLS LAST, v.industry_code",
            place_filter("v", &county, &None)
        ),
        format: p.format()?,
        name: "breakdown",
    })
}

/// A figure over the years at one place (and industry), with 同比.
fn trend(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (indicator, county, town) = (p.metric()?, p.county()?, p.town()?);
    let source = values(indicator, Level::of(&county, &town), p.industry()?)?;
    Ok(Table {
        sql: format!(
            "SELECT v.year, v.value, \
               v.value / NULLIF(lag(v.value) OVER (ORDER BY v.year), 0) - 1 AS yoy \
             FROM ({source}) v WHERE true{} ORDER BY v.year",
            place_filter("v", &county, &town)
        ),
        format: p.format()?,
        name: "trend",
    })
}

/// Service sites (妈妈小屋, mediation and legal-supervision bodies, service centres) as points.
fn sites(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (year, county) = (p.required_year()?, p.county()?);
    let kind = p
        .site_kind()?
        .map(|k| format!(" AND s.kind = {k}"))
        .unwrap_or_default();
    Ok(Table {
        sql: format!(
            "SELECT s.site_id, s.kind, s.name, s.county_code, s.town_code, s.lon, s.lat, s.visits \
             FROM service_sites s WHERE s.year = {year}{}{kind} ORDER BY s.site_id",
            place_filter("s", &county, &None)
        ),
        format: p.format()?,
        name: "sites",
    })
}

/// Grassroots unions of a year, filtered and searched, a page at a time, largest first.
fn unions(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    let (year, county, town) = (p.required_year()?, p.county()?, p.town()?);
    let mut filter = place_filter("u", &county, &town);
    if let Some(i) = p.industry()? {
        filter.push_str(&format!(" AND u.industry_code = '{i}'"));
    }
    if let Some(q) = p.text("q")? {
        filter.push_str(&format!(
            " AND (strpos(u.union_name, {q}) > 0 OR strpos(u.union_uscc, {q}) > 0)"
        ));
    }
    // Up to 10,000 rows, so a whole county's list downloads as one file.
    let size = p.number("page_size", 1..=10_000, 20)?;
    let page = p.number("page", 1..=100_000, 1)?;
    Ok(Table {
        sql: format!(
            "SELECT u.union_uscc, u.union_name, u.county_code, rc.name_zh AS county_name, \
               u.town_code, rt.name_zh AS town_name, u.industry_code, i.name_zh AS industry_name, \
               u.org_type, u.founded_date, u.employees, u.members, u.migrant_members, \
               u.collective_contract, u.model_home, count(*) OVER () AS total \
             FROM grassroots_unions u LEFT JOIN regions rc ON rc.code = u.county_code \
               LEFT JOIN regions rt ON rt.code = u.town_code \
               LEFT JOIN industries i ON i.code = u.industry_code \
             WHERE u.year = {year}{filter} \
             ORDER BY u.members DESC, u.union_uscc LIMIT {size} OFFSET {}",
            u64::from(page - 1) * u64::from(size)
        ),
        format: p.format()?,
        name: "unions",
    })
}

/// Every return received, newest first, with what became of its rows.
fn submissions(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    Ok(Table {
        sql: "SELECT s.ingested_at, s.table_name, s.county_code, r.name_zh AS county_name, \
                s.period, s.source_file, s.outcome, s.rows_read, s.rows_loaded, \
                s.rows_quarantined, s.table_version \
              FROM submissions s LEFT JOIN regions r ON r.code = s.county_code \
              ORDER BY s.ingested_at DESC, s.source_file"
            .into(),
        format: p.format()?,
        name: "submissions",
    })
}

/// Quarantined rows by table, column and rule, with an example of each.
fn quarantine(p: &Params, versions: &Versions) -> Result<Table, QueryError> {
    let columns = "table_name, column_name, rule";
    // A lake where no row was ever quarantined has no quarantine table: nothing to list.
    let source = if versions.contains_key("quarantine") {
        "quarantine"
    } else {
        "(SELECT '' AS table_name, '' AS column_name, '' AS rule, '' AS message_zh, \
          '' AS message_en, '' AS source_file, 0 AS source_row WHERE false)"
    };
    Ok(Table {
        sql: format!(
            "SELECT {columns}, count(*) AS rows, min(message_zh) AS example_zh, \
               min(message_en) AS example_en, min(source_file) AS example_file, \
               min(source_row) AS example_row \
             FROM {source} GROUP BY {columns} ORDER BY rows DESC, {columns}"
        ),
        format: p.format()?,
        name: "quarantine",
    })
}

/// The published figures against the detail data.
fn reconciliation(p: &Params, _: &Versions) -> Result<Table, QueryError> {
    Ok(Table {
        sql: "SELECT * FROM reconciliation ORDER BY verdict, key".into(),
        format: p.format()?,
        name: "reconciliation",
    })
}

/// The scheduled export and its recent runs, newest first.
async fn exports(State(s): State<AppState>) -> Response {
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
         # HELP unionstat_table_version Delta version each table is read at.\n\
         # TYPE unionstat_table_version gauge\n",
        engine.running(),
        engine.memory_reserved()
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
        "not_found",
        format!(
            "nothing is served at {}; the dashboard is at / and the API is described at \
             /api/openapi.json",
            uri.path()
        ),
    )
    .into_response()
}
