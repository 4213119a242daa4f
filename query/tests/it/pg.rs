//! The Postgres endpoint with real clients: tokio-postgres and `psql`.

use std::net::SocketAddr;
use std::process::Command;

use std::sync::Arc;

use unionstat_query::accounts::{Directory, Store};
use unionstat_query::pg::{self, Credentials};
use unionstat_query::throttle::Throttle;

use crate::fixture;

const USER: &str = "analyst";
const PASSWORD: &str = "龙岩-secret";

async fn serve() -> SocketAddr {
    let engine = fixture::engine().await;
    let credentials = Credentials {
        user: USER.into(),
        password: PASSWORD.into(),
    };
    // No accounts: the one configured login.
    let none = Store::new(std::env::temp_dir().join("unionstat-it-no-accounts/accounts.json"));
    pg::serve(
        engine,
        "127.0.0.1:0",
        Some(credentials),
        Arc::new(Directory::open(none).expect("no accounts")),
        Arc::new(Throttle::default()),
        None,
    )
    .await
    .expect("Postgres endpoint")
}

async fn connect(
    addr: SocketAddr,
    password: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let config = format!(
        "host={} port={} user={USER} password='{password}' dbname=datafusion",
        addr.ip(),
        addr.port()
    );
    let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

#[tokio::test(flavor = "multi_thread")]
async fn tokio_postgres_logs_in_and_queries_the_views() {
    let addr = serve().await;
    let client = connect(addr, PASSWORD).await.expect("login");
    let rows = client
        .query(
            "SELECT year, members FROM union_coverage WHERE grain = 'city' AND year >= $1 ORDER BY year",
            &[&2016_i64],
        )
        .await
        .expect("prepared query");
    let years: Vec<(i64, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(years.len(), 2);
    assert_eq!(years[1], (2017, 514_000));

    let simple = client
        .simple_query("SELECT count(*) FROM regions WHERE level = 'county'")
        .await
        .expect("simple query");
    let count = simple.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(count.as_deref(), Some("7"));

    for sql in [
        "DROP TABLE regions",
        "INSERT INTO industries VALUES ('Z', 'x', 'y')",
    ] {
        let e = client.simple_query(sql).await.expect_err(sql);
        let db = e.as_db_error().expect("a server error");
        assert_eq!(db.code().code(), "25006", "{sql}: {db:?}");
        assert!(db.message().contains("read-only"), "{db:?}");
    }
    let e = client
        .query("DELETE FROM regions", &[])
        .await
        .expect_err("prepared DELETE");
    assert_eq!(
        e.as_db_error().expect("server error").code().code(),
        "25006"
    );
    let still = client
        .query_one("SELECT 1::BIGINT", &[])
        .await
        .expect("still answering");
    assert_eq!(still.get::<_, i64>(0), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_refused() {
    let addr = serve().await;
    let Err(e) = connect(addr, "not the password").await else {
        panic!("a wrong password was accepted");
    };
    let text = e.to_string();
    assert!(
        text.contains("password") || e.as_db_error().is_some(),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn psql_lists_tables_describes_one_and_queries() {
    if Command::new("psql").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "psql is missing; .ci/run installs postgresql-client"
        );
        eprintln!("psql not installed: skipping the psql session (CI installs it)");
        return;
    }
    let addr = serve().await;
    let url = format!(
        "postgresql://{USER}@{}:{}/datafusion",
        addr.ip(),
        addr.port()
    );
    let psql = |command: &'static str| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let out = Command::new("psql")
                .args([url.as_str(), "-X", "-v", "ON_ERROR_STOP=1", "-c", command])
                .env("PGPASSWORD", PASSWORD)
                .env("PGCONNECT_TIMEOUT", "10")
                .output()
                .expect("psql runs");
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            let stderr = String::from_utf8_lossy(&out.stderr).to_string();
            (out.status.success(), stdout, stderr)
        })
    };
    let (ok, out, err) = psql("\\dt").await.expect("psql");
    assert!(ok, "\\dt failed: {err}");
    assert!(
        out.contains("grassroots_unions") && out.contains("regions"),
        "{out}"
    );
    let (ok, out, err) = psql("\\d grassroots_unions").await.expect("psql");
    assert!(ok, "\\d failed: {err}");
    assert!(out.contains("members") && out.contains("bigint"), "{out}");
    let (ok, out, err) = psql("SELECT name_zh FROM regions WHERE code = '350802'")
        .await
        .expect("psql");
    assert!(ok, "{err}");
    assert!(out.contains("新罗区"), "{out}");
    let (ok, _, err) = psql("CREATE TABLE t (a INT)").await.expect("psql");
    assert!(!ok);
    assert!(err.contains("read-only"), "{err}");
}
