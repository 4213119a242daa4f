//! County returns through the browser: templates to fill in, uploads validated into staging,
//! and the review that publishes them (`/api/templates`, `/api/submissions`). A county account
//! sees, uploads and submits its own county's returns only; city and admin accounts review
//! every county's; viewers have none of it. The steps themselves are
//! [`unionstat_ingest::workflow`]'s.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Extension, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use unionstat_ingest::workflow::{Action, Actor, Refusal, Workflow};
use unionstat_query::accounts::Role;
use unionstat_query::{Engine, Scope};

/// What the submission routes share.
#[derive(Debug, Clone)]
pub struct Returns {
    /// The submissions of the lake.
    pub workflow: Arc<Workflow>,
    /// Told to pick up an approval at once.
    pub engine: Arc<Engine>,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// When returns for year Y are due: `MM-DD` of year Y+1.
    pub deadline: String,
}

/// The routes of templates and submissions.
pub fn routes(returns: Returns) -> Router {
    let limit = returns.max_upload_bytes;
    Router::new()
        .route("/api/templates/{file}", get(template))
        .route(
            "/api/submissions",
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(limit.saturating_add(64 << 10))),
        )
        .route("/api/submissions/matrix", get(matrix))
        .route("/api/submissions/{id}", get(detail))
        .route("/api/submissions/{id}/annotated.xlsx", get(annotated))
        .route("/api/submissions/{id}/original", get(original))
        .route("/api/submissions/{id}/{action}", post(act))
        .with_state(returns)
}

/// Runs a step that writes to the lake on a blocking thread of its own, driving it there with the
/// server's runtime: ingest's writes retry through async closures whose futures the compiler
/// cannot prove `Send` for every lifetime, as axum's handlers must be.
async fn writing<T: Send + 'static>(
    work: impl FnOnce(tokio::runtime::Handle) -> Result<T, unionstat_ingest::Error> + Send + 'static,
) -> Result<T, unionstat_ingest::Error> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || work(handle))
        .await
        .map_err(|e| unionstat_ingest::Error::Usage(format!("the step stopped: {e}")))?
}

/// An error as the API answers it: `{"error", "message"}` with its status.
fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = serde_json::json!({"error": code, "message": message.into()});
    (status, Json(body)).into_response()
}

fn from_ingest(e: unionstat_ingest::Error) -> Response {
    match e {
        unionstat_ingest::Error::Workflow { kind, message } => {
            let (status, code) = match kind {
                Refusal::NotFound => (StatusCode::NOT_FOUND, "not_found"),
                Refusal::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
                Refusal::Conflict => (StatusCode::CONFLICT, "conflict"),
                Refusal::BadRequest => (StatusCode::BAD_REQUEST, "bad_request"),
            };
            error(status, code, message)
        }
        unionstat_ingest::Error::Usage(message) => {
            error(StatusCode::BAD_REQUEST, "bad_request", message)
        }
        other => {
            tracing::error!(error = %other, "a submission step failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "lake", other.to_string())
        }
    }
}

/// The refusal of a viewer account, which takes no part in the returns.
struct ViewerRefused;

impl IntoResponse for ViewerRefused {
    fn into_response(self) -> Response {
        error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "viewer accounts see the dashboard only; returns are sent by county accounts and reviewed by city accounts",
        )
    }
}

/// The account as the workflow knows it; viewers take no part.
fn actor(scope: &Scope) -> Result<Actor, ViewerRefused> {
    if scope.role == Role::Viewer {
        return Err(ViewerRefused);
    }
    Ok(Actor {
        name: scope.name.clone(),
        county: scope.county().map(str::to_string),
        reviewer: matches!(scope.role, Role::City | Role::Admin),
    })
}

/// The year whose returns are being collected now: last year.
fn current_period() -> i32 {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i32;
    unionstat_ingest::normalise::iso_date(days)[..4]
        .parse::<i32>()
        .map_or(2017, |y| y - 1)
}

fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i32;
    unionstat_ingest::normalise::iso_date(days)
}

fn xlsx(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition(name)),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// `attachment` with the name in both forms browsers read (RFC 6266, RFC 5987).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Every error of an upload with its cell and what to do, in Chinese and English.
fn errors(findings: &unionstat_ingest::workflow::Findings) -> Vec<serde_json::Value> {
    findings
        .report
        .errors
        .iter()
        .zip(&findings.cells)
        .map(|(f, cell)| {
            serde_json::json!({
                "cell": cell,
                "row": f.row,
                "column": f.column,
                "header": f.header,
                "value": f.value,
                "rule": f.rule,
                "message_zh": f.rule.message_zh(),
                "message_en": f.rule.message_en(),
            })
        })
        .collect()
}

/// `GET /api/templates/{table}.xlsx?county=&period=`: the form of a table for a county and
/// year (a county account's own county; last year unless given).
async fn template(
    Extension(scope): Extension<Scope>,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let actor = match actor(&scope) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let table = file.strip_suffix(".xlsx").unwrap_or(&file);
    let Some(contract) = unionstat_tables::contract(table) else {
        let tables: Vec<&str> = unionstat_tables::CONTRACTS
            .iter()
            .map(|c| c.spec.name)
            .collect();
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no table `{table}`; templates are {}", tables.join(", ")),
        );
    };
    let county = match (params.get("county"), &actor.county) {
        (Some(asked), Some(own)) if asked != own => {
            return error(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this account sends the returns of {own} only"),
            );
        }
        (_, Some(own)) => own.clone(),
        (Some(asked), None) => asked.clone(),
        (None, None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "give the county: ?county=350802",
            );
        }
    };
    let period = match params.get("period").map(|p| p.parse::<i32>()) {
        None => current_period(),
        Some(Ok(p)) if (1949..=2100).contains(&p) => p,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "`period` is a year, e.g. 2017",
            );
        }
    };
    match unionstat_ingest::template::workbook(contract, &county, period) {
        Ok(bytes) => xlsx(
            &unionstat_ingest::template::file_name(contract, &county, period),
            bytes,
        ),
        Err(e) => from_ingest(e),
    }
}

/// `POST /api/submissions`, multipart: `file`, and `table` and `period` when the file does not
/// say. Answers the submission and what validation found.
async fn upload(
    State(returns): State<Returns>,
    Extension(scope): Extension<Scope>,
    mut form: Multipart,
) -> Response {
    let actor = match actor(&scope) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let (mut file, mut table, mut period) = (None, None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
                return if too_large {
                    error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        format!(
                            "the file is larger than the {} MB an upload may be; split the return, or ask the city federation to load it",
                            returns.max_upload_bytes >> 20
                        ),
                    )
                } else {
                    error(StatusCode::BAD_REQUEST, "bad_request", e.body_text())
                };
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return error(
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        StatusCode::PAYLOAD_TOO_LARGE
                    } else {
                        StatusCode::BAD_REQUEST
                    },
                    "too_large",
                    format!(
                        "the upload stopped: {}; an upload may be at most {} MB",
                        e.body_text(),
                        returns.max_upload_bytes >> 20
                    ),
                );
            }
        };
        match name.as_str() {
            "file" => file = Some((file_name.unwrap_or_default(), bytes)),
            "table" => table = Some(String::from_utf8_lossy(&bytes).trim().to_string()),
            "period" => period = Some(String::from_utf8_lossy(&bytes).trim().to_string()),
            _ => {}
        }
    }
    let Some((file_name, bytes)) = file else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "send the return as the multipart field `file`",
        );
    };
    if bytes.len() > returns.max_upload_bytes {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the file is larger than the {} MB an upload may be",
                returns.max_upload_bytes >> 20
            ),
        );
    }
    let table = table.filter(|t| !t.is_empty());
    let period = match period.filter(|p| !p.is_empty()).map(|p| p.parse::<i32>()) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "`period` is a year, e.g. 2017",
            );
        }
    };
    let (workflow, uploader) = (returns.workflow.clone(), actor.clone());
    let uploaded = writing(move |runtime| {
        runtime.block_on(workflow.upload(&file_name, &bytes, table, period, &uploader))
    })
    .await;
    match uploaded {
        Ok((submission, report)) => {
            let errors = returns
                .workflow
                .report(&submission.id, &actor)
                .await
                .map(|f| errors(&f))
                .unwrap_or_default();
            let status = if submission.state == unionstat_ingest::workflow::State::Refused {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CREATED
            };
            let body = serde_json::json!({
                "id": submission.id,
                "state": submission.state,
                "table": submission.table,
                "county_code": submission.county_code,
                "period": submission.period,
                "rows_loaded": submission.rows_loaded,
                "rows_quarantined": submission.rows_quarantined,
                "submission": submission,
                "report": report,
                "errors": errors,
            });
            (status, Json(body)).into_response()
        }
        Err(e) => from_ingest(e),
    }
}

