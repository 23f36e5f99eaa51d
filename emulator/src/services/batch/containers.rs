//! Jobs that really run: where a Docker engine answers (and [`JobRunner`] allows it), a job whose image is in this
//! emulator's own ECR registry is pulled from that registry, created with the job's command (after `Ref::`
//! substitution), environment (definition and `containerOverrides`) and vCPU/memory as limits, started, and
//! waited for; its exit code decides SUCCEEDED or FAILED, its output goes to CloudWatch Logs (`/aws/batch/job`,
//! stream `<definition>/default/<task id>`, `container.logStreamName`), `timeout.attemptDurationSeconds` kills it,
//! `retryStrategy.attempts` runs it again, TerminateJob stops it.
//!
//! Everything goes through Docker's own CLI (`docker pull`, `create`, `start`, `wait`, `logs`, `rm`), as the
//! runbook's commands do; `docker pull` gets the registry's credentials in a configuration directory of its own
//! (the user's `~/.docker` is never touched). A pulled image is tagged `crts-emulator/batch:<manifest digest>` and
//! its `localhost:PORT/...` name removed, so emulators on other ports leave no names behind, and the same image is
//! not pulled again.
//!
//! Without an engine, with `CRTS_BATCH_CONTAINERS=simulate`, or for an image from another registry (which cannot be
//! pulled offline), the job is simulated as before ([`super::jobs`]), and DescribeJobs says so in its
//! `statusReason`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::services::logs::LogSink;
use crate::store::lock;

/// Whether Batch runs jobs in containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobRunner {
    /// In Docker where an engine answers (checked once, when the first job could run), else simulated.
    #[default]
    Auto,
    /// Always simulated.
    Simulate,
}

impl JobRunner {
    /// `CRTS_BATCH_CONTAINERS`: `auto` (the default) or `simulate`.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("CRTS_BATCH_CONTAINERS").ok().as_deref() {
            None | Some("" | "auto") => Ok(Self::Auto),
            Some("simulate") => Ok(Self::Simulate),
            Some(other) => Err(format!("CRTS_BATCH_CONTAINERS={other}: expected auto or simulate")),
        }
    }
}

/// How a job is being executed, as its runner decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Mode {
    /// The runner has not yet asked whether an engine answers.
    #[default]
    Deciding,
    /// No container runs: the job's lifecycle is simulated from its submission time.
    Simulated,
    /// A container runs it: the state below is what Docker said.
    Real,
}

/// What a real run has reached; read by DescribeJobs and ListJobs.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunState {
    pub mode: Mode,
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub started_at: Option<i64>,
    pub stopped_at: Option<i64>,
    pub exit_code: Option<i64>,
    /// The container's `reason` (why it did not start or was stopped).
    pub reason: Option<String>,
    /// The current (or last) attempt's task id, which names its log stream.
    pub task_id: String,
    /// Finished attempts, in AttemptDetail's shape.
    pub attempts: Vec<Value>,
}

/// One job's execution, shared by its record (which reads it) and its runner task (which writes it).
#[derive(Debug, Default)]
pub(crate) struct Execution {
    state: Mutex<RunState>,
    /// Set by TerminateJob: the container is stopped.
    stop: tokio::sync::Notify,
}

impl Execution {
    pub fn state(&self) -> RunState {
        lock(&self.state).clone()
    }

    fn update(&self, f: impl FnOnce(&mut RunState)) {
        f(&mut lock(&self.state));
    }

    /// Stops the container, if one runs (TerminateJob).
    pub fn stop(&self) {
        self.stop.notify_one();
    }
}

/// Everything a runner task needs to run one job, taken at submission.
#[derive(Debug, Clone)]
pub(crate) struct JobSpec {
    pub job_id: String,
    pub queue_name: String,
    pub account: String,
    pub region: String,
    /// `localhost:PORT/<repository>:<tag>` (or `@digest`): the image in this emulator's registry.
    pub image: String,
    /// Its manifest digest: an image already pulled (by any emulator) is not pulled again.
    pub digest: Option<String>,
    /// The registry host and a `docker login` user and password for it.
    pub registry: (String, String, String),
    pub command: Vec<String>,
    pub environment: Vec<(String, String)>,
    pub vcpus: Option<f64>,
    pub memory_mib: Option<u64>,
    pub definition_name: String,
    pub first_task_id: String,
    pub attempts: u32,
    pub attempt_timeout: Option<Duration>,
    /// How long SUBMITTED and RUNNABLE last before the container is started (as the simulation's states).
    pub state_duration: Duration,
}

