//! Where snapshots go, and how they appear there all at once.
//!
//! ```text
//! DEST/LATEST                          the name of the newest complete snapshot
//! DEST/snapshots/<name>/manifest.json  tables, rows, schemas, Delta versions, sha256 of every file
//! DEST/snapshots/<name>/_SUCCESS       written last
//! DEST/.staging/<name>/                a run in progress (folders only)
//! ```
//!
//! In a folder, a snapshot is written under `.staging` and renamed into `snapshots/` when complete,
//! so a reader never sees part of one; a run killed half-way leaves only its staging folder, which
//! the next run removes. In an object store (`s3://`, `file://`), where there is no rename, the data
//! files are uploaded first, then `manifest.json`, then `_SUCCESS`, then `LATEST`: a reader who
//! follows `LATEST` or checks `_SUCCESS` never meets a partial snapshot. Uploads are retried with
//! backoff.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt as _;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt as _};
use serde_json::Value;

use crate::snapshot::{ExportError, Result, io};

/// A destination of snapshots.
#[derive(Debug)]
pub enum Destination {
    /// A local folder.
    Folder(PathBuf),
    /// An object store, with the prefix snapshots go under.
    Store {
        /// The URL as given.
        url: String,
        /// The store.
        store: Arc<dyn ObjectStore>,
        /// Prefix inside it.
        prefix: StorePath,
    },
}

fn publish_error(to: &str, e: impl std::fmt::Display) -> ExportError {
    ExportError::Publish {
        to: to.to_string(),
        message: e.to_string(),
    }
}