/// `GET /api/submissions?state=&table=&county=&period=`: the submissions the account may see,
/// newest first.
async fn list(
    State(returns): State<Returns>,
    Extension(scope): Extension<Scope>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let actor = match actor(&scope) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    match returns.workflow.list(&actor).await {
        Ok(all) => {
            let keep = |key: &str, value: &str| params.get(key).is_none_or(|v| v == value);
            let rows: Vec<_> = all
                .into_iter()
                .filter(|s| {
                    keep("state", s.state.as_str())
                        && keep("table", &s.table)
                        && keep("county", &s.county_code)
                        && keep("period", &s.period.to_string())
                })
                .collect();
            Json(rows).into_response()
        }
        Err(e) => from_ingest(e),
    }
}

/// `GET /api/submissions/matrix?period=`: county × table for a year: the state of each cell's
/// latest return, whether one is approved, and whether it is overdue.
async fn matrix(
    State(returns): State<Returns>,
    Extension(scope): Extension<Scope>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let actor = match actor(&scope) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let all = match returns.workflow.list(&actor).await {
        Ok(a) => a,
        Err(e) => return from_ingest(e),
    };
    let period = params
        .get("period")
        .and_then(|p| p.parse::<i32>().ok())
        .unwrap_or_else(current_period);
    let due = format!("{}-{}", period + 1, returns.deadline);
    let past_due = today() > due;
    let counties: Vec<_> = unionstat_datasets::reference::counties()
        .iter()
        .filter(|c| actor.county.as_deref().is_none_or(|own| own == c.code))
        .collect();
    let mut rows = Vec::new();
    for county in counties {
        let mut cells = serde_json::Map::new();
        for contract in &unionstat_tables::CONTRACTS {
            let table = contract.spec.name;
            let mine: Vec<_> = all
                .iter()
                .filter(|s| s.county_code == county.code && s.table == table && s.period == period)
                .collect();
            let approved = mine
                .iter()
                .any(|s| s.state == unionstat_ingest::workflow::State::Approved);
            // `all` is newest first.
            let latest = mine.first();
            cells.insert(
                table.to_string(),
                serde_json::json!({
                    "state": latest.map_or("not_received", |s| s.state.as_str()),
                    "id": latest.map(|s| s.id.clone()),
                    "approved": approved,
                    "overdue": past_due && !approved,
                }),
            );
        }
        rows.push(serde_json::json!({
            "county_code": county.code,
            "county": county.name_zh,
            "tables": cells,
        }));
    }
    let tables: Vec<_> = unionstat_tables::CONTRACTS
        .iter()
        .map(|c| serde_json::json!({"name": c.spec.name, "title": c.spec.title_zh}))
        .collect();
    Json(serde_json::json!({"period": period, "due": due, "tables": tables, "counties": rows}))
        .into_response()
}

