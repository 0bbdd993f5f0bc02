//! `hinge serve`: the clinic's desk. A local web application: drop videos for
//! a patient, watch the queue, read the report and follow each patient's
//! sessions over weeks (docs/serve.md).
//!
//! * [`db`] — SQLite (WAL, migrations in `migrations/`): patients, sessions,
//!   analyses (the work queue), per-rep results.
//! * [`store`] — the data directory: videos by content hash, analysis folders.
//! * [`queue`] — the worker pool: each analysis runs as a child `hinge
//!   serve-worker` process (a crash or a hang fails that video, not the
//!   server; the child dies with the server), writes into a scratch folder
//!   renamed into place, and is marked done in one transaction.
//! * [`routes`] — the HTTP API and the access rules; [`pages`] and [`plots`]
//!   — the server-rendered pages (inline CSS, JS and SVG; nothing from the
//!   network).
//! * [`import`] — a batch's results into the same database.
//! * [`worker`] — what the child process does.

pub mod db;
pub mod import;
pub mod pages;
pub mod plots;
pub mod queue;
pub mod routes;
pub mod store;
pub mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;

/// Errors that stop the server (a bad upload or a failed analysis does not).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// An option is out of range or inconsistent (one line saying which).
    #[error("{0}")]
    Option(String),
    /// The data directory cannot be created or written.
    #[error("{}: {reason}", .path.display())]
    DataDir { path: PathBuf, reason: String },
    /// The database cannot be opened or migrated.
    #[error("{}: {source}", .path.display())]
    Database { path: PathBuf, source: db::DbError },
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    /// The async runtime or a worker thread could not start, or serving failed.
    #[error("server: {0}")]
    Runtime(std::io::Error),
}

/// How to start the child process that runs one analysis: the `hinge` binary
/// and the global flags (model, config ...) it runs with; `serve-worker
/// --video V --out D` is appended.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<std::ffi::OsString>,
}

/// Settings of `hinge serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Database, videos and analysis folders.
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Required for any address other than loopback; requests without it get 401.
    pub token: Option<String>,
    /// Analyses run at once.
    pub workers: usize,
    /// Largest video accepted, bytes.
    pub max_upload_bytes: u64,
    /// An analysis running longer is stopped and fails with that reason.
    pub analysis_time_limit: Duration,
    pub worker_command: WorkerCommand,
    /// [`crate::batch::settings_hash`] of the analyses' settings: the same video
    /// with the same settings is analysed once.
    pub settings_sha256: String,
    /// Thresholds (drawn on the plots) and wording (fault labels, cues).
    pub config: Config,
}

/// Shortest token accepted.
pub const MIN_TOKEN_CHARS: usize = 16;
/// Most workers.
pub const MAX_WORKERS: usize = 64;
/// Times an analysis may be interrupted (the server stopped during it) before
/// it is failed rather than tried again: a video that kills the server must
/// not do so for ever.
pub const MAX_ATTEMPTS: i64 = 3;

impl ServeOptions {
    /// Checks the options: a token for any non-loopback address, sane sizes.
    pub fn validate(&self) -> Result<(), ServeError> {
        if let Some(t) = &self.token {
            // it travels in a URL (`?token=`) and a cookie: only characters neither has to escape
            let safe = |c: char| c.is_ascii_alphanumeric() || "-._~".contains(c);
            if t.chars().count() < MIN_TOKEN_CHARS || !t.chars().all(safe) {
                return Err(ServeError::Option(format!(
                    "--token must be at least {MIN_TOKEN_CHARS} characters of A-Z, a-z, 0-9, `-`, `.`, `_`, `~` \
                     (it goes into links and a cookie)"
                )));
            }
        } else if !self.listen.ip().is_loopback() {
            return Err(ServeError::Option(format!(
                "--listen {} is reachable from other machines: give --token (at least {MIN_TOKEN_CHARS} characters) \
                 so that only people with it can see patients' data",
                self.listen
            )));
        }
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return Err(ServeError::Option(format!("--workers must be between 1 and {MAX_WORKERS}")));
        }
        if self.max_upload_bytes == 0 {
            return Err(ServeError::Option("--max-upload must be more than 0 bytes".into()));
        }
        if self.analysis_time_limit.is_zero() {
            return Err(ServeError::Option("--time-limit must be more than 0".into()));
        }
        Ok(())
    }
}

