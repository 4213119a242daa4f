//! The Postgres wire protocol (datafusion-postgres), so `psql`, DBeaver, Metabase and drivers
//! connect as to a Postgres database. Clients log in with SCRAM-SHA-256, each as its own account
//! (viewers are refused), or, while the server has no accounts, as the one configured login.
//! Every statement passes the same guards as HTTP and the CLI and runs through [`Engine`] in the
//! account's [`Scope`]; anything else but session settings and transactions is refused. Failed
//! logins are slowed down ([`crate::throttle`]).

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, DataFusionError, ParamValues};
use datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Set, Statement};
use datafusion_postgres::arrow_pg::datatypes::df::deserialize_parameters;
use datafusion_postgres::arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch};
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::{
    PgCatalogContextProvider, Role as PgRole,
};
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::hooks::{HookClient, QueryHook};
use datafusion_postgres::pgwire::api::Type;
use datafusion_postgres::pgwire::api::auth::sasl::SASLAuthStartupHandler;
use datafusion_postgres::pgwire::api::auth::sasl::scram::{ScramAuth, gen_salted_password};
use datafusion_postgres::pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use datafusion_postgres::pgwire::api::portal::{Format, Portal};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, FieldInfo, QueryResponse, Response, Tag,
};
use datafusion_postgres::pgwire::api::stmt::{QueryParser, StoredStatement};
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionManager, METADATA_USER, PgWireConnectionState,
    PgWireServerHandlers,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use datafusion_postgres::pgwire::types::format::FormatOptions;
use datafusion_postgres::{DfSessionService, Parser};
use futures::Sink;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::accounts::{Directory, Role, SCRAM_ITERATIONS, random_bytes};
use crate::audit::Audit;
use crate::engine::{Answer, Engine};
use crate::error::{ErrorCode, QueryError, Result};
use crate::guard;
use crate::policy::Scope;
use crate::throttle::{self, Throttle};

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

const ITERATIONS: usize = SCRAM_ITERATIONS;

/// The one login of the configuration, stored salted as SCRAM wants it.
#[derive(Debug)]
struct Single {
    user: String,
    salt: Vec<u8>,
    salted: Vec<u8>,
}

/// Who may log in: the accounts, or, while there are none, the configured login.
#[derive(Debug)]
struct Login {
    single: Option<Single>,
    directory: Arc<Directory>,
    throttle: Arc<Throttle>,
}

impl Login {
    /// The scope of the queries of a connection logged in as `user`, checked again for every
    /// statement: an account disabled while connected is refused from its next statement.
    fn scope(&self, user: Option<&String>, peer: SocketAddr) -> Result<Scope> {
        let accounts = self.directory.current()?;
        let peer = Some(peer.to_string());
        if accounts.accounts.is_empty() {
            return Ok(Scope::local().via("postgres", peer));
        }
        let account = user
            .and_then(|u| accounts.get(u))
            .ok_or_else(|| QueryError::new(ErrorCode::Unauthorized, "the account is gone"))?;
        account.usable().map_err(|why| {
            QueryError::new(ErrorCode::Unauthorized, format!("the account is {why}"))
        })?;
        Ok(account.scope().via("postgres", peer))
    }
}

fn hex_bytes(text: &str) -> PgWireResult<Vec<u8>> {
    hex::decode(text).map_err(|e| PgWireError::ApiError(Box::new(e)))
}

#[async_trait]
impl AuthSource for Login {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let user = login.user().unwrap_or_default();
        let accounts = self.directory.current().map_err(|e| pg_error(&e))?;
        if accounts.accounts.is_empty() {
            return match &self.single {
                Some(single) if single.user == user => Ok(Password::new(
                    Some(single.salt.clone()),
                    single.salted.clone(),
                )),
                _ => Err(PgWireError::InvalidPassword(user.to_string())),
            };
        }
        let keys = [throttle::user_key(user), throttle::addr_key(login.host())];
        if let Some(wait) = self.throttle.wait(&keys) {
            return Err(pg_error(&throttled(wait)));
        }
        let Some(account) = accounts.get(user) else {
            // A salted password nobody has: the exchange fails as for a wrong password.
            let salt = random_bytes::<16>().map_err(|e| pg_error(&e))?;
            let salted = random_bytes::<32>().map_err(|e| pg_error(&e))?;
            return Ok(Password::new(Some(salt.to_vec()), salted.to_vec()));
        };
        if let Err(why) = account.usable() {
            return Err(pg_error(&QueryError::new(
                ErrorCode::Unauthorized,
                format!("the account {user} is {why}; ask the federation's IT"),
            )));
        }
        if account.role == Role::Viewer {
            return Err(pg_error(&QueryError::new(
                ErrorCode::Forbidden,
                format!(
                    "{user} is a viewer account, for the dashboard; the Postgres endpoint is for \
                     city, county and admin accounts"
                ),
            )));
        }
        Ok(Password::new(
            Some(hex_bytes(&account.scram.salt)?),
            hex_bytes(&account.scram.salted)?,
        ))
    }
}

