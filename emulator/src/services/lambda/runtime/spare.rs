//! Spares: a Python runtime started before a function needs it. A new execution environment of ours costs a
//! Python start and `import boto3` (most of a cold start of about 0.4 s) before the function's own handler is
//! imported; a spare has done that part ahead, with no function's code or environment, and waits. The next pool
//! that needs a worker of that interpreter takes it, gives it its environment and code (`{"init": ...}`, see
//! `bootstrap.py`), and a new spare is started for the start after that. So a function updated while a developer
//! edits it, or created a moment after the emulator started, is served after its handler's own import.
//!
//! A spare serves only a function it cannot behave differently for: one whose environment agrees with the spare's
//! on everything Python reads as it starts ([`read_at_start`]), and whose code holds no module of the name of one the
//! spare already imported (a function shipping its own boto3 gets a cold start, and its own boto3). There is at most
//! one spare per interpreter; spares are not workers of any function, so they do not count against the emulator's
//! cap on live workers, and an idle one is stopped after the idle timeout as workers are.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;

use super::{INIT_LIMIT, Process};
use crate::store::lock;

/// What a spare imports before any function's code: what the Python runtime on AWS has at hand, and what our
/// handlers import first.
pub const PRELOAD: &[&str] = &["boto3"];

/// The variables of the machine that every worker gets (its own environment is otherwise not inherited).
pub const HOST_ENV: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR"];

/// The variables Lambda sets the same way for every function of the runtime.
pub const RUNTIME_ENV: &[(&str, &str)] = &[("TZ", ":UTC"), ("PYTHONUNBUFFERED", "1"), ("PYTHONDONTWRITEBYTECODE", "1")];

/// [`HOST_ENV`]'s variables that are set here.
pub fn host_env() -> Vec<(String, String)> {
    HOST_ENV.iter().filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v))).collect()
}