/// The runner of one emulator instance: whether an engine answers, the containers it has running.
#[derive(Debug, Default)]
pub(crate) struct Runner {
    /// Labels this emulator's containers (`crts-emulator.runner=<id>`), so that stopping removes them all, those
    /// still being created included, and no other emulator's.
    id: String,
    setting: JobRunner,
    engine: tokio::sync::OnceCell<bool>,
    /// One pull at a time (so that naming and un-naming pulled images never races another job's).
    pulls: tokio::sync::Mutex<()>,
    live: Mutex<BTreeSet<String>>,
}

pub(crate) const LOG_GROUP: &str = "/aws/batch/job";

impl Runner {
    pub fn new(setting: JobRunner) -> Self {
        Self { id: crate::identity::random_lower_alnum(16), setting, ..Self::default() }
    }

    async fn engine_answers(&self) -> bool {
        if self.setting == JobRunner::Simulate {
            return false;
        }
        *self
            .engine
            .get_or_init(|| async {
                let answered = Command::new("docker")
                    .args(["version", "--format", "{{.Server.Version}}"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .status();
                matches!(tokio::time::timeout(Duration::from_secs(5), answered).await, Ok(Ok(status)) if status.success())
            })
            .await
    }

    /// Runs the job in the background; its [`Execution`] says what happens.
    pub fn start(self: &Arc<Self>, spec: JobSpec, execution: Arc<Execution>, logs: Arc<dyn LogSink>) {
        let runner = Arc::clone(self);
        tokio::spawn(async move {
            if !runner.engine_answers().await {
                execution.update(|s| s.mode = Mode::Simulated);
                return;
            }
            runner.run(&spec, &execution, logs.as_ref()).await;
        });
    }

    /// Removes every container of this emulator, running or being created (the emulator is stopping).
    pub async fn shutdown(&self) {
        if self.engine.get() != Some(&true) {
            return;
        }
        let label = format!("label=crts-emulator.runner={}", self.id);
        let listed = docker(&["ps", "-aq", "--filter", &label], None).await.unwrap_or_default();
        let mut ids: Vec<&str> = listed.split_whitespace().collect();
        if ids.is_empty() {
            return;
        }
        ids.splice(0..0, ["rm", "-f"]);
        let _ = docker(&ids, None).await;
        lock(&self.live).clear();
    }

    async fn run(&self, spec: &JobSpec, execution: &Execution, logs: &dyn LogSink) {
        let now = || chrono::Utc::now().timestamp_millis();
        let began = std::time::Instant::now();
        execution.update(|s| {
            s.mode = Mode::Real;
            s.status = "SUBMITTED";
            s.task_id = spec.first_task_id.clone();
        });
        tokio::time::sleep(spec.state_duration).await;
        let pulled = self.pull(spec).await;
        tracing::debug!(job = %spec.job_id, "image ready after {:?}", began.elapsed());
        let image = match pulled {
            Ok(image) => image,
            Err(error) => {
                let reason = format!("CannotPullContainerError: {error}");
                execution.update(|s| {
                    s.status = "FAILED";
                    s.status_reason = Some("Task failed to start".to_owned());
                    s.stopped_at = Some(now());
                    s.reason = Some(reason.clone());
                    s.attempts.push(json!({
                        "container": {"taskArn": s.task_id, "reason": reason, "networkInterfaces": []},
                        "stoppedAt": now(), "statusReason": "Task failed to start",
                    }));
                });
                return;
            }
        };
        for attempt in 1..=spec.attempts.max(1) {
            let task_id =
                if attempt == 1 { spec.first_task_id.clone() } else { uuid::Uuid::new_v4().simple().to_string() };
            execution.update(|s| {
                s.status = "RUNNABLE";
                s.task_id = task_id.clone();
                s.exit_code = None;
                s.started_at = None;
                s.stopped_at = None;
            });
            tokio::time::sleep(spec.state_duration).await;
            execution.update(|s| s.status = "STARTING");
            let outcome = self.attempt(spec, &image, &task_id, attempt, execution, logs).await;
            tracing::debug!(job = %spec.job_id, attempt, "attempt ended after {:?}", began.elapsed());
            let stopped = now();
            let (status_reason, exit_code, reason) = match &outcome {
                Attempt::Exited(code) => ("Essential container in task exited".to_owned(), Some(*code), None),
                Attempt::TimedOut(code) => ("Job attempt duration exceeded timeout".to_owned(), *code, None),
                Attempt::Stopped(code) => ("Job terminated".to_owned(), *code, Some("Task stopped by user".to_owned())),
                Attempt::DidNotStart(error) => {
                    ("Task failed to start".to_owned(), None, Some(format!("CannotStartContainerError: {error}")))
                }
            };
            let succeeded = matches!(outcome, Attempt::Exited(0));
            let last = succeeded || matches!(outcome, Attempt::Stopped(_)) || attempt >= spec.attempts.max(1);
            execution.update(|s| {
                let mut container = json!({
                    "taskArn": task_id,
                    "logStreamName": log_stream(&spec.definition_name, &task_id),
                    "networkInterfaces": [],
                });
                if let Some(code) = exit_code {
                    container["exitCode"] = json!(code);
                }
                if let Some(reason) = &reason {
                    container["reason"] = json!(reason);
                }
                let mut detail = json!({"container": container, "stoppedAt": stopped, "statusReason": status_reason});
                if let Some(started) = s.started_at {
                    detail["startedAt"] = json!(started);
                }
                s.attempts.push(detail);
                if last {
                    s.status = if succeeded { "SUCCEEDED" } else { "FAILED" };
                    s.status_reason = Some(status_reason.clone());
                    s.exit_code = exit_code;
                    s.reason = reason.clone();
                    s.stopped_at = Some(stopped);
                }
            });
            if last {
                return;
            }
        }
    }

    /// Pulls the job's image from this emulator's registry (credentials in a configuration directory of its own),
    /// names it `crts-emulator/batch:<id>` and removes its `localhost:PORT/...` name; returns the image id.
    async fn pull(&self, spec: &JobSpec) -> Result<String, String> {
        let _one_at_a_time = self.pulls.lock().await;
        // Named by its manifest digest once pulled: the same image is not pulled again.
        let local = spec.digest.as_deref().map(|digest| {
            let hex: String = digest.trim_start_matches("sha256:").chars().take(16).collect();
            format!("crts-emulator/batch:{hex}")
        });
        if let Some(local) = &local
            && let Ok(id) = docker(&["image", "inspect", "--format", "{{.Id}}", local], None).await
        {
            return Ok(id.trim().to_owned());
        }
        let config = tempfile_dir().map_err(|e| format!("a Docker configuration directory: {e}"))?;
        let (host, user, password) = &spec.registry;
        let auth = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{user}:{password}"));
        std::fs::write(config.join("config.json"), json!({"auths": {host: {"auth": auth}}}).to_string())
            .map_err(|e| format!("writing the Docker configuration: {e}"))?;
        let pulled = docker(&["pull", "--quiet", &spec.image], Some(&config)).await;
        let _ = std::fs::remove_dir_all(&config);
        pulled?;
        let id = docker(&["image", "inspect", "--format", "{{.Id}}", &spec.image], None).await?;
        let id = id.trim().to_owned();
        let local = local.unwrap_or_else(|| {
            format!("crts-emulator/batch:{}", id.trim_start_matches("sha256:").chars().take(16).collect::<String>())
        });
        docker(&["tag", &id, &local], None).await?;
        let _ = docker(&["rmi", &spec.image], None).await;
        Ok(id)
    }

    /// One attempt: create, start, wait (up to the attempt timeout, or until TerminateJob), collect the output
    /// into CloudWatch Logs, remove the container.
    async fn attempt(
        &self,
        spec: &JobSpec,
        image: &str,
        task_id: &str,
        attempt: u32,
        execution: &Execution,
        logs: &dyn LogSink,
    ) -> Attempt {
        let name = format!("crts-batch-{task_id}");
        let mut args: Vec<String> = [
            "create",
            "--name",
            &name,
            "--label",
            &format!("crts-emulator.batch-job={}", spec.job_id),
            "--label",
            &format!("crts-emulator.runner={}", self.id),
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if let Some(cpus) = spec.vcpus {
            args.extend(["--cpus".to_owned(), cpus.to_string()]);
        }
        if let Some(memory) = spec.memory_mib {
            args.extend(["--memory".to_owned(), format!("{memory}m")]);
        }
        let batch_env = [
            ("AWS_BATCH_JOB_ID", spec.job_id.clone()),
            ("AWS_BATCH_JOB_ATTEMPT", attempt.to_string()),
            ("AWS_BATCH_JQ_NAME", spec.queue_name.clone()),
            ("AWS_BATCH_CE_NAME", "crts-emulator".to_owned()),
        ];
        for (key, value) in spec.environment.iter().map(|(k, v)| (k.as_str(), v.clone())).chain(batch_env) {
            args.extend(["--env".to_owned(), format!("{key}={value}")]);
        }
        args.push(image.to_owned());
        args.extend(spec.command.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if let Err(error) = docker(&args, None).await {
            return Attempt::DidNotStart(error);
        }
        lock(&self.live).insert(name.clone());
        let outcome = self.wait(spec, &name, execution).await;
        let output = docker_output(&["logs", "--timestamps", &name]).await;
        let _ = docker(&["rm", "-f", &name], None).await;
        lock(&self.live).remove(&name);
        let events = output.lines().filter_map(timestamped).collect::<Vec<_>>();
        if !events.is_empty() {
            logs.append(
                &spec.account,
                &spec.region,
                LOG_GROUP,
                &log_stream(&spec.definition_name, task_id),
                events,
                true,
            );
        }
        outcome
    }

    async fn wait(&self, spec: &JobSpec, name: &str, execution: &Execution) -> Attempt {
        if let Err(error) = docker(&["start", name], None).await {
            return Attempt::DidNotStart(error);
        }
        let started = chrono::Utc::now().timestamp_millis();
        tracing::debug!(job = %spec.job_id, "container {name} started");
        execution.update(|s| {
            s.status = "RUNNING";
            s.started_at = Some(started);
        });
        let wait_args = ["wait", name];
        let waited = docker(&wait_args, None);
        let timeout = spec.attempt_timeout.unwrap_or(Duration::MAX);
        let exit_code = |text: Result<String, String>| text.ok().and_then(|t| t.trim().parse::<i64>().ok());
        tokio::select! {
            code = waited => match exit_code(code) {
                Some(code) => Attempt::Exited(code),
                None => Attempt::DidNotStart("docker wait gave no exit code".to_owned()),
            },
            () = tokio::time::sleep(timeout) => {
                let _ = docker(&["kill", name], None).await;
                Attempt::TimedOut(exit_code(docker(&["wait", name], None).await))
            }
            () = execution.stop.notified() => {
                let _ = docker(&["kill", name], None).await;
                Attempt::Stopped(exit_code(docker(&["wait", name], None).await))
            }
        }
    }
}

enum Attempt {
    Exited(i64),
    TimedOut(Option<i64>),
    Stopped(Option<i64>),
    DidNotStart(String),
}

/// `<definition name>/default/<task id>`, the stream AWS Batch names for a job's container.
pub(crate) fn log_stream(definition_name: &str, task_id: &str) -> String {
    format!("{definition_name}/default/{task_id}")
}

/// A `docker logs --timestamps` line as a log event: its RFC 3339 timestamp in milliseconds, and the rest.
fn timestamped(line: &str) -> Option<(i64, String)> {
    let (stamp, message) = line.split_once(' ').unwrap_or((line, ""));
    let at = chrono::DateTime::parse_from_rfc3339(stamp).ok()?.timestamp_millis();
    (!message.is_empty()).then(|| (at, message.to_owned()))
}

/// Runs `docker ARGS` (with `DOCKER_CONFIG` when given) and returns its standard output, or its error output.
async fn docker(args: &[&str], config: Option<&std::path::Path>) -> Result<String, String> {
    let mut command = Command::new("docker");
    command.args(args).kill_on_drop(true);
    if let Some(config) = config {
        command.env("DOCKER_CONFIG", config);
    }
    let out = command.output().await.map_err(|e| format!("docker {}: {e}", args.first().unwrap_or(&"")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Both output streams of `docker ARGS`, merged (the container's stdout and stderr, for `docker logs`).
async fn docker_output(args: &[&str]) -> String {
    match Command::new("docker").args(args).kill_on_drop(true).output().await {
        Ok(out) => {
            let mut lines: Vec<&str> = Vec::new();
            let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            lines.extend(stdout.lines());
            lines.extend(stderr.lines());
            // Timestamps put the two streams back in order.
            lines.sort_by(|a, b| a.split(' ').next().cmp(&b.split(' ').next()));
            lines.join("\n")
        }
        Err(_) => String::new(),
    }
}

/// A new private directory under the system's temporary directory.
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("crts-emulator-docker-{}", crate::identity::random_lower_alnum(12)));
    std::fs::create_dir(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_log_lines_become_events_at_their_time() {
        assert_eq!(
            timestamped("2026-12-04T23:59:59.123456789Z crts: running the smoke suite against staging"),
            Some((1_796_428_799_123, "crts: running the smoke suite against staging".to_owned()))
        );
        assert_eq!(timestamped("not a timestamp"), None);
        assert_eq!(timestamped("2026-12-04T23:59:59Z "), None);
    }
}