/// The refusal of a login tried too soon after failures.
pub fn throttled(wait: std::time::Duration) -> QueryError {
    QueryError::new(
        ErrorCode::Throttled,
        format!(
            "too many failed logins; try again in {} s",
            wait.as_secs().max(1)
        ),
    )
}

/// datafusion-postgres's SCRAM startup, counting failed and successful logins in the throttle
/// and logging them.
struct Counted<S> {
    inner: S,
    throttle: Arc<Throttle>,
    login: Arc<Login>,
    audit: Option<Arc<Audit>>,
}

#[async_trait]
impl<S: StartupHandler> StartupHandler for Counted<S> {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let result = self.inner.on_startup(client, message).await;
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let peer = client.socket_addr();
        let keys = [
            throttle::user_key(&user),
            throttle::addr_key(&peer.to_string()),
        ];
        let from = peer.to_string();
        match &result {
            Err(PgWireError::InvalidPassword(_)) => {
                self.throttle.failed(&keys);
                tracing::warn!(user, %peer, interface = "postgres", "login failed");
                if let Some(audit) = &self.audit {
                    let e =
                        QueryError::new(ErrorCode::Unauthorized, "wrong account name or password");
                    audit.login("postgres", Some(&from), Err((&user, &e)));
                }
            }
            Ok(()) if matches!(client.state(), PgWireConnectionState::ReadyForQuery) => {
                self.throttle.succeeded(&keys[..1]);
                tracing::info!(user, %peer, interface = "postgres", "logged in");
                if let (Some(audit), Ok(scope)) = (&self.audit, self.login.scope(Some(&user), peer))
                {
                    audit.login("postgres", Some(&from), Ok(&scope));
                }
            }
            _ => {}
        }
        result
    }
}

/// What `pg_catalog.pg_roles` and `pg_user` list: the accounts that may log in here (or the one
/// configured login). (datafusion-postgres's `AuthManager` behind an `Arc` cannot serve here:
/// the catalog's `Arc<T>` provider calls itself and overflows the stack on the first query of
/// `pg_roles`.)
#[derive(Debug, Clone)]
struct Roles {
    single: Option<String>,
    directory: Arc<Directory>,
}

impl Roles {
    fn names(&self) -> Vec<String> {
        match self.directory.current() {
            Ok(accounts) if !accounts.accounts.is_empty() => accounts
                .accounts
                .iter()
                .filter(|a| a.role != Role::Viewer && a.usable().is_ok())
                .map(|a| a.name.clone())
                .collect(),
            _ => self.single.iter().cloned().collect(),
        }
    }
}

#[async_trait]
impl PgCatalogContextProvider for Roles {
    async fn roles(&self) -> Vec<String> {
        self.names()
    }

    async fn role(&self, name: &str) -> Option<PgRole> {
        self.names().contains(&name.to_string()).then(|| PgRole {
            name: name.to_string(),
            is_superuser: false,
            can_login: true,
            can_create_db: false,
            can_create_role: false,
            can_create_user: false,
            can_replication: false,
            grants: Vec::new(),
            inherited_roles: Vec::new(),
        })
    }
}

fn pg_error(e: &QueryError) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        e.sqlstate().to_string(),
        format!("{}: {}", e.code, e.message),
    )))
}

/// Settings a session may change. Each is kept with that connection only (datafusion-postgres's
/// `SetShowHook` stores it in the client's metadata); nothing a client sets reaches the engine
/// that every user shares.
const SESSION_SETTINGS: [&str; 6] = [
    "application_name",
    "datestyle",
    "intervalstyle",
    "extra_float_digits",
    "bytea_output",
    "search_path",
];

/// What to do with a `SET`: hand an allowed setting to `SetShowHook`, answer `SET` for one that
/// asks for what the server already does, or refuse it.
enum SetAction {
    Pass,
    Done,
    Refuse(QueryError),
}

