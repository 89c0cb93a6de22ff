//! The data directory of a mechanism: configuration, the log's signing key, the database.
//!
//! ```text
//! DIR/truce.json   {"origin": "...", "format": "truce-data/1"}
//! DIR/log.key      the log's signed-note private key (mode 0600)
//! DIR/truce.db     the SQLite database (and its -wal/-shm files)
//! DIR/keys/        demo member keys written by `truce init` (mode 0600)
//! ```
//!
//! A mirror's directory (`truce mirror`) has no `log.key`: its `truce.json` names the log it
//! copies (`"mirror": {"upstream": URL, "verifier_key": KEY}`), and it adds
//! `DIR/cosigned.note`, the newest copied checkpoint with its witness cosignatures.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const FORMAT: &str = "truce-data/1";

/// Problems with a data directory.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}: not a truce data directory (no truce.json); create one with `truce init DIR`")]
    NotInitialised(PathBuf),
    #[error("{path}: {detail}")]
    Invalid { path: PathBuf, detail: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    format: String,
    origin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mirror: Option<MirrorOf>,
    /// The PostgreSQL URL the log is stored in (none: `truce.db` in the directory). Recorded
    /// by `truce init --database` when the URL carries no password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    database: Option<String>,
}

/// The log a mirror's data directory copies (`truce mirror`): it holds no log key, only the
/// key the log's checkpoints must verify under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MirrorOf {
    /// The log server's URL.
    pub upstream: String,
    /// The log's signed-note verifier key.
    pub verifier_key: String,
}

/// An opened data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    pub root: PathBuf,
    pub origin: String,
    /// Set when the directory is a mirror of another server's log.
    pub mirror: Option<MirrorOf>,
    /// The PostgreSQL URL its log is stored in, if recorded (see `truce init --database`).
    pub database: Option<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |error| DataDirError::Io {
        path: path.to_owned(),
        error,
    }
}

impl DataDir {
    pub fn config_path(root: &Path) -> PathBuf {
        root.join("truce.json")
    }

    /// Creates the directory layout and configuration. Fails if it already holds a mechanism.
    pub fn create(root: &Path, origin: &str) -> Result<Self, DataDirError> {
        Self::create_with(root, origin, None)
    }

    /// Creates a mirror's data directory (see [`MirrorOf`]).
    pub fn create_mirror(root: &Path, origin: &str, of: MirrorOf) -> Result<Self, DataDirError> {
        Self::create_with(root, origin, Some(of))
    }

    fn create_with(
        root: &Path,
        origin: &str,
        mirror: Option<MirrorOf>,
    ) -> Result<Self, DataDirError> {
        let cfg = Self::config_path(root);
        if cfg.exists() {
            return Err(DataDirError::Invalid {
                path: cfg,
                detail: "already initialised; choose an empty directory".into(),
            });
        }
        std::fs::create_dir_all(root.join("keys")).map_err(io(root))?;
        let text = serde_json::to_string_pretty(&Config {
            format: FORMAT.into(),
            origin: origin.into(),
            mirror: mirror.clone(),
            database: None,
        })
        .map_err(|e| DataDirError::Invalid {
            path: cfg.clone(),
            detail: e.to_string(),
        })?;
        std::fs::write(&cfg, text + "\n").map_err(io(&cfg))?;
        Ok(Self {
            root: root.to_owned(),
            origin: origin.into(),
            mirror,
            database: None,
        })
    }

    /// Points a mirror at another URL of the same log (the server moved). The log's key, not
    /// its URL, is what the mirror trusts; it stays as it was.
    pub fn set_upstream(&mut self, upstream: &str) -> Result<(), DataDirError> {
        let cfg = Self::config_path(&self.root);
        let Some(m) = &mut self.mirror else {
            return Err(DataDirError::Invalid {
                path: cfg,
                detail: "not a mirror's data directory".into(),
            });
        };
        m.upstream = upstream.to_owned();
        self.save_config()
    }

