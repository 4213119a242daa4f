//! `unionstat`: the command line of the trade-union statistics pipeline.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod allocator;
mod export;
mod progress;
mod serve;
mod sql;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use unionstat_datasets::crs::Crs;
use unionstat_datasets::{generate, returns};
use unionstat_ingest::identify::Overrides;

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
    Generate(GenerateArgs),
    /// Validate county returns and load them into the lake; bad rows go to the quarantine table.
    Ingest(IngestArgs),
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
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Where the generated returns go (kept between runs).
    #[arg(long, default_value = "data/longyan")]
    data: PathBuf,
    /// The lake (kept between runs).
    #[arg(long, default_value = "data/lake")]
    lake: PathBuf,
    #[command(flatten)]
    addresses: serve::Addresses,
}

#[derive(Debug, Args)]
struct IngestArgs {
    /// Files or folders of returns (.xlsx, .xls, .csv); folders are walked in name order.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The lake: a folder (created if missing) or an object-store URL.
    #[arg(long)]
    lake: String,
    /// The table the returns are for, when file names do not say (see `unionstat schema`).
    #[arg(long)]
    table: Option<String>,
    /// The reporting county (code or name), when file and folder names do not say.
    #[arg(long)]
    county: Option<String>,
    /// The reporting year, when file names do not say.
    #[arg(long)]
    period: Option<i32>,
    /// Validate and report only; write nothing to the lake.
    #[arg(long)]
    dry_run: bool,
    /// Coordinate system of points in returns that do not say (WGS-84, CGCS2000, GCJ-02, BD-09);
    /// default WGS-84.
    #[arg(long, value_parser = parse_crs)]
    source_crs: Option<Crs>,
    /// Share of bad rows above which a whole return is rejected, 0 to 1; default 0.1.
    #[arg(long, value_parser = parse_rate)]
    error_threshold: Option<f64>,
    /// Write the report here: a CSV of every error if the name ends in .csv, JSON otherwise.
    #[arg(long)]
    report: Option<PathBuf>,
    /// File holding the key that hashes ID numbers (created on first use); the environment
    /// variable UNIONSTAT_ID_HASH_KEY takes precedence.
    #[arg(long)]
    id_hash_key_file: Option<PathBuf>,
    /// TOML configuration file ([ingest] error_threshold, source_crs, id_hash_key_file, and
    /// [ingest.headers] mapping a county's header to a column); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
}

fn parse_crs(s: &str) -> Result<Crs, String> {
    Crs::parse(s).ok_or_else(|| format!("`{s}` is not a coordinate system unionstat knows: use WGS-84, CGCS2000, GCJ-02 or BD-09"))
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Volume multiplier: 1 reproduces Longyan as published (7,086 unions, 514,000 members).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    scale: f64,
    /// Seed of every random choice; the same seed and scale give byte-identical files.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Folder to write into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Share of rows given a fault (to be rejected) or a quirk (to be repaired), 0 to 1.
    #[arg(long, default_value_t = 0.01, value_parser = parse_rate)]
    dirty_rate: f64,
    /// Also write the member registry, one row per member (about 514,000 at scale 1).
    #[arg(long)]
    members: bool,
}

fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a scale: give a number from 0.1 to 1000, e.g. 1 or 10"
        )),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a rate: give a share between 0 and 1, e.g. 0.01"
        )),
    }
}

fn run_generate(args: &GenerateArgs) -> Result<(), returns::Error> {
    let started = Instant::now();
    println!(
        "generating Longyan returns 2013-2017 at scale {} with seed {} ...",
        args.scale, args.seed
    );
    let mut generator = generate::Generator::new(args.scale, args.seed);
    let options = returns::Options {
        seed: args.seed,
        scale: args.scale,
        dirty_rate: args.dirty_rate,
        members: args.members,
    };
    let summary = returns::write_all(&args.out, &mut generator, &options)?;
    let corrections = summary.files.iter().filter(|f| f.correction).count();
    println!(
        "wrote {} returns ({} of them corrected resubmissions) with {} clean rows to {}",
        summary.files.len(),
        corrections,
        summary.clean_rows,
        args.out.display()
    );
    println!(
        "injected {} faults and {} quirks, listed in dirty_manifest.csv",
        summary.faults, summary.quirks
    );
    if args.members {
        println!("wrote the member registry: {} members", summary.members);
    }
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn default_key_file() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("unionstat").join("id-hash.key")
}

