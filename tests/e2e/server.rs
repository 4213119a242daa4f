//! The scale-1 Longyan lake, built once per test run by `unionstat demo` (the README's main
//! command), and `unionstat serve` processes over it, each on free ports and stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

/// The folders `demo` filled: (raw returns, lake).
pub fn demo_lake() -> &'static (PathBuf, PathBuf) {
    static LAKE: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    LAKE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-demo");
        let _ = std::fs::remove_dir_all(&root);
        let (data, lake) = (root.join("longyan"), root.join("lake"));
        let mut demo = Server::start(
            Command::new(env!("CARGO_BIN_EXE_unionstat"))
                .arg("demo")
                .arg("--data")
                .arg(&data)
                .arg("--lake")
                .arg(&lake),
        );
        let health = crate::http::get(&demo.addr, "/healthz");
        assert_eq!(health.status, 200, "{}", health.text());
        let printed = demo.printed.join("\n");
        assert!(
            printed.contains("Login (dashboard and Postgres): user admin password ")
                && printed.contains("Postgres endpoint: postgresql://<account>@127.0.0.1:")
                && printed.contains("Accounts: every request needs a login"),
            "{printed}"
        );
        // The demo's admin account makes the lake a server that needs logins: without one, the
        // dashboard sends a browser to its login page and an API call gets 401.
        let page = crate::http::get(&demo.addr, "/");
        assert_eq!(page.status, 303, "{}", page.text());
        assert_eq!(crate::http::get(&demo.addr, "/api/overview").status, 401);
        demo.stop();
        (data, lake)
    })
}

/// An accounts file that holds no account: servers started with it run as the single-user tool
/// on this machine (the tests of what the dashboard and SQL answer use it; the tests of logins
/// use the demo lake's own accounts).
pub fn no_accounts() -> String {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("e2e-no-accounts")
        .join("accounts.json")
        .to_string_lossy()
        .into_owned()
}

/// A running server.
pub struct Server {
    child: Child,
    /// host:port of the dashboard and HTTP API.
    pub addr: String,
    /// What it printed up to the dashboard's address.
    pub printed: Vec<String>,
}

impl Server {
    /// `unionstat serve` over the demo lake.
    pub fn serve() -> Server {
        Server::serve_with(&[], &[])
    }

    /// `unionstat serve` over the demo lake with more arguments and environment variables,
    /// without accounts unless `UNIONSTAT_SERVE_ACCOUNTS` names a file.
    pub fn serve_with(args: &[&str], env: &[(&str, &str)]) -> Server {
        let (_, lake) = demo_lake();
        Server::start(
            Command::new(env!("CARGO_BIN_EXE_unionstat"))
                .arg("serve")
                .arg("--lake")
                .arg(lake)
                .args(args)
                .env("UNIONSTAT_SERVE_ACCOUNTS", no_accounts())
                .envs(env.iter().copied()),
        )
    }

    /// `unionstat serve` over the lake at `lake`, with these environment variables.
    pub fn serve_lake(lake: &std::path::Path, env: &[(&str, &str)]) -> Server {
        Server::start(
            Command::new(env!("CARGO_BIN_EXE_unionstat"))
                .arg("serve")
                .arg("--lake")
                .arg(lake)
                .envs(env.iter().copied()),
        )
    }

    fn start(command: &mut Command) -> Server {
        let mut child = command
            .args(["--http", "127.0.0.1:0", "--pg", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("unionstat starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = Vec::new();
        loop {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(600)) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no dashboard address printed:\n{}", printed.join("\n"));
            };
            if let Some(url) = line
                .strip_prefix("Dashboard: http://")
                .or_else(|| line.strip_prefix("Dashboard: https://"))
            {
                let addr = url.trim_end_matches('/').to_string();
                printed.push(line);
                return Server {
                    child,
                    addr,
                    printed,
                };
            }
            printed.push(line);
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process still runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the server as Ctrl-C or a service manager would, and waits for it to exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        self.child.wait().expect("the server exits")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
