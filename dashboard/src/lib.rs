//! The leadership dashboard: a Chinese-first web UI and the JSON API behind it, both served by
//! one axum router over the query engine. The dashboard never reads Parquet itself; every number
//! it shows is the answer of a SQL statement run by [`unionstat_query::Engine`] within its guards.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use unionstat_query::{Engine, EngineOptions};
//!
//! let engine = Arc::new(Engine::open("data/lake", EngineOptions::default()).await?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, unionstat_dashboard::router(engine)).await?;
//! # Ok(())
//! # }
//! ```

mod api;
mod assets;
mod geometry;
mod indicators;
mod params;
mod respond;
mod telemetry;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use unionstat_query::Engine;

pub use indicators::INDICATORS;

/// Everything the dashboard serves: the web UI, its JSON API, the SQL routes of
/// [`unionstat_query::http`], `/api/openapi.json`, `/healthz` and `/metrics`.
pub fn router(engine: Arc<Engine>) -> Router {
    let state = api::AppState::new(engine.clone());
    let telemetry = state.telemetry.clone();
    Router::new()
        .merge(api::routes(state))
        .merge(unionstat_query::http::router(engine))
        .merge(assets::routes())
        .route("/api/openapi.json", get(assets::openapi))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            telemetry,
            telemetry::record,
        ))
}
