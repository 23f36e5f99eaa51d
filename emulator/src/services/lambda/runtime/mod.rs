//! The Python runtime: warm worker processes that each load one function's handler once and then serve
//! invocations, one at a time, over a line-delimited JSON protocol (see `bootstrap.py`).
//!
//! A [`Pool`] belongs to one version of one function's code and configuration; updating the function makes
//! a new pool, and the old one's workers end when the last invocation using them does. Under concurrent load
//! a pool starts more workers, up to its limit, one at a time: an invocation that finds no idle worker waits for
//! one while another is starting (that one is partway through the start a new one would begin), and starts one
//! only once every worker has been busy for as long as a start takes. So a burst of requests on a pool that just
//! started (a function just updated) is served by its first worker in turn, in milliseconds, instead of by as many
//! Python starts at once, each slowed by the others, while a load that keeps the workers busy still adds one; a worker that crashes is dropped (and a new one started on
//! the next invocation); a worker that exceeds the function's timeout is killed. Every worker of an emulator
//! holds a place of its [`Capacity`]: when none is free, the least recently used idle worker of any function is
//! stopped to make room. A new worker is a [`spare`] runtime when one suits the function: Python and boto3 already
//! started, so only the handler's import is left.

pub mod interpreter;
pub mod spare;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

use interpreter::Interpreter;
use spare::Spares;

use crate::store::lock;

/// The bootstrap every worker runs, written to the emulator's work directory once.
pub const BOOTSTRAP: &str = include_str!("bootstrap.py");

/// Writes [`BOOTSTRAP`] into `work_dir` (once) and gives its path.
pub async fn bootstrap_file(work_dir: &Path) -> Result<PathBuf, String> {
    let path = work_dir.join("bootstrap.py");
    if tokio::fs::metadata(&path).await.is_err() {
        tokio::fs::create_dir_all(work_dir).await.map_err(|e| format!("creating {}: {e}", work_dir.display()))?;
        let temporary = work_dir.join(format!("bootstrap.py.{}", crate::identity::random_lower_alnum(6)));
        tokio::fs::write(&temporary, BOOTSTRAP).await.map_err(|e| format!("writing the bootstrap: {e}"))?;
        tokio::fs::rename(&temporary, &path).await.map_err(|e| format!("writing the bootstrap: {e}"))?;
    }
    Ok(path)
}

/// A runtime's process, its protocol pipes, and whose worker it is.
pub struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    label: Label,
}

impl Process {
    /// `python bootstrap [PRELOAD...]` in `dir` with exactly `env`; killed when dropped.
    fn spawn(
        python: &Path,
        bootstrap: &Path,
        preload: &[&str],
        dir: &Path,
        env: &[(String, String)],
    ) -> Result<Self, String> {
        let mut child = Command::new(python)
            .arg(bootstrap)
            .args(preload)
            .current_dir(dir)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {} failed: {e}", python.display()))?;
        let stdin = child.stdin.take().ok_or("the runtime has no stdin")?;
        let stdout = child.stdout.take().ok_or("the runtime has no stdout")?;
        let label = Label::default();
        drain_stderr(&mut child, &label);
        Ok(Self { child, stdin, stdout: BufReader::new(stdout), label })
    }
}

/// Whose output a worker's standard error is, for its log lines (a spare's is set when a function takes it).
pub type Label = Arc<OnceLock<String>>;

/// Reads a worker's standard error (the handler's prints, tracebacks) into debug log lines, so the worker never
/// blocks on a full pipe.
fn drain_stderr(child: &mut Child, label: &Label) {
    if let Some(mut stderr) = child.stderr.take() {
        let label = Arc::clone(label);
        tokio::spawn(async move {
            let mut lines = BufReader::new(&mut stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let function = label.get().map_or("(a spare runtime)", String::as_str);
                tracing::debug!(%function, "{line}");
            }
        });
    }
}

