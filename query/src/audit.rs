//! The audit: every query a server runs and every login it sees (who, from where, through which
//! door, the SQL, rows, duration, outcome), appended as one JSON line to
//! `<lake>/_system/audit/YYYY-MM-DD.jsonl` (a file per day, UTC) and readable as data, by admin
//! accounts only, as the `audit` table:
//!
//! ```sql
//! SELECT at, "user", interface, outcome, sql FROM audit WHERE outcome <> 'ok' ORDER BY at DESC LIMIT 20
//! ```
//!
//! A line is written with one `write` to a file opened for appending, so lines of concurrent
//! requests never interleave, and a crash loses at most the line being written.

use std::fs::File;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use serde::Serialize;

use crate::error::{ErrorCode, QueryError, Result};
use crate::policy::Scope;

/// One line of the audit.
#[derive(Debug, Serialize)]
pub struct Event<'a> {
    /// What happened: `query`, `login`, `login_failed`.
    pub event: &'a str,
    /// The account (or the name tried, for a failed login).
    pub user: &'a str,
    /// Its role, when known.
    pub role: Option<&'a str>,
    /// Its county, for county accounts.
    pub county: Option<&'a str>,
    /// `http`, `dashboard`, `postgres`.
    pub interface: &'a str,
    /// The client's address.
    pub peer: Option<&'a str>,
    /// The statement.
    pub sql: Option<&'a str>,
    /// Rows answered.
    pub rows: Option<usize>,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<f64>,
    /// `ok`, or the error code.
    pub outcome: &'a str,
    /// The error's message.
    pub message: Option<&'a str>,
}

/// The audit of one lake.
#[derive(Debug)]
pub struct Audit {
    folder: PathBuf,
    today: Mutex<Option<(String, File)>>,
}

impl Audit {
    /// The audit in `<lake>/_system/audit/`; `None` for a lake that is not a local folder.
    pub fn beside_lake(lake: &url::Url) -> Result<Option<Audit>> {
        let Ok(root) = lake.to_file_path() else {
            return Ok(None);
        };
        let folder = root.join("_system").join("audit");
        std::fs::create_dir_all(&folder).map_err(|e| {
            QueryError::new(
                ErrorCode::Lake,
                format!("cannot create the audit folder {} ({e})", folder.display()),
            )
        })?;
        Ok(Some(Audit {
            folder,
            today: Mutex::new(None),
        }))
    }

    /// The columns of the `audit` table.
    pub fn schema() -> SchemaRef {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        Arc::new(Schema::new(vec![
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("event", DataType::Utf8, false),
            Field::new("user", DataType::Utf8, false),
            text("role"),
            text("county"),
            Field::new("interface", DataType::Utf8, false),
            text("peer"),
            text("sql"),
            Field::new("rows", DataType::Int64, true),
            Field::new("duration_ms", DataType::Float64, true),
            Field::new("outcome", DataType::Utf8, false),
            text("message"),
        ]))
    }

    /// The audit's files as a table (read afresh by every query).
    pub fn table(&self) -> Result<Arc<dyn TableProvider>> {
        let url = ListingTableUrl::parse(format!("{}/", self.folder.display()))?;
        let options =
            ListingOptions::new(Arc::new(JsonFormat::default())).with_file_extension(".jsonl");
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(Audit::schema());
        Ok(Arc::new(ListingTable::try_new(config)?))
    }

    /// Appends `event`; a failure is logged, not raised: the query it records has run.
    pub fn record(&self, event: &Event) {
        let now = chrono::Utc::now();
        let mut line = serde_json::to_value(event).unwrap_or_default();
        line["at"] = now
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .into();
        let mut text = line.to_string();
        text.push('\n');
        let day = now.format("%Y-%m-%d").to_string();
        let Ok(mut today) = self.today.lock() else {
            return;
        };
        if today.as_ref().is_none_or(|(d, _)| *d != day) {
            let path = self.folder.join(format!("{day}.jsonl"));
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
            {
                Ok(file) => *today = Some((day, file)),
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "cannot open the audit");
                    return;
                }
            }
        }
        if let Some((_, file)) = today.as_mut()
            && let Err(e) = file.write_all(text.as_bytes())
        {
            tracing::error!(error = %e, "cannot write the audit");
        }
    }

    /// Records a query run for `scope`.
    pub fn query(
        &self,
        scope: &Scope,
        sql: &str,
        took: Duration,
        outcome: Result<usize, &QueryError>,
    ) {
        let (rows, code, message) = match outcome {
            Ok(rows) => (Some(rows), "ok", None),
            Err(e) => (None, e.code.as_str(), Some(e.message.as_str())),
        };
        self.record(&Event {
            event: "query",
            user: &scope.name,
            role: Some(scope.role.as_str()),
            county: scope.county(),
            interface: scope.interface,
            peer: scope.peer.as_deref(),
            sql: Some(sql),
            rows,
            duration_ms: Some(took.as_secs_f64() * 1000.0),
            outcome: code,
            message,
        });
    }

    /// Records a login through `interface` from `peer`: `scope` when it succeeded, else the name
    /// tried and why it failed.
    pub fn login(
        &self,
        interface: &str,
        peer: Option<&str>,
        outcome: std::result::Result<&Scope, (&str, &QueryError)>,
    ) {
        let event = match outcome {
            Ok(scope) => Event {
                event: "login",
                user: &scope.name,
                role: Some(scope.role.as_str()),
                county: scope.county(),
                interface,
                peer,
                sql: None,
                rows: None,
                duration_ms: None,
                outcome: "ok",
                message: None,
            },
            Err((name, e)) => Event {
                event: "login_failed",
                user: name,
                role: None,
                county: None,
                interface,
                peer,
                sql: None,
                rows: None,
                duration_ms: None,
                outcome: e.code.as_str(),
                message: Some(e.message.as_str()),
            },
        };
        self.record(&event);
    }
}
