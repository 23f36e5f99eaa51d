//! How an emulator instance is set up: where it listens, how fast simulated work goes, which Python runs Lambdas.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything an [`crate::Emulator`] needs to start. `Config::default()` is what tests use: a random loopback
/// port, fast Batch jobs, Python found on PATH.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port.
    pub bind: SocketAddr,
    /// Default region for requests that do not name one (unsigned requests).
    pub default_region: String,
    pub batch: BatchConfig,
    pub lambda: LambdaConfig,
    /// How long stopping gives the requests in flight to finish before the Lambda handlers still running are
    /// ended (their callers then get the error of a sandbox that died).
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            default_region: "us-east-1".to_owned(),
            batch: BatchConfig::default(),
            lambda: LambdaConfig::default(),
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

/// Simulated AWS Batch execution.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Time a job spends in each state (SUBMITTED, RUNNABLE, STARTING, RUNNING) before moving on; for jobs that
    /// really run, in SUBMITTED and RUNNABLE.
    pub state_duration: Duration,
    /// Whether jobs whose image is in this emulator's registry run in Docker (where an engine answers).
    pub containers: crate::services::batch::JobRunner,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self { state_duration: Duration::from_millis(10), containers: crate::services::batch::JobRunner::default() }
    }
}

/// The Lambda Python runtime.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// An explicit interpreter; otherwise one matching the runtime (e.g. `python3.8`) is searched, then `python3`.
    pub python: Option<PathBuf>,
    /// Where the managed virtualenv (boto3 for interpreters that lack it) is created.
    pub cache_dir: PathBuf,
    /// Never run `pip`: fail with a clear message when boto3 is missing instead.
    pub offline: bool,
    /// Upper bound on warm workers per function (concurrent invocations beyond it wait).
    pub max_workers_per_function: usize,
    /// Upper bound on live workers across all functions (`CRTS_LAMBDA_MAX_WORKERS`): past it, the least recently
    /// used idle worker is stopped for a new one.
    pub max_workers: usize,
    /// How long a warm worker may sit idle before it is stopped (AWS reclaims idle execution environments after
    /// some minutes too); the next invocation starts a new one.
    pub idle_timeout: std::time::Duration,
    /// Runtimes (`python3.8`) to get ready as the emulator starts, before any function of them is created: the
    /// interpreter found and a spare runtime started (see `services::lambda::runtime::spare`). A harness that knows
    /// what its scenario will create sets it; nothing is started for runtimes never used otherwise.
    pub prestart: Vec<String>,
    /// Whether a spare runtime that becomes a worker is replaced at once, for the next new worker of its runtime (a
    /// function updated again, another function). The default; a one-shot run that will not need another sets it
    /// off, so that no Python starts for nothing while its checks run.
    pub replace_spares: bool,
}

impl Default for LambdaConfig {
    fn default() -> Self {
        let cache_dir = dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("crts-emulator");
        // Handlers are CPU-bound against a local emulator: more workers than twice the cores only thrash.
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self {
            python: None,
            cache_dir,
            offline: false,
            max_workers_per_function: (2 * cores).max(4),
            max_workers: (8 * cores).max(16),
            idle_timeout: std::time::Duration::from_secs(300),
            prestart: Vec::new(),
            replace_spares: true,
        }
    }
}

impl LambdaConfig {
    /// The defaults, adjusted by the environment: `CRTS_PYTHON` (an interpreter to use for every runtime),
    /// `CRTS_OFFLINE=1` (never pip-install boto3), `CRTS_CACHE_DIR` (where the managed virtualenv lives).
    pub fn from_env() -> Self {
        let mut config = Self::default();
        if let Some(python) = std::env::var_os("CRTS_PYTHON").filter(|p| !p.is_empty()) {
            config.python = Some(PathBuf::from(python));
        }
        if let Some(dir) = std::env::var_os("CRTS_CACHE_DIR").filter(|p| !p.is_empty()) {
            config.cache_dir = PathBuf::from(dir);
        }
        config.offline = std::env::var("CRTS_OFFLINE").is_ok_and(|v| !v.is_empty() && v != "0");
        if let Some(max) = std::env::var("CRTS_LAMBDA_MAX_WORKERS").ok().and_then(|v| v.parse::<usize>().ok()) {
            config.max_workers = max.max(1);
        }
        if let Some(seconds) = std::env::var("CRTS_LAMBDA_IDLE_SECONDS").ok().and_then(|v| v.parse::<u64>().ok()) {
            config.idle_timeout = std::time::Duration::from_secs(seconds.max(1));
        }
        config
    }
}