/// The environment a spare starts with: the machine's variables and the runtime's.
pub fn base_env() -> Vec<(String, String)> {
    let mut env = host_env();
    env.extend(RUNTIME_ENV.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    env
}

/// Whether the variable is read as the process starts or as a spare imports [`PRELOAD`], so that setting it
/// afterwards would not have the same effect: interpreter options (`PYTHONPATH`, `PYTHONHASHSEED`, ...), the
/// locale, the user site directory (`HOME`), the dynamic loader's `LD_*` and glibc's `MALLOC_*`/`GLIBC_TUNABLES`,
/// OpenSSL's `OPENSSL_*` (read as `ssl` is imported), botocore's `BOTO_DISABLE_CRT`, the time zone and the
/// temporary directory.
pub fn read_at_start(name: &str) -> bool {
    ["PYTHON", "LD_", "LC_", "MALLOC_", "OPENSSL_"].iter().any(|prefix| name.starts_with(prefix))
        || matches!(name, "LANG" | "LANGUAGE" | "HOME" | "TZ" | "TMPDIR" | "GLIBC_TUNABLES" | "BOTO_DISABLE_CRT")
}

/// The part of an environment (later entries win, as for a process) that [`read_at_start`].
pub fn start_env(env: &[(String, String)]) -> BTreeMap<String, String> {
    env.iter().filter(|(k, _)| read_at_start(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The top-level module names a function's code provides (`name.py`, `name/`, `name.cpython-38-....so`): a spare
/// that already imported one of them would not import the function's own.
pub fn modules_in(code_dir: &Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(code_dir) else { return BTreeSet::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            // A link to a folder (a package unzipped as `boto3 -> vendor/boto3`) is a package too.
            if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()) {
                return Some(name);
            }
            let (stem, _) = name.split_once('.')?;
            [".py", ".pyc", ".so", ".pyd"].iter().any(|ext| name.ends_with(ext)).then(|| stem.to_owned())
        })
        .collect()
}

/// A runtime started ahead, waiting for a function.
pub struct Spare {
    pub process: Process,
    /// The top-level modules it imported (see `bootstrap.py`).
    pub loaded: Arc<BTreeSet<String>>,
    ready_since: Instant,
}

impl Spare {
    /// Starts one and waits until it has imported [`PRELOAD`] (or `closing` is set: it is then killed).
    async fn start(python: &Path, bootstrap: &Path, mut closing: watch::Receiver<bool>) -> Result<Self, String> {
        let env = base_env();
        let dir = bootstrap.parent().unwrap_or(Path::new("/"));
        let Process { child, stdin, mut stdout, label } = Process::spawn(python, bootstrap, PRELOAD, dir, &env)?;
        let mut line = String::new();
        let read = tokio::select! {
            read = tokio::time::timeout(INIT_LIMIT, stdout.read_line(&mut line)) => read,
            // Dropped, so killed (kill_on_drop).
            _ = closing.wait_for(|closing| *closing) => return Err("the emulator is stopping".to_owned()),
        };
        let read = read.map_err(|_| format!("no answer in {INIT_LIMIT:?}"))?.map_err(|e| e.to_string())?;
        let answer: serde_json::Value = serde_json::from_str(&line)
            .map_err(|_| format!("expected the loaded line, got {line:?} ({read} bytes)"))?;
        let loaded = answer["loaded"]
            .as_array()
            .ok_or_else(|| format!("expected the loaded line, got {line:?}"))?
            .iter()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect();
        Ok(Self {
            process: Process { child, stdin, stdout, label },
            loaded: Arc::new(loaded),
            ready_since: Instant::now(),
        })
    }
}

/// The spares of one emulator: at most one per interpreter, starting or ready.
pub struct Spares {
    state: std::sync::Mutex<State>,
    /// Whether a spare that becomes a worker is replaced at once ([`crate::LambdaConfig::replace_spares`]).
    replace: bool,
    /// Set when the emulator stops: a spare still starting is killed at once.
    closing: watch::Sender<bool>,
    /// What of a spare's environment (every spare's: [`base_env`]) [`read_at_start`].
    pub start_env: BTreeMap<String, String>,
}

#[derive(Default)]
struct State {
    /// The emulator is stopping: no spare is kept, and one that finishes starting is stopped.
    closed: bool,
    slots: HashMap<PathBuf, Slot>,
    /// What a spare of each interpreter imports (the same every time), once one has started.
    loaded: HashMap<PathBuf, Arc<BTreeSet<String>>>,
}

enum Slot {
    /// Set to true when it is ready or failed (a watch keeps its value: a waiter that comes late sees it).
    Starting(watch::Receiver<bool>),
    Ready(Box<Spare>),
}

impl Spares {
    pub fn new(replace: bool) -> Arc<Self> {
        Arc::new(Self {
            state: Default::default(),
            replace,
            closing: watch::Sender::new(false),
            start_env: start_env(&base_env()),
        })
    }

    /// After a spare of `python` became a worker: another, when they are replaced.
    pub fn replace(self: &Arc<Self>, python: &Path, bootstrap: &Path) {
        if self.replace {
            self.keep(python, bootstrap);
        }
    }

    /// Makes sure a spare of `python` is ready or on its way.
    pub fn keep(self: &Arc<Self>, python: &Path, bootstrap: &Path) {
        let python = python.to_path_buf();
        let (done, starting) = watch::channel(false);
        {
            let mut state = lock(&self.state);
            if state.closed || state.slots.contains_key(&python) {
                return;
            }
            state.slots.insert(python.clone(), Slot::Starting(starting));
        }
        let (spares, bootstrap) = (Arc::clone(self), bootstrap.to_path_buf());
        tokio::spawn(async move {
            let started = Instant::now();
            let spare = Spare::start(&python, &bootstrap, spares.closing.subscribe()).await;
            let mut state = lock(&spares.state);
            match spare {
                Ok(spare) if !state.closed => {
                    tracing::debug!("a spare {} is ready ({:?})", python.display(), started.elapsed());
                    state.loaded.insert(python.clone(), Arc::clone(&spare.loaded));
                    state.slots.insert(python, Slot::Ready(Box::new(spare)));
                }
                Ok(_stopping) => {
                    state.slots.remove(&python);
                }
                Err(e) => {
                    tracing::debug!("a spare {} did not start: {e}", python.display());
                    state.slots.remove(&python);
                }
            }
            done.send_replace(true);
        });
    }

    /// The interpreter's spare, if it `suits` the caller: a ready one, or the one starting once it is ready.
    pub async fn take(&self, python: &Path, suits: impl Fn(&Spare) -> bool) -> Option<Spare> {
        let ready = |state: &mut State| {
            let Some(Slot::Ready(spare)) = state.slots.get_mut(python) else { return None };
            if !matches!(spare.process.child.try_wait(), Ok(None)) {
                // It ended while it waited (killed from outside): the next start begins a new one.
                state.slots.remove(python);
                return None;
            }
            if !suits(spare) {
                return None;
            }
            match state.slots.remove(python) {
                Some(Slot::Ready(spare)) => Some(*spare),
                _ => None,
            }
        };
        let mut starting = {
            let mut state = lock(&self.state);
            if let Some(spare) = ready(&mut state) {
                return Some(spare);
            }
            match state.slots.get(python) {
                Some(Slot::Starting(starting)) => starting.clone(),
                _ => return None,
            }
        };
        // Waiting for the one starting beats a start of our own, which would begin where it already is (its own
        // start is bounded; the bound here only guards against a start that never says how it ended).
        let _ = tokio::time::timeout(INIT_LIMIT, starting.wait_for(|done| *done)).await;
        ready(&mut lock(&self.state))
    }

    /// What a spare of `python` imports, once one has started.
    pub fn loaded(&self, python: &Path) -> Option<Arc<BTreeSet<String>>> {
        lock(&self.state).loaded.get(python).cloned()
    }

    /// Stops the spares that have waited longer than `max_idle`; returns how many (a spare that ended meanwhile
    /// is removed too).
    pub fn reap(&self, max_idle: Duration) -> usize {
        let mut state = lock(&self.state);
        let before = state.slots.len();
        state.slots.retain(|_, slot| match slot {
            Slot::Ready(spare) => {
                spare.ready_since.elapsed() < max_idle && matches!(spare.process.child.try_wait(), Ok(None))
            }
            Slot::Starting(_) => true,
        });
        before - state.slots.len()
    }

    /// Stops every spare, and keeps none from now on (the emulator is stopping).
    pub fn close(&self) {
        let mut state = lock(&self.state);
        state.closed = true;
        // Dropped, so killed (kill_on_drop); one still starting is killed by its start, told by `closing`.
        state.slots.retain(|_, slot| matches!(slot, Slot::Starting(_)));
        self.closing.send_replace(true);
    }

    /// Whether the emulator is stopping.
    pub fn closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Spares ready now, for tests.
    pub fn ready(&self) -> usize {
        lock(&self.state).slots.values().filter(|slot| matches!(slot, Slot::Ready(_))).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_python_reads_as_it_starts() {
        for name in
            ["PYTHONPATH", "PYTHONHASHSEED", "LD_PRELOAD", "LC_CTYPE", "LANG", "HOME", "TZ", "TMPDIR", "OPENSSL_CONF"]
        {
            assert!(read_at_start(name), "{name}");
        }
        for name in ["PATH", "aws_jobqueue", "AWS_REGION", "_HANDLER", "LAMBDA_TASK_ROOT"] {
            assert!(!read_at_start(name), "{name}");
        }
        let env =
            [("TZ".to_owned(), "x".to_owned()), ("A".to_owned(), "1".to_owned()), ("TZ".to_owned(), ":UTC".to_owned())];
        assert_eq!(start_env(&env), BTreeMap::from([("TZ".to_owned(), ":UTC".to_owned())]), "the last one wins");
    }

    #[test]
    fn the_modules_a_function_ships() {
        let dir = std::env::temp_dir().join(format!("crts-modules-{}", crate::identity::random_lower_alnum(8)));
        std::fs::create_dir_all(dir.join("boto3")).expect("package");
        std::os::unix::fs::symlink(dir.join("boto3"), dir.join("linked")).expect("a link to a package");
        for file in
            ["lambda_function.py", "helpers.pyc", "fast.cpython-38-x86_64-linux-gnu.so", "README.md", "data.json"]
        {
            std::fs::write(dir.join(file), "").expect("file");
        }
        let names: Vec<String> = modules_in(&dir).into_iter().collect();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(names, ["boto3", "fast", "helpers", "lambda_function", "linked"]);
    }
}