fn set_action(set: &Set) -> SetAction {
    let refuse = |what: &str| {
        SetAction::Refuse(QueryError::new(
            ErrorCode::ReadOnly,
            format!(
                "SET {what} is not allowed: a session may set only {} and client_encoding \
                 (UTF8); the engine's settings, time zone and limits are the same for everyone",
                SESSION_SETTINGS.join(", ")
            ),
        ))
    };
    let Set::SingleAssignment {
        scope: None,
        hivevar: false,
        variable,
        values,
    } = set
    else {
        return refuse(&set.to_string());
    };
    // `"DateStyle"` and `datestyle` are one setting; `"datafusion".x` is two names, refused.
    let name = match variable.0.as_slice() {
        [part] => part
            .as_ident()
            .map_or_else(|| part.to_string(), |i| i.value.clone())
            .to_lowercase(),
        _ => return refuse(&variable.to_string()),
    };
    if name == "client_encoding" {
        let value = values
            .first()
            .map(|v| v.to_string().trim_matches(['\'', '"']).to_uppercase());
        return match value.as_deref() {
            Some("UTF8" | "UTF-8" | "UNICODE") => SetAction::Done,
            _ => refuse(&format!(
                "client_encoding = {}",
                values.first().map_or(String::new(), ToString::to_string)
            )),
        };
    }
    if SESSION_SETTINGS.contains(&name.as_str()) && values.len() == 1 {
        SetAction::Pass
    } else {
        refuse(&name)
    }
}

/// The answer to a `SET` the guard settles itself; `None` for an allowed setting, which
/// `SetShowHook` keeps with the connection.
fn set_response(set: &Set) -> Option<PgWireResult<Response>> {
    match set_action(set) {
        SetAction::Pass => None,
        SetAction::Done => Some(Ok(Response::Execution(Tag::new("SET")))),
        SetAction::Refuse(e) => Some(Err(pg_error(&e))),
    }
}