fn run_ingest(args: &IngestArgs) -> Result<u8, String> {
    let config = match &args.config {
        Some(path) => {
            unionstat_ingest::config::Config::load(path)
                .map_err(|e| e.to_string())?
                .ingest
        }
        None => unionstat_ingest::config::IngestConfig::default(),
    };
    let key_file = args
        .id_hash_key_file
        .clone()
        .or(config.id_hash_key_file)
        .unwrap_or_else(default_key_file);
    let key = unionstat_ingest::pii::load_or_create_key(&key_file).map_err(|e| {
        format!(
            "cannot read or create the ID-hash key {}: {e}",
            key_file.display()
        )
    })?;
    let config_crs = match config.source_crs.as_deref() {
        Some(name) => Some(parse_crs(name)?),
        None => None,
    };
    let mut options = unionstat_ingest::Options::new(&args.lake);
    options.dry_run = args.dry_run;
    options.error_threshold = args
        .error_threshold
        .or(config.error_threshold)
        .unwrap_or(options.error_threshold);
    options.source_crs = args.source_crs.or(config_crs).unwrap_or(options.source_crs);
    options.hash_key = Some(key);
    options.header_mapping = config.headers;
    options.progress = Some(std::sync::Arc::new(progress::IngestProgress::new()));
    options.overrides = Overrides {
        table: args.table.clone(),
        county: args.county.clone(),
        period: args.period,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = runtime
        .block_on(unionstat_ingest::ingest(&args.paths, &options))
        .map_err(|e| e.to_string())?;
    print!("{}", report.summary());
    if let Some(path) = &args.report {
        report.write(path).map_err(|e| e.to_string())?;
        println!("report written to {}", path.display());
    }
    Ok(report.exit_code())
}

/// A Postgres login for the demo: user `analyst` and a password made up for this run.
fn demo_login() -> unionstat_query::pg::Credentials {
    use std::hash::{BuildHasher, RandomState};
    let password = format!("{:016x}", RandomState::new().hash_one(Instant::now()));
    unionstat_query::pg::Credentials {
        user: "analyst".into(),
        password,
    }
}

fn run_demo(args: &DemoArgs) -> Result<u8, String> {
    if !args.data.join("manifest.json").is_file() {
        run_generate(&GenerateArgs {
            scale: 1.0,
            seed: 42,
            out: args.data.clone(),
            dirty_rate: 0.01,
            members: false,
        })
        .map_err(|e| e.to_string())?;
    }
    // Every start loads the returns: those already in the lake are recognised by their content
    // and skipped (a few seconds), and a load that was interrupted is completed.
    println!(
        "loading the returns into {} (returns already there are skipped) ...",
        args.lake.display()
    );
    run_ingest(&IngestArgs {
        paths: vec![args.data.join("reference"), args.data.join("returns")],
        lake: args.lake.to_string_lossy().to_string(),
        table: None,
        county: None,
        period: None,
        dry_run: false,
        source_crs: None,
        error_threshold: None,
        report: None,
        id_hash_key_file: None,
        config: None,
    })?;
    let login = demo_login();
    if unionstat_query::pg::credentials_from_env().is_none() {
        println!(
            "Postgres login for this run: user {} password {}",
            login.user, login.password
        );
    }
    let serve = serve::ServeArgs {
        lake: sql::LakeArgs {
            lake: args.lake.to_string_lossy().to_string(),
            config: None,
        },
        addresses: serve::Addresses {
            http: args.addresses.http.clone(),
            pg: args.addresses.pg.clone(),
        },
    };
    serve::run_serve(&serve, Some(login))
}

fn main() -> ExitCode {
    allocator::tune();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Generate(args) => run_generate(args).map(|()| 0).map_err(|e| e.to_string()),
        Command::Ingest(args) => run_ingest(args),
        Command::Sql(args) => sql::run_sql(args),
        Command::Serve(args) => serve::run_serve(args, None),
        Command::Export(args) => export::run_export(args),
        Command::Demo(args) => run_demo(args),
        Command::Schema { table } => {
            match unionstat_ingest::dictionary::dictionary(table.as_deref()) {
                Some(text) => {
                    print!("{text}");
                    Ok(0)
                }
                None => Err(format!(
                    "no table `{}`; tables are {}",
                    table.as_deref().unwrap_or(""),
                    unionstat_ingest::dictionary::table_names().join(", ")
                )),
            }
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
    }
}
