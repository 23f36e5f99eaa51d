//! `run --provision`: a throwaway stack. Every name the scenario lists in `resource_names` gets a run-unique
//! suffix (`-crts-3f9a1c`), a journal file records what each step is about to make and made (so what a crashed run
//! left can be found), and after the checks, whatever they found, every applied step's resources are removed in
//! reverse order ([`crate::steps::StepAction::tear_down`]), with retries and backoff, within a time budget.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::context::RunContext;
use crate::scenario::{Scenario, Step, VarOverride};

/// How long teardown may take in all (AWS deletes Batch queues and compute environments asynchronously).
const BUDGET: Duration = Duration::from_secs(600);
/// Attempts per step before what it made is reported as left over.
const ATTEMPTS: u32 = 5;
/// The longest name AWS allows for the resources the runbook makes with a suffix (S3 buckets: 63).
const MAX_NAME: usize = 63;

/// What `--provision` was asked for.
#[derive(Debug, Clone, Default)]
pub struct ProvisionOptions {
    /// `--keep`: leave the stack up (loudly).
    pub keep: bool,
    /// `--run-id`: the suffix's id instead of a random one (lower-case letters and digits).
    pub run_id: Option<String>,
}

/// A run id: six random lower-case hex digits.
pub fn new_run_id() -> String {
    format!("{:06x}", rand::random::<u32>() & 0x00ff_ffff)
}

/// The suffix every name of the run ends with.
pub fn suffix(run_id: &str) -> String {
    format!("-crts-{run_id}")
}

/// `--var` overrides that give each of the scenario's `resource_names` the run's suffix, shortening a name that
/// would otherwise pass AWS's limits.
pub fn name_overrides(scenario: &Scenario, run_id: &str) -> Vec<VarOverride> {
    let suffix = suffix(run_id);
    scenario
        .variables
        .iter()
        .filter(|var| scenario.resource_names.contains(&var.name))
        .map(|var| {
            let keep = MAX_NAME.saturating_sub(suffix.len());
            let base: String = var.value.chars().take(keep).collect();
            VarOverride { name: var.name.clone(), value: format!("{}{suffix}", base.trim_end_matches('-')) }
        })
        .collect()
}

/// Checks a `--run-id`: it goes into bucket and repository names, so lower-case letters and digits only.
pub fn check_run_id(run_id: &str) -> Result<(), String> {
    if !run_id.is_empty() && run_id.len() <= 12 && run_id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(format!("--run-id {run_id}: use 1 to 12 lower-case letters and digits (it ends every name the run makes)"))
    }
}

/// The append-only record of a provisioned run, one JSON object per line.
#[derive(Debug)]
pub struct Journal {
    pub path: PathBuf,
    file: std::fs::File,
}

impl Journal {
    /// `crts-provision-<run id>.jsonl` in `dir` (the report directory), else in the user's cache.
    pub fn create(dir: Option<&Path>, run_id: &str) -> std::io::Result<Self> {
        let dir = match dir {
            Some(dir) => dir.to_path_buf(),
            None => cache_dir().join("runs"),
        };
        std::fs::create_dir_all(&dir)?;
        Self::append(&dir.join(format!("crts-provision-{run_id}.jsonl")))
    }

    /// Appends to the journal at `path` (`cleanup` records its removals in the run's own journal).
    pub fn append(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { path: path.to_path_buf(), file })
    }

    /// Appends one event and flushes it to disk, so that it survives a crash right after.
    pub fn record(&mut self, event: &str, step: &str, detail: serde_json::Value) {
        let line = serde_json::json!({
            "time": chrono::Utc::now().to_rfc3339(),
            "event": event,
            "step": step,
            "detail": detail,
        });
        let written = writeln!(self.file, "{line}").and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            eprintln!("warning: cannot write the journal {}: {e}", self.path.display());
        }
    }
}

/// Where journals go without a report directory: `CRTS_CACHE_DIR`, else the user's cache, then `crts-harness`.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("CRTS_CACHE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("crts-harness"),
    }
}

/// Ctrl-C during a provisioned run: the first stops new work (the run goes on to teardown), the second exits at
/// once, listing what the run made and how to remove it.
#[derive(Debug)]
pub struct Interrupt {
    requested: std::sync::Arc<std::sync::atomic::AtomicBool>,
    listener: tokio::task::JoinHandle<()>,
}