/// Everything a worker of one function version needs.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub bootstrap: PathBuf,
    pub code_dir: PathBuf,
    pub function_arn: String,
    pub timeout: Duration,
    /// The complete environment of the process (nothing is inherited) but `AWS_LAMBDA_LOG_STREAM_NAME`, which each
    /// worker gets its own of (as each execution environment on AWS writes to its own stream).
    pub env: Vec<(String, String)>,
    /// The role session the workers act as: its policies decide whether their output reaches CloudWatch Logs.
    pub session: crate::identity::RoleSession,
}

/// What one invocation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler returned; the JSON of its value.
    Returned(String),
    /// The handler (or the runtime) failed: Lambda's error payload.
    Failed(serde_json::Value),
}

#[derive(Debug, Clone)]
pub struct Invocation {
    pub outcome: Outcome,
    /// The invocation's log (START/END/REPORT and what the handler printed).
    pub log: String,
    /// The log stream of the worker that ran it (`YYYY/MM/DD/[$LATEST]<32 hex>`); none when no worker started.
    pub log_stream: Option<String>,
}

/// The cap on live workers across every function of one emulator (busy and idle alike). A new worker takes a
/// place; when none is free, the least recently used idle worker of any function is stopped for it, and when every
/// worker is busy, the new one waits for a place.
/// The emulator's [`Spares`] live here too: they become workers of whichever pool takes them.
pub struct Capacity {
    places: Arc<Semaphore>,
    pools: std::sync::Mutex<Vec<Weak<Pool>>>,
    pub spares: Arc<Spares>,
}

impl Capacity {
    /// `replace_spares`: see [`crate::LambdaConfig::replace_spares`].
    pub fn new(max_workers: usize, replace_spares: bool) -> Arc<Self> {
        Arc::new(Self {
            places: Arc::new(Semaphore::new(max_workers.max(1))),
            pools: Default::default(),
            spares: Spares::new(replace_spares),
        })
    }

    /// A place for a new worker, stopping the least recently used idle worker if there is none; `None` once
    /// the emulator is stopping.
    async fn take(&self) -> Option<OwnedSemaphorePermit> {
        loop {
            match Arc::clone(&self.places).try_acquire_owned() {
                Ok(place) => return Some(place),
                Err(tokio::sync::TryAcquireError::Closed) => return None,
                Err(tokio::sync::TryAcquireError::NoPermits) => {}
            }
            if self.stop_least_recently_used().await {
                continue;
            }
            // Every worker is busy: wait for one to end (or, as an idle one may appear meanwhile, look again soon).
            match tokio::time::timeout(Duration::from_millis(50), Arc::clone(&self.places).acquire_owned()).await {
                Ok(Ok(place)) => return Some(place),
                Ok(Err(_closed)) => return None,
                Err(_elapsed) => {}
            }
        }
    }

    /// A place only if one is free (pre-starting a worker never stops another).
    fn try_take(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.places).try_acquire_owned().ok()
    }

    /// Stops the idle worker that has been idle longest, across all functions; false when none is idle.
    async fn stop_least_recently_used(&self) -> bool {
        let pools: Vec<Arc<Pool>> = {
            let mut pools = lock(&self.pools);
            pools.retain(|pool| pool.strong_count() > 0);
            pools.iter().filter_map(Weak::upgrade).collect()
        };
        let mut oldest: Option<(Instant, &Arc<Pool>)> = None;
        for pool in &pools {
            if let Some(since) = pool.idle.lock().await.iter().map(|w| w.idle_since).min()
                && oldest.is_none_or(|(at, _)| since < at)
            {
                oldest = Some((since, pool));
            }
        }
        let Some((_, pool)) = oldest else { return false };
        let mut idle = pool.idle.lock().await;
        let Some(at) = idle.iter().enumerate().min_by_key(|(_, w)| w.idle_since).map(|(at, _)| at) else {
            return false;
        };
        let mut worker = idle.swap_remove(at);
        let _ = worker.child.start_kill();
        tracing::debug!(function = %pool.spec.function_arn, "stopped the least recently used idle worker to make room");
        true
    }

    /// Live workers (busy and idle), for tests.
    pub fn live_workers(&self, max_workers: usize) -> usize {
        max_workers.max(1) - self.places.available_permits()
    }

    /// Refuses new workers from now on, and stops the spares (the emulator is stopping).
    pub fn close(&self) {
        self.places.close();
        self.spares.close();
    }
}

