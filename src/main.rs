//! `unionstat`: the command line of the trade-union statistics pipeline. Each subcommand lives in
//! a module of its own; this file only parses the command line and reports the outcome.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod allocator;
mod config;
mod demo;
mod error;
mod export;
mod generate;
mod ingest;
mod logs;
mod progress;
mod serve;
mod sql;
mod users;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Trade-union statistics for the Longyan City Federation of Trade Unions (龙岩市总工会).
#[derive(Debug, Parser)]
#[command(name = "unionstat", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write five years (2013-2017) of county returns for Longyan, calibrated to the published figures.
    Generate(generate::GenerateArgs),
    /// Validate county returns and load them into the lake; bad rows go to the quarantine table.
    Ingest(ingest::IngestArgs),
    /// Print the data dictionary: each table's columns, types, accepted headers and values.
    Schema {
        /// One table (all when omitted).
        table: Option<String>,
    },
    /// Run SQL over the lake (one query, or a prompt reading statements from standard input).
    Sql(sql::SqlArgs),
    /// Serve the dashboard, its JSON API and SQL over HTTP, and the Postgres protocol.
    Serve(serve::ServeArgs),
    /// Write a Parquet snapshot of the lake's tables and views (GeoParquet for geometries).
    Export(export::ExportArgs),
    /// Generate Longyan's scale-1 returns if absent, ingest them if the lake is empty, and serve.
    Demo(demo::DemoArgs),
    /// Manage the accounts that may log in to `serve` (add, list, passwd, disable, token).
    Users(users::UsersArgs),
}

/// `unionstat schema [TABLE]`.
fn print_schema(table: Option<&str>) -> error::Result<u8> {
    match unionstat_ingest::dictionary::dictionary(table) {
        Some(text) => {
            print!("{text}");
            Ok(0)
        }
        None => Err(error::CliError::Usage(format!(
            "no table `{}`; tables are {}",
            table.unwrap_or(""),
            unionstat_ingest::dictionary::table_names().join(", ")
        ))),
    }
}

fn main() -> ExitCode {
    allocator::tune();
    let cli = Cli::parse();
    // Servers log what they do; the other commands print their own progress and log only problems.
    logs::init(match cli.command {
        Command::Serve(_) | Command::Demo(_) => "warn,unionstat=info",
        _ => "warn",
    });
    let result = match &cli.command {
        Command::Generate(args) => generate::run_generate(args)
            .map(|()| 0)
            .map_err(error::CliError::from),
        Command::Ingest(args) => ingest::run_ingest(args),
        Command::Sql(args) => sql::run_sql(args),
        Command::Serve(args) => serve::run_serve(args),
        Command::Export(args) => export::run_export(args),
        Command::Demo(args) => demo::run_demo(args),
        Command::Schema { table } => print_schema(table.as_deref()),
        Command::Users(args) => users::run_users(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
    }
}
