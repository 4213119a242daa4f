//! Who is asking: every request but `/healthz` and the login page carries a login, and runs in
//! that account's [`Scope`], which the handlers hand to the engine.
//!
//! - People log in on `/login` (Chinese first) and get a session cookie (`HttpOnly`,
//!   `SameSite=Strict`, `Secure` under TLS); a request that changes something with that cookie
//!   must also carry the session's CSRF token in `X-CSRF-Token` (the page reads it from `/api/me`).
//! - Scripts send `Authorization: Basic` (`curl -u NAME:PASSWORD`) or `Authorization: Bearer
//!   TOKEN` (`unionstat users token NAME`).
//! - Unauthenticated API calls get `401` JSON, pages a redirect to the login page; forbidden ones
//!   `403` JSON. Failed logins are slowed down per account and per address and logged.
//! - While the server has no accounts it is a single-user tool on this machine: every request
//!   runs as [`Scope::local`] (and the server refuses to listen beyond loopback, see `app`).
//!
//! Sessions live in memory: a restart logs everyone out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use unionstat_query::accounts::{Account, Directory, random_bytes};
use unionstat_query::audit::Audit;
use unionstat_query::pg::throttled;
use unionstat_query::throttle::{self, Throttle};
use unionstat_query::{ErrorCode, QueryError, Scope};

/// The session cookie's name.
pub const COOKIE: &str = "unionstat_session";
/// The header that carries the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends after this long without a request...
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// ... and at the latest after this long.
const LONGEST: Duration = Duration::from_secs(24 * 3600);
/// Sessions kept at most; the oldest go first.
const MAX_SESSIONS: usize = 10_000;
/// Verified Basic logins kept, so a script's every request does not pay for argon2 again.
const MAX_VERIFIED: usize = 1_024;

#[derive(Debug, Clone)]
struct Session {
    name: String,
    csrf: String,
    /// The account's password hash as of the login: a new password (a new salted hash, however
    /// soon after) ends the session.
    password: String,
    created: Instant,
    seen: Instant,
}

/// Logins, sessions and the throttle of one server.
#[derive(Debug)]
pub struct Auth {
    directory: Arc<Directory>,
    throttle: Arc<Throttle>,
    sessions: Mutex<HashMap<String, Session>>,
    verified: Mutex<HashMap<String, (String, String)>>,
    secure: bool,
    audit: Option<Arc<Audit>>,
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn error(code: ErrorCode, message: impl Into<String>) -> Response {
    QueryError::new(code, message).into_response()
}

fn unauthorized(message: &str) -> Response {
    let mut response = error(ErrorCode::Unauthorized, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"unionstat\""),
    );
    response
}

/// How the caller proved who they are.
enum Proof {
    Session(String),
    Basic(String, String),
    Bearer(String),
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn proof(headers: &HeaderMap) -> Option<Proof> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            return Some(Proof::Bearer(rest.trim().to_string()));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())?;
            let (name, password) = decoded.split_once(':')?;
            return Some(Proof::Basic(name.to_string(), password.to_string()));
        }
        return None;
    }
    cookie(headers, COOKIE).map(Proof::Session)
}

/// The client's address as the audit and the throttle name it.
fn peer_of(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
}

/// What deciding who asks needs of a request (a request's body cannot be held across a wait).
struct Asked {
    headers: HeaderMap,
    method: Method,
    path: String,
    target: String,
    peer: Option<String>,
}

impl Asked {
    fn of(request: &Request) -> Self {
        Asked {
            headers: request.headers().clone(),
            method: request.method().clone(),
            path: request.uri().path().to_string(),
            target: request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string(),
            peer: peer_of(request),
        }
    }
}

/// Paths served without a login.
fn open_path(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/login" | "/api/login" | "/api/me" | "/app.css"
    )
}

impl Auth {
    /// The logins of `directory`; `secure` when the server speaks TLS (cookies get `Secure`);
    /// logins are written to `audit` when there is one.
    pub fn new(
        directory: Arc<Directory>,
        throttle: Arc<Throttle>,
        secure: bool,
        audit: Option<Arc<Audit>>,
    ) -> Self {
        Auth {
            directory,
            throttle,
            sessions: Mutex::new(HashMap::new()),
            verified: Mutex::new(HashMap::new()),
            secure,
            audit,
        }
    }