/// `GET /api/submissions/{id}`: the submission, its steps, what validation found (each error
/// with its cell), and its row count and totals beside the published ones.
async fn detail(
    State(returns): State<Returns>,
    Extension(scope): Extension<Scope>,
    Path(id): Path<String>,
) -> Response {
    let actor = match actor(&scope) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let workflow = &returns.workflow;
    let answer = async {
        let submission = workflow.get(&id, &actor).await?;
        let history = workflow.history(&id, &actor).await?;
        let findings = workflow.report(&id, &actor).await?;
        let totals = workflow.totals(&id, &actor).await?;
        Ok::<_, unionstat_ingest::Error>(serde_json::json!({
            "id": submission.id,
            "state": submission.state,
            "table": submission.table,
            "county_code": submission.county_code,
            "period": submission.period,
            "rows_loaded": submission.rows_loaded,
            "rows_quarantined": submission.rows_quarantined,
            "submission": submission,
            "history": history,
            "errors": errors(&findings),
            "report": findings.report,
            "totals": totals,
        }))
    };
    match answer.await {
        Ok(json) => Json(json).into_response(),
        Err(e) => from_ingest(e),
    }
}

/// `GET /api/submissions/{id}/annotated.xlsx`: the return with its bad cells marked.
async fn annotated(
    State(returns): State<Returns>,
    Extension(scope): Extension<Scope>,
    Path(id): Path<String>,
) -> Response {
    let actor = match actor(&scope) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let named = async {
        let s = returns.workflow.get(&id, &actor).await?;
        let bytes = returns.workflow.annotated(&id, &actor).await?;
        let stem = std::path::Path::new(&s.source_file)
            .file_stem()
            .map_or_else(|| id.clone(), |s| s.to_string_lossy().to_string());
        Ok::<_, unionstat_ingest::Error>((format!("{stem}_标注.xlsx"), bytes))
    };
    match named.await {
        Ok((name, bytes)) => xlsx(&name, bytes),
        Err(e) => from_ingest(e),
    }
}

/// `GET /api/submissions/{id}/original`: the file as uploaded (its county and city accounts).
async fn original(
    State(returns): State<Returns>,
    Extension(scope): Extension<Scope>,
    Path(id): Path<String>,
) -> Response {
    let actor = match actor(&scope) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let path = match returns.workflow.original(&id, &actor).await {
        Ok(p) => p,
        Err(e) => return from_ingest(e),
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().to_string());
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                (header::CONTENT_DISPOSITION, disposition(&name)),
                (header::CACHE_CONTROL, "private, no-store".to_string()),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "lake",
            format!("cannot read the uploaded file: {e}"),
        ),
    }
}

/// `POST /api/submissions/{id}/{submit|approve|return|withdraw}`, with `{"reason": "..."}` to
/// return one.
async fn act(
    State(returns): State<Returns>,
    Extension(scope): Extension<Scope>,
    Path((id, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let actor = match actor(&scope) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let action: Action = match action.parse() {
        Ok(a) => a,
        Err(e) => return from_ingest(e),
    };
    let reason = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(v) => v["reason"].as_str().map(str::to_string),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("the body is not JSON: {e}; send {{\"reason\": \"...\"}}"),
                );
            }
        }
    };
    let (workflow, acting) = (returns.workflow.clone(), actor.clone());
    let done =
        writing(move |runtime| runtime.block_on(workflow.act(&id, action, &acting, reason))).await;
    match done {
        Ok(submission) => {
            if matches!(action, Action::Approve | Action::Withdraw)
                && let Err(e) = returns.engine.refresh(true).await
            {
                tracing::warn!(error = %e, "the approval is published; the server picks it up at its next check");
            }
            Json(submission).into_response()
        }
        Err(e) => from_ingest(e),
    }
}
