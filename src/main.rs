//! `unionstat`: the command line of the trade-union statistics pipeline.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use unionstat_datasets::{generate, returns};

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Generate(args) => run_generate(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
    }
}