/// Runs `attempt` until it succeeds, at most four times, waiting 0.5, 1 and 2 s between tries.
pub async fn retry<T, F, Fut>(what: &str, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut wait = Duration::from_millis(500);
    for tries in 1.. {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) if tries < 4 => {
                tracing::warn!(tries, "{what} failed, trying again in {wait:?}: {e}");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

impl Destination {
    /// A folder path, or a URL (`s3://bucket/prefix` with the usual `AWS_*` variables, including
    /// `AWS_ENDPOINT` for S3-compatible stores; `file:///path`).
    pub fn parse(to: &str) -> Result<Self> {
        if !to.contains("://") {
            return Ok(Destination::Folder(PathBuf::from(to)));
        }
        let url = url::Url::parse(to).map_err(|e| publish_error(to, e))?;
        let (store, prefix): (Arc<dyn ObjectStore>, StorePath) = if url.scheme() == "file" {
            // Rooted at the destination, and deleting a pruned snapshot's files removes its
            // emptied folders too, as an object store has none to leave behind.
            let root = url
                .to_file_path()
                .map_err(|()| publish_error(to, "not a local path"))?;
            std::fs::create_dir_all(&root).map_err(io(&root))?;
            let local = object_store::local::LocalFileSystem::new_with_prefix(&root)
                .map_err(|e| publish_error(to, e))?
                .with_automatic_cleanup(true);
            (Arc::new(local), StorePath::default())
        } else {
            let options = std::env::vars()
                .filter(|(k, _)| k.starts_with("AWS_"))
                .map(|(k, v)| (k.to_ascii_lowercase(), v));
            let (store, prefix) =
                object_store::parse_url_opts(&url, options).map_err(|e| publish_error(to, e))?;
            (Arc::from(store), prefix)
        };
        Ok(Destination::Store {
            url: to.trim_end_matches('/').to_string(),
            store,
            prefix,
        })
    }

    fn describe(&self) -> String {
        match self {
            Destination::Folder(p) => p.display().to_string(),
            Destination::Store { url, .. } => url.clone(),
        }
    }

    fn key(prefix: &StorePath, path: &str) -> StorePath {
        let mut key = prefix.clone();
        for part in path.split('/') {
            key = key.join(part);
        }
        key
    }

    async fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Destination::Folder(root) => match std::fs::read(root.join(path)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io(&root.join(path))(e)),
            },
            Destination::Store { store, prefix, url } => {
                match store.get(&Self::key(prefix, path)).await {
                    Ok(got) => Ok(Some(
                        got.bytes()
                            .await
                            .map_err(|e| publish_error(url, e))?
                            .to_vec(),
                    )),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(publish_error(url, e)),
                }
            }
        }
    }

    /// The newest complete snapshot: its name and manifest.
    pub async fn latest(&self) -> Result<Option<(String, Value)>> {
        let Some(name) = self.read("LATEST").await? else {
            return Ok(None);
        };
        let name = String::from_utf8_lossy(&name).trim().to_string();
        let Some(manifest) = self
            .read(&format!("snapshots/{name}/manifest.json"))
            .await?
        else {
            return Ok(None);
        };
        Ok(serde_json::from_slice(&manifest).ok().map(|m| (name, m)))
    }

    /// A folder to write the snapshot in; in a destination folder, runs that were killed leave
    /// staging folders, which go now.
    pub fn staging(&self, snapshot: &str) -> Result<PathBuf> {
        let staging = match self {
            Destination::Folder(root) => {
                let staging = root.join(".staging");
                if staging.is_dir() {
                    std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
                }
                staging.join(snapshot)
            }
            Destination::Store { .. } => std::env::temp_dir().join(format!(
                "unionstat-export-{}-{snapshot}",
                std::process::id()
            )),
        };
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        Ok(staging)
    }

    /// Makes the complete snapshot in `staging` the latest; returns where it now is.
    pub async fn publish(&self, staging: &Path, snapshot: &str) -> Result<String> {
        match self {
            Destination::Folder(root) => {
                let snapshots = root.join("snapshots");
                std::fs::create_dir_all(&snapshots).map_err(io(&snapshots))?;
                let target = snapshots.join(snapshot);
                std::fs::rename(staging, &target).map_err(io(&target))?;
                let latest = root.join("LATEST");
                let temporary = root.join(".LATEST.tmp");
                std::fs::write(&temporary, format!("{snapshot}\n")).map_err(io(&temporary))?;
                std::fs::rename(&temporary, &latest).map_err(io(&latest))?;
                Ok(target.display().to_string())
            }
            Destination::Store { store, prefix, url } => {
                let mut files = files_under(staging, staging)?;
                let last = ["manifest.json", "_SUCCESS"];
                files.sort_by_key(|(_, relative)| last.iter().position(|l| relative == l));
                for (file, relative) in &files {
                    let key = Self::key(prefix, &format!("snapshots/{snapshot}/{relative}"));
                    let bytes = std::fs::read(file).map_err(io(file))?;
                    retry("an upload", || {
                        let (store, key, bytes) = (store.clone(), key.clone(), bytes.clone());
                        async move {
                            store
                                .put(&key, bytes.into())
                                .await
                                .map_err(|e| publish_error(url, e))?;
                            Ok(())
                        }
                    })
                    .await?;
                }
                let latest = Self::key(prefix, "LATEST");
                retry("writing LATEST", || {
                    let (store, latest) = (store.clone(), latest.clone());
                    async move {
                        store
                            .put(&latest, format!("{snapshot}\n").into_bytes().into())
                            .await
                            .map_err(|e| publish_error(url, e))?;
                        Ok(())
                    }
                })
                .await?;
                std::fs::remove_dir_all(staging).map_err(io(staging))?;
                Ok(format!("{url}/snapshots/{snapshot}"))
            }
        }
    }

    /// Deletes all but the newest `keep` snapshots.
    pub async fn prune(&self, keep: usize) -> Result<()> {
        let to = self.describe();
        match self {
            Destination::Folder(root) => {
                let snapshots = root.join("snapshots");
                let mut names: Vec<PathBuf> = std::fs::read_dir(&snapshots)
                    .map_err(io(&snapshots))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_dir())
                    .collect();
                names.sort();
                let old = names.len().saturating_sub(keep.max(1));
                for path in &names[..old] {
                    std::fs::remove_dir_all(path).map_err(io(path))?;
                }
            }
            Destination::Store { store, prefix, .. } => {
                let root = Self::key(prefix, "snapshots");
                let listed = store
                    .list_with_delimiter(Some(&root))
                    .await
                    .map_err(|e| publish_error(&to, e))?;
                let mut names: Vec<StorePath> = listed.common_prefixes;
                names.sort();
                let old = names.len().saturating_sub(keep.max(1));
                for name in &names[..old] {
                    let objects: Vec<_> = store
                        .list(Some(name))
                        .try_collect()
                        .await
                        .map_err(|e| publish_error(&to, e))?;
                    for object in objects {
                        store
                            .delete(&object.location)
                            .await
                            .map_err(|e| publish_error(&to, e))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Every file under `folder`, with its `/`-separated path inside `root`, in path order.
pub(crate) fn files_under(folder: &Path, root: &Path) -> Result<Vec<(PathBuf, String)>> {
    fn walk(folder: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for entry in std::fs::read_dir(folder).map_err(io(folder))? {
            let path = entry.map_err(io(folder))?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(folder, &mut files)?;
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            (path, relative)
        })
        .collect())
}