/// What the running server shares between requests and workers.
pub struct AppState {
    pub db: Arc<db::Db>,
    pub store: store::DataDir,
    pub queue: Arc<queue::Queue>,
    pub options: ServeOptions,
}

/// Runs the server until Ctrl-C or SIGTERM; `on_listening` gets the bound
/// address (the port is chosen by the system when `listen` has port 0).
pub fn serve(options: ServeOptions, on_listening: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    options.validate()?;
    let store = store::DataDir::create(&options.data_dir)?;
    // one server per data folder, and the port before anything is touched: a second server started by
    // mistake must fail without requeuing the first one's analyses or emptying its scratch folders
    let _lock = store.lock_for_serving()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(ServeError::Runtime)?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(options.listen))
        .map_err(|source| ServeError::Listen { addr: options.listen, source })?;
    let db_path = store.database_path();
    let db = Arc::new(db::Db::open(&db_path).map_err(|source| ServeError::Database { path: db_path.clone(), source })?);
    let recovery = db
        .recover_interrupted(MAX_ATTEMPTS)
        .map_err(|source| ServeError::Database { path: db_path.clone(), source })?;
    if recovery.requeued > 0 || recovery.given_up > 0 {
        tracing::warn!(
            requeued = recovery.requeued,
            given_up = recovery.given_up,
            "analyses interrupted by the last stop"
        );
    }
    store.clear_scratch()?;
    let queue = queue::Queue::start(Arc::clone(&db), store.clone(), &options).map_err(ServeError::Runtime)?;
    let state = Arc::new(AppState { db: Arc::clone(&db), store, queue: Arc::clone(&queue), options });
    let served = runtime.block_on(async {
        let bound = listener.local_addr().map_err(ServeError::Runtime)?;
        on_listening(bound);
        axum::serve(listener, routes::router(Arc::clone(&state)))
            .with_graceful_shutdown(stop_signal())
            .await
            .map_err(ServeError::Runtime)
    });
    // stop the workers (their analyses go back to the queue) before returning
    queue.stop();
    if let Err(e) = db.requeue_running() {
        tracing::warn!("{e}");
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    served
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Parses a size such as `4GB`, `500MB`, `2GiB`, `1000000` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a size (e.g. 4GB, 500MB)"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("`{other}` is not a size unit (B, KB, MB, GB, TB, KiB, MiB, GiB)")),
    };
    let bytes = value * factor;
    if !bytes.is_finite() || !(1.0..=1e15).contains(&bytes) {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(bytes.round() as u64)
}

/// A byte count for people: `4 GB`, `512 MB`.
pub fn size_text(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.3} GB", b / 1e9).replace(".000", "")
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6).replace(".0 ", " ")
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(listen: &str, token: Option<&str>) -> ServeOptions {
        ServeOptions {
            data_dir: PathBuf::from("d"),
            listen: listen.parse().unwrap(),
            token: token.map(str::to_string),
            workers: 1,
            max_upload_bytes: 1,
            analysis_time_limit: Duration::from_secs(1),
            worker_command: WorkerCommand { program: PathBuf::from("hinge"), args: Vec::new() },
            settings_sha256: String::new(),
            config: Config::default(),
        }
    }

    #[test]
    fn any_address_but_loopback_needs_a_token() {
        assert!(options("127.0.0.1:8080", None).validate().is_ok());
        assert!(options("[::1]:8080", None).validate().is_ok());
        let e = options("0.0.0.0:8080", None).validate().unwrap_err().to_string();
        assert!(e.contains("--token"), "{e}");
        assert!(options("192.168.1.5:80", Some("short")).validate().is_err());
        assert!(options("192.168.1.5:80", Some("a-long-enough-token")).validate().is_ok());
    }

    #[test]
    fn sizes_parse_in_decimal_and_binary_units() {
        assert_eq!(parse_size("4GB").unwrap(), 4_000_000_000);
        assert_eq!(parse_size("2 GiB").unwrap(), 2 * 1024 * 1024 * 1024);
        assert_eq!(parse_size("1500").unwrap(), 1500);
        assert_eq!(parse_size("0.5mb").unwrap(), 500_000);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("4 parsecs").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(size_text(4_000_000_000), "4 GB");
        assert_eq!(size_text(1_500_000), "1.5 MB");
    }
}
