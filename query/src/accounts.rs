//! The people who may use a server: accounts with a role (and, for counties, a county), kept in
//! one JSON file beside the lake (`<lake>/_system/accounts.json` unless configured). The CLI's
//! `unionstat users` changes it; `serve` reads it again whenever it changes, so an account added,
//! disabled or given a new password takes effect on the next request, without a restart.
//!
//! Passwords are stored as argon2id hashes for HTTP logins and as SCRAM-SHA-256 salted passwords
//! for the Postgres endpoint (the protocol needs them; it is how Postgres itself stores them). API
//! tokens are 256 random bits, stored as their SHA-256. Salts, tokens and generated passwords come
//! from the operating system's secure random source.
//!
//! Each change is written to a new file that then replaces the old one (after `fsync`), under a
//! lock file, so a crash or two `users` commands at once never leave a half-written store.
//!
//! ```no_run
//! # fn run() -> unionstat_query::Result<()> {
//! use unionstat_query::accounts::{NewAccount, Role, Store};
//!
//! let store = Store::beside_lake("data/lake")?;
//! let password = store.update(|accounts| {
//!     accounts.add(NewAccount::new("longyan_xl", Role::County).county("350802"), None)
//! })?;
//! println!("password for longyan_xl: {password}");
//! # Ok(()) }
//! ```

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{ErrorCode, QueryError, Result};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The city federation's IT: everything, accounts, exports, raw quarantine values, the audit.
    Admin,
    /// City leadership and analysts: every county's rows, the SQL console and Postgres.
    City,
    /// A county federation's stewards and analysts: that county's rows only, everywhere.
    County,
    /// The leadership big screen: the dashboard only; no SQL console, no Postgres.
    Viewer,
}

impl Role {
    /// Every role, as `--role` takes them.
    pub const ALL: [Role; 4] = [Role::Admin, Role::City, Role::County, Role::Viewer];

    /// The role's name: `admin`, `city`, `county`, `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::City => "city",
            Role::County => "county",
            Role::Viewer => "viewer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                QueryError::new(
                    ErrorCode::BadRequest,
                    format!("there is no role `{s}`; roles are admin, city, county and viewer"),
                )
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SCRAM-SHA-256 iterations of the stored Postgres passwords (Postgres's own default).
pub const SCRAM_ITERATIONS: usize = 4096;

/// A password as the Postgres endpoint's SCRAM exchange needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scram {
    /// Salt, hex.
    pub salt: String,
    /// PBKDF2-HMAC-SHA-256 of the password with the salt, hex.
    pub salted: String,
    /// PBKDF2 iterations.
    pub iterations: usize,
}

/// An API token, known by the SHA-256 of its text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    /// The first 8 hex digits of the hash: how `users list` names it.
    pub id: String,
    /// SHA-256 of the token, hex.
    pub hash: String,
    /// When it was made (RFC 3339).
    pub created: String,
}

/// One account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The county code (六位行政区划代码) of a `county` account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    /// May read personal columns (ID hashes, birth dates, gender, phones, names of people).
    #[serde(default)]
    pub pii: bool,
    /// Refused at login and on every request.
    #[serde(default)]
    pub disabled: bool,
    /// Refused from this day on (`YYYY-MM-DD`, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// argon2id hash of the password (PHC string).
    pub password: String,
    /// The same password for SCRAM.
    pub scram: Scram,
    /// API tokens.
    #[serde(default)]
    pub tokens: Vec<Token>,
    /// When it was made (RFC 3339).
    pub created: String,
    /// When its password last changed (RFC 3339).
    pub password_changed: String,
}

impl Account {
    /// Whether the account may be used today: not disabled and not expired.
    pub fn usable(&self) -> std::result::Result<(), &'static str> {
        if self.disabled {
            return Err("disabled");
        }
        if let Some(expires) = &self.expires
            && chrono::Utc::now().format("%Y-%m-%d").to_string() >= *expires
        {
            return Err("expired");
        }
        Ok(())
    }

    /// The scope its queries run in.
    pub fn scope(&self) -> crate::policy::Scope {
        crate::policy::Scope {
            name: self.name.clone(),
            role: self.role,
            county: self.county.clone(),
            pii: self.pii || self.role == Role::Admin,
            ..crate::policy::Scope::local()
        }
    }
}