    /// What the account routes need: the accounts and the audit.
    pub fn admin(&self) -> crate::admin::Admin {
        crate::admin::Admin {
            directory: self.directory.clone(),
            audit: self.audit.clone(),
        }
    }

    fn audit_login(&self, peer: Option<&str>, outcome: Result<&Scope, (&str, &QueryError)>) {
        if let Some(audit) = &self.audit {
            audit.login("http", peer, outcome);
        }
    }

    /// Whether logins are needed: the server has accounts.
    pub fn required(&self) -> bool {
        !self.directory.is_empty()
    }

    /// The account with this name and password, slowed down after failures; the refusal
    /// otherwise, as the client should get it.
    async fn password_login(
        self: &Arc<Self>,
        name: &str,
        password: &str,
        peer: Option<&str>,
    ) -> Result<Account, QueryError> {
        let mut keys = vec![throttle::user_key(name)];
        keys.extend(peer.map(throttle::addr_key));
        if let Some(wait) = self.throttle.wait(&keys) {
            return Err(throttled(wait));
        }
        let accounts = self.directory.current()?;
        let remembered = sha256_hex(&format!("{name}\u{0}{password}"));
        let known = self
            .verified
            .lock()
            .ok()
            .and_then(|v| v.get(&remembered).cloned());
        let account = match known {
            // The stored hash, not the time of the change: two changes within one second
            // (the time's resolution) must still end the old password. Each hash has a salt of
            // its own, so a new password, even the same one again, is a new hash.
            Some((n, hash)) => accounts.get(&n).filter(|a| a.password == hash).cloned(),
            None => None,
        };
        let fresh = account.is_none();
        let account = match account {
            Some(a) => Some(a),
            None => {
                // argon2 takes tens of milliseconds of one core: off the async threads.
                let (accounts, name, password) =
                    (accounts.clone(), name.to_string(), password.to_string());
                tokio::task::spawn_blocking(move || {
                    accounts.verify_password(&name, &password).cloned()
                })
                .await
                .map_err(|e| QueryError::new(ErrorCode::Internal, e.to_string()))?
            }
        };
        let Some(account) = account else {
            self.throttle.failed(&keys);
            tracing::warn!(user = name, peer, interface = "http", "login failed");
            let e = QueryError::new(ErrorCode::Unauthorized, "wrong account name or password");
            self.audit_login(peer, Err((name, &e)));
            return Err(e);
        };
        if let Err(why) = account.usable() {
            let e = QueryError::new(
                ErrorCode::Unauthorized,
                format!("the account {name} is {why}; ask the federation's IT"),
            );
            self.audit_login(peer, Err((name, &e)));
            return Err(e);
        }
        self.throttle.succeeded(&keys[..1]);
        if fresh {
            self.audit_login(peer, Ok(&account.scope()));
        }
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= MAX_VERIFIED {
                verified.clear();
            }
            verified.insert(remembered, (account.name.clone(), account.password.clone()));
        }
        Ok(account)
    }

    /// A new session for `account`: its cookie's value and its CSRF token.
    fn open_session(&self, account: &Account) -> Result<(String, String), QueryError> {
        let token = hex::encode(random_bytes::<32>()?);
        let csrf = hex::encode(random_bytes::<16>()?);
        let now = Instant::now();
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|_, s| s.seen.elapsed() < IDLE && s.created.elapsed() < LONGEST);
            if sessions.len() >= MAX_SESSIONS
                && let Some(oldest) = sessions
                    .iter()
                    .min_by_key(|(_, s)| s.seen)
                    .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
            sessions.insert(
                sha256_hex(&token),
                Session {
                    name: account.name.clone(),
                    csrf: csrf.clone(),
                    password: account.password.clone(),
                    created: now,
                    seen: now,
                },
            );
        }
        Ok((token, csrf))
    }

    /// The session of cookie `token`, if it is current; refreshes its idle time.
    fn session(&self, token: &str) -> Option<Session> {
        let mut sessions = self.sessions.lock().ok()?;
        let key = sha256_hex(token);
        let session = sessions.get_mut(&key)?;
        if session.seen.elapsed() >= IDLE || session.created.elapsed() >= LONGEST {
            sessions.remove(&key);
            return None;
        }
        session.seen = Instant::now();
        Some(session.clone())
    }

    fn close_session(&self, token: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(&sha256_hex(token));
        }
    }

    fn set_cookie(&self, token: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The account a request proves, or the response refusing it.
    async fn caller(self: &Arc<Self>, request: &Asked) -> Result<Account, Response> {
        let peer = request.peer.clone();
        let pages = !request.path.starts_with("/api/")
            && request.path != "/metrics"
            && request.method == Method::GET;
        let Some(proof) = proof(&request.headers) else {
            return Err(if pages {
                Redirect::to(&format!("/login?next={}", percent(&request.target))).into_response()
            } else {
                unauthorized(
                    "log in first: open /login in a browser, or send `Authorization: Basic` \
                     (curl -u NAME:PASSWORD) or `Authorization: Bearer TOKEN`",
                )
            });
        };
        let accounts = self
            .directory
            .current()
            .map_err(IntoResponse::into_response)?;
        let account = match proof {
            Proof::Basic(name, password) => self
                .password_login(&name, &password, peer.as_deref())
                .await
                .map_err(IntoResponse::into_response)?,
            Proof::Bearer(token) => match accounts.by_token(&token) {
                Some(a) => a.clone(),
                None => {
                    let keys: Vec<String> = peer.iter().map(|p| throttle::addr_key(p)).collect();
                    if let Some(wait) = self.throttle.wait(&keys) {
                        return Err(throttled(wait).into_response());
                    }
                    self.throttle.failed(&keys);
                    tracing::warn!(peer, interface = "http", "unknown API token");
                    let message =
                        "the API token is not known; make one with `unionstat users token NAME`";
                    let e = QueryError::new(ErrorCode::Unauthorized, message);
                    self.audit_login(peer.as_deref(), Err(("", &e)));
                    return Err(unauthorized(message));
                }
            },
            Proof::Session(token) => {
                let Some(session) = self.session(&token) else {
                    return Err(if pages {
                        Redirect::to("/login").into_response()
                    } else {
                        unauthorized("the session has ended; log in again")
                    });
                };
                let unsafe_method =
                    !matches!(request.method, Method::GET | Method::HEAD | Method::OPTIONS);
                let token_sent = request
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok());
                if unsafe_method && token_sent != Some(session.csrf.as_str()) {
                    return Err(error(
                        ErrorCode::Forbidden,
                        "this request changes something but lacks the session's CSRF token \
                         (X-CSRF-Token, from GET /api/me); reload the page",
                    ));
                }
                match accounts.get(&session.name) {
                    Some(a) if a.password == session.password => a.clone(),
                    _ => {
                        self.close_session(&token);
                        return Err(unauthorized("the session has ended; log in again"));
                    }
                }
            }
        };
        if let Err(why) = account.usable() {
            return Err(unauthorized(&format!(
                "the account {} is {why}; ask the federation's IT",
                account.name
            )));
        }
        Ok(account)
    }
}

