//! `App::build`: the whole server on ports the system chooses, as `unionstat serve` starts it.

use unionstat_dashboard::app::{App, AppConfig};
use unionstat_export::ExportConfig;
use unionstat_query::pg::Credentials;

use crate::fixture::{get, lake_location};

/// A server of the test lake on ports the system chooses.
fn config() -> AppConfig {
    AppConfig::new(&lake_location(), "127.0.0.1:0", "127.0.0.1:0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_binds_port_zero_and_serves_http_and_postgres() {
    let login = Credentials::generated("analyst").expect("random source");
    let app = App::build(AppConfig {
        fallback_login: Some(login.clone()),
        ..config()
    })
    .await
    .expect("the server starts");
    let http = app.http_addr();
    let (user, pg) = app.pg().expect("a login turns the Postgres endpoint on");
    assert_eq!(user, "analyst");
    assert_ne!(http.port(), 0);
    assert_ne!(pg.port(), 0);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve_until(async {
        let _ = stopped.await;
    }));

    let health = get(http, "/healthz").await;
    assert_eq!(
        health.status,
        200,
        "{}",
        String::from_utf8_lossy(&health.body)
    );
    assert_eq!(health.json()["status"], "ok");

    let url = format!(
        "host={} port={} user={} password={} dbname=datafusion",
        pg.ip(),
        pg.port(),
        login.user,
        login.password
    );
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("the generated login is accepted");
    tokio::spawn(connection);
    let rows = client
        .simple_query("SELECT count(*) FROM grassroots_unions WHERE year = 2017")
        .await
        .expect("a query over Postgres");
    let count = rows
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .expect("a row");
    assert!(
        count.parse::<u64>().expect("a number") > 100,
        "{count} unions"
    );

    stop.send(()).expect("the server is waiting");
    server
        .await
        .expect("the server task")
        .expect("the server stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_login_the_postgres_endpoint_stays_off() {
    let app = App::build(config()).await.expect("the server starts");
    assert!(app.pg().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_use_is_refused_with_advice() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let e = App::build(AppConfig::new(&lake_location(), &addr, "127.0.0.1:0"))
        .await
        .expect_err("the port is taken");
    assert!(
        e.to_string().contains(&format!("cannot listen on {addr}"))
            && e.to_string().contains("choose another --http address"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_schedule_of_the_config_is_listed() {
    let export = ExportConfig {
        to: "exports".into(),
        schedule: "0 2 * * *".into(),
        keep: None,
        tables: None,
        views: None,
    };
    let app = App::build(AppConfig {
        export: Some(export),
        ..config()
    })
    .await
    .expect("the server starts");
    let http = app.http_addr();
    let server = tokio::spawn(app.serve_until(std::future::pending()));
    let exports = get(http, "/api/exports").await.json();
    assert_eq!(exports["schedule"], "0 2 * * *");
    assert_eq!(exports["to"], "exports");
    server.abort();
}