/// What `users add` asks for.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// County code, for `county` accounts (required there, refused elsewhere).
    pub county: Option<String>,
    /// May read personal columns.
    pub pii: bool,
    /// Last day before the account is refused (`YYYY-MM-DD`): it is refused from the next day.
    pub expires: Option<String>,
}

impl NewAccount {
    /// An account `name` with `role`, no county, no personal columns, no expiry.
    pub fn new(name: &str, role: Role) -> Self {
        NewAccount {
            name: name.to_string(),
            role,
            county: None,
            pii: false,
            expires: None,
        }
    }

    /// Bound to county `code`.
    pub fn county(mut self, code: &str) -> Self {
        self.county = Some(code.to_string());
        self
    }
}

/// Every account: the store's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Accounts {
    /// Format of the file.
    #[serde(default = "format_version")]
    pub format: u32,
    /// The accounts, by name.
    pub accounts: Vec<Account>,
}

fn format_version() -> u32 {
    1
}

fn bad(message: impl Into<String>) -> QueryError {
    QueryError::new(ErrorCode::BadRequest, message)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Accounts {
    /// The account called `name`.
    pub fn get(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }

    fn get_mut(&mut self, name: &str) -> Result<&mut Account> {
        self.accounts
            .iter_mut()
            .find(|a| a.name == name)
            .ok_or_else(|| {
                bad(format!(
                    "there is no account `{name}`; `unionstat users list` shows them"
                ))
            })
    }

    /// Adds an account with `password`, or with a generated one when `None`; returns the password.
    pub fn add(&mut self, new: NewAccount, password: Option<String>) -> Result<String> {
        check_name(&new.name)?;
        if self.get(&new.name).is_some() {
            return Err(bad(format!(
                "an account `{}` exists already; choose another name, or change its password \
                 with `unionstat users passwd`",
                new.name
            )));
        }
        match (new.role, &new.county) {
            (Role::County, None) => {
                return Err(bad(
                    "a county account needs --county CODE, the county's six-digit code (e.g. 350802 for 新罗区)",
                ));
            }
            (Role::County, Some(code)) => check_county(code)?,
            (_, Some(_)) => {
                return Err(bad(format!(
                    "--county is for county accounts; a {} account sees every county",
                    new.role
                )));
            }
            _ => {}
        }
        if let Some(day) = &new.expires {
            chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map_err(|_| bad(format!("--expires {day} is not a date like 2027-06-30")))?;
        }
        let password = match password {
            Some(p) => check_password(p)?,
            None => generate_password()?,
        };
        let (hash, scram) = hashes(&password)?;
        let at = now();
        self.accounts.push(Account {
            name: new.name,
            role: new.role,
            county: new.county,
            pii: new.pii,
            disabled: false,
            expires: new.expires,
            password: hash,
            scram,
            tokens: Vec::new(),
            created: at.clone(),
            password_changed: at,
        });
        Ok(password)
    }

    /// Gives `name` a new password (generated when `None`), returned.
    pub fn set_password(&mut self, name: &str, password: Option<String>) -> Result<String> {
        let password = match password {
            Some(p) => check_password(p)?,
            None => generate_password()?,
        };
        let (hash, scram) = hashes(&password)?;
        let account = self.get_mut(name)?;
        account.password = hash;
        account.scram = scram;
        account.password_changed = now();
        Ok(password)
    }

    /// Disables (or enables again) `name`; a disabled account's logins, sessions and tokens are refused.
    pub fn set_disabled(&mut self, name: &str, disabled: bool) -> Result<()> {
        self.get_mut(name)?.disabled = disabled;
        Ok(())
    }

    /// A new API token for `name`, returned; only its hash is kept.
    pub fn new_token(&mut self, name: &str) -> Result<String> {
        let token = format!("ust_{}", hex::encode(random_bytes::<32>()?));
        let hash = token_hash(&token);
        self.get_mut(name)?.tokens.push(Token {
            id: hash[..8].to_string(),
            hash,
            created: now(),
        });
        Ok(token)
    }

    /// Forgets every API token of `name`; returns how many there were.
    pub fn revoke_tokens(&mut self, name: &str) -> Result<usize> {
        let account = self.get_mut(name)?;
        Ok(std::mem::take(&mut account.tokens).len())
    }

    /// The account `name` if `password` is its password. Takes as long for a name that does not
    /// exist, so the time of an answer does not tell which names do.
    pub fn verify_password(&self, name: &str, password: &str) -> Option<&Account> {
        let account = self.get(name);
        let hash = account.map_or(DUMMY_HASH.as_str(), |a| a.password.as_str());
        let ok = PasswordHash::new(hash).is_ok_and(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        account.filter(|_| ok)
    }

    /// The account holding API token `token`.
    pub fn by_token(&self, token: &str) -> Option<&Account> {
        let hash = token_hash(token);
        self.accounts
            .iter()
            .find(|a| a.tokens.iter().any(|t| t.hash == hash))
    }
}

/// An argon2id hash of a random password, verified against when a name is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    random_bytes::<16>()
        .ok()
        .and_then(|p| hashes(&hex::encode(p)).ok())
        .map(|(hash, _)| hash)
        .unwrap_or_default()
});