impl Interrupt {
    /// Whether Ctrl-C asked the run to stop.
    pub fn requested(&self) -> bool {
        self.requested.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Listens for Ctrl-C (SIGINT) while run `run_id` provisions.
pub fn on_interrupt(run_id: &str, journal: &Path) -> Interrupt {
    let requested = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&requested);
    let (run_id, journal) = (run_id.to_owned(), journal.to_path_buf());
    let listener = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        eprintln!(
            "\ninterrupted: no new step or check starts; tearing down what run {run_id} made (Ctrl-C again to exit at once)"
        );
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        eprintln!("\nexiting at once: run {run_id} leaves what it made in the account:");
        for what in left_in(&journal) {
            eprintln!("  {what}");
        }
        eprintln!(
            "every name ends in {}; remove them with: crts-harness cleanup --journal {} --yes",
            suffix(&run_id),
            journal.display()
        );
        std::process::exit(130);
    });
    Interrupt { requested, listener }
}

/// The steps a journal shows applied (or being applied) and not yet torn down, in order.
pub fn open_steps(journal: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(journal).unwrap_or_default();
    let mut open: Vec<String> = Vec::new();
    for event in text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()) {
        let step = event["step"].as_str().unwrap_or_default().to_owned();
        match event["event"].as_str() {
            Some("applying") if !open.contains(&step) => open.push(step),
            Some("step-torn-down") => open.retain(|s| *s != step),
            Some("torn-down") => open.clear(),
            _ => {}
        }
    }
    open
}

/// What a journal shows made and not torn down, by kind, name and id (`Lambda function crts-crts-3f9a1c`), in
/// the order it was made; a step interrupted while it applied is listed as such (it may have made some of it).
pub fn left_in(journal: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(journal).unwrap_or_default();
    let events: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let open = open_steps(journal);
    let mut left = Vec::new();
    for step in &open {
        let done = events
            .iter()
            .rev()
            .find(|e| e["step"] == step.as_str() && matches!(e["event"].as_str(), Some("applied" | "failed")));
        match done {
            Some(event) => left.extend(
                event["detail"]["created"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str())
                    .map(str::to_owned),
            ),
            None => {
                let applying = events.iter().rev().find(|e| e["step"] == step.as_str() && e["event"] == "applying");
                let creating = applying.and_then(|e| e["detail"]["creating"].as_array()).into_iter().flatten();
                let creating: Vec<&str> = creating.filter_map(|c| c.as_str()).collect();
                if creating.is_empty() {
                    left.push(format!("(what step {step} changed while it was being applied)"));
                }
                left.extend(creating.iter().map(|c| format!("{c} (if made: step {step} was being applied)")));
            }
        }
    }
    left
}

/// What teardown did.
#[derive(Debug, Clone, Serialize)]
pub struct Teardown {
    pub run_id: String,
    pub journal: PathBuf,
    /// `--keep`: nothing was removed.
    pub kept: bool,
    pub removed: Vec<String>,
    /// What could not be removed, by step, with the last error.
    pub leftovers: Vec<Leftover>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Leftover {
    pub step: String,
    pub error: String,
}

/// Removes what `applied` made, last step first; each step is retried with backoff until it succeeds, its
/// attempts run out, or the budget does.
pub async fn tear_down(applied: &[&Step], ctx: &mut RunContext, journal: &mut Journal, run_id: &str) -> Teardown {
    let deadline = Instant::now() + BUDGET;
    let mut teardown = Teardown {
        run_id: run_id.to_owned(),
        journal: journal.path.clone(),
        kept: false,
        removed: Vec::new(),
        leftovers: Vec::new(),
    };
    for step in applied.iter().rev() {
        crate::progress::begin(format!("tearing down {}", step.id));
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            match step.action.tear_down(ctx).await {
                Ok(removed) => break Ok(removed),
                // Not this run's: asking again will not change that.
                Err(e) if e.code == crate::context::NOT_OWNED => break Err(e),
                Err(e) if attempt >= ATTEMPTS || Instant::now() >= deadline => break Err(e),
                Err(e) => {
                    tracing::info!(step = %step.id, attempt, error = %e, "teardown failed, retrying");
                    tokio::time::sleep(Duration::from_millis(250 * 2u64.pow(attempt))).await;
                }
            }
        };
        match result {
            Ok(removed) => {
                crate::progress::end("removed");
                for what in &removed {
                    journal.record("removed", &step.id, serde_json::json!(what));
                }
                journal.record("step-torn-down", &step.id, serde_json::Value::Null);
                teardown.removed.extend(removed);
            }
            Err(e) => {
                crate::progress::end("LEFT OVER");
                journal.record("left-over", &step.id, serde_json::json!(e.message));
                teardown.leftovers.push(Leftover { step: step.id.clone(), error: e.message });
            }
        }
    }
    if teardown.leftovers.is_empty() {
        journal.record("torn-down", "", serde_json::Value::Null);
    }
    teardown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_short_and_safe_in_every_name() {
        let id = new_run_id();
        assert_eq!(id.len(), 6);
        assert_eq!(check_run_id(&id), Ok(()));
        assert!(check_run_id("Has-Caps").is_err());
        assert!(check_run_id("").is_err());
        assert_eq!(suffix("3f9a1c"), "-crts-3f9a1c");
    }
}