/// Warm workers of one function version.
pub struct Pool {
    interpreter: Arc<Interpreter>,
    capacity: Arc<Capacity>,
    spec: WorkerSpec,
    idle: Mutex<Vec<Worker>>,
    slots: Semaphore,
    /// Set when the pool shuts down: busy invocations stop waiting and kill their worker.
    closing: tokio::sync::watch::Sender<bool>,
    census: Arc<Census>,
    /// The top-level modules the function's code provides, and what of its environment Python reads as it
    /// starts: what decides whether a spare suits it.
    modules: BTreeSet<String>,
    start_env: BTreeMap<String, String>,
}

/// How many workers a pool has and how many are still starting, for invocations deciding whether to wait for
/// one or start one; `changed` wakes them when a worker is put back idle, finishes starting, or ends.
#[derive(Default)]
struct Census {
    live: AtomicUsize,
    starting: AtomicUsize,
    changed: tokio::sync::Notify,
    /// Invocations waiting for a worker.
    waiting: AtomicUsize,
    /// Since when invocations have been waiting with every worker busy: none while a worker is starting, reset
    /// when one is started or a worker is put back with nobody waiting.
    saturated_since: std::sync::Mutex<Option<Instant>>,
    /// How long the last start took (Python, the handler's imports): how long waiting for a busy worker is
    /// worth it.
    last_start: std::sync::Mutex<Option<Duration>>,
}

impl Census {
    /// How long an invocation waits for a busy worker before it starts one: as long as a start takes.
    fn patience(&self) -> Duration {
        let last = *lock(&self.last_start);
        last.unwrap_or(Duration::from_millis(500)).clamp(Duration::from_millis(20), Duration::from_secs(1))
    }
}

/// An invocation waiting for a worker, counted in its pool's [`Census`] while it waits.
struct Waiting(Arc<Census>);

impl Waiting {
    fn new(census: &Arc<Census>) -> Self {
        census.waiting.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(census))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A worker's place in its pool's [`Census`]: counted live until dropped, and starting until [`Counted::started`].
struct Counted {
    census: Arc<Census>,
    spawned: Instant,
    starting: bool,
    /// A Python start of its own (not a spare's): its time is what the next start would cost.
    cold: bool,
}

impl Counted {
    fn new(census: &Arc<Census>) -> Self {
        census.live.fetch_add(1, Ordering::SeqCst);
        census.starting.fetch_add(1, Ordering::SeqCst);
        Self { census: Arc::clone(census), spawned: Instant::now(), starting: true, cold: false }
    }

    fn started(&mut self) {
        if std::mem::replace(&mut self.starting, false) {
            if self.cold {
                *lock(&self.census.last_start) = Some(self.spawned.elapsed());
            }
            self.census.starting.fetch_sub(1, Ordering::SeqCst);
            self.census.changed.notify_waiters();
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if self.starting {
            self.census.starting.fetch_sub(1, Ordering::SeqCst);
        }
        self.census.live.fetch_sub(1, Ordering::SeqCst);
        self.census.changed.notify_waiters();
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("function", &self.spec.function_arn).finish_non_exhaustive()
    }
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The bootstrap said it loaded the handler (its init phase is over).
    ready: bool,
    /// What has arrived of the ready line (kept here: a wait for it that times out must not lose a part of it).
    ready_line: String,
    /// When it last finished an invocation (or started).
    idle_since: Instant,
    /// Its place in the emulator's [`Capacity`], given back when the worker is dropped (and killed).
    _place: OwnedSemaphorePermit,
    /// Its CloudWatch Logs stream.
    log_stream: String,
    counted: Counted,
}

impl Pool {
    /// A pool of at most `max_workers` workers, each taking a place in `capacity`.
    pub fn new(
        interpreter: Arc<Interpreter>,
        spec: WorkerSpec,
        max_workers: usize,
        capacity: &Arc<Capacity>,
    ) -> Arc<Self> {
        let pool = Arc::new(Self {
            interpreter,
            capacity: Arc::clone(capacity),
            modules: spare::modules_in(&spec.code_dir),
            start_env: spare::start_env(&spec.env),
            spec,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(max_workers.max(1)),
            closing: tokio::sync::watch::Sender::new(false),
            census: Arc::default(),
        });
        lock(&capacity.pools).push(Arc::downgrade(&pool));
        pool
    }

