//! `unionstat sql`: one query, or a prompt when none is given.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use unionstat_query::config::QueryConfig;
use unionstat_query::output::{self, Format};
use unionstat_query::{Engine, Scope};

use crate::config::Config;
use crate::error::{CliError, Result};

/// Flags shared by `sql` and `serve`.
#[derive(Debug, Args)]
pub struct LakeArgs {
    /// The lake: the folder (or object-store URL) `unionstat ingest` wrote.
    #[arg(long)]
    pub lake: String,
    /// The configuration file (see the README); its `[query]` section sets the limits and the
    /// Postgres login, `[serve]` the addresses and `[export]` the scheduled export.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// `unionstat sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(flatten)]
    lake: LakeArgs,
    /// Output format: table, csv, json or parquet.
    #[arg(long, default_value = "table")]
    format: String,
    /// Run as account NAME: see only what it may see (to check a policy). Without it, the CLI
    /// reads everything, as whoever can read the lake's files can.
    #[arg(long = "as", value_name = "NAME")]
    as_account: Option<String>,
    /// The query; without one, statements are read from standard input, each ending with `;`.
    query: Option<String>,
}

async fn open(args: &LakeArgs, config: &QueryConfig) -> Result<Engine> {
    let engine = Engine::open(&args.lake, config.engine_options())
        .await
        .map_err(CliError::Open)?;
    for (view, reason) in engine.missing_views() {
        eprintln!("note: view {view} is not available yet: {reason}");
    }
    Ok(engine)
}

/// The async runtime of every subcommand. Its threads plan and run queries, which recurse once
/// per level of a statement's nesting: 8 MiB stacks (the main thread's size) leave room beyond
/// the guard's limit, which measured within Tokio's default of 2 MiB.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(8 << 20)
        .enable_all()
        .build()
        .map_err(CliError::io("cannot start the async runtime"))
}

/// Runs `unionstat sql`; exit code 0, or 1 when a statement failed.
pub fn run_sql(args: &SqlArgs) -> Result<u8> {
    let format: Format = args
        .format
        .parse()
        .map_err(|e: unionstat_query::QueryError| CliError::Usage(e.message))?;
    let file = Config::load(args.lake.config.as_deref())?;
    let scope = match &args.as_account {
        Some(name) => crate::users::scope_of(&args.lake, &file, name)?,
        None => Scope::local(),
    };
    runtime()?.block_on(async {
        let engine = open(&args.lake, &file.query).await?;
        if let Some(query) = &args.query {
            let answer = engine.sql(&scope, query).await?;
            print_answer(&answer, format)?;
            return Ok(0);
        }
        repl(&engine, &scope, format).await
    })
}

/// Writes an answer to standard output; a text table ends with its row count.
fn print_answer(answer: &unionstat_query::Answer, format: Format) -> Result<()> {
    let bytes = output::write(answer, format)?;
    std::io::stdout()
        .write_all(&bytes)
        .map_err(CliError::io("writing to standard output"))?;
    if format == Format::Table {
        println!("\n({} rows)", answer.rows());
    }
    Ok(())
}

/// Reads statements until end of input; a failed statement is reported and the next one runs.
async fn repl(engine: &Engine, scope: &Scope, format: Format) -> Result<u8> {
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!(
            "unionstat SQL — end each statement with ;  `SHOW TABLES;` lists tables, Ctrl-D quits"
        );
    }
    let mut failed = false;
    let mut pending = String::new();
    let mut lines = std::io::stdin().lock().lines();
    loop {
        if interactive {
            print!(
                "{}",
                if pending.is_empty() {
                    "unionstat> "
                } else {
                    "      ...> "
                }
            );
            std::io::stdout()
                .flush()
                .map_err(CliError::io("writing to standard output"))?;
        }
        let Some(line) = lines.next() else { break };
        pending.push_str(&line.map_err(CliError::io("reading standard input"))?);
        pending.push('\n');
        if !pending.trim_end().ends_with(';') {
            continue;
        }
        let sql = std::mem::take(&mut pending);
        match engine.sql(scope, sql.trim().trim_end_matches(';')).await {
            Ok(answer) => print_answer(&answer, format)?,
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
            }
        }
    }
    Ok(u8::from(failed))
}
