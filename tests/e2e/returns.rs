//! A county's return through the dashboard as people use it, in Chromium: the 永定区 steward
//! logs in, downloads the template, uploads a return with bad rows and reads its errors in
//! Chinese, submits it; the city reviewer returns it with a reason; the steward uploads the
//! correction and submits it; the reviewer approves it, and only then does the map's figure for
//! 永定区 change. The 新罗区 steward sees none of it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::server::Server;
use crate::{succeeded, unionstat};

const KEY: &str = "a test key for the returns in this test";

pub(crate) fn add_account(
    lake: &Path,
    name: &str,
    role: &str,
    county: Option<&str>,
    password: &str,
) {
    let mut command = unionstat();
    command.args(["users", "add", name, "--role", role]);
    if let Some(c) = county {
        command.args(["--county", c]);
    }
    let mut child = command
        .args(["--password-stdin", "--lake"])
        .arg(lake)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("unionstat runs");
    std::io::Write::write_all(
        &mut child.stdin.take().expect("stdin"),
        format!("{password}\n").as_bytes(),
    )
    .expect("the password is sent");
    succeeded(&child.wait_with_output().expect("users add ends"));
}

fn log_in(browser: &Browser, addr: &str, name: &str, password: &str) {
    browser.go(&format!("http://{addr}/login"));
    browser.wait_for("document.getElementById('name')", "the login page");
    browser.script(&format!(
        "document.getElementById('name').value = '{name}'; \
         document.getElementById('password').value = '{password}'; return null;"
    ));
    browser.click("#submit");
    browser.wait_for(
        "location.pathname === '/' && document.body.dataset.ready === 'yes'",
        "the dashboard after the login",
    );
}

/// The answer of `GET path` as the page's session sees it: status and JSON.
fn fetch(browser: &Browser, path: &str) -> (u64, Value) {
    let answer = browser.session(
        "POST",
        "/execute/async",
        json!({"script": "const done = arguments[arguments.length - 1]; \
            fetch(arguments[0]).then(async r => done([r.status, r.headers.get('content-type'), \
            (r.headers.get('content-type') || '').includes('json') ? await r.json() : null]));",
            "args": [path]}),
    );
    (answer[0].as_u64().expect("a status"), answer[2].clone())
}

/// Chooses `file` in the upload form and uploads it; waits for the answer.
fn upload(browser: &Browser, file: &Path) {
    browser.script("document.getElementById('r-summary').textContent = ''; return null;");
    let found = browser.session(
        "POST",
        "/element",
        json!({"using": "css selector", "value": "#r-file"}),
    );
    let id = found
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .expect("the file input")
        .to_string();
    browser.session(
        "POST",
        &format!("/element/{id}/value"),
        json!({"text": file.to_string_lossy()}),
    );
    browser.click("#r-upload");
    browser.wait_for(
        "document.getElementById('r-summary').textContent !== ''",
        "the upload's answer",
    );
}

