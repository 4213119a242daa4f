//! The dashboard in headless Chromium, driven through chromedriver (WebDriver) as a person uses
//! it: it loads without console errors, draws the seven counties, drills into a county's towns on
//! a click, shows the same KPI numbers as SQL, and switches to English. Screenshots are saved in
//! `target/tmp/screenshots/` for people to look at.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::dashboard::sql;
use crate::http::request;
use crate::server::Server;

/// A chromedriver process and one browser session.
pub(crate) struct Browser {
    driver: Child,
    addr: String,
    session: String,
}

impl Browser {
    /// A headless Chromium, or `None` (with a notice) where none is installed and `CI` is unset.
    pub(crate) fn start() -> Option<Browser> {
        let installed = Command::new("chromedriver")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !installed {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromedriver is missing; scripts/setup installs chromium and chromium-driver"
            );
            eprintln!("NOTICE: browser tests skipped: no chromedriver (scripts/setup installs it)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr = format!("127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1920,1080",
            "--lang=zh-CN",
            "--disable-dev-shm-usage",
        ];
        let mut options = json!({"args": args});
        if std::path::Path::new("/usr/bin/chromium").exists() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
        };
        let created = browser.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": options,
                "goog:loggingPrefs": {"browser": "ALL"},
            }}}),
        );
        browser.session = created["sessionId"]
            .as_str()
            .expect("a session")
            .to_string();
        Some(browser)
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let body = body.to_string();
        let r = request(
            &self.addr,
            method,
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        let answer = r.json();
        assert_eq!(r.status, 200, "{method} {path}: {answer}");
        answer["value"].clone()
    }

    pub(crate) fn session(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    pub(crate) fn go(&self, url: &str) {
        self.session("POST", "/url", json!({"url": url}));
    }

    pub(crate) fn script(&self, script: &str) -> Value {
        self.session(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
    }

    /// Waits until `condition` (a JavaScript expression) is true.
    pub(crate) fn wait_for(&self, condition: &str, what: &str) {
        let started = Instant::now();
        while self.script(&format!("return !!({condition});")) != json!(true) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "timed out waiting: {what}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn click(&self, css: &str) {
        let found = self.session(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        let id = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("an element")
            .to_string();
        self.session("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// A real mouse click at (x, y) in the page.
    fn click_at(&self, x: i64, y: i64) {
        self.session(
            "POST",
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                "actions": [
                    {"type": "pointerMove", "duration": 0, "origin": "viewport", "x": x, "y": y},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerUp", "button": 0},
                ]}]}),
        );
    }

    pub(crate) fn screenshot(&self, name: &str) {
        // Charts animate into place for about a second.
        std::thread::sleep(Duration::from_millis(1500));
        let png = self.session("GET", "/screenshot", json!({}));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a PNG"))
            .expect("base64");
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), bytes).expect("screenshot written");
    }

    /// Console messages at SEVERE level since the last call.
    pub(crate) fn console_errors(&self) -> Vec<String> {
        let log = self.session("POST", "/se/log", json!({"type": "browser"}));
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(
                &self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                b"",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// How the UI writes a count in Chinese: 万 from ten thousand, with at most two decimals.
fn chinese_count(v: f64, unit: &str) -> String {
    if v >= 1e4 {
        let text = format!("{:.2}", v / 1e4);
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("{text}万{unit}")
    } else {
        let n = v.round() as i64;
        let text = if n >= 1000 {
            format!("{},{:03}", n / 1000, n % 1000)
        } else {
            n.to_string()
        };
        format!("{text}{unit}")
    }
}

#[test]
fn the_dashboard_draws_longyan_and_drills_into_a_county() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let server = Server::serve();
    let started = Instant::now();
    browser.go(&format!("http://{}/", server.addr));
    browser.wait_for("document.body.dataset.ready", "the first render");
    assert_eq!(
        browser.script("return document.body.dataset.ready;"),
        json!("yes"),
        "{}",
        browser.script("return document.getElementById('map-error').textContent;")
    );
    eprintln!(
        "map drawn {} ms after navigation",
        started.elapsed().as_millis()
    );
    browser.screenshot("dashboard-zh");

    // Seven counties drawn, each with a value.
    let map = "echarts.getInstanceByDom(document.getElementById('map'))";
    let drawn = browser.script(&format!(
        "const o = {map}.getOption(); return [echarts.getMap(o.geo[0].map).geoJSON.features.length, \
         o.series[0].data.filter(d => d.value !== null).length];"
    ));
    assert_eq!(drawn, json!([7, 7]));

    // The KPI cards hold the kpi view's numbers for the latest year, written as Chinese readers expect.
    let kpi = sql(
        &server.addr,
        "SELECT metric, value FROM kpi WHERE grain = 'city' AND year = 2017",
    );
    let cards = browser.script(
        "return [...document.querySelectorAll('.kpi')].map(k => [k.dataset.metric, k.dataset.value, \
         k.querySelector('.value').textContent]);",
    );
    let cards = cards.as_array().expect("cards");
    assert_eq!(cards.len(), 13);
    for card in cards {
        let metric = card[0].as_str().expect("metric");
        let shown: f64 = card[1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("a value");
        let computed = kpi
            .iter()
            .find(|r| r["metric"] == metric)
            .and_then(|r| r["value"].as_f64())
            .unwrap_or_else(|| panic!("{metric} not in kpi"));
        assert_eq!(shown, computed, "{metric}");
        match metric {
            "members" => assert_eq!(card[2], json!(chinese_count(computed, "人"))),
            "grassroots_unions" => assert_eq!(card[2], json!(chinese_count(computed, "个"))),
            _ => {}
        }
    }

    // A click on 新罗区 (at its centroid on screen) shows its towns.
    let xinluo = browser.script(&format!(
        "const c = {map}; const r = document.getElementById('map').getBoundingClientRect(); \
         const f = echarts.getMap('longyan-city').geoJSON.features.find(f => f.properties.code === '350802'); \
         const p = c.convertToPixel({{geoIndex: 0}}, [f.properties.centroid_lon, f.properties.centroid_lat]); \
         return [r.left + p[0], r.top + p[1]];"
    ));
    let (x, y) = (
        xinluo[0].as_f64().expect("x") as i64,
        xinluo[1].as_f64().expect("y") as i64,
    );
    browser.click_at(x, y);
    browser.wait_for(
        &format!("{map}.getOption().geo[0].map === 'longyan-350802'"),
        "the towns of 新罗区",
    );
    browser.wait_for("document.body.dataset.ready === 'yes' && document.getElementById('crumbs').textContent.includes('新罗区')", "the county's figures");
    let towns = sql(
        &server.addr,
        "SELECT count(*) AS n FROM regions WHERE parent_code = '350802' AND geometry IS NOT NULL",
    );
    let drawn = browser.script(&format!(
        "const o = {map}.getOption(); return echarts.getMap(o.geo[0].map).geoJSON.features.length;"
    ));
    assert_eq!(drawn.as_u64(), towns[0]["n"].as_u64());
    assert_eq!(
        browser.script("return document.getElementById('schematic-note').hidden;"),
        json!(false)
    );
    // The service-site layer: one point series per kind of site.
    browser.click("#sites");
    browser.wait_for(
        &format!("{map}.getOption().series.length > 1"),
        "the service sites",
    );
    let points = browser.script(&format!(
        "return {map}.getOption().series.slice(1).reduce((n, s) => n + s.data.length, 0);"
    ));
    let sites = sql(
        &server.addr,
        "SELECT count(*) AS n FROM service_sites WHERE year = 2017 AND county_code = '350802'",
    );
    assert_eq!(points.as_u64(), sites[0]["n"].as_u64());
    browser.screenshot("dashboard-xinluo");
    browser.click("#sites");

    // Back to the city, then English.
    browser.click("#back");
    browser.wait_for(
        &format!("{map}.getOption().geo[0].map === 'longyan-city'"),
        "the city again",
    );
    browser.click("#lang");
    browser.wait_for("document.documentElement.lang === 'en'", "English");
    browser.wait_for(
        "document.body.dataset.ready === 'yes'",
        "the English render",
    );
    let title = browser.script("return document.querySelector('h1').textContent;");
    assert_eq!(
        title,
        json!("Longyan Federation of Trade Unions · Statistics Cockpit")
    );
    let label = browser
        .script("return document.querySelector('.kpi[data-metric=members] .label').textContent;");
    assert_eq!(label, json!("Union members"));
    browser.screenshot("dashboard-en");
    browser.click("#lang");
    browser.wait_for("document.documentElement.lang === 'zh-CN'", "Chinese again");

    // The union list: largest first, a page at a time.
    browser.click("[data-tab=unions]");
    browser.wait_for(
        "document.querySelectorAll('#u-table tbody tr').length === 20",
        "the first page of unions",
    );
    browser.click("#u-next");
    browser.wait_for(
        "document.getElementById('tab-unions').dataset.page === '2'",
        "the second page",
    );
    let pager = browser.script("return document.getElementById('u-page').textContent;");
    let unions = sql(
        &server.addr,
        "SELECT count(*) AS n FROM grassroots_unions WHERE year = 2017",
    );
    let total = unions[0]["n"].as_u64().expect("a count");
    assert_eq!(
        pager,
        json!(format!(
            "第 2 / {} 页，共 {total} 个工会",
            total.div_ceil(20)
        ))
    );
    browser.screenshot("dashboard-unions");

    // Data quality: the reconciliation with the published figures.
    browser.click("[data-tab=quality]");
    browser.wait_for(
        "document.querySelectorAll('#q-reconciliation tbody tr').length > 0",
        "the reconciliation",
    );
    let verdicts = browser.script(
        "return [...document.querySelectorAll('#q-reconciliation .badge')].map(b => b.textContent);",
    );
    let verdicts = verdicts.as_array().expect("badges");
    let matched = verdicts.iter().filter(|v| *v == "一致").count();
    let computed = sql(
        &server.addr,
        "SELECT count(*) AS n FROM reconciliation WHERE verdict = 'match'",
    );
    assert_eq!(Some(matched as u64), computed[0]["n"].as_u64());
    browser.screenshot("dashboard-quality");

    // The SQL console, through the same guarded engine.
    browser.click("[data-tab=sql]");
    browser.click("#sql-run");
    browser.wait_for(
        "document.querySelectorAll('#sql-table tbody tr').length === 35",
        "35 rows: 7 counties x 5 years",
    );
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // A refused statement is shown as the server words it (the browser logs the 400 itself).
    browser
        .script("document.getElementById('sql-text').value = 'DROP TABLE regions'; return null;");
    browser.click("#sql-run");
    browser.wait_for(
        "!document.getElementById('sql-error').hidden",
        "the refusal",
    );
    let refusal = browser.script("return document.getElementById('sql-error').textContent;");
    assert!(
        refusal
            .as_str()
            .is_some_and(|r| r.starts_with("read_only:")),
        "{refusal}"
    );
}

#[test]
fn a_county_steward_logs_in_sees_only_the_county_and_logs_out() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (_, lake) = crate::server::demo_lake();
    let dir = tempfile::tempdir().expect("tmp");
    let accounts = dir
        .path()
        .join("accounts.json")
        .to_string_lossy()
        .into_owned();
    let password = "永定区工会-2017-steward";
    let mut add = crate::unionstat()
        .args([
            "users", "add", "steward", "--role", "county", "--county", "350803",
        ])
        .args(["--password-stdin", "--lake"])
        .arg(lake)
        .env("UNIONSTAT_SERVE_ACCOUNTS", &accounts)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("unionstat runs");
    std::io::Write::write_all(
        &mut add.stdin.take().expect("stdin"),
        format!("{password}\n").as_bytes(),
    )
    .expect("the password is sent");
    crate::succeeded(&add.wait_with_output().expect("users add ends"));
    let server = Server::serve_with(&[], &[("UNIONSTAT_SERVE_ACCOUNTS", &accounts)]);

    // The dashboard sends a browser that has no session to the login page.
    browser.go(&format!("http://{}/", server.addr));
    browser.wait_for(
        "location.pathname === '/login' && document.getElementById('name')",
        "the login page",
    );
    browser.screenshot("login");
    browser.script(&format!(
        "document.getElementById('name').value = 'steward'; \
         document.getElementById('password').value = '{password}'; return null;"
    ));
    browser.click("#submit");
    browser.wait_for(
        "location.pathname === '/' && document.body.dataset.ready",
        "the dashboard after the login",
    );
    assert_eq!(
        browser.script("return document.body.dataset.ready;"),
        json!("yes"),
        "{}",
        browser.script("return document.getElementById('map-error').textContent;")
    );

    // It opens on 永定区's towns, with no way up to the city, and only 永定区's figures.
    let map = "echarts.getInstanceByDom(document.getElementById('map'))";
    assert_eq!(
        browser.script(&format!("return {map}.getOption().geo[0].map;")),
        json!("longyan-350803")
    );
    assert_eq!(
        browser.script("return document.getElementById('back').hidden;"),
        json!(true)
    );
    assert_eq!(
        browser.script("return document.getElementById('who').textContent;"),
        json!("steward")
    );
    // What the lake holds, read by the CLI (which sees everything).
    let local = |sql: &str| -> Vec<String> {
        crate::succeeded(
            &crate::unionstat()
                .args(["sql", "--format", "csv", "--lake"])
                .arg(lake)
                .arg(sql)
                .output()
                .expect("unionstat runs"),
        )
        .lines()
        .skip(1)
        .map(String::from)
        .collect()
    };
    let number = |text: &str| text.parse::<f64>().expect("a number");
    let county = number(
        &local(
            "SELECT value FROM kpi WHERE grain = 'county' AND county_code = '350803' \
         AND year = 2017 AND metric = 'members'",
        )[0],
    );
    let city = number(
        &local("SELECT value FROM kpi WHERE grain = 'city' AND year = 2017 AND metric = 'members'")
            [0],
    );
    let card =
        browser.script("return document.querySelector('.kpi[data-metric=members]').dataset.value;");
    assert_eq!(
        number(card.as_str().expect("a value")),
        county,
        "the city has {city}"
    );
    assert!(county < city);
    // Every place on the map is one of its towns.
    let towns = local("SELECT code FROM regions WHERE parent_code = '350803'");
    let places = browser.script(&format!(
        "return {map}.getOption().series[0].data.map(d => d.name);"
    ));
    let places = places.as_array().expect("places");
    assert!(!places.is_empty());
    for place in places {
        let code = place.as_str().expect("a code");
        assert!(
            towns.iter().any(|t| t == code),
            "{code} is not a town of 永定区"
        );
    }
    browser.screenshot("dashboard-county");

    // Logging out ends the session: the API refuses it, and the page is the login page again.
    browser.click("#logout");
    browser.wait_for("location.pathname === '/login'", "the login page again");
    let status = browser.session(
        "POST",
        "/execute/async",
        json!({"script": "const done = arguments[0]; fetch('/api/overview').then(r => done(r.status));", "args": []}),
    );
    assert_eq!(status, json!(401));
    let errors: Vec<String> = browser
        .console_errors()
        .into_iter()
        .filter(|e| !e.contains("401"))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