    /// Gets the first invocation's worker ready ahead: a spare of the interpreter when one suits the function (the
    /// first invocation takes it and imports the handler: a function updated again at once, as the runbook's
    /// environment variables follow its creation, costs no start), else a worker of its own, started now.
    pub async fn prewarm(&self) {
        if self.spares_suit() {
            self.capacity.spares.keep(&self.interpreter.python, &self.spec.bootstrap);
            return;
        }
        let Ok(_slot) = self.slots.try_acquire() else { return };
        let Some(place) = self.capacity.try_take() else { return };
        let counted = {
            let idle = self.idle.lock().await;
            // A worker is already there or on its way (the first invocation came first).
            if !idle.is_empty() || self.census.live.load(Ordering::SeqCst) > 0 {
                return;
            }
            Counted::new(&self.census)
        };
        match self.start(place, counted).await {
            Ok(mut worker) => {
                // Put where invocations look once it has started (meanwhile they wait for it), so that its start
                // is measured as it happens, not when the first invocation happens to read its ready line.
                let mut closing = self.closing.subscribe();
                let started = tokio::select! {
                    started = tokio::time::timeout(INIT_LIMIT, read_ready(&mut worker)) => started,
                    _ = closing.wait_for(|closing| *closing) => Ok(Ok(())),
                };
                if !matches!(started, Ok(Ok(()))) {
                    // The first invocation starts another, and reports what goes wrong there.
                    tracing::debug!("a pre-started worker for {} did not start: {started:?}", self.spec.function_arn);
                    let _ = worker.child.start_kill();
                    return;
                }
                let mut idle = self.idle.lock().await;
                // Stopped while it started (the emulator stopping, the function updated): it goes too, or it
                // would outlive `shutdown`, which has already emptied the idle list.
                if *self.closing.borrow() {
                    let _ = worker.child.start_kill();
                } else {
                    idle.push(worker);
                    self.census.changed.notify_waiters();
                }
            }
            Err(e) => tracing::warn!("pre-starting a worker for {} failed: {e}", self.spec.function_arn),
        }
    }

    /// What the workers are started with.
    pub fn spec(&self) -> &WorkerSpec {
        &self.spec
    }

    /// Runs one invocation on an idle worker (or a new one, if the pool may grow).
    pub async fn invoke(&self, request_id: &str, payload: &str) -> Invocation {
        let mut invocation = self.invoke_on_a_worker(request_id, payload).await;
        if invocation.log.is_empty()
            && let Outcome::Failed(error) = &invocation.outcome
        {
            // No worker ran it (it could not start, or the emulator is stopping): the log says what Lambda says.
            invocation.log = format!(
                "START RequestId: {request_id} Version: $LATEST\n{}\nEND RequestId: {request_id}\n",
                error["errorMessage"].as_str().unwrap_or_default()
            );
        }
        invocation
    }

