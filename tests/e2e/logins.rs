//! Accounts as an administrator sets them up with the CLI, and the analysts' own clients against
//! them: `curl` and `psql` over TLS, a county account through `psql` and `unionstat sql --as`,
//! and a server without accounts refusing to listen beyond this machine.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::server::{Server, demo_lake};
use crate::{succeeded, unionstat};

/// `unionstat users add NAME ARGS... --password-stdin` into the accounts file `accounts`.
fn add(accounts: &Path, name: &str, password: &str, args: &[&str]) {
    let (_, lake) = demo_lake();
    let mut child = unionstat()
        .args(["users", "add", name, "--password-stdin", "--lake"])
        .arg(lake)
        .args(args)
        .env("UNIONSTAT_SERVE_ACCOUNTS", accounts)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unionstat runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("the password is sent");
    succeeded(&child.wait_with_output().expect("users add ends"));
}

fn psql(port: &str, user: &str, password: &str, options: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user={user} dbname=datafusion {options}"
        ))
        .args(["-X", "-A", "-t", "-c", sql])
        .env("PGPASSWORD", password)
        .output()
        .expect("psql runs (scripts/setup installs it)")
}

#[test]
fn curl_and_psql_reach_the_server_over_tls_each_as_its_account() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    succeeded(
        &Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
            .args([
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl runs (scripts/setup installs it)"),
    );
    let accounts = dir.path().join("accounts.json");
    add(
        &accounts,
        "it",
        "the admin's password 1",
        &["--role", "admin"],
    );
    add(
        &accounts,
        "yongding",
        "the county's password 1",
        &["--role", "county", "--county", "350803"],
    );
    add(
        &accounts,
        "screen",
        "the screen's password 1",
        &["--role", "viewer"],
    );
    let listed = succeeded(
        &unionstat()
            .args(["users", "list", "--lake"])
            .arg(&demo_lake().1)
            .env("UNIONSTAT_SERVE_ACCOUNTS", &accounts)
            .output()
            .expect("unionstat runs"),
    );
    assert!(
        listed.contains("yongding\tcounty\t350803\t-\tactive"),
        "{listed}"
    );

    let accounts_env = accounts.to_string_lossy().into_owned();
    let (cert_env, key_env) = (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
    );
    let mut server = Server::serve_with(
        &[],
        &[
            ("UNIONSTAT_SERVE_ACCOUNTS", &accounts_env),
            ("UNIONSTAT_SERVE_TLS_CERT", &cert_env),
            ("UNIONSTAT_SERVE_TLS_KEY", &key_env),
        ],
    );
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.starts_with("Dashboard: https://")),
        "{:?}",
        server.printed
    );
    let pg_port = server
        .printed
        .iter()
        .find_map(|l| l.strip_prefix("Postgres endpoint: postgresql://<account>@127.0.0.1:"))
        .and_then(|rest| rest.split('/').next())
        .expect("the Postgres address")
        .to_string();

    // curl checks the certificate; plain HTTP to the same port gets no answer.
    let curl = |args: &[&str]| {
        Command::new("curl")
            .args(["-s", "--max-time", "30", "--cacert"])
            .arg(&cert)
            .args(args)
            .output()
            .expect("curl runs")
    };
    let url = format!("https://{}/api/sql", server.addr);
    let answer = succeeded(&curl(&[
        "-u",
        "yongding:the county's password 1",
        "-d",
        "SELECT DISTINCT county_code FROM grassroots_unions",
        &url,
    ]));
    let json: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(
        json["rows"],
        serde_json::json!([{"county_code": "350803"}]),
        "{answer}"
    );
    let login = succeeded(&curl(&[
        "-i",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"name": "it", "password": "the admin's password 1"}"#,
        &format!("https://{}/api/login", server.addr),
    ]));
    let cookie = login
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let plain = Command::new("curl")
        .args(["-s", "--max-time", "10"])
        .arg(format!("http://{}/healthz", server.addr))
        .output()
        .expect("curl runs");
    assert!(
        !String::from_utf8_lossy(&plain.stdout).contains("\"ok\""),
        "plain HTTP must not be answered"
    );

    // psql verifies the certificate, logs in as the county and sees its county only.
    let tls = format!("sslmode=verify-full sslrootcert={}", cert.display());
    let mine = psql(
        &pg_port,
        "yongding",
        "the county's password 1",
        &tls,
        "SELECT DISTINCT county_code FROM enterprises UNION SELECT DISTINCT county_code FROM union_coverage WHERE county_code IS NOT NULL",
    );
    assert_eq!(succeeded(&mine).trim(), "350803");
    let info = psql(&pg_port, "it", "the admin's password 1", &tls, "\\conninfo");
    assert!(succeeded(&info).contains("SSL"), "{}", succeeded(&info));
    let viewer = psql(
        &pg_port,
        "screen",
        "the screen's password 1",
        &tls,
        "SELECT 1",
    );
    assert!(!viewer.status.success());
    assert!(
        String::from_utf8_lossy(&viewer.stderr).contains("viewer account"),
        "{}",
        String::from_utf8_lossy(&viewer.stderr)
    );
    let wrong = psql(&pg_port, "it", "not the password", &tls, "SELECT 1");
    assert!(!wrong.status.success());
    server.stop();

    // The CLI checks a policy as the account would see it.
    let counted = succeeded(
        &unionstat()
            .args(["sql", "--format", "csv", "--as", "yongding", "--lake"])
            .arg(&demo_lake().1)
            .arg("SELECT count(DISTINCT county_code) AS n FROM grassroots_unions")
            .env("UNIONSTAT_SERVE_ACCOUNTS", &accounts)
            .output()
            .expect("unionstat runs"),
    );
    assert_eq!(counted.lines().nth(1), Some("1"));
}

#[test]
fn without_accounts_the_server_listens_only_on_this_machine() {
    let (_, lake) = demo_lake();
    let out = unionstat()
        .args([
            "serve",
            "--http",
            "0.0.0.0:0",
            "--pg",
            "127.0.0.1:0",
            "--lake",
        ])
        .arg(lake)
        .env("UNIONSTAT_SERVE_ACCOUNTS", crate::server::no_accounts())
        .output()
        .expect("unionstat runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("has no accounts") && stderr.contains("unionstat users add"),
        "{stderr}"
    );
}
