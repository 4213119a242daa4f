//! Hostile statements against one `unionstat serve`, over HTTP and both Postgres protocols:
//! each is answered, refused or bounded with its code, settings sent by one session change
//! nothing for others, and the server ends alive, its peak memory within the stated margin of
//! its limit.

use std::time::{Duration, Instant};

use crate::http;
use crate::server::Server;

/// The engine's memory limit for this server, in MiB.
const LIMIT_MB: u64 = 512;
/// The query timeout for this server, in seconds.
const TIMEOUT_S: u64 = 3;
/// How far past its limit the process may go: what DataFusion does not account for (inputs
/// being read, answers being encoded, the allocator's caches, the process itself).
const MARGIN_MB: u64 = 1024;

/// A statement and the outcomes it may have: `ok` or an error code.
fn corpus() -> Vec<(String, &'static [&'static str])> {
    let chain = |op: &str, n: usize| format!("SELECT {}", vec!["1"; n].join(op));
    let conditions = |op: &str, n: usize| {
        let terms: Vec<String> = (0..n).map(|i| format!("code = '{i}'")).collect();
        format!("SELECT count(*) FROM regions WHERE {}", terms.join(op))
    };
    let statements: Vec<(String, &'static [&'static str])> = vec![
        // Catalogs clients read.
        ("SELECT count(*) FROM pg_catalog.pg_roles".into(), &["ok"]),
        ("SELECT rolname FROM pg_catalog.pg_roles".into(), &["ok"]),
        (
            "SELECT * FROM pg_catalog.pg_user".into(),
            &["ok", "unknown_table"],
        ),
        (
            "SELECT count(*) FROM information_schema.columns".into(),
            &["ok"],
        ),
        // Depth and width.
        (chain(" + ", 900), &["ok"]),
        (chain(" + ", 2_000), &["invalid_sql"]),
        (chain(" || ", 3_000), &["invalid_sql"]),
        (conditions(" OR ", 2_000), &["invalid_sql"]),
        (conditions(" AND ", 3_000), &["invalid_sql"]),
        (
            vec!["SELECT 1"; 5_000].join(" UNION ALL "),
            &["invalid_sql"],
        ),
        (
            format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000)),
            &["invalid_sql"],
        ),
        (chain(" + ", 100_000), &["invalid_sql"]),
        // Memory.
        (
            "SELECT length(repeat('x', 1000000000))".into(),
            &["memory_limit"],
        ),
        (
            "SELECT length(repeat(repeat('x', 1000000), 2000))".into(),
            &["memory_limit"],
        ),
        (
            "SELECT length(lpad('x', 2000000000, 'y'))".into(),
            &["memory_limit"],
        ),
        (
            "SELECT count(*) FROM unnest(range(1, 200000000))".into(),
            &["memory_limit"],
        ),
        (
            "SELECT cardinality(array_repeat(1, 1000000000))".into(),
            &["memory_limit"],
        ),
        (
            "SELECT length(string_agg(repeat('x', 10000), ',')) FROM unnest(range(1, 100000))"
                .into(),
            &["memory_limit"],
        ),
        (
            "SELECT a.union_uscc, b.union_uscc, count(*) FROM grassroots_unions a \
             CROSS JOIN grassroots_unions b GROUP BY 1, 2"
                .into(),
            &["memory_limit", "timeout"],
        ),
        ("SELECT length(repeat('x', 1000))".into(), &["ok"]),
        // Rows and time.
        (
            "SELECT * FROM grassroots_unions a, regions b".into(),
            &["too_many_rows"],
        ),
        (
            "SELECT count(*) FROM generate_series(1, 100000000000)".into(),
            &["timeout"],
        ),
        // Writes, files, other statements.
        ("DROP TABLE regions".into(), &["read_only"]),
        ("COPY regions TO '/tmp/regions.csv'".into(), &["read_only"]),
        ("SELECT * FROM '/etc/passwd'".into(), &["file_access"]),
        (
            "SELECT 1; DROP TABLE regions".into(),
            &["invalid_sql", "read_only"],
        ),
    ];
    statements
}

/// The code of an answer over HTTP: `ok` or the error's code.
fn over_http(addr: &str, sql: &str) -> String {
    let r = http::request(addr, "POST", "/api/sql", &[], sql.as_bytes());
    if r.status == 200 {
        "ok".into()
    } else {
        r.json()["error"].as_str().unwrap_or("no code").to_string()
    }
}

/// The code of a Postgres error (the endpoint writes `code: message`), or `ok`.
fn code_of<T>(result: Result<T, tokio_postgres::Error>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e
            .as_db_error()
            .map(|d| d.message().split(':').next().unwrap_or("").to_string())
            .unwrap_or_else(|| format!("no code ({e})")),
    }
}

fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb >> 10)
}

