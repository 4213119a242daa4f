//! `unionstat generate`: five years of calibrated county returns for Longyan.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use unionstat_generator::{generate, returns};

use crate::ingest::parse_rate;

/// `unionstat generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Volume multiplier: 1 reproduces Longyan as published (7,086 unions, 514,000 members).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub scale: f64,
    /// Seed of every random choice; the same seed and scale give byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Folder to write into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Share of rows given a fault (to be rejected) or a quirk (to be repaired), 0 to 1.
    #[arg(long, default_value_t = 0.01, value_parser = parse_rate)]
    pub dirty_rate: f64,
    /// Also write the member registry, one row per member (about 514,000 at scale 1).
    #[arg(long)]
    pub members: bool,
}

fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a scale: give a number from 0.1 to 1000, e.g. 1 or 10"
        )),
    }
}

/// Runs `unionstat generate`.
pub fn run_generate(args: &GenerateArgs) -> Result<(), returns::Error> {
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
