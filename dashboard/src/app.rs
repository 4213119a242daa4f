//! The whole server of `unionstat serve`, built in one call so that the command line and tests
//! start it the same way: the engine over the lake, the HTTP router (dashboard, API, SQL), the
//! Postgres endpoint and the export schedule. Addresses may name port 0; [`App`] tells the ports
//! the system chose.
//!
//! ```no_run
//! # async fn run() -> Result<(), unionstat_dashboard::app::AppError> {
//! use unionstat_dashboard::app::{App, AppConfig};
//!
//! let app = App::build(AppConfig::new("data/lake", "127.0.0.1:0", "127.0.0.1:0")).await?;
//! let url = format!("http://{}/api/tables", app.http_addr());
//! app.serve_until(std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::serve::ListenerExt as _;
use tokio_rustls::TlsAcceptor;
use unionstat_export::{ExportConfig, ExportJobs};
use unionstat_query::accounts::{Directory, Role, Store};
use unionstat_query::config::QueryConfig;
use unionstat_query::pg::Credentials;
use unionstat_query::throttle::Throttle;
use unionstat_query::{Engine, ErrorCode, QueryError, Scope};

use crate::auth::Auth;
use crate::tls::TlsListener;

/// What the server is built from.
#[derive(Debug, Default)]
pub struct AppConfig {
    /// The lake: a folder or an object-store URL.
    pub lake: String,
    /// Address of the dashboard, the API and SQL over HTTP.
    pub http: String,
    /// Address of the Postgres endpoint.
    pub pg: String,
    /// The engine's limits, its result cache and the Postgres login.
    pub query: QueryConfig,
    /// The scheduled export, if any.
    pub export: Option<ExportConfig>,
    /// The Postgres login when `query` has none; without either the endpoint stays off.
    pub fallback_login: Option<Credentials>,
    /// The accounts file (default `<lake>/_system/accounts.json`).
    pub accounts: Option<PathBuf>,
    /// MiB of answered bodies the dashboard keeps (default 128).
    pub response_cache_mb: Option<usize>,
    /// The PEM certificate chain for HTTPS and Postgres TLS (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// Its PEM private key.
    pub tls_key: Option<PathBuf>,
    /// How uploaded returns are validated (ID-hash key, error threshold, headers); without it
    /// uploads are validated with the defaults and no ID-hash key, so returns that carry ID
    /// numbers are refused.
    pub ingest: Option<unionstat_ingest::Options>,
    /// MiB an uploaded return may have (default 200).
    pub max_upload_mb: Option<usize>,
    /// When returns for year Y are due, as `MM-DD` of year Y+1 (default `03-31`).
    pub return_deadline: Option<String>,
}