#[test]
fn hostile_statements_are_answered_refused_or_bounded_and_the_server_lives() {
    let limit = LIMIT_MB.to_string();
    let timeout = TIMEOUT_S.to_string();
    let mut server = Server::serve_with(
        &[],
        &[
            ("UNIONSTAT_PG_USER", "analyst"),
            ("UNIONSTAT_PG_PASSWORD", "a hostile test"),
            ("UNIONSTAT_QUERY_MEMORY_LIMIT_MB", &limit),
            ("UNIONSTAT_QUERY_TIMEOUT_SECONDS", &timeout),
            ("UNIONSTAT_QUERY_RESULT_CACHE", "false"),
        ],
    );
    let pg_addr = server
        .printed
        .iter()
        .find_map(|l| l.split("@").nth(1))
        .and_then(|rest| rest.split('/').next())
        .expect("the Postgres address is printed")
        .to_string();
    let (host, port) = pg_addr.split_once(':').expect("host:port");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let client = runtime.block_on(async {
        let (client, connection) = tokio_postgres::Config::new()
            .host(host)
            .port(port.parse().expect("port"))
            .user("analyst")
            .password("a hostile test")
            .dbname("datafusion")
            .connect(tokio_postgres::NoTls)
            .await
            .expect("the Postgres endpoint accepts the login");
        tokio::spawn(connection);
        client
    });

    let mut failures = Vec::new();
    for (sql, allowed) in corpus() {
        let shown: String = sql.chars().take(80).collect();
        let started = Instant::now();
        let http = over_http(&server.addr, &sql);
        let took = started.elapsed();
        let simple = code_of(runtime.block_on(client.simple_query(&sql)));
        let extended = code_of(runtime.block_on(client.query(sql.as_str(), &[])));
        for (door, code) in [
            ("HTTP", &http),
            ("simple", &simple),
            ("extended", &extended),
        ] {
            if !allowed.contains(&code.as_str()) {
                failures.push(format!("{door}: {shown} gave {code}, expected {allowed:?}"));
            }
        }
        // Timeouts are honoured within 2 s of the limit.
        if http == "timeout" && took > Duration::from_secs(TIMEOUT_S + 2) {
            failures.push(format!("{shown} timed out after {took:?}"));
        }
        assert!(server.alive(), "the server died at {shown}");
    }

    // Settings: only harmless ones, and only for the session that sets them.
    for (set, allowed) in [
        (
            "SET \"datafusion\".runtime.memory_limit = '1K'",
            "read_only",
        ),
        ("SET datafusion.runtime.memory_limit = '100G'", "read_only"),
        (
            "SET \"datafusion\".runtime.temp_directory = '/tmp/x'",
            "read_only",
        ),
        ("SET datafusion.execution.batch_size = 1", "read_only"),
        ("SET timezone = 'Mars/Phobos'", "read_only"),
        ("SET TIME ZONE 'Mars/Phobos'", "read_only"),
        ("SET statement_timeout = 0", "read_only"),
        ("SET client_encoding = 'LATIN1'", "read_only"),
        ("SET application_name = 'hostile'", "ok"),
        ("SET extra_float_digits = 3", "ok"),
        ("SET DateStyle = 'ISO'", "ok"),
        ("SET client_encoding TO 'UTF8'", "ok"),
    ] {
        let simple = code_of(runtime.block_on(client.simple_query(set)));
        let extended = code_of(runtime.block_on(client.execute(set, &[])));
        for (door, code) in [("simple", simple), ("extended", extended)] {
            if code != allowed {
                failures.push(format!("{door}: {set} gave {code}, expected {allowed}"));
            }
        }
    }
    for sql in [
        "SELECT count(*) FROM regions",
        "SELECT now() IS NOT NULL",
        "SELECT count(*) FROM grassroots_unions",
    ] {
        let code = over_http(&server.addr, sql);
        if code != "ok" {
            failures.push(format!("after the settings, {sql} gave {code} over HTTP"));
        }
    }
    let rows = runtime
        .block_on(client.simple_query("SHOW application_name"))
        .expect("SHOW");
    assert!(
        rows.iter().any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some("hostile"))),
        "the session keeps its own application_name"
    );

    // A page of another site cannot make a browser run SQL here.
    for headers in [
        [("Origin", "http://evil.example")],
        [("Sec-Fetch-Site", "cross-site")],
    ] {
        let r = http::request(&server.addr, "POST", "/api/sql", &headers, b"SELECT 1");
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(r.json()["error"], "cross_origin");
    }
    let own = format!("http://{}", server.addr);
    let r = http::request(
        &server.addr,
        "POST",
        "/api/sql",
        &[("Origin", &own)],
        b"SELECT 1",
    );
    assert_eq!(r.status, 200, "{}", r.text());

    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(server.alive(), "the server is alive at the end");
    let peak = peak_rss_mb(server.pid());
    eprintln!("hostile corpus: peak RSS {peak} MiB with a {LIMIT_MB} MiB limit");
    assert!(
        peak < LIMIT_MB + MARGIN_MB,
        "peak RSS {peak} MiB passed the limit {LIMIT_MB} MiB plus {MARGIN_MB} MiB"
    );
}

#[test]
fn an_empty_postgres_password_is_refused_at_start() {
    let (_, lake) = crate::server::demo_lake();
    let out = crate::unionstat()
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--pg",
            "127.0.0.1:0",
            "--lake",
        ])
        .arg(lake)
        .env("UNIONSTAT_PG_USER", "analyst")
        .env("UNIONSTAT_PG_PASSWORD", "")
        .output()
        .expect("unionstat runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("empty user or password"), "{stderr}");
}
