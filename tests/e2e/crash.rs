//! A lake made whole after `unionstat ingest`, or `unionstat serve` approving a return, is
//! killed between the return's facts commit and its `submissions` and review rows: whoever next
//! writes (the rerun, the restarted server) finishes the interrupted return instead of loading it
//! again, so nothing is missing and nothing is quarantined twice.

use std::path::Path;

use base64::Engine as _;

use crate::http::request;
use crate::server::Server;
use crate::{succeeded, unionstat};

fn count(lake: &Path, sql: &str) -> String {
    let out = unionstat()
        .args(["sql", "--lake"])
        .arg(lake)
        .args(["--format", "csv"])
        .arg(sql)
        .output()
        .expect("unionstat runs");
    succeeded(&out).lines().nth(1).unwrap_or("").to_string()
}

#[test]
fn an_ingest_killed_between_commits_is_finished_by_the_next() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    succeeded(
        &unionstat()
            .args([
                "generate",
                "--scale",
                "0.2",
                "--seed",
                "5",
                "--dirty-rate",
                "0.03",
                "--out",
            ])
            .arg(&data)
            .output()
            .expect("unionstat runs"),
    );
    let returns = data.join("returns").join("2017");
    let key = dir.path().join("id.key");
    let ingest = |lake: &Path, crash: bool| {
        let mut command = unionstat();
        command
            .args(["ingest", "--lake"])
            .arg(lake)
            .arg("--id-hash-key-file")
            .arg(&key)
            .arg(&returns);
        if crash {
            command.env("UNIONSTAT_CRASH_AFTER_FACTS", lake);
        }
        command.output().expect("unionstat runs")
    };
    let (whole, crashed) = (dir.path().join("whole"), dir.path().join("crashed"));
    // Exit 2 says that some returns were rejected, as some of these dirty ones are.
    let plain = ingest(&whole, false);
    assert!(
        plain.status.code().is_some_and(|c| c <= 2),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let killed = ingest(&crashed, true);
    assert!(
        killed.status.code().is_none(),
        "the ingest was to be killed: {killed:?}"
    );
    assert!(
        std::fs::read_dir(crashed.join("_system").join("pending"))
            .is_ok_and(|mut d| d.next().is_some()),
        "the killed ingest left its journal"
    );
    let rerun = ingest(&crashed, false);
    assert!(
        rerun.status.code().is_some_and(|c| c <= 2),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    for sql in [
        "SELECT count(*) FROM quarantine",
        "SELECT count(*) FROM submissions",
        "SELECT count(DISTINCT content_hash) FROM submissions",
        "SELECT count(*) FROM submission_events WHERE state = 'approved'",
        "SELECT count(*) FROM grassroots_unions",
        "SELECT count(*) FROM hardship_households",
    ] {
        assert_eq!(count(&crashed, sql), count(&whole, sql), "{sql}");
    }
    let quarantined = count(&whole, "SELECT count(*) FROM quarantine");
    assert!(
        quarantined.parse::<u64>().is_ok_and(|n| n > 0),
        "{quarantined}"
    );
}

/// `Authorization` for `name` with `password`.
fn basic(name: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"))
    )
}

