//! SQL over HTTP: `POST /api/sql` with the SQL as the body answers in JSON, CSV, Arrow IPC or
//! Parquet (`?format=` or `Accept`); `GET /api/tables` lists tables and views with their columns.
//! Errors are JSON: `{"error": "<stable code>", "message": "<what happened, what to do>"}`.
//! Each request runs in the caller's [`Scope`], which the server's login layer puts in the
//! request; without one the routes answer 500 rather than read anything.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::engine::Engine;
use crate::error::{ErrorCode, QueryError};
use crate::output::{self, Format};
use crate::policy::Scope;

impl IntoResponse for QueryError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({"error": self.code, "message": self.message});
        (status, Json(body)).into_response()
    }
}

/// The SQL routes, to be served alone or merged into the dashboard's router.
pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/api/sql", post(sql))
        .route("/api/tables", get(tables))
        .with_state(engine)
}

async fn sql(
    State(engine): State<Arc<Engine>>,
    Extension(scope): Extension<Scope>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, QueryError> {
    if !scope.may_write_sql() {
        return Err(QueryError::new(
            ErrorCode::Forbidden,
            format!(
                "a {} account sees the dashboard only; SQL is for city, county and admin accounts",
                scope.role
            ),
        ));
    }
    let format = match params.get("format") {
        Some(f) => f.parse()?,
        None => headers
            .get(header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .and_then(Format::from_accept)
            .unwrap_or(Format::Json),
    };
    let sql = std::str::from_utf8(&body).map_err(|_| {
        QueryError::new(
            ErrorCode::BadRequest,
            "the request body must be SQL text in UTF-8",
        )
    })?;
    if sql.trim().is_empty() {
        return Err(QueryError::new(
            ErrorCode::BadRequest,
            "the request body is empty; send the SQL as the body of the POST",
        ));
    }
    let answer = engine.sql(&scope, sql).await?;
    let bytes = output::write(&answer, format)?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], bytes).into_response())
}

async fn tables(State(engine): State<Arc<Engine>>) -> Result<Response, QueryError> {
    Ok(Json(engine.tables().await?).into_response())
}
