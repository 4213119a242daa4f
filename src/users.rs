//! `unionstat users`: the accounts of a server, kept beside its lake (or where the config file's
//! `[serve] accounts` says). A running `serve` sees every change on its next request.

use std::io::{BufRead as _, IsTerminal as _};

use clap::{Args, Subcommand};
use unionstat_query::Scope;
use unionstat_query::accounts::{NewAccount, Role, Store};

use crate::config::Config;
use crate::error::{CliError, Result};
use crate::sql::LakeArgs;

/// `unionstat users`.
#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
}

/// What to do with the accounts.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add an account; prints a generated password unless --password-stdin gives one.
    Add {
        /// Login name (letters, digits, `_ - . @`; Chinese characters are letters).
        name: String,
        #[command(flatten)]
        lake: LakeArgs,
        /// admin, city, county or viewer (see the README for what each may do).
        #[arg(long)]
        role: String,
        /// The county code of a county account (e.g. 350802 for 新罗区).
        #[arg(long)]
        county: Option<String>,
        /// May read personal columns (ID hashes, birth dates, gender, phones); admins always may.
        #[arg(long)]
        pii: bool,
        /// Refuse the account from the day after this one (YYYY-MM-DD).
        #[arg(long)]
        expires: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        lake: LakeArgs,
    },
    /// Set a new password (generated and printed unless --password-stdin gives one).
    Passwd {
        /// Login name.
        name: String,
        #[command(flatten)]
        lake: LakeArgs,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account: its logins, sessions and tokens are refused from the next request.
    Disable {
        /// Login name.
        name: String,
        #[command(flatten)]
        lake: LakeArgs,
    },
    /// Enable a disabled account again.
    Enable {
        /// Login name.
        name: String,
        #[command(flatten)]
        lake: LakeArgs,
    },
    /// Make an API token for scripts (`Authorization: Bearer TOKEN`); printed once.
    Token {
        /// Login name.
        name: String,
        #[command(flatten)]
        lake: LakeArgs,
        /// Forget every token of the account instead.
        #[arg(long)]
        revoke: bool,
    },
}

/// The accounts store of the lake in `lake`, where the config file puts it.
pub fn store(lake: &LakeArgs, file: &Config) -> Result<Store> {
    match &file.serve.accounts {
        Some(path) => Ok(Store::new(path)),
        None => Store::beside_lake(&lake.lake).map_err(|e| CliError::Usage(e.message)),
    }
}

/// The scope of account `name`, for `unionstat sql --as`.
pub fn scope_of(lake: &LakeArgs, file: &Config, name: &str) -> Result<Scope> {
    let accounts = store(lake, file)?.load()?;
    let account = accounts.get(name).ok_or_else(|| {
        CliError::Usage(format!(
            "there is no account `{name}`; `unionstat users list --lake {}` shows them",
            lake.lake
        ))
    })?;
    if let Err(why) = account.usable() {
        return Err(CliError::Usage(format!("the account `{name}` is {why}")));
    }
    Ok(account.scope())
}

fn password_from_stdin() -> Result<String> {
    if std::io::stdin().is_terminal() {
        eprintln!("password (then Enter):");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(CliError::io("reading the password from standard input"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn open(lake: &LakeArgs) -> Result<Store> {
    let file = Config::load(lake.config.as_deref())?;
    store(lake, &file)
}

/// Runs `unionstat users ...`.
pub fn run_users(args: &UsersArgs) -> Result<u8> {
    match &args.command {
        UsersCommand::Add {
            name,
            lake,
            role,
            county,
            pii,
            expires,
            password_stdin,
        } => {
            let role: Role = role
                .parse()
                .map_err(|e: unionstat_query::QueryError| CliError::Usage(e.message))?;
            let given = password_stdin.then(password_from_stdin).transpose()?;
            let store = open(lake)?;
            let new = NewAccount {
                name: name.clone(),
                role,
                county: county.clone(),
                pii: *pii,
                expires: expires.clone(),
            };
            let password = store.update(|a| a.add(new, given.clone()))?;
            println!("added {role} account {name} to {}", store.path().display());
            if given.is_none() {
                println!("password (shown once): {password}");
            }
        }
        UsersCommand::List { lake } => {
            let accounts = open(lake)?.load()?;
            if accounts.accounts.is_empty() {
                println!(
                    "no accounts: `serve` is a single-user tool on this machine until one is added"
                );
            }
            for a in &accounts.accounts {
                let state = match a.usable() {
                    Ok(()) => "active",
                    Err(why) => why,
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{} token(s)\tcreated {}",
                    a.name,
                    a.role,
                    a.county.as_deref().unwrap_or("-"),
                    if a.pii || a.role == Role::Admin {
                        "pii"
                    } else {
                        "-"
                    },
                    state,
                    a.tokens.len(),
                    a.created
                );
            }
        }
        UsersCommand::Passwd {
            name,
            lake,
            password_stdin,
        } => {
            let given = password_stdin.then(password_from_stdin).transpose()?;
            let password = open(lake)?.update(|a| a.set_password(name, given.clone()))?;
            println!("the password of {name} is changed; its sessions end");
            if given.is_none() {
                println!("password (shown once): {password}");
            }
        }
        UsersCommand::Disable { name, lake } => {
            open(lake)?.update(|a| a.set_disabled(name, true))?;
            println!("{name} is disabled");
        }
        UsersCommand::Enable { name, lake } => {
            open(lake)?.update(|a| a.set_disabled(name, false))?;
            println!("{name} is enabled");
        }
        UsersCommand::Token { name, lake, revoke } => {
            let store = open(lake)?;
            if *revoke {
                let n = store.update(|a| a.revoke_tokens(name))?;
                println!("{n} token(s) of {name} revoked");
            } else {
                let token = store.update(|a| a.new_token(name))?;
                println!(
                    "API token for {name} (shown once; send it as `Authorization: Bearer TOKEN`):"
                );
                println!("{token}");
            }
        }
    }
    Ok(0)
}
