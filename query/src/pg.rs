//! The Postgres wire protocol (datafusion-postgres), so `psql`, DBeaver, Metabase and drivers
//! connect as to a Postgres database. Clients log in with SCRAM-SHA-256 as the configured user;
//! every statement passes the same guards as HTTP and the CLI: queries run through
//! [`Engine`], anything else but session settings and transactions is refused.

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::arrow_pg::datatypes::df::deserialize_parameters;
use datafusion_postgres::arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch};
use datafusion_postgres::auth::AuthManager;
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::hooks::{HookClient, QueryHook};
use datafusion_postgres::pgwire::api::auth::sasl::SASLAuthStartupHandler;
use datafusion_postgres::pgwire::api::auth::sasl::scram::{ScramAuth, gen_salted_password};
use datafusion_postgres::pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, QueryResponse, Response,
};
use datafusion_postgres::pgwire::api::stmt::StoredStatement;
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionManager, PgWireServerHandlers,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::pgwire::types::format::FormatOptions;
use datafusion_postgres::{DfSessionService, Parser};
use futures::Sink;
use tokio::net::TcpListener;

use crate::engine::{Answer, Engine};
use crate::error::{ErrorCode, QueryError, Result};
use crate::guard;

/// Who may log in.
#[derive(Clone)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

const ITERATIONS: usize = 4096;

/// The one configured login, stored salted as SCRAM wants it.
#[derive(Debug)]
struct Login {
    user: String,
    salt: Vec<u8>,
    salted: Vec<u8>,
}

#[async_trait]
impl AuthSource for Login {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        if login.user() != Some(self.user.as_str()) {
            return Err(PgWireError::InvalidPassword(
                login.user().unwrap_or_default().to_string(),
            ));
        }
        Ok(Password::new(Some(self.salt.clone()), self.salted.clone()))
    }
}

fn pg_error(e: &QueryError) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        e.sqlstate().to_string(),
        format!("{}: {}", e.code, e.message),
    )))
}

/// Statements that reach the other hooks: session settings, SHOW and transactions, which
/// clients send when they connect. Settings of the engine itself stay out of reach.
fn is_session_statement(statement: &Statement) -> bool {
    match statement {
        Statement::Set(set) => !set.to_string().to_lowercase().contains("datafusion."),
        Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. } => true,
        _ => false,
    }
}

/// Runs queries through the engine's guards and refuses everything that is not a query or a
/// session statement.
struct GuardHook {
    engine: Arc<Engine>,
}

/// An answer as rows of the Postgres protocol, in `format` (text, binary or per column).
fn respond(
    answer: &Answer,
    format: &Format,
    metadata: &HashMap<String, String>,
) -> PgWireResult<Response> {
    let options = Arc::new(FormatOptions::from_client_metadata(metadata));
    let fields = Arc::new(arrow_schema_to_pg_fields(
        &answer.schema,
        format,
        Some(options),
    )?);
    let rows: Vec<_> = answer
        .batches
        .iter()
        .cloned()
        .flat_map(|b| encode_recordbatch(fields.clone(), b))
        .collect();
    Ok(Response::Query(QueryResponse::new(
        fields,
        futures::stream::iter(rows),
    )))
}

#[async_trait]
impl QueryHook for GuardHook {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        if is_session_statement(statement) {
            return None;
        }
        let parsed = datafusion::sql::parser::Statement::Statement(Box::new(statement.clone()));
        Some(match self.engine.statement(parsed).await {
            Ok(answer) => respond(&answer, &Format::UnifiedText, client.metadata()),
            Err(e) => Err(pg_error(&e)),
        })
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        if is_session_statement(statement) {
            return None;
        }
        guard::check_sql(statement).err().map(|e| Err(pg_error(&e)))
    }

    async fn handle_extended_query(
        &self,
        _statement: &Statement,
        _plan: &LogicalPlan,
        _params: &ParamValues,
        _ctx: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        // Prepared statements run in [`Guarded::do_query`], which knows the portal's formats.
        None
    }
}

/// A prepared statement as datafusion-postgres stores it: its text and, unless empty, the
/// parsed statement and its plan.
type Prepared = (String, Option<(Statement, LogicalPlan)>);

/// The extended protocol (prepared statements, as drivers use it): parsing and describing are
/// datafusion-postgres's; execution goes through the engine's guards, encoded in the formats
/// the client bound the portal with.
struct Guarded {
    inner: Arc<DfSessionService>,
    engine: Arc<Engine>,
}

