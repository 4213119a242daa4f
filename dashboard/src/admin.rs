//! Account management for `admin` accounts, the same changes `unionstat users` makes, from the
//! dashboard's 账号管理 tab: list, add (a generated password, shown once), disable and enable,
//! a new password, a new API token. Each change is written to the accounts file under its lock
//! and to the audit.

use std::sync::Arc;

use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use unionstat_query::accounts::{Directory, NewAccount, Role};
use unionstat_query::audit::{Audit, Event};
use unionstat_query::{ErrorCode, QueryError, Scope};

/// What the account routes share.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The accounts.
    pub directory: Arc<Directory>,
    /// Where changes are recorded.
    pub audit: Option<Arc<Audit>>,
}

/// `/api/admin/users` and the actions on one account.
pub fn routes(admin: Admin) -> Router {
    Router::new()
        .route("/api/admin/users", get(list).post(add))
        .route("/api/admin/users/{name}/{action}", post(act))
        .with_state(admin)
}

fn only_admins(scope: &Scope) -> Result<(), QueryError> {
    if scope.is_admin() {
        Ok(())
    } else {
        Err(QueryError::new(
            ErrorCode::Forbidden,
            "accounts are managed by admin accounts",
        ))
    }
}

impl Admin {
    fn record(&self, scope: &Scope, what: &str, name: &str) {
        if let Some(audit) = &self.audit {
            let sql = format!("{what} {name}");
            audit.record(&Event {
                event: "account",
                user: &scope.name,
                role: Some(scope.role.as_str()),
                county: scope.county(),
                interface: "http",
                peer: scope.peer.as_deref(),
                sql: Some(&sql),
                rows: None,
                duration_ms: None,
                outcome: "ok",
                message: None,
            });
        }
    }
}

/// `GET /api/admin/users`: every account, without its secrets.
async fn list(State(admin): State<Admin>, Extension(scope): Extension<Scope>) -> Response {
    if let Err(e) = only_admins(&scope) {
        return e.into_response();
    }
    let accounts = match admin.directory.current() {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let rows: Vec<serde_json::Value> = accounts
        .accounts
        .iter()
        .map(|a| {
            serde_json::json!({
                "name": a.name,
                "role": a.role,
                "county": a.county,
                "pii": a.pii || a.role == Role::Admin,
                "state": a.usable().err().unwrap_or("active"),
                "expires": a.expires,
                "tokens": a.tokens.len(),
                "created": a.created,
                "password_changed": a.password_changed,
            })
        })
        .collect();
    Json(rows).into_response()
}

/// `POST /api/admin/users` with `{"name", "role", "county"?, "pii"?, "expires"?}`: adds the
/// account and answers its generated password, once.
async fn add(
    State(admin): State<Admin>,
    Extension(scope): Extension<Scope>,
    Json(body): Json<serde_json::Value>,
) -> Response {
    let made = (|| {
        only_admins(&scope)?;
        let text = |key: &str| body[key].as_str().map(str::to_string);
        let name = text("name")
            .ok_or_else(|| QueryError::new(ErrorCode::BadRequest, "give the account's `name`"))?;
        let role: Role = text("role")
            .ok_or_else(|| QueryError::new(ErrorCode::BadRequest, "give the account's `role`"))?
            .parse()?;
        let new = NewAccount {
            name: name.clone(),
            role,
            county: text("county").filter(|c| !c.is_empty()),
            pii: body["pii"].as_bool().unwrap_or(false),
            expires: text("expires").filter(|e| !e.is_empty()),
        };
        let password = admin.directory.store().update(|a| a.add(new, None))?;
        admin.record(&scope, "add", &name);
        Ok::<_, QueryError>(serde_json::json!({"name": name, "password": password}))
    })();
    match made {
        Ok(json) => Json(json).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/admin/users/{name}/{action}`: `disable`, `enable`, `password` (answers a new
/// generated password) or `token` (answers a new API token).
async fn act(
    State(admin): State<Admin>,
    Extension(scope): Extension<Scope>,
    Path((name, action)): Path<(String, String)>,
) -> Response {
    let done = (|| {
        only_admins(&scope)?;
        let store = admin.directory.store();
        let answer = match action.as_str() {
            "disable" | "enable" => {
                if action == "disable" && name == scope.name {
                    return Err(QueryError::new(
                        ErrorCode::BadRequest,
                        "an account cannot disable itself; ask another admin",
                    ));
                }
                store.update(|a| a.set_disabled(&name, action == "disable"))?;
                serde_json::json!({"name": name, "state": if action == "disable" { "disabled" } else { "active" }})
            }
            "password" => {
                let password = store.update(|a| a.set_password(&name, None))?;
                serde_json::json!({"name": name, "password": password})
            }
            "token" => {
                let token = store.update(|a| a.new_token(&name))?;
                serde_json::json!({"name": name, "token": token})
            }
            other => {
                return Err(QueryError::new(
                    ErrorCode::NotFound,
                    format!("no action `{other}`; actions are disable, enable, password, token"),
                ));
            }
        };
        admin.record(&scope, &action, &name);
        Ok(answer)
    })();
    match done {
        Ok(json) => Json(json).into_response(),
        Err(e) => e.into_response(),
    }
}