/// argon2id with OWASP's parameters: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hashes(password: &str) -> Result<(String, Scram)> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| QueryError::new(ErrorCode::Internal, format!("a salt: {e}")))?;
    let hash = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| QueryError::new(ErrorCode::Internal, format!("hashing a password: {e}")))?
        .to_string();
    let scram_salt = random_bytes::<16>()?;
    let scram = Scram {
        salted: hex::encode(scram_salted(password, &scram_salt, SCRAM_ITERATIONS)),
        salt: hex::encode(scram_salt),
        iterations: SCRAM_ITERATIONS,
    };
    Ok((hash, scram))
}

/// PBKDF2-HMAC-SHA-256 of `password` with `salt`, one 32-byte block: SCRAM-SHA-256's
/// `SaltedPassword` (RFC 5802, RFC 7677).
pub fn scram_salted(password: &str, salt: &[u8], iterations: usize) -> [u8; 32] {
    let key = Hmac::<Sha256>::new_from_slice(password.as_bytes()).unwrap_or_else(|_| {
        // HMAC takes a key of any length; this branch cannot be reached.
        Hmac::<Sha256>::new_from_slice(&[]).unwrap_or_else(|_| unreachable!())
    });
    let mut mac = key.clone();
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = mac.finalize().into_bytes().into();
    let mut out = u;
    for _ in 1..iterations {
        let mut mac = key.clone();
        mac.update(&u);
        u = mac.finalize().into_bytes().into();
        for (o, b) in out.iter_mut().zip(u) {
            *o ^= b;
        }
    }
    out
}

/// SHA-256 of an API token, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `N` bytes from the operating system's secure random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        QueryError::new(
            ErrorCode::Internal,
            format!("the system's random source failed: {e}"),
        )
    })?;
    Ok(bytes)
}

