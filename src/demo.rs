//! `unionstat demo`: Longyan's returns generated if absent and loaded into the lake (returns
//! already there are skipped), an `admin` account made on the first run (its password printed
//! once), then the servers of `unionstat serve`.

use std::path::PathBuf;

use clap::Args;
use unionstat_query::accounts::{NewAccount, Role, Store};

use crate::error::Result;
use crate::generate::{GenerateArgs, run_generate};
use crate::ingest::{IngestArgs, run_ingest};
use crate::serve;
use crate::sql::LakeArgs;

/// `unionstat demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the generated returns go (kept between runs).
    #[arg(long, default_value = "data/longyan")]
    pub data: PathBuf,
    /// The lake (kept between runs).
    #[arg(long, default_value = "data/lake")]
    pub lake: PathBuf,
    #[command(flatten)]
    pub addresses: serve::Addresses,
}

/// Runs `unionstat demo` until interrupted.
pub fn run_demo(args: &DemoArgs) -> Result<u8> {
    if !args.data.join("manifest.json").is_file() {
        run_generate(&GenerateArgs {
            scale: 1.0,
            seed: 42,
            out: args.data.clone(),
            dirty_rate: 0.01,
            members: false,
        })?;
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
    let store = Store::beside_lake(&args.lake.to_string_lossy())?;
    if store.load()?.accounts.is_empty() {
        let password = store.update(|a| a.add(NewAccount::new("admin", Role::Admin), None))?;
        println!("Login (dashboard and Postgres): user admin password {password} (shown once)");
    } else {
        println!(
            "Log in with your account; `unionstat users passwd admin --lake {}` sets a new \
             password for admin",
            args.lake.display()
        );
    }
    let serve = serve::ServeArgs {
        lake: LakeArgs {
            lake: args.lake.to_string_lossy().to_string(),
            config: None,
        },
        addresses: serve::Addresses {
            http: args.addresses.http.clone(),
            pg: args.addresses.pg.clone(),
        },
    };
    serve::run_serve(&serve)
}
