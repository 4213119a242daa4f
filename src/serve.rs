//! `unionstat serve`: the dashboard, its JSON API and SQL over HTTP on one address, the Postgres
//! endpoint on another, and the exports the config file schedules, until Ctrl-C or SIGTERM;
//! requests in flight are finished first.

use clap::Args;
use unionstat_dashboard::app::{App, AppConfig};

use crate::config::Config;
use crate::error::Result;
use crate::sql::{LakeArgs, runtime};

/// `unionstat serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub lake: LakeArgs,
    #[command(flatten)]
    pub addresses: Addresses,
}

/// Where the servers listen: these flags, or else the config file's `[serve]` section, or else
/// the defaults.
#[derive(Debug, Args)]
pub struct Addresses {
    /// Address of the dashboard and the HTTP API [default: 127.0.0.1:8080].
    #[arg(long)]
    pub http: Option<String>,
    /// Address of the Postgres endpoint [default: 127.0.0.1:5433].
    #[arg(long)]
    pub pg: Option<String>,
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

/// Runs `unionstat serve` until interrupted.
pub fn run_serve(args: &ServeArgs) -> Result<u8> {
    let file = Config::load(args.lake.config.as_deref())?;
    let addresses = &args.addresses;
    let ingest = crate::ingest::options(&args.lake.lake, file.ingest, None)?;
    let config = AppConfig {
        ingest: Some(ingest),
        max_upload_mb: file.serve.max_upload_mb,
        return_deadline: file.serve.return_deadline,
        lake: args.lake.lake.clone(),
        http: (addresses.http.clone().or(file.serve.http))
            .unwrap_or_else(|| "127.0.0.1:8080".into()),
        pg: (addresses.pg.clone().or(file.serve.pg)).unwrap_or_else(|| "127.0.0.1:5433".into()),
        query: file.query,
        export: file.export,
        fallback_login: None,
        accounts: file.serve.accounts,
        response_cache_mb: file.serve.response_cache_mb,
        tls_cert: file.serve.tls_cert,
        tls_key: file.serve.tls_key,
    };
    runtime()?.block_on(async {
        let app = App::build(config).await?;
        match app.pg() {
            Some((user, addr)) => {
                println!("Postgres endpoint: postgresql://{user}@{addr}/datafusion")
            }
            None => println!(
                "Postgres endpoint off: add an account (`unionstat users add`), or set \
                 UNIONSTAT_PG_USER and UNIONSTAT_PG_PASSWORD for a single login"
            ),
        }
        if app.requires_login() {
            println!("Accounts: every request needs a login (`unionstat users list` shows them)");
        } else {
            println!(
                "No accounts: a single-user tool on this machine; `unionstat users add` makes it \
                 a server that needs logins"
            );
        }
        let (addr, scheme) = (app.http_addr(), app.scheme());
        println!("SQL over HTTP: POST {scheme}://{addr}/api/sql, GET {scheme}://{addr}/api/tables");
        println!("Dashboard: {scheme}://{addr}/");
        app.serve_until(shutdown_signal()).await?;
        Ok(0)
    })
}