/// A password of 96 random bits, in letters and digits that cannot be mistaken for each other.
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // 18 characters of a 56-letter alphabet: about 104 bits; rejection keeps each one uniform.
    let mut out = String::new();
    while out.len() < 18 {
        for b in random_bytes::<32>()? {
            let b = usize::from(b);
            if b < 224 && out.len() < 18 {
                out.push(char::from(ALPHABET[b % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<()> {
    let fine = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if fine {
        Ok(())
    } else {
        Err(bad(format!(
            "`{name}` cannot be an account name: use 1 to 64 letters, digits, `_`, `-`, `.` or `@` \
             (Chinese characters are letters)"
        )))
    }
}

fn check_county(code: &str) -> Result<()> {
    if unionstat_datasets::reference::county(code).is_some() {
        return Ok(());
    }
    let known: Vec<String> = unionstat_datasets::reference::counties()
        .iter()
        .map(|c| format!("{} {}", c.code, c.name_zh))
        .collect();
    Err(bad(format!(
        "{code} is not a county of the federation; counties are {}",
        known.join(", ")
    )))
}

fn check_password(password: String) -> Result<String> {
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    if password.chars().count() < 10 {
        return Err(bad(
            "the password is shorter than 10 characters; choose a longer one, or give none and \
             one is generated",
        ));
    }
    Ok(password)
}

/// The file the accounts are kept in, and its lock.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// The store at `path` (a `.json` file; its folder is made when the first account is added).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Store { path: path.into() }
    }

    /// The store beside the lake at `lake`: `<lake>/_system/accounts.json`. The lake must be a
    /// folder; a lake in an object store needs `[serve] accounts` to name a local file.
    pub fn beside_lake(lake: &str) -> Result<Self> {
        let folder = match url::Url::parse(lake) {
            Ok(url) if url.scheme() == "file" => url
                .to_file_path()
                .map_err(|()| bad(format!("{lake} is not a local folder")))?,
            Ok(url) if url.scheme().len() > 1 => {
                return Err(bad(format!(
                    "the lake {lake} is not a local folder, so the accounts cannot be kept beside \
                     it; set `accounts` in the config file's [serve] section to a local file"
                )));
            }
            _ => PathBuf::from(lake),
        };
        Ok(Store::new(folder.join("_system").join("accounts.json")))
    }

    /// Where the accounts are kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The accounts as the file holds them now (none when there is no file).
    pub fn load(&self) -> Result<Accounts> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                QueryError::new(
                    ErrorCode::Internal,
                    format!(
                        "the accounts file {} cannot be read ({e}); restore it from a backup",
                        self.path.display()
                    ),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Accounts::default()),
            Err(e) => Err(io(&self.path, "read", &e)),
        }
    }

    /// Changes the accounts with `change` under the store's lock and writes them back whole, or
    /// not at all when `change` fails.
    pub fn update<T>(&self, change: impl FnOnce(&mut Accounts) -> Result<T>) -> Result<T> {
        let folder = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(folder).map_err(|e| io(folder, "create", &e))?;
        let lock_path = self.path.with_extension("lock");
        let lock = File::create(&lock_path).map_err(|e| io(&lock_path, "create", &e))?;
        lock.lock().map_err(|e| io(&lock_path, "lock", &e))?;
        let mut accounts = self.load()?;
        let out = change(&mut accounts)?;
        let text = serde_json::to_vec_pretty(&accounts)
            .map_err(|e| QueryError::new(ErrorCode::Internal, e.to_string()))?;
        let temporary = self.path.with_extension("json.new");
        let write = || -> std::io::Result<()> {
            let mut file = private_file(&temporary)?;
            file.write_all(&text)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)?;
            File::open(folder)?.sync_all()
        };
        write().map_err(|e| io(&self.path, "write", &e))?;
        Ok(out)
    }
}

/// A new file only its owner can read: it holds password hashes.
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn io(path: &Path, what: &str, e: &std::io::Error) -> QueryError {
    QueryError::new(
        ErrorCode::Internal,
        format!("cannot {what} {} ({e})", path.display()),
    )
}

/// A file's modification time and size: when either changes, the file is read again.
/// What tells that the accounts file changed: its time, size and inode. Every change is written
/// to a new file renamed over the old, so the inode changes even when two changes come within
/// one tick of the file system's clock and leave the size as it was (a new password).
type Stamp = Option<(SystemTime, u64, u64)>;

/// The accounts as a server sees them: the store, read again when its file changes.
#[derive(Debug)]
pub struct Directory {
    store: Store,
    seen: Mutex<(Stamp, Arc<Accounts>)>,
}

impl Directory {
    /// The accounts of `store`, read now.
    pub fn open(store: Store) -> Result<Self> {
        let directory = Directory {
            store,
            seen: Mutex::new((None, Arc::new(Accounts::default()))),
        };
        directory.current()?;
        Ok(directory)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The accounts now: the file is read again when its time, size or inode changed.
    pub fn current(&self) -> Result<Arc<Accounts>> {
        let stamp = std::fs::metadata(self.store.path()).ok().map(|m| {
            (
                m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                m.len(),
                std::os::unix::fs::MetadataExt::ino(&m),
            )
        });
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| QueryError::new(ErrorCode::Internal, "the accounts lock is poisoned"))?;
        if seen.0 != stamp || stamp.is_none() && !seen.1.accounts.is_empty() {
            *seen = (stamp, Arc::new(self.store.load()?));
        }
        Ok(seen.1.clone())
    }

    /// Whether the store holds no account: the server is then a single-user local tool.
    pub fn is_empty(&self) -> bool {
        self.current().is_ok_and(|a| a.accounts.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scram_salted_passwords_are_what_the_postgres_endpoint_derives() {
        use datafusion_postgres::pgwire::api::auth::sasl::scram::gen_salted_password;
        let salt = [7u8; 16];
        for password in ["pencil", "长汀县工会2017", ""] {
            assert_eq!(
                scram_salted(password, &salt, SCRAM_ITERATIONS).to_vec(),
                gen_salted_password(password, &salt, SCRAM_ITERATIONS)
            );
        }
    }

    #[test]
    fn an_account_is_found_by_its_password_or_token_only() {
        let mut accounts = Accounts::default();
        let password = accounts
            .add(
                NewAccount::new("xinluo", Role::County).county("350802"),
                None,
            )
            .expect("added");
        assert_eq!(password.len(), 18);
        assert!(accounts.verify_password("xinluo", &password).is_some());
        assert!(
            accounts
                .verify_password("xinluo", "wrong password")
                .is_none()
        );
        assert!(accounts.verify_password("nobody", &password).is_none());
        let token = accounts.new_token("xinluo").expect("token");
        assert_eq!(
            accounts.by_token(&token).map(|a| a.name.as_str()),
            Some("xinluo")
        );
        assert!(accounts.by_token("ust_0000").is_none());
        assert!(
            !accounts
                .get("xinluo")
                .expect("there")
                .password
                .contains(&password)
        );
    }

    #[test]
    fn bad_accounts_are_refused_with_the_reason() {
        let mut accounts = Accounts::default();
        let e = accounts
            .add(NewAccount::new("x", Role::County), None)
            .expect_err("no county");
        assert!(e.message.contains("--county"), "{e}");
        let e = accounts
            .add(NewAccount::new("x", Role::County).county("350899"), None)
            .expect_err("no such county");
        assert!(e.message.contains("350802 新罗区"), "{e}");
        let e = accounts
            .add(NewAccount::new("x", Role::City).county("350802"), None)
            .expect_err("a city account has no county");
        assert!(e.message.contains("sees every county"), "{e}");
        let e = accounts
            .add(NewAccount::new("a b", Role::City), None)
            .expect_err("a space");
        assert!(e.message.contains("cannot be an account name"), "{e}");
        let e = accounts
            .add(NewAccount::new("x", Role::City), Some("short".into()))
            .expect_err("short");
        assert!(e.message.contains("10 characters"), "{e}");
        accounts
            .add(NewAccount::new("市总分析", Role::City), None)
            .expect("Chinese names are names");
        let e = accounts
            .add(NewAccount::new("市总分析", Role::City), None)
            .expect_err("twice");
        assert!(e.message.contains("exists already"), "{e}");
    }

    #[test]
    fn disabled_and_expired_accounts_are_not_usable() {
        let mut accounts = Accounts::default();
        let mut new = NewAccount::new("old", Role::City);
        new.expires = Some("2020-01-01".into());
        accounts.add(new, None).expect("added");
        assert_eq!(
            accounts.get("old").map(Account::usable),
            Some(Err("expired"))
        );
        accounts
            .add(NewAccount::new("now", Role::City), None)
            .expect("added");
        accounts.set_disabled("now", true).expect("disabled");
        assert_eq!(
            accounts.get("now").map(Account::usable),
            Some(Err("disabled"))
        );
    }

    #[test]
    fn the_store_survives_a_reload_and_a_server_sees_changes() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::beside_lake(dir.path().to_str().expect("utf-8")).expect("store");
        let directory = Directory::open(store.clone()).expect("empty is fine");
        assert!(directory.is_empty());
        let password = store
            .update(|a| a.add(NewAccount::new("admin", Role::Admin), None))
            .expect("added");
        let seen = directory.current().expect("read again");
        assert!(seen.verify_password("admin", &password).is_some());
        let failed: Result<()> = store.update(|a| {
            a.set_disabled("admin", true)?;
            Err(bad("changed my mind"))
        });
        assert!(failed.is_err());
        assert_eq!(
            store.load().expect("load").get("admin").map(|a| a.disabled),
            Some(false)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(store.path())
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