/// The 永定区 figure of grassroots unions on the map for 2017, as the page's session sees it.
fn map_figure(browser: &Browser) -> Value {
    let (status, map) = fetch(browser, "/api/map?metric=grassroots_unions&year=2017");
    assert_eq!(status, 200, "{map}");
    map["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["code"] == "350803")
        .map_or(Value::Null, |r| r["value"].clone())
}

fn return_file(data: &Path) -> PathBuf {
    data.join("returns")
        .join("2017")
        .join("350803永定区")
        .join("基层工会组织情况_2017.csv")
}

#[test]
fn a_county_return_goes_from_upload_to_approval_in_the_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let (clean, dirty, lake) = (
        dir.path().join("clean"),
        dir.path().join("dirty"),
        dir.path().join("lake"),
    );
    for (out, rate) in [(&clean, "0"), (&dirty, "0.05")] {
        succeeded(
            &unionstat()
                .args([
                    "generate",
                    "--scale",
                    "0.2",
                    "--seed",
                    "1",
                    "--dirty-rate",
                    rate,
                ])
                .arg("--out")
                .arg(out)
                .output()
                .expect("unionstat runs"),
        );
    }
    // Everything but 永定区's 2017 union return, which comes through the browser.
    let held_back = return_file(&clean);
    let moved = dir.path().join("held-back.csv");
    std::fs::rename(&held_back, &moved).expect("held back");
    let ingested = unionstat()
        .args(["ingest", "--lake"])
        .arg(&lake)
        .arg(clean.join("reference"))
        .arg(clean.join("returns"))
        .env("UNIONSTAT_ID_HASH_KEY", KEY)
        .output()
        .expect("unionstat runs");
    assert!(
        ingested.status.code().is_some_and(|c| c <= 1),
        "{ingested:?}"
    );
    std::fs::rename(&moved, &held_back).expect("put back");
    let passwords = [
        ("steward", "county", Some("350803"), "永定区-填报-2017"),
        ("reviewer", "city", None, "市总-审核-2017"),
        ("xinluo", "county", Some("350802"), "新罗区-填报-2017"),
    ];
    for (name, role, county, password) in passwords {
        add_account(&lake, name, role, county, password);
    }
    let server = Server::serve_lake(&lake, &[("UNIONSTAT_ID_HASH_KEY", KEY)]);
    let addr = server.addr.clone();

    // The steward: the template, then a return with bad rows.
    log_in(&browser, &addr, "steward", passwords[0].3);
    let none = |v: &Value| v.as_f64().unwrap_or(0.0) == 0.0;
    assert!(none(&map_figure(&browser)), "no 2017 unions yet");
    browser.click("[data-tab=returns]");
    browser.wait_for(
        "document.querySelectorAll('#r-matrix tbody tr').length === 1",
        "the steward's own row of the progress matrix",
    );
    let (status, _) = fetch(
        &browser,
        "/api/templates/grassroots_unions.xlsx?period=2017",
    );
    assert_eq!(status, 200);
    upload(&browser, &return_file(&dirty));
    let summary = browser.script("return document.getElementById('r-summary').textContent;");
    assert!(
        summary.as_str().is_some_and(|s| s.contains("有误")),
        "{summary}"
    );
    let errors = browser.script(
        "return [...document.querySelectorAll('#r-errors tbody tr')].map(r => \
         [...r.cells].map(c => c.textContent));",
    );
    let errors = errors.as_array().expect("rows");
    assert!(!errors.is_empty());
    for row in errors {
        let cell = row[0].as_str().unwrap_or("");
        // A CSV return's cells are named by column and line, as Excel shows the file.
        let letters = cell.trim_end_matches(|c: char| c.is_ascii_digit());
        assert!(
            !letters.is_empty()
                && letters.len() < cell.len()
                && letters.chars().all(|c| c.is_ascii_uppercase()),
            "{row}"
        );
        assert!(
            row[3]
                .as_str()
                .is_some_and(|m| m.contains('请') || m.contains('不')),
            "{row}"
        );
    }
    let annotated = browser.script("return document.getElementById('r-annotated').href;");
    let (status, _) = fetch(&browser, annotated.as_str().expect("a link"));
    assert_eq!(status, 200);
    browser.screenshot("returns-errors");
    browser.click("#r-submit");
    browser.wait_for(
        "document.getElementById('r-submit').hidden",
        "the submission",
    );
    browser.click("#logout");
    browser.wait_for("location.pathname === '/login'", "the login page");

    // The reviewer returns it with a reason.
    log_in(&browser, &addr, "reviewer", passwords[1].3);
    browser.click("[data-tab=returns]");
    browser.wait_for(
        "document.querySelector('#r-list button[data-act=return]')",
        "the submitted return in the reviewer's list",
    );
    browser.script("window.prompt = () => '请改正标红的单元格后重新上报'; return null;");
    browser.click("#r-list button[data-act=return]");
    browser.wait_for(
        "document.querySelector('#r-list button[data-act=return]') === null",
        "the return sent back",
    );
    browser.click("#logout");
    browser.wait_for("location.pathname === '/login'", "the login page");

    // The steward sees why, uploads the correction and submits it.
    log_in(&browser, &addr, "steward", passwords[0].3);
    let (_, list) = fetch(&browser, "/api/submissions?state=returned");
    assert_eq!(list[0]["comment"], "请改正标红的单元格后重新上报", "{list}");
    browser.click("[data-tab=returns]");
    browser.wait_for(
        "document.getElementById('r-list').rows.length > 1",
        "the list",
    );
    upload(&browser, &return_file(&clean));
    browser.click("#r-submit");
    browser.wait_for(
        "document.getElementById('r-submit').hidden",
        "the submission",
    );
    assert!(
        none(&map_figure(&browser)),
        "nothing counts before approval"
    );
    browser.click("#logout");
    browser.wait_for("location.pathname === '/login'", "the login page");

    // The 新罗区 steward sees none of 永定区's submissions.
    log_in(&browser, &addr, "xinluo", passwords[2].3);
    let (status, theirs) = fetch(&browser, "/api/submissions");
    assert_eq!(status, 200);
    assert!(
        theirs
            .as_array()
            .expect("a list")
            .iter()
            .all(|s| s["county_code"] == "350802"),
        "{theirs}"
    );
    browser.click("#logout");
    browser.wait_for("location.pathname === '/login'", "the login page");

    // The reviewer approves it: now the map counts it.
    log_in(&browser, &addr, "reviewer", passwords[1].3);
    browser.click("[data-tab=returns]");
    browser.wait_for(
        "document.querySelector('#r-list button[data-act=approve]')",
        "the corrected return in the reviewer's list",
    );
    browser.click("#r-list button[data-act=approve]");
    browser.wait_for(
        "document.querySelector('#r-list button[data-act=approve]') === null",
        "the approval",
    );
    browser.wait_for(
        "[...document.querySelectorAll('#r-matrix [data-state]')].some(b => b.dataset.state === 'approved')",
        "the matrix after the approval",
    );
    browser.screenshot("returns-review");
    let figure = map_figure(&browser);
    assert!(figure.as_f64().is_some_and(|v| v > 0.0), "{figure}");
    let errors = browser.console_errors();
    assert!(
        errors.iter().all(|e| e.contains("401")),
        "console errors: {errors:?}"
    );
}