#[test]
fn a_server_killed_during_an_approval_restarts_consistent() {
    let dir = tempfile::tempdir().expect("tmp");
    let (data, lake) = (dir.path().join("data"), dir.path().join("lake"));
    succeeded(
        &unionstat()
            .args([
                "generate",
                "--scale",
                "0.2",
                "--seed",
                "1",
                "--dirty-rate",
                "0.05",
                "--out",
            ])
            .arg(&data)
            .output()
            .expect("unionstat runs"),
    );
    let key = (
        "UNIONSTAT_ID_HASH_KEY",
        "a test key for the crash of a server",
    );
    let file = data.join("returns/2017/350803永定区/基层工会组织情况_2017.csv");
    let bytes = std::fs::read(&file).expect("the return");
    std::fs::remove_file(&file).expect("held back");
    let ingested = unionstat()
        .args(["ingest", "--lake"])
        .arg(&lake)
        .arg(data.join("reference"))
        .arg(data.join("returns/2017"))
        .env(key.0, key.1)
        .output()
        .expect("unionstat runs");
    assert!(ingested.status.code().is_some(), "{ingested:?}");
    for (name, role, county) in [
        ("steward", "county", Some("350803")),
        ("reviewer", "city", None),
    ] {
        crate::returns::add_account(&lake, name, role, county, "a password of this test");
    }
    let steward = basic("steward", "a password of this test");
    let reviewer = basic("reviewer", "a password of this test");
    let lake_text = lake.to_string_lossy().to_string();
    let mut server = Server::serve_lake(
        &lake,
        &[key, ("UNIONSTAT_CRASH_AFTER_FACTS", lake_text.as_str())],
    );

    // Uploaded and submitted (the staging lake is not the one named: no crash there).
    let boundary = "crash-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"基层工会组织情况_2017.csv\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let uploaded = request(
        &server.addr,
        "POST",
        "/api/submissions",
        &[("Authorization", &steward), ("Content-Type", &content_type)],
        &body,
    );
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
    let uploaded = uploaded.json();
    let id = uploaded["id"].as_str().expect("an id").to_string();
    let quarantined = uploaded["errors"].as_array().map_or(0, Vec::len);
    assert!(quarantined > 0, "{uploaded}");
    let submit = request(
        &server.addr,
        "POST",
        &format!("/api/submissions/{id}/submit"),
        &[("Authorization", &steward)],
        b"",
    );
    assert_eq!(submit.status, 200, "{}", submit.text());

    // The approval kills the server between its commits.
    let mut stream = std::net::TcpStream::connect(&server.addr).expect("connects");
    std::io::Write::write_all(
        &mut stream,
        format!(
            "POST /api/submissions/{id}/approve HTTP/1.1\r\nHost: {}\r\nAuthorization: {reviewer}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            server.addr
        )
        .as_bytes(),
    )
    .expect("sends");
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
    assert!(
        !answer.starts_with("HTTP/1.1 200"),
        "the server answered: {answer}"
    );
    for _ in 0..100 {
        if !server.alive() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!server.alive(), "the server was to be killed");
    let pending = lake.join("_system").join("pending");
    assert!(
        std::fs::read_dir(&pending).is_ok_and(|mut d| d.next().is_some()),
        "the approval left its journal"
    );

    // Restarted, the server finishes the approval: facts, quarantine once, the submissions
    // row and the approval, as the staged return had them.
    let server = Server::serve_lake(&lake, &[key]);
    assert!(
        std::fs::read_dir(&pending).is_ok_and(|mut d| d.next().is_none()),
        "the journal is done"
    );
    let this = format!("submission_id = '{id}'");
    let staged = lake.join("_system/submissions").join(&id).join("staged");
    assert_eq!(
        count(
            &lake,
            &format!("SELECT count(*) FROM quarantine WHERE {this}")
        ),
        count(&staged, "SELECT count(*) FROM quarantine")
    );
    assert_eq!(
        count(
            &lake,
            &format!("SELECT count(*) FROM submissions WHERE {this}")
        ),
        "1"
    );
    assert_eq!(
        count(
            &lake,
            &format!("SELECT count(*) FROM submission_events WHERE {this} AND state = 'approved'")
        ),
        "1"
    );
    assert_eq!(
        count(
            &lake,
            "SELECT count(*) FROM grassroots_unions WHERE county_code = '350803' AND year = 2017"
        ),
        uploaded["rows_loaded"].to_string()
    );
    let detail = request(
        &server.addr,
        "GET",
        &format!("/api/submissions/{id}"),
        &[("Authorization", &reviewer)],
        b"",
    );
    assert_eq!(detail.json()["state"], "approved", "{}", detail.text());
}