    async fn invoke_on_a_worker(&self, request_id: &str, payload: &str) -> Invocation {
        let Ok(_slot) = self.slots.acquire().await else {
            return shutting_down();
        };
        let mut worker = match self.worker().await {
            Ok(worker) => worker,
            Err(refused) => return refused,
        };
        let mut closing = self.closing.subscribe();
        // The init phase (Python starting, the handler's module imported) is not the function's time, as on AWS,
        // up to AWS's 10 s init limit; past it, the rest of the init counts against the timeout.
        if !worker.ready {
            let init = tokio::select! {
                init = tokio::time::timeout(INIT_LIMIT, read_ready(&mut worker)) => init,
                _ = closing.wait_for(|closing| *closing) => {
                    let _ = worker.child.start_kill();
                    return sandbox_died(request_id);
                }
            };
            if let Ok(Err(e)) = init {
                let status = exit_status(&mut worker).await;
                return runtime_error(
                    "Runtime.ExitError",
                    format!("RequestId: {request_id} Error: Runtime exited during init ({e}): {status}"),
                );
            }
        }
        let deadline_ms = chrono::Utc::now().timestamp_millis() + self.spec.timeout.as_millis() as i64;
        let request = serde_json::json!({
            "payload": payload,
            "request_id": request_id,
            "deadline_ms": deadline_ms,
            "function_arn": self.spec.function_arn,
        });
        let ended = {
            let exchange = async {
                let mut line = request.to_string();
                line.push('\n');
                worker.stdin.write_all(line.as_bytes()).await?;
                worker.stdin.flush().await?;
                if !worker.ready {
                    read_ready(&mut worker).await?;
                }
                let mut answer = String::new();
                let read = worker.stdout.read_line(&mut answer).await?;
                Ok::<_, std::io::Error>((read, answer))
            };
            tokio::select! {
                answered = tokio::time::timeout(self.spec.timeout, exchange) => Some(answered),
                _ = closing.wait_for(|closing| *closing) => None,
            }
        };
        let Some(answered) = ended else {
            // The emulator is stopping: the handler is not waited for.
            let _ = worker.child.start_kill();
            return sandbox_died(request_id);
        };
        match answered {
            Ok(Ok((read, answer))) if read > 0 => match parse_answer(&answer) {
                Some(mut invocation) => {
                    invocation.log_stream = Some(worker.log_stream.clone());
                    worker.idle_since = Instant::now();
                    let mut idle = self.idle.lock().await;
                    if *self.closing.borrow() {
                        let _ = worker.child.start_kill();
                    } else {
                        idle.push(worker);
                        if self.census.waiting.load(Ordering::SeqCst) == 0 {
                            *lock(&self.census.saturated_since) = None;
                        }
                        self.census.changed.notify_waiters();
                    }
                    invocation
                }
                None => runtime_error("Runtime.InvalidResponse", format!("the runtime answered {answer:?}")),
            },
            Ok(_) => {
                // EOF or a broken pipe: the worker died (os._exit, a crash in native code, ...).
                let status = exit_status(&mut worker).await;
                tracing::debug!(function = %self.spec.function_arn, "worker exited: {status}");
                Invocation {
                    log_stream: Some(worker.log_stream.clone()),
                    ..runtime_error(
                        "Runtime.ExitError",
                        format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
                    )
                }
            }
            Err(_elapsed) => {
                let _ = worker.child.start_kill();
                let seconds = self.spec.timeout.as_secs_f64();
                let message = format!(
                    "{} Task timed out after {seconds:.2} seconds",
                    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
                );
                let log =
                    format!("START RequestId: {request_id} Version: $LATEST\n{message}\nEND RequestId: {request_id}\n");
                Invocation {
                    outcome: Outcome::Failed(serde_json::json!({
                        "errorMessage": format!("Task timed out after {seconds:.2} seconds"),
                        "errorType": "Sandbox.Timedout",
                    })),
                    log,
                    log_stream: Some(worker.log_stream.clone()),
                }
            }
        }
    }

    /// A worker for one invocation: an idle one; else, while another is starting, wait (it goes to the invocation
    /// that started it, which then frees it or another); else the first to be idle, unless every worker has been
    /// busy for [`Census::patience`]: then a new one.
    async fn worker(&self) -> Result<Worker, Invocation> {
        let _waiting = Waiting::new(&self.census);
        loop {
            let changed = self.census.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if *self.closing.borrow() {
                return Err(shutting_down());
            }
            let (starting, left, counted) = {
                // Decided under the idle list's lock, and counted before it is released: two invocations never
                // both see no worker and both start one.
                let mut idle = self.idle.lock().await;
                if let Some(worker) = idle.pop() {
                    return Ok(worker);
                }
                let (live, starting) =
                    (self.census.live.load(Ordering::SeqCst), self.census.starting.load(Ordering::SeqCst));
                // The time a worker spends starting does not count: waiting for it beats starting another.
                let mut saturated = lock(&self.census.saturated_since);
                let left = if starting > 0 {
                    *saturated = None;
                    Duration::MAX
                } else {
                    self.census.patience().saturating_sub(saturated.get_or_insert_with(Instant::now).elapsed())
                };
                let start = live == 0 || left.is_zero();
                if start {
                    *saturated = None;
                }
                (starting, left, start.then(|| Counted::new(&self.census)))
            };
            if let Some(mut counted) = counted {
                let Some(place) = self.capacity.take().await.filter(|_| !*self.closing.borrow()) else {
                    return Err(shutting_down());
                };
                // A worker of this pool freed meanwhile is taken rather than started (waiting for a place may have
                // taken a while).
                if let Some(worker) = self.idle.lock().await.pop() {
                    return Ok(worker);
                }
                counted.spawned = Instant::now();
                return self.start(place, counted).await.map_err(|e| runtime_error("Runtime.StartError", e));
            }
            if starting > 0 {
                changed.await;
            } else {
                tokio::select! {
                    () = changed => {}
                    () = tokio::time::sleep(left) => {}
                }
            }
        }
    }