    /// Records the PostgreSQL URL the directory's log is stored in.
    pub fn set_database(&mut self, url: &str) -> Result<(), DataDirError> {
        self.database = Some(url.to_owned());
        self.save_config()
    }

    /// Rewrites `truce.json` from this (atomically: a new file renamed over the old).
    fn save_config(&self) -> Result<(), DataDirError> {
        let cfg = Self::config_path(&self.root);
        let text = serde_json::to_string_pretty(&Config {
            format: FORMAT.into(),
            origin: self.origin.clone(),
            mirror: self.mirror.clone(),
            database: self.database.clone(),
        })
        .map_err(|e| DataDirError::Invalid {
            path: cfg.clone(),
            detail: e.to_string(),
        })?;
        let tmp = cfg.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n").map_err(io(&tmp))?;
        std::fs::rename(&tmp, &cfg).map_err(io(&cfg))
    }

    /// Opens an initialised data directory.
    pub fn open(root: &Path) -> Result<Self, DataDirError> {
        let cfg = Self::config_path(root);
        let text = match std::fs::read_to_string(&cfg) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DataDirError::NotInitialised(root.to_owned()));
            }
            Err(e) => {
                return Err(DataDirError::Io {
                    path: cfg,
                    error: e,
                });
            }
        };
        let c: Config = serde_json::from_str(&text).map_err(|e| DataDirError::Invalid {
            path: cfg.clone(),
            detail: e.to_string(),
        })?;
        if c.format != FORMAT {
            return Err(DataDirError::Invalid {
                path: cfg,
                detail: format!("format `{}` is not {FORMAT}", c.format),
            });
        }
        Ok(Self {
            root: root.to_owned(),
            origin: c.origin,
            mirror: c.mirror,
            database: c.database,
        })
    }

    pub fn log_key_path(&self) -> PathBuf {
        self.root.join("log.key")
    }

    pub fn database_path(&self) -> PathBuf {
        self.root.join("truce.db")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// Takes the directory's exclusive lock (held until the returned file is dropped), so two
    /// servers never write one log.
    pub fn lock(&self) -> Result<std::fs::File, DataDirError> {
        lock_file(
            &self.root.join("truce.lock"),
            "another truce process is using this data directory",
        )
    }

    /// Reads the log key, refusing a key file others can read.
    pub fn read_log_key(&self) -> Result<truce_log::LogKey, DataDirError> {
        let path = self.log_key_path();
        if let Some(m) = &self.mirror {
            return Err(DataDirError::Invalid {
                path: self.root.clone(),
                detail: format!(
                    "this directory is a mirror of {} and holds no log key; run it with `truce mirror --dir {}`",
                    m.upstream,
                    self.root.display()
                ),
            });
        }
        let text = read_secret(&path)?;
        truce_log::LogKey::from_secret(&text).map_err(|e| DataDirError::Invalid {
            path,
            detail: e.to_string(),
        })
    }
}

/// Takes an exclusive lock on the file `path` (created if missing), held until the returned
/// file is dropped; `busy` says who holds it when it is taken.
pub fn lock_file(path: &Path, busy: &str) -> Result<std::fs::File, DataDirError> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io(path))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(DataDirError::Invalid {
            path: path.to_owned(),
            detail: busy.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(error)) => Err(DataDirError::Io {
            path: path.to_owned(),
            error,
        }),
    }
}

/// Writes a secret file readable by its owner only (0600), failing if it exists.
pub fn write_secret(path: &Path, contents: &str) -> Result<(), DataDirError> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(contents.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Reads a secret file, refusing it if group or others may read it.
pub fn read_secret(path: &Path) -> Result<String, DataDirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path).map_err(io(path))?;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(DataDirError::Invalid {
                path: path.to_owned(),
                detail: format!(
                    "key file mode is {:o}; it must not be readable by others: run `chmod 600 {}`",
                    mode & 0o777,
                    path.display()
                ),
            });
        }
    }
    std::fs::read_to_string(path).map_err(io(path))
}