/// `text` safe inside a query string.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The layer that puts the caller's [`Scope`] into every request, or refuses it.
pub async fn require_login(
    State(auth): State<Arc<Auth>>,
    mut request: Request,
    next: Next,
) -> Response {
    // The server's own requests (warming up the landing page) carry their scope already; a
    // client cannot set a request's extensions.
    if request.extensions().get::<Scope>().is_some() {
        return next.run(request).await;
    }
    let peer = peer_of(&request);
    if !auth.required() {
        request
            .extensions_mut()
            .insert(Scope::local().via("http", peer));
        return next.run(request).await;
    }
    if open_path(request.uri().path()) {
        return next.run(request).await;
    }
    let account = match auth.caller(&Asked::of(&request)).await {
        Ok(account) => account,
        Err(response) => return response,
    };
    let scope = account.scope().via("http", peer);
    if request.uri().path() == "/metrics" && !scope.is_admin() {
        return error(ErrorCode::Forbidden, "/metrics is for admin accounts");
    }
    request.extensions_mut().insert(scope);
    next.run(request).await
}

/// `POST /api/login`: a form (`name`, `password`, `next`) from the login page, answered with a
/// redirect, or JSON (`{"name", "password"}`), answered with the session's CSRF token.
pub async fn login(State(auth): State<Arc<Auth>>, request: Request) -> Response {
    let peer = peer_of(&request);
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let Ok(body) = axum::body::to_bytes(request.into_body(), 64 << 10).await else {
        return error(ErrorCode::BadRequest, "the login request is too large");
    };
    let fields: HashMap<String, String> = if form {
        url_decoded(&body)
    } else {
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .map(|o| {
                o.into_iter()
                    .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (Some(name), Some(password)) = (fields.get("name"), fields.get("password")) else {
        return error(
            ErrorCode::BadRequest,
            "send the account's `name` and `password` (a form, or JSON)",
        );
    };
    let next = fields
        .get("next")
        .filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .cloned()
        .unwrap_or_else(|| "/".to_string());
    if !auth.required() {
        return error(
            ErrorCode::BadRequest,
            "this server has no accounts yet, so nobody needs to log in; add one with `unionstat users add`",
        );
    }
    let account = match auth.password_login(name, password, peer.as_deref()).await {
        Ok(account) => account,
        Err(e) if form => {
            let reason = if e.code == ErrorCode::Throttled {
                "wait"
            } else {
                "failed"
            };
            return Redirect::to(&format!("/login?{reason}=1&next={}", percent(&next)))
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let (token, csrf) = match auth.open_session(&account) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    tracing::info!(user = account.name, peer, interface = "http", "logged in");
    let mut response = if form {
        Redirect::to(&next).into_response()
    } else {
        Json(me_json(&account.scope(), Some(&csrf))).into_response()
    };
    response.headers_mut().insert(
        header::SET_COOKIE,
        auth.set_cookie(&token, LONGEST.as_secs()),
    );
    response
}

/// `POST /api/logout`: ends the session.
pub async fn logout(State(auth): State<Arc<Auth>>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, COOKIE) {
        auth.close_session(&token);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, auth.set_cookie("", 0));
    response
}

fn me_json(scope: &Scope, csrf: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "name": scope.name,
        "role": scope.role.as_str(),
        "county": scope.county(),
        "pii": scope.pii,
        "sql": scope.may_write_sql(),
        "csrf": csrf,
    })
}

/// `GET /api/me`: who is logged in (and the session's CSRF token), or 401.
pub async fn me(State(auth): State<Arc<Auth>>, request: Request) -> Response {
    if !auth.required() {
        let mut me = me_json(&Scope::local(), None);
        me["accounts"] = false.into();
        return Json(me).into_response();
    }
    let csrf = cookie(request.headers(), COOKIE)
        .and_then(|t| auth.session(&t))
        .map(|s| s.csrf);
    let asked = Asked::of(&request);
    drop(request);
    match auth.caller(&asked).await {
        Ok(account) => Json(me_json(&account.scope(), csrf.as_deref())).into_response(),
        Err(response) if response.status().is_redirection() => unauthorized("not logged in"),
        Err(response) => response,
    }
}

fn url_decoded(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// `GET /login`: the login page, in Chinese with English beside it.
pub async fn login_page() -> Html<&'static str> {
    Html(include_str!("../web/login.html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_cookies_are_read_as_browsers_send_them() {
        let fields = url_decoded(b"name=%E6%96%B0%E7%BD%97&password=a+b%26c&next=%2Fmap%3Fx%3D1");
        assert_eq!(fields["name"], "新罗");
        assert_eq!(fields["password"], "a b&c");
        assert_eq!(fields["next"], "/map?x=1");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("lang=zh; unionstat_session=abc; other=1"),
        );
        assert_eq!(cookie(&headers, COOKIE).as_deref(), Some("abc"));
        assert_eq!(
            percent("/api/map?metric=x&y=中"),
            "/api/map%3Fmetric%3Dx%26y%3D%E4%B8%AD"
        );
    }
}