    /// Stops the workers that have been idle longer than `max_idle`; returns how many.
    pub async fn reap_idle(&self, max_idle: Duration) -> usize {
        let mut idle = self.idle.lock().await;
        let before = idle.len();
        idle.retain_mut(|worker| {
            let keep = worker.idle_since.elapsed() < max_idle;
            if !keep {
                let _ = worker.child.start_kill();
            }
            keep
        });
        before - idle.len()
    }

    /// Idle warm workers (for tests and the idle reaper's log).
    pub async fn idle_workers(&self) -> usize {
        self.idle.lock().await.len()
    }

    /// Kills every worker now: idle ones here, busy ones in their invocation, which answers Runtime.ExitError
    /// instead of waiting for the handler (so stopping the emulator never waits for a sleeping function).
    pub async fn shutdown(&self) {
        // `closing` before the idle list is emptied: a worker that finishes starting after this sees it.
        self.closing.send_replace(true);
        self.slots.close();
        self.census.changed.notify_waiters();
        for mut worker in self.idle.lock().await.drain(..) {
            let _ = worker.child.start_kill();
        }
    }

    /// Whether a spare that imported `loaded` behaves for this function as a start of its own would: the same
    /// environment as Python starts, and none of the function's modules shadowed by one already imported.
    /// (`loaded` is unknown before the interpreter's first spare has started: then the modules a spare imports
    /// first stand for it.)
    fn suits(&self, loaded: Option<&BTreeSet<String>>) -> bool {
        self.capacity.spares.start_env == self.start_env
            && match loaded {
                Some(loaded) => loaded.is_disjoint(&self.modules),
                None => spare::PRELOAD.iter().all(|module| !self.modules.contains(*module)),
            }
    }

    /// Whether this interpreter's spares suit the function, as far as can be told before one is there.
    fn spares_suit(&self) -> bool {
        self.suits(self.capacity.spares.loaded(&self.interpreter.python).as_deref())
    }

    /// A new worker: the interpreter's spare when one suits the function (and another spare is started for the
    /// next), else a Python process of its own; either is then given the function's environment and code.
    async fn start(&self, place: OwnedSemaphorePermit, mut counted: Counted) -> Result<Worker, String> {
        let log_stream = log_stream_name();
        let mut env = self.spec.env.clone();
        env.push(("AWS_LAMBDA_LOG_STREAM_NAME".to_owned(), log_stream.clone()));
        let init = serde_json::json!({
            "init": {
                "env": env.iter().cloned().collect::<BTreeMap<String, String>>(),
                "task_root": self.spec.code_dir,
            }
        });
        let mut line = init.to_string();
        line.push('\n');
        // A function spares cannot serve does not wait for one that is starting.
        let spare = if self.spares_suit() {
            let python = &self.interpreter.python;
            self.capacity.spares.take(python, |spare| self.suits(Some(&spare.loaded))).await
        } else {
            None
        };
        let from_spare = match spare {
            Some(spare) => {
                self.capacity.spares.replace(&self.interpreter.python, &self.spec.bootstrap);
                // One that ended after it was taken (killed from outside) gives way to a start of the function's own.
                give_init(spare.process, &line, &self.spec.function_arn)
                    .await
                    .inspect_err(|e| {
                        tracing::debug!("a spare ended before its init ({e}): starting a worker of its own")
                    })
                    .ok()
            }
            None => None,
        };
        let Process { child, stdin, stdout, .. } = match from_spare {
            Some(process) => process,
            None => {
                // Only a start of its own measures what the next one would cost (see `Census::patience`).
                counted.cold = true;
                give_init(self.spawn(&env)?, &line, &self.spec.function_arn).await?
            }
        };
        Ok(Worker {
            child,
            stdin,
            stdout,
            ready: false,
            ready_line: String::new(),
            idle_since: Instant::now(),
            _place: place,
            log_stream,
            counted,
        })
    }

