//! `unionstat serve`: the dashboard, its JSON API and SQL over HTTP on one address, the Postgres
//! endpoint on another, and the exports the config file schedules, until Ctrl-C or SIGTERM;
//! requests in flight are finished first.

use std::sync::Arc;

use clap::Args;
use unionstat_dashboard::schedule::{ExportConfig, ExportJobs};
use unionstat_query::pg::Credentials;

use crate::sql::{LakeArgs, config, open, runtime};

/// `unionstat serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    #[command(flatten)]
    pub addresses: Addresses,
}

/// Where the servers listen.
#[derive(Debug, Args)]
pub struct Addresses {
    /// Address of the dashboard and the HTTP API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http: String,
    /// Address of the Postgres endpoint.
    #[arg(long, default_value = "127.0.0.1:5433")]
    pub pg: String,
}

/// Logs to stderr: ours at info (`UNIONSTAT_LOG=debug` adds a line per request), the libraries'
/// only when they warn.
fn init_logs() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let level = match std::env::var("UNIONSTAT_LOG").as_deref() {
        Ok("debug") => tracing::Level::DEBUG,
        Ok("warn") => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    };
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::WARN)
        .with_target("unionstat", level);
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("stopping: finishing the requests in flight");
}

/// Runs `unionstat serve` until interrupted; `login` stands in for a Postgres login the
/// environment and the config file do not give.
pub fn run_serve(args: &ServeArgs, login: Option<Credentials>) -> Result<u8, String> {
    init_logs();
    let config = config(&args.lake)?;
    let addresses = &args.addresses;
    runtime()?.block_on(async {
        let engine = Arc::new(open(&args.lake, &config).await?);
        match config.credentials().or(login) {
            Some(credentials) => {
                let user = credentials.user.clone();
                let pg = unionstat_query::pg::serve(engine.clone(), &addresses.pg, credentials)
                    .await
                    .map_err(|e| e.message)?;
                println!("Postgres endpoint: postgresql://{user}@{pg}/datafusion");
            }
            None => println!(
                "Postgres endpoint off: set UNIONSTAT_PG_USER and UNIONSTAT_PG_PASSWORD \
                 (or pg_user and pg_password in the config file's [query] section)"
            ),
        }
        let listener = tokio::net::TcpListener::bind(&addresses.http)
            .await
            .map_err(|e| {
                format!(
                    "cannot listen on {}: {e}; choose another --http address",
                    addresses.http
                )
            })?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("SQL over HTTP: POST http://{addr}/api/sql, GET http://{addr}/api/tables");
        println!("Dashboard: http://{addr}/");
        let exports = Arc::new(ExportJobs::new(match &args.lake.config {
            Some(path) => ExportConfig::load(path)?,
            None => None,
        }));
        tokio::spawn(exports.clone().run_on_schedule(args.lake.lake.clone()));
        let router = unionstat_dashboard::router(engine, exports);
        tokio::spawn(unionstat_dashboard::warm_up(router.clone()));
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| e.to_string())?;
        Ok(0)
    })
}