impl AppConfig {
    /// A server of `lake` on these addresses, with the engine's defaults and no export.
    pub fn new(lake: &str, http: &str, pg: &str) -> Self {
        AppConfig {
            lake: lake.to_string(),
            http: http.to_string(),
            pg: pg.to_string(),
            ..AppConfig::default()
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The lake could not be opened or the Postgres endpoint not set up.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The HTTP address could not be bound.
    #[error("cannot listen on {addr}: {source}; choose another --http address")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server failed while serving.
    #[error("the HTTP server stopped: {0}")]
    Serve(#[source] std::io::Error),
    /// An address beyond this machine while nobody needs to log in.
    #[error(
        "the server has no accounts, so anyone who reaches {addr} could read everything; it listens \
         only on this machine (127.0.0.1) until an account exists: add one with `unionstat users \
         add NAME --lake LAKE --role admin`, or choose a 127.0.0.1 address"
    )]
    Unprotected {
        /// The address asked for.
        addr: SocketAddr,
    },
}

/// A built server, listening, not yet serving HTTP requests.
pub struct App {
    engine: Arc<Engine>,
    kept_bytes: usize,
    tls: Option<TlsAcceptor>,
    exports: Arc<ExportJobs>,
    auth: Arc<Auth>,
    lake: String,
    listener: tokio::net::TcpListener,
    http_addr: SocketAddr,
    pg: Option<(String, SocketAddr)>,
    returns: Option<crate::submissions::Returns>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("http_addr", &self.http_addr)
            .field("pg", &self.pg)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl App {
    /// Opens the lake and its accounts, binds the HTTP address and starts the Postgres endpoint
    /// (when an account or a login is configured). Without accounts, only addresses on this
    /// machine are allowed. Must be called within a Tokio runtime.
    pub async fn build(config: AppConfig) -> Result<App, AppError> {
        let engine = Arc::new(Engine::open(&config.lake, config.query.engine_options()).await?);
        for (view, reason) in engine.missing_views() {
            tracing::warn!(view, "the view is not available yet: {reason}");
        }
        let audit = engine.enable_audit()?;
        let store = match &config.accounts {
            Some(path) => Store::new(path),
            None => Store::beside_lake(&config.lake)?,
        };
        let directory = Arc::new(Directory::open(store)?);
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some((cert.as_path(), key.as_path())),
            (None, None) => None,
            _ => {
                return Err(QueryError::new(
                    ErrorCode::BadRequest,
                    "TLS needs both tls_cert and tls_key in the config file's [serve] section",
                )
                .into());
            }
        };
        let acceptor = |alpn: &[&[u8]]| {
            tls.map(|(cert, key)| unionstat_query::tls::acceptor(cert, key, alpn))
                .transpose()
        };
        let (http_tls, pg_tls) = (
            acceptor(&[b"h2", b"http/1.1"])?,
            acceptor(&[b"postgresql"])?,
        );
        let throttle = Arc::new(Throttle::default());
        let open = directory.is_empty();
        let single = config.query.credentials().or(config.fallback_login);
        let pg = match (single, open) {
            (None, true) => None,
            (single, _) => {
                let user = single
                    .as_ref()
                    .filter(|_| open)
                    .map_or_else(|| "<account>".to_string(), |s| s.user.clone());
                let addr = unionstat_query::pg::serve(
                    engine.clone(),
                    &config.pg,
                    single,
                    directory.clone(),
                    throttle.clone(),
                    pg_tls,
                )
                .await?;
                if open && !addr.ip().is_loopback() {
                    return Err(AppError::Unprotected { addr });
                }
                Some((user, addr))
            }
        };
        let listener = tokio::net::TcpListener::bind(&config.http)
            .await
            .map_err(|source| AppError::Bind {
                addr: config.http.clone(),
                source,
            })?;
        let http_addr = listener.local_addr().map_err(|source| AppError::Bind {
            addr: config.http.clone(),
            source,
        })?;
        if open && !http_addr.ip().is_loopback() {
            return Err(AppError::Unprotected { addr: http_addr });
        }
        let mut ingest = config
            .ingest
            .unwrap_or_else(|| unionstat_ingest::Options::new(&config.lake));
        ingest.lake = config.lake.clone();
        let returns = match unionstat_ingest::workflow::Workflow::new(ingest) {
            Ok(workflow) => {
                if let Err(e) = workflow.recover().await {
                    tracing::error!(error = %e, "cannot finish a return a stopped writer left half recorded");
                }
                Some(crate::submissions::Returns {
                    workflow: Arc::new(workflow),
                    engine: engine.clone(),
                    max_upload_bytes: config.max_upload_mb.unwrap_or(200) << 20,
                    deadline: config
                        .return_deadline
                        .unwrap_or_else(|| "03-31".to_string()),
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "returns cannot be uploaded to this lake");
                None
            }
        };
        Ok(App {
            returns,
            engine,
            kept_bytes: config.response_cache_mb.unwrap_or(128) << 20,
            auth: Arc::new(Auth::new(directory, throttle, http_tls.is_some(), audit)),
            tls: http_tls,
            exports: Arc::new(ExportJobs::new(config.export)),
            lake: config.lake,
            listener,
            http_addr,
            pg,
        })
    }

    /// Where the dashboard, the API and SQL over HTTP answer.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// `https` when the server speaks TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Whether requests need a login (the server has accounts).
    pub fn requires_login(&self) -> bool {
        self.auth.required()
    }

    /// The Postgres endpoint's login user (`<account>` when each account logs in as itself) and
    /// address, when it is on.
    pub fn pg(&self) -> Option<(&str, SocketAddr)> {
        self.pg.as_ref().map(|(user, addr)| (user.as_str(), *addr))
    }

    /// Serves HTTP and runs the export schedule until `shutdown` completes, then finishes the
    /// requests in flight. The first answers of the landing page are computed at once.
    pub async fn serve_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        tokio::spawn(self.exports.clone().run_on_schedule(self.lake.clone()));
        let warm_scope = if self.auth.required() {
            // The scope the big screen and city accounts without personal data share.
            Scope {
                name: "warm-up".to_string(),
                role: Role::Viewer,
                county: None,
                pii: false,
                ..Scope::local()
            }
        } else {
            Scope::local()
        }
        .via("dashboard", None);
        let router = crate::router(
            self.engine,
            self.exports,
            self.auth,
            self.kept_bytes,
            self.returns,
        );
        tokio::spawn(crate::warm_up(router.clone(), warm_scope));
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Some(acceptor) = self.tls {
            let listener = TlsListener::new(self.listener, acceptor).map_err(AppError::Serve)?;
            // `tap_io` lets the client's address reach the handlers as it does over plain TCP.
            return axum::serve(listener.tap_io(|_| {}), service)
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(AppError::Serve);
        }
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(AppError::Serve)
    }
}