    /// A Python process of the function's own, started with its environment (what Python reads as it starts
    /// included), in its code's directory, with nothing imported ahead.
    fn spawn(&self, env: &[(String, String)]) -> Result<Process, String> {
        Process::spawn(&self.interpreter.python, &self.spec.bootstrap, &[], &self.spec.code_dir, env)
    }
}

/// Gives a runtime its function's environment and code (the bootstrap's init line), and its log lines' label.
async fn give_init(mut process: Process, line: &str, function_arn: &str) -> Result<Process, String> {
    let _ = process.label.set(function_arn.to_owned());
    let written = async {
        process.stdin.write_all(line.as_bytes()).await?;
        process.stdin.flush().await
    };
    match written.await {
        Ok(()) => Ok(process),
        Err(e) => {
            let _ = process.child.start_kill();
            Err(format!("the runtime ended before its init: {e}"))
        }
    }
}

/// A new execution environment's log stream, named as Lambda names them: `2026/12/04/[$LATEST]` and 32 hex digits.
pub fn log_stream_name() -> String {
    let hex: String = uuid::Uuid::new_v4().simple().to_string();
    format!("{}/[$LATEST]{hex}", chrono::Utc::now().format("%Y/%m/%d"))
}

/// How long a worker's init phase may take before it counts against the function's timeout (AWS: 10 s).
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// Waits for the bootstrap's `{"ready": true}` line (the handler is loaded), past its `{"loaded": [...]}` line
/// when the worker did not start as a spare.
async fn read_ready(worker: &mut Worker) -> std::io::Result<()> {
    loop {
        if worker.stdout.read_line(&mut worker.ready_line).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the worker exited"));
        }
        let line = std::mem::take(&mut worker.ready_line);
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(v) if v["ready"] == true => {
                worker.ready = true;
                worker.counted.started();
                return Ok(());
            }
            Ok(v) if v.get("loaded").is_some() => {}
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("expected the ready line, got {line:?}"),
                ));
            }
        }
    }
}

fn parse_answer(answer: &str) -> Option<Invocation> {
    let value: serde_json::Value = serde_json::from_str(answer).ok()?;
    let log = value["log"].as_str().unwrap_or_default().to_owned();
    let outcome = match (value.get("ok"), value.get("error")) {
        (Some(serde_json::Value::String(json)), _) => Outcome::Returned(json.clone()),
        (_, Some(error)) => Outcome::Failed(error.clone()),
        _ => return None,
    };
    Some(Invocation { outcome, log, log_stream: None })
}

/// The answer of an invocation whose worker was killed under it (the emulator stopping): what AWS answers when an
/// execution environment dies mid-invocation.
fn sandbox_died(request_id: &str) -> Invocation {
    runtime_error(
        "Runtime.ExitError",
        format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed"),
    )
}

/// The answer of an invocation that comes while the function's workers are shutting down.
fn shutting_down() -> Invocation {
    runtime_error("Runtime.Unavailable", "the function's workers are shutting down".to_owned())
}

fn runtime_error(error_type: &str, message: String) -> Invocation {
    Invocation {
        outcome: Outcome::Failed(serde_json::json!({ "errorMessage": message, "errorType": error_type })),
        log: String::new(),
        log_stream: None,
    }
}

async fn exit_status(worker: &mut Worker) -> String {
    match tokio::time::timeout(Duration::from_secs(2), worker.child.wait()).await {
        Ok(Ok(status)) => status.to_string(),
        _ => "the process stopped answering".to_owned(),
    }
}