#[async_trait]
impl ExtendedQueryHandler for Guarded {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.inner.query_parser()
    }

    async fn do_describe_statement<C>(
        &self,
        client: &mut C,
        target: &StoredStatement<Prepared>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.inner.do_describe_statement(client, target).await
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        target: &Portal<Prepared>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.inner.do_describe_portal(client, target).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some((statement, plan)) = &portal.statement.statement.1 else {
            return Ok(Response::EmptyQuery);
        };
        if is_session_statement(statement) {
            return ExtendedQueryHandler::do_query(self.inner.as_ref(), client, portal, max_rows)
                .await;
        }
        guard::check_sql(statement).map_err(|e| pg_error(&e))?;
        let types = plan
            .get_parameter_types()
            .map_err(|e| pg_error(&e.into()))?;
        let ordered: Vec<Option<&DataType>> = (1..=types.len())
            .map(|i| types.get(&format!("${i}")).and_then(Option::as_ref))
            .collect();
        let params = deserialize_parameters(portal, &ordered)?;
        let plan = plan
            .clone()
            .replace_params_with_values(&params)
            .map_err(|e| pg_error(&e.into()))?;
        let answer = self.engine.plan(plan).await.map_err(|e| pg_error(&e))?;
        respond(&answer, &portal.result_column_format, client.metadata())
    }
}

/// The handlers of one server: a fresh SCRAM exchange per connection, the guarded session
/// service for queries.
struct Handlers {
    service: Arc<DfSessionService>,
    extended: Arc<Guarded>,
    login: Arc<Login>,
    connections: Arc<ConnectionManager>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.service.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.extended.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        let mut scram = ScramAuth::new(self.login.clone());
        scram.set_iterations(ITERATIONS);
        Arc::new(
            SASLAuthStartupHandler::new(Arc::new(DefaultServerParameterProvider::default()))
                .with_scram(scram)
                .with_connection_manager(self.connections.clone()),
        )
    }
}

/// Binds the Postgres endpoint at `addr` (port 0 picks a free port) and serves it in the
/// background; returns the bound address.
pub async fn serve(
    engine: Arc<Engine>,
    addr: &str,
    credentials: Credentials,
) -> Result<SocketAddr> {
    // A clone shares the engine's state: pg_catalog and the Postgres functions registered here
    // are seen by the engine that runs the queries.
    let mut ctx = engine.context().clone();
    setup_pg_catalog(&ctx, "datafusion", Arc::new(AuthManager::new())).map_err(|e| {
        QueryError::new(
            ErrorCode::Internal,
            format!("setting up pg_catalog failed: {e}"),
        )
    })?;
    datafusion_postgres::datafusion_pg_functions::register_all(&mut ctx);
    let ctx = Arc::new(ctx);
    let hooks: Vec<Arc<dyn QueryHook>> = vec![
        Arc::new(GuardHook {
            engine: engine.clone(),
        }),
        Arc::new(SetShowHook),
        Arc::new(TransactionStatementHook),
    ];
    let salt = random_bytes::<16>()?.to_vec();
    let login = Arc::new(Login {
        salted: gen_salted_password(&credentials.password, &salt, ITERATIONS),
        user: credentials.user,
        salt,
    });
    let service = Arc::new(DfSessionService::new_with_hooks(ctx, hooks));
    let handlers = Arc::new(Handlers {
        extended: Arc::new(Guarded {
            inner: service.clone(),
            engine: engine.clone(),
        }),
        service,
        login,
        connections: Arc::new(ConnectionManager::new()),
    });
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        QueryError::new(
            ErrorCode::BadRequest,
            format!(
                "cannot listen for Postgres clients on {addr}: {e}; choose another --pg address"
            ),
        )
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| QueryError::new(ErrorCode::Internal, e.to_string()))?;
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((socket, peer)) => {
                    let handlers = handlers.clone();
                    tokio::spawn(async move {
                        if let Err(e) = datafusion_postgres::pgwire::tokio::process_socket(
                            socket, None, handlers,
                        )
                        .await
                        {
                            tracing::info!(%peer, error = %e, "Postgres connection ended with an error");
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "accepting a Postgres connection failed"),
            }
        }
    });
    Ok(bound)
}

/// `N` bytes from the operating system's secure random source, for salts and passwords.
fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        QueryError::new(
            ErrorCode::Internal,
            format!("the system's random source failed: {e}"),
        )
    })?;
    Ok(bytes)
}

impl Credentials {
    /// A login for `user` with a password of 16 random bytes in hex, made up for one run.
    pub fn generated(user: &str) -> Result<Credentials> {
        let password = random_bytes::<16>()?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Credentials {
            user: user.to_string(),
            password,
        })
    }
}

/// User and password from `UNIONSTAT_PG_USER` and `UNIONSTAT_PG_PASSWORD`, when both are set.
pub fn credentials_from_env() -> Option<Credentials> {
    Some(Credentials {
        user: std::env::var("UNIONSTAT_PG_USER").ok()?,
        password: std::env::var("UNIONSTAT_PG_PASSWORD").ok()?,
    })
}
