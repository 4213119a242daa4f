//! The lake's Delta tables as DataFusion tables that follow new commits: each is registered once
//! as a [`LiveTable`] whose current version is swapped in when ingest commits, so queries and
//! the views built on them see the newest data without a restart.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::scan::{DeltaFiles, Rechecked};
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use tokio::sync::Mutex;
use url::Url;

use crate::error::{ErrorCode, QueryError, Result};

/// Tables ingest writes, in the order `GET /api/tables` lists them.
pub fn known_tables() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = unionstat_tables::FACT_TABLES
        .iter()
        .map(|t| t.name)
        .collect();
    names.extend([
        unionstat_tables::MEMBERS.name,
        "regions",
        "industries",
        "published_indicators",
        "submissions",
        "quarantine",
        "submission_events",
    ]);
    names
}

/// A lake table as queries read it: its current version's provider, replaced when a new Delta
/// version appears (or one fixed version, under `table_at`), read through the caller's
/// [`policy`](crate::policy).
#[derive(Debug)]
pub struct LiveTable {
    name: String,
    current: RwLock<Version>,
}

/// One version of a table: its provider and its columns as queries see them (personal columns
/// nullable), worked out once per version rather than each time planning asks.
#[derive(Debug, Clone)]
struct Version {
    provider: Arc<dyn TableProvider>,
    schema: SchemaRef,
}

impl LiveTable {
    /// Table `name` served by `provider` until it is replaced.
    pub fn new(name: &str, provider: Arc<dyn TableProvider>) -> Self {
        LiveTable {
            name: name.to_string(),
            current: RwLock::new(Self::version(name, provider)),
        }
    }

    fn version(name: &str, provider: Arc<dyn TableProvider>) -> Version {
        let schema = Arc::new(crate::policy::visible_schema(name, &provider.schema()));
        Version { provider, schema }
    }

    fn current(&self) -> Version {
        match self.current.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn provider(&self) -> Arc<dyn TableProvider> {
        self.current().provider
    }

    fn replace(&self, provider: Arc<dyn TableProvider>) {
        let version = Self::version(&self.name, provider);
        match self.current.write() {
            Ok(mut v) => *v = version,
            Err(poisoned) => *poisoned.into_inner() = version,
        }
    }
}

#[async_trait]
impl TableProvider for LiveTable {
    fn schema(&self) -> SchemaRef {
        self.current().schema
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let version = self.current();
        crate::policy::scan(
            &self.name,
            version.provider.as_ref(),
            &version.schema,
            state,
            projection,
            filters,
            limit,
        )
        .await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        self.provider().supports_filters_pushdown(filters)
    }
}

/// One lake table as loaded.
struct Loaded {
    table: DeltaTable,
    live: Arc<LiveTable>,
}

/// What a refresh found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Refresh {
    /// Tables that appeared or changed their columns: views over them are rebuilt.
    pub reshaped: bool,
}

/// The lake's tables, kept at their newest versions.
pub struct Catalog {
    root: Url,
    tables: Mutex<BTreeMap<String, Loaded>>,
    checked: Mutex<Option<Instant>>,
    interval: Duration,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("root", &self.root).finish()
    }
}

/// The URL of a lake given as a folder or a URL.
pub fn lake_url(location: &str) -> Result<Url> {
    if let Ok(url) = Url::parse(location)
        && url.scheme().len() > 1
    {
        return Ok(url);
    }
    let path = std::path::Path::new(location);
    let absolute = path.canonicalize().map_err(|e| {
        QueryError::new(
            ErrorCode::Lake,
            format!(
                "the lake folder {location} cannot be read ({e}); run `unionstat ingest` first or check --lake"
            ),
        )
    })?;
    Url::from_directory_path(&absolute).map_err(|()| {
        QueryError::new(
            ErrorCode::Lake,
            format!("{} is not a folder", absolute.display()),
        )
    })
}

impl Catalog {
    /// A catalog of the lake at `root` that looks for new commits at most every `interval`.
    pub fn new(root: Url, interval: Duration) -> Self {
        Catalog {
            root,
            tables: Mutex::new(BTreeMap::new()),
            checked: Mutex::new(None),
            interval,
        }
    }

    /// The lake's location.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The URL of table `name`.
    pub fn table_url(&self, name: &str) -> Result<Url> {
        self.root.join(&format!("{name}/")).map_err(|e| {
            QueryError::new(ErrorCode::Lake, format!("bad table location {name}: {e}"))
        })
    }

    /// Opens table `name` at its newest version, or `None` when the lake does not hold it.
    pub async fn open(&self, name: &str) -> Result<Option<DeltaTable>> {
        let url = self.table_url(name)?;
        if url.scheme() == "file" {
            let log = url
                .to_file_path()
                .map(|p| p.join("_delta_log"))
                .map_err(|()| QueryError::new(ErrorCode::Lake, format!("bad path {url}")))?;
            if !log.is_dir() {
                return Ok(None);
            }
        }
        match DeltaTable::try_from_url(url).await {
            // A folder whose log holds no commit yet (an ingest stopped while creating the
            // table) is no table.
            Ok(t) if t.version().is_none() => Ok(None),
            Ok(t) => Ok(Some(t)),
            Err(deltalake::DeltaTableError::NotATable(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Brings every table to its newest version and registers tables that appeared, unless the
    /// last check was less than the interval ago (or `force`).
    pub async fn refresh(&self, ctx: &SessionContext, force: bool) -> Result<Refresh> {
        {
            let mut checked = self.checked.lock().await;
            if !force && checked.is_some_and(|t| t.elapsed() < self.interval) {
                return Ok(Refresh::default());
            }
            *checked = Some(Instant::now());
        }
        let mut tables = self.tables.lock().await;
        let mut refresh = Refresh::default();
        for name in known_tables() {
            match tables.get_mut(name) {
                Some(loaded) => {
                    let latest = loaded.table.get_latest_version().await?;
                    if Some(latest) == loaded.table.version() {
                        continue;
                    }
                    let before = loaded.live.provider().schema();
                    loaded.table.update_incremental(None).await?;
                    loaded.live.replace(provider(&loaded.table).await?);
                    refresh.reshaped |= loaded.live.provider().schema() != before;
                }
                None => {
                    let Some(table) = self.open(name).await? else {
                        continue;
                    };
                    table
                        .update_datafusion_session(&ctx.state())
                        .map_err(QueryError::from)?;
                    let live = Arc::new(LiveTable::new(name, provider(&table).await?));
                    ctx.register_table(name, live.clone())?;
                    tables.insert(name.to_string(), Loaded { table, live });
                    refresh.reshaped = true;
                }
            }
        }
        Ok(refresh)
    }

    /// The loaded version of each table.
    pub async fn versions(&self) -> BTreeMap<String, i64> {
        self.tables
            .lock()
            .await
            .iter()
            .map(|(name, t)| (name.clone(), t.table.version().map_or(-1, |v| v as i64)))
            .collect()
    }
}

/// A DataFusion provider for the table's loaded version: its Parquet files read by DataFusion
/// ([`DeltaFiles`]), or deltalake's own reader when the version needs it.
pub async fn provider(table: &DeltaTable) -> Result<Arc<dyn TableProvider>> {
    let delta: Arc<dyn TableProvider> = table.table_provider().await?;
    Ok(match DeltaFiles::of(table, delta.schema())? {
        Some(files) => Arc::new(files),
        None => Arc::new(Rechecked(delta)),
    })
}
