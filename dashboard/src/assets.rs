//! The web UI's files, embedded in the binary so the dashboard runs offline from one file.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX: &str = include_str!("../web/index.html");
const APP_JS: &str = include_str!("../web/app.js");
const APP_CSS: &str = include_str!("../web/app.css");
const ECHARTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/echarts.min.js"));
const OPENAPI: &str = include_str!("openapi.json");

fn file(content_type: &'static str, cache: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

/// Our own files are revalidated on each load (they change with the binary); the pinned ECharts
/// build is kept for a day.
pub fn routes() -> Router {
    const FRESH: &str = "no-cache";
    Router::new()
        .route(
            "/",
            get(|| async { file("text/html; charset=utf-8", FRESH, INDEX.as_bytes()) }),
        )
        .route(
            "/app.js",
            get(|| async { file("text/javascript; charset=utf-8", FRESH, APP_JS.as_bytes()) }),
        )
        .route(
            "/app.css",
            get(|| async { file("text/css; charset=utf-8", FRESH, APP_CSS.as_bytes()) }),
        )
        .route(
            "/vendor/echarts.min.js",
            get(|| async {
                file(
                    "text/javascript; charset=utf-8",
                    "public, max-age=86400",
                    ECHARTS,
                )
            }),
        )
}

/// The OpenAPI 3.1 description of the HTTP API.
pub async fn openapi() -> Response {
    file("application/json", "no-cache", OPENAPI.as_bytes())
}