/// Statements that reach the other hooks: allowed session settings, SHOW and transactions,
/// which clients send when they connect.
fn is_session_statement(statement: &Statement) -> bool {
    match statement {
        Statement::Set(set) => matches!(set_action(set), SetAction::Pass),
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
    login: Arc<Login>,
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
        if let Statement::Set(set) = statement {
            return set_response(set);
        }
        if is_session_statement(statement) {
            return None;
        }
        let scope = match self
            .login
            .scope(client.metadata().get(METADATA_USER), client.socket_addr())
        {
            Ok(scope) => scope,
            Err(e) => return Some(Err(pg_error(&e))),
        };
        let parsed = datafusion::sql::parser::Statement::Statement(Box::new(statement.clone()));
        Some(match self.engine.statement(&scope, parsed).await {
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
        if let Statement::Set(set) = statement {
            return match set_action(set) {
                SetAction::Pass => None,
                SetAction::Done => Some(Ok(LogicalPlan::EmptyRelation(EmptyRelation {
                    produce_one_row: false,
                    schema: Arc::new(DFSchema::empty()),
                }))),
                SetAction::Refuse(e) => Some(Err(pg_error(&e))),
            };
        }
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

/// datafusion-postgres's parser, refusing a text of more than one statement: over the extended
/// protocol it would run the first and drop the rest without a word.
struct OneStatement(Arc<Parser>);

#[async_trait]
impl QueryParser for OneStatement {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        guard::one_statement(sql).map_err(|e| pg_error(&e))?;
        // Planning errors get the same codes as over HTTP and the simple protocol.
        self.0
            .parse_sql(client, sql, types)
            .await
            .map_err(|e| match e {
                PgWireError::ApiError(inner) => match inner.downcast::<DataFusionError>() {
                    Ok(e) => pg_error(&QueryError::from(*e)),
                    Err(inner) => PgWireError::ApiError(inner),
                },
                other => other,
            })
    }

    fn get_parameter_types(&self, statement: &Prepared) -> PgWireResult<Vec<Type>> {
        self.0.get_parameter_types(statement)
    }

    fn get_result_schema(
        &self,
        statement: &Prepared,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        self.0.get_result_schema(statement, column_format)
    }
}

/// The extended protocol (prepared statements, as drivers use it): parsing (one statement per
/// text) and describing are datafusion-postgres's; execution goes through the engine's guards,
/// encoded in the formats the client bound the portal with.
struct Guarded {
    inner: Arc<DfSessionService>,
    parser: Arc<OneStatement>,
    engine: Arc<Engine>,
    login: Arc<Login>,
}

#[async_trait]
impl ExtendedQueryHandler for Guarded {
    type Statement = Prepared;
    type QueryParser = OneStatement;

    fn query_parser(&self) -> Arc<OneStatement> {
        self.parser.clone()
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
        if let Statement::Set(set) = statement
            && let Some(response) = set_response(set)
        {
            return response;
        }
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
        let scope = self
            .login
            .scope(client.metadata().get(METADATA_USER), client.socket_addr())
            .map_err(|e| pg_error(&e))?;
        let answer = self
            .engine
            .plan(&scope, &portal.statement.statement.0, plan)
            .await
            .map_err(|e| pg_error(&e))?;
        respond(&answer, &portal.result_column_format, client.metadata())
    }
}

/// datafusion-postgres's simple-query handler behind the nesting guard, which must see the
/// text before anything parses it.
struct Simple(Arc<DfSessionService>);

#[async_trait]
impl SimpleQueryHandler for Simple {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        guard::check_nesting(query).map_err(|e| pg_error(&e))?;
        SimpleQueryHandler::do_query(self.0.as_ref(), client, query).await
    }
}

/// The handlers of one server: a fresh SCRAM exchange per connection, the guarded session
/// service for queries.
struct Handlers {
    simple: Arc<Simple>,
    extended: Arc<Guarded>,
    login: Arc<Login>,
    throttle: Arc<Throttle>,
    audit: Option<Arc<Audit>>,
    connections: Arc<ConnectionManager>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.simple.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.extended.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        let mut scram = ScramAuth::new(self.login.clone());
        scram.set_iterations(ITERATIONS);
        Arc::new(Counted {
            inner: SASLAuthStartupHandler::new(Arc::new(DefaultServerParameterProvider::default()))
                .with_scram(scram)
                .with_connection_manager(self.connections.clone()),
            throttle: self.throttle.clone(),
            login: self.login.clone(),
            audit: self.audit.clone(),
        })
    }
}

/// Binds the Postgres endpoint at `addr` (port 0 picks a free port) and serves it in the
/// background; returns the bound address. Accounts of `directory` log in as themselves; while it
/// holds none, `single` is the one login (and without it nobody can log in until an account is
/// added). `throttle` slows down failed logins (share it with the HTTP login). With `tls`,
/// clients may (and `sslmode=require` clients do) encrypt the connection.
pub async fn serve(
    engine: Arc<Engine>,
    addr: &str,
    single: Option<Credentials>,
    directory: Arc<Directory>,
    throttle: Arc<Throttle>,
    tls: Option<TlsAcceptor>,
) -> Result<SocketAddr> {
    if let Some(credentials) = &single
        && (credentials.user.trim().is_empty() || credentials.password.trim().is_empty())
    {
        return Err(QueryError::new(
            ErrorCode::BadRequest,
            "the Postgres login has an empty user or password; set both \
             (UNIONSTAT_PG_USER and UNIONSTAT_PG_PASSWORD, or pg_user and pg_password in the \
             config file's [query] section), or neither to leave the endpoint off",
        ));
    }
    // A clone shares the engine's state: pg_catalog and the Postgres functions registered here
    // are seen by the engine that runs the queries.
    let mut ctx = engine.context().clone();
    let roles = Roles {
        single: single.as_ref().map(|c| c.user.clone()),
        directory: directory.clone(),
    };
    setup_pg_catalog(&ctx, "datafusion", roles).map_err(|e| {
        QueryError::new(
            ErrorCode::Internal,
            format!("setting up pg_catalog failed: {e}"),
        )
    })?;
    datafusion_postgres::datafusion_pg_functions::register_all(&mut ctx);
    let ctx = Arc::new(ctx);
    let single = match single {
        Some(credentials) => {
            let salt = random_bytes::<16>()?.to_vec();
            Some(Single {
                salted: gen_salted_password(&credentials.password, &salt, ITERATIONS),
                user: credentials.user,
                salt,
            })
        }
        None => None,
    };
    let login = Arc::new(Login {
        single,
        directory,
        throttle: throttle.clone(),
    });
    let hooks: Vec<Arc<dyn QueryHook>> = vec![
        Arc::new(GuardHook {
            engine: engine.clone(),
            login: login.clone(),
        }),
        Arc::new(SetShowHook),
        Arc::new(TransactionStatementHook),
    ];
    let service = Arc::new(DfSessionService::new_with_hooks(ctx, hooks));
    let handlers = Arc::new(Handlers {
        extended: Arc::new(Guarded {
            parser: Arc::new(OneStatement(service.query_parser())),
            inner: service.clone(),
            engine: engine.clone(),
            login: login.clone(),
        }),
        simple: Arc::new(Simple(service)),
        login,
        throttle,
        audit: engine.audit(),
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
                    let (handlers, tls) = (handlers.clone(), tls.clone());
                    tokio::spawn(async move {
                        if let Err(e) = datafusion_postgres::pgwire::tokio::process_socket(
                            socket, tls, handlers,
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
