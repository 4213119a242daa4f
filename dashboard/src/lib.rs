//! The leadership dashboard: a Chinese-first web UI and the JSON API behind it, both served by
//! one axum router over the query engine. The dashboard never reads Parquet itself; every number
//! it shows is the answer of a SQL statement run by [`unionstat_query::Engine`] within its guards.
//!
//! The whole server (engine, HTTP, Postgres, export schedule) is built by [`app::App::build`]:
//!
//! ```no_run
//! # async fn run() -> Result<(), unionstat_dashboard::app::AppError> {
//! use unionstat_dashboard::app::{App, AppConfig};
//!
//! let app = App::build(AppConfig::new("data/lake", "127.0.0.1:8080", "127.0.0.1:5433")).await?;
//! println!("dashboard at http://{}/", app.http_addr());
//! app.serve_until(async { tokio::signal::ctrl_c().await.unwrap_or(()) }).await?;
//! # Ok(())
//! # }
//! ```

pub mod admin;
mod api;
pub mod app;
mod assets;
pub mod auth;
mod geometry;
mod origin;
mod params;
mod respond;
pub mod submissions;
mod telemetry;
mod tls;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::{get, post};
use tower::ServiceExt as _;
use unionstat_export::ExportJobs;
use unionstat_query::{Engine, Scope};

use crate::auth::Auth;

/// Everything the dashboard serves: the web UI, its JSON API, the SQL routes of
/// [`unionstat_query::http`], `/api/openapi.json`, `/healthz` and `/metrics`, and the login
/// (`/login`, `/api/login`, `/api/logout`, `/api/me`), every request in the caller's scope
/// ([`auth`]); `exports` is the scheduled export whose runs `/api/exports` lists; answered
/// bodies of up to `kept_bytes` together are kept until the lake changes; `returns`, when the
/// lake takes uploads, serves templates and submissions ([`submissions`]).
pub fn router(
    engine: Arc<Engine>,
    exports: Arc<ExportJobs>,
    auth: Arc<Auth>,
    kept_bytes: usize,
    returns: Option<submissions::Returns>,
) -> Router {
    let state = api::AppState::new(engine.clone(), exports, kept_bytes);
    let telemetry = state.telemetry.clone();
    let logins = Router::new()
        .route("/login", get(auth::login_page))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .with_state(auth.clone());
    let returns = returns.map_or_else(Router::new, submissions::routes);
    Router::new()
        .merge(api::routes(state))
        .merge(returns)
        .merge(unionstat_query::http::router(engine))
        .merge(assets::routes())
        .merge(logins)
        .merge(admin::routes(auth.admin()))
        .route("/api/openapi.json", get(assets::openapi))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            auth,
            auth::require_login,
        ))
        .layer(axum::middleware::from_fn(origin::same_origin))
        .layer(axum::middleware::from_fn_with_state(
            telemetry,
            telemetry::record,
        ))
}

/// Answers the landing page's requests once, through `router` itself, in `scope` (the one the
/// big screen and city accounts share), so that the first person to open the dashboard after a
/// start finds its answers computed. Failures are only logged: the page computes what it needs
/// anyway.
pub async fn warm_up(router: Router, scope: Scope) {
    let get = |uri: String| {
        let router = router.clone();
        let scope = scope.clone();
        async move {
            let request = Request::get(&uri)
                .extension(scope)
                .body(Body::empty())
                .ok()?;
            let response = router.oneshot(request).await.ok()?;
            let ok = response.status().is_success();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .ok()?;
            if !ok {
                tracing::warn!(%uri, "warming up the dashboard failed: {}", String::from_utf8_lossy(&body));
            }
            Some(body)
        }
    };
    let started = std::time::Instant::now();
    let latest = get("/api/overview".into())
        .await
        .and_then(|body| serde_json::from_slice::<serde_json::Value>(&body).ok())
        .and_then(|overview| {
            overview["rows"]
                .as_array()?
                .iter()
                .filter_map(|r| r["year"].as_i64())
                .max()
        });
    let Some(year) = latest else { return };
    let metric = unionstat_query::indicators::INDICATORS[0].key;
    for uri in [
        "/api/indicators".to_string(),
        "/api/industries".to_string(),
        "/api/regions".to_string(),
        format!("/api/map?metric={metric}&year={year}"),
        format!("/api/rankings?metric={metric}&year={year}&limit=10"),
        format!("/api/breakdown?metric={metric}&year={year}"),
        format!("/api/trend?metric={metric}"),
    ] {
        get(uri).await;
    }
    tracing::info!(
        ms = started.elapsed().as_millis(),
        "the dashboard's landing page is computed"
    );
}
