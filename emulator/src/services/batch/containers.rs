//! Jobs that really run: where a Docker engine answers (and [`JobRunner`] allows it), a job whose image is in this
//! emulator's own ECR registry is pulled from that registry, created with the job's command (after `Ref::`
//! substitution), environment (definition and `containerOverrides`) and vCPU/memory as limits, started, and
//! waited for; its exit code decides SUCCEEDED or FAILED, its output goes to CloudWatch Logs (`/aws/batch/job`,
//! stream `<definition>/default/<task id>`, `container.logStreamName`), `timeout.attemptDurationSeconds` kills it,
//! `retryStrategy.attempts` runs it again, TerminateJob stops it.
//!
//! Everything goes through the Docker Engine API (`bollard`, on `DOCKER_HOST` or the default socket, at the
//! version the engine speaks): pull (the registry's credentials in the request, nothing written to the user's
//! `~/.docker`), create, start, follow the output, wait, remove. No `docker` process is started per step, which on a
//! busy two-core machine cost more than the job itself. A pulled image is tagged `crts-emulator/batch:<manifest
//! digest>` and its `localhost:PORT/...` name removed, so emulators on other ports leave no names behind, and the
//! same image is not pulled again.
//!
//! The container shares the machine's network (Docker's `host` mode): as a Fargate task with a public IP reaches
//! AWS and the internet, the job reaches the emulator on `127.0.0.1` and whatever the machine reaches; and it starts
//! in about half the time of a bridged container (no virtual interface, no NAT rules). Its output goes to
//! CloudWatch Logs line by line while it runs, as the awslogs driver ships it, and is all there when the job ends.
//!
//! Without an engine, with `CRTS_BATCH_CONTAINERS=simulate`, or for an image from another registry (which cannot be
//! pulled offline), the job is simulated as before ([`super::jobs`]), and DescribeJobs says so in its
//! `statusReason`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, KillContainerOptions, ListContainersOptions, LogsOptions,
    RemoveContainerOptions, RemoveImageOptions, TagImageOptions, WaitContainerOptions,
};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

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

/// The runner of one emulator instance: the engine, if one answers, and the containers it runs.
#[derive(Debug, Default)]
pub(crate) struct Runner {
    /// Labels this emulator's containers (`crts-emulator.runner=<id>`), so that stopping removes them all, those
    /// still being created included, and no other emulator's.
    id: String,
    setting: JobRunner,
    /// The engine, asked once (when the first job could run); `None` when none answers.
    engine: tokio::sync::OnceCell<Option<Docker>>,
    /// One pull at a time (so that naming and un-naming pulled images never races another job's).
    pulls: tokio::sync::Mutex<()>,
    /// Set by [`Runner::shutdown`]: no container is created from then on.
    stopping: std::sync::atomic::AtomicBool,
}

pub(crate) const LOG_GROUP: &str = "/aws/batch/job";

/// How long the engine may take to answer whether it is there.
const ENGINE_WAIT: Duration = Duration::from_secs(5);

impl Runner {
    pub fn new(setting: JobRunner) -> Self {
        Self { id: crate::identity::random_lower_alnum(16), setting, ..Self::default() }
    }

    /// The engine on `DOCKER_HOST` (or the default socket), at the API version it speaks, if it answers.
    async fn engine(&self) -> Option<&Docker> {
        if self.setting == JobRunner::Simulate {
            return None;
        }
        self.engine
            .get_or_init(|| async {
                let answered = async {
                    let docker = Docker::connect_with_defaults().map_err(|e| e.to_string())?;
                    let docker = tokio::time::timeout(ENGINE_WAIT, docker.negotiate_version())
                        .await
                        .map_err(|_| "no answer".to_owned())?
                        .map_err(|e| e.to_string())?;
                    tokio::time::timeout(ENGINE_WAIT, docker.ping())
                        .await
                        .map_err(|_| "no answer".to_owned())?
                        .map_err(|e| e.to_string())?;
                    Ok::<_, String>(docker)
                };
                match answered.await {
                    Ok(docker) => Some(docker),
                    Err(error) => {
                        let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "the default socket".to_owned());
                        tracing::info!("no Docker engine answers on {host} ({error}): Batch jobs are simulated");
                        None
                    }
                }
            })
            .await
            .as_ref()
    }

    /// Runs the job in the background; its [`Execution`] says what happens.
    pub fn start(self: &Arc<Self>, spec: JobSpec, execution: Arc<Execution>, logs: Arc<dyn LogSink>) {
        let runner = Arc::clone(self);
        tokio::spawn(async move {
            let Some(docker) = runner.engine().await.cloned() else {
                execution.update(|s| s.mode = Mode::Simulated);
                return;
            };
            runner.run(&docker, &spec, &execution, &logs).await;
        });
    }

    /// Removes every container of this emulator, running or being created (the emulator is stopping).
    pub async fn shutdown(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        let Some(Some(docker)) = self.engine.get() else { return };
        let filters = HashMap::from([("label".to_owned(), vec![format!("crts-emulator.runner={}", self.id)])]);
        let listed = docker
            .list_containers(Some(ListContainersOptions { all: true, filters: Some(filters), ..Default::default() }))
            .await
            .unwrap_or_default();
        for id in listed.into_iter().filter_map(|c| c.id) {
            remove(docker, &id).await;
        }
    }

    async fn run(&self, docker: &Docker, spec: &JobSpec, execution: &Execution, logs: &Arc<dyn LogSink>) {
        let now = || chrono::Utc::now().timestamp_millis();
        let began = std::time::Instant::now();
        execution.update(|s| {
            s.mode = Mode::Real;
            s.status = "SUBMITTED";
            s.task_id = spec.first_task_id.clone();
        });
        tokio::time::sleep(spec.state_duration).await;
        let pulled = self.pull(docker, spec).await;
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
            let outcome = self.attempt(docker, spec, &image, &task_id, attempt, execution, logs).await;
            tracing::debug!(job = %spec.job_id, attempt, "attempt ended after {:?}", began.elapsed());
            let stopped = now();
            let (status_reason, exit_code, reason) = match &outcome {
                Attempt::Exited(code) => ("Essential container in task exited".to_owned(), Some(*code), None),
                Attempt::TimedOut(code) => ("Job attempt duration exceeded timeout".to_owned(), *code, None),
                Attempt::Stopped(code) => ("Job terminated".to_owned(), *code, Some("Task stopped by user".to_owned())),
                Attempt::DidNotStart(error) => {
                    ("Task failed to start".to_owned(), None, Some(format!("CannotStartContainerError: {error}")))
                }
                Attempt::Lost(error) => {
                    ("Task stopped".to_owned(), None, Some(format!("the container engine lost the container: {error}")))
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
            // The container goes once its state is told: its removal is not the job's time.
            remove(docker, &container_name(&task_id)).await;
            if last {
                return;
            }
        }
    }

    /// Pulls the job's image from this emulator's registry (its credentials in the request), names it
    /// `crts-emulator/batch:<id>` and removes its `localhost:PORT/...` name; returns the image id.
    async fn pull(&self, docker: &Docker, spec: &JobSpec) -> Result<String, String> {
        let _one_at_a_time = self.pulls.lock().await;
        // Named by its manifest digest once pulled: the same image is not pulled again.
        let hex = |digest: &str| digest.trim_start_matches("sha256:").chars().take(16).collect::<String>();
        let local = spec.digest.as_deref().map(|digest| format!("crts-emulator/batch:{}", hex(digest)));
        if let Some(local) = &local
            && let Ok(image) = docker.inspect_image(local).await
            && let Some(id) = image.id
        {
            return Ok(id);
        }
        let (host, user, password) = &spec.registry;
        let credentials = DockerCredentials {
            username: Some(user.clone()),
            password: Some(password.clone()),
            serveraddress: Some(host.clone()),
            ..Default::default()
        };
        let options = CreateImageOptions { from_image: Some(spec.image.clone()), ..Default::default() };
        let mut pulling = docker.create_image(Some(options), None, Some(credentials));
        while let Some(progress) = pulling.next().await {
            progress.map_err(|e| format!("{}: {}", spec.image, engine_error(&e)))?;
        }
        let image = docker.inspect_image(&spec.image).await.map_err(|e| engine_error(&e))?;
        let id = image.id.ok_or("the pulled image has no id")?;
        let tag = local.as_deref().and_then(|l| l.split_once(':')).map_or_else(|| hex(&id), |(_, tag)| tag.to_owned());
        let named = TagImageOptions { repo: Some("crts-emulator/batch".to_owned()), tag: Some(tag) };
        docker.tag_image(&id, Some(named)).await.map_err(|e| engine_error(&e))?;
        let untag = RemoveImageOptions { noprune: true, ..Default::default() };
        let _ = docker.remove_image(&spec.image, Some(untag), None).await;
        Ok(id)
    }

    /// One attempt: create, start, follow the output into CloudWatch Logs, wait (up to the attempt timeout, or
    /// until TerminateJob). The container is left for [`remove`].
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        docker: &Docker,
        spec: &JobSpec,
        image: &str,
        task_id: &str,
        attempt: u32,
        execution: &Execution,
        logs: &Arc<dyn LogSink>,
    ) -> Attempt {
        let name = &container_name(task_id);
        let batch_env = [
            ("AWS_BATCH_JOB_ID", spec.job_id.clone()),
            ("AWS_BATCH_JOB_ATTEMPT", attempt.to_string()),
            ("AWS_BATCH_JQ_NAME", spec.queue_name.clone()),
            ("AWS_BATCH_CE_NAME", "crts-emulator".to_owned()),
        ];
        let env = spec.environment.iter().map(|(k, v)| (k.as_str(), v.clone())).chain(batch_env);
        let labels = HashMap::from([
            ("crts-emulator.batch-job".to_owned(), spec.job_id.clone()),
            ("crts-emulator.runner".to_owned(), self.id.clone()),
        ]);
        let host_config = HostConfig {
            #[allow(clippy::cast_possible_truncation)]
            nano_cpus: spec.vcpus.map(|cpus| (cpus * 1e9) as i64),
            memory: spec.memory_mib.and_then(|mib| i64::try_from(mib << 20).ok()),
            network_mode: Some("host".to_owned()),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            cmd: (!spec.command.is_empty()).then(|| spec.command.clone()),
            env: Some(env.map(|(key, value)| format!("{key}={value}")).collect()),
            labels: Some(labels),
            host_config: Some(host_config),
            ..Default::default()
        };
        let stopping = || self.stopping.load(std::sync::atomic::Ordering::SeqCst);
        if stopping() {
            return Attempt::DidNotStart("the emulator is stopping".to_owned());
        }
        let options = CreateContainerOptions { name: Some(name.to_owned()), ..Default::default() };
        if let Err(error) = docker.create_container(Some(options), body).await {
            return Attempt::DidNotStart(engine_error(&error));
        }
        // Created while the emulator stopped: shutdown may have listed the containers before this one.
        if stopping() {
            remove(docker, name).await;
            return Attempt::DidNotStart("the emulator is stopping".to_owned());
        }
        if let Err(error) = docker.start_container(name, None).await {
            return Attempt::DidNotStart(engine_error(&error));
        }
        let started = chrono::Utc::now().timestamp_millis();
        tracing::debug!(job = %spec.job_id, "container {name} started");
        execution.update(|s| {
            s.status = "RUNNING";
            s.started_at = Some(started);
        });
        let shipping = tokio::spawn(ship_output(
            docker.clone(),
            name.to_owned(),
            (spec.account.clone(), spec.region.clone(), log_stream(&spec.definition_name, task_id)),
            Arc::clone(logs),
        ));
        let timeout = spec.attempt_timeout.unwrap_or(Duration::MAX);
        let outcome = tokio::select! {
            code = exit_code(docker, name) => match code {
                Ok(code) => Attempt::Exited(code),
                Err(error) => Attempt::Lost(error),
            },
            () = tokio::time::sleep(timeout) => {
                let _ = docker.kill_container(name, None::<KillContainerOptions>).await;
                Attempt::TimedOut(exit_code(docker, name).await.ok())
            }
            () = execution.stop.notified() => {
                let _ = docker.kill_container(name, None::<KillContainerOptions>).await;
                Attempt::Stopped(exit_code(docker, name).await.ok())
            }
        };
        // The output stream ends with the container: all of it is in CloudWatch Logs before the job is told ended.
        let _ = tokio::time::timeout(Duration::from_secs(10), shipping).await;
        outcome
    }
}

/// The container's exit code, once it is not running.
async fn exit_code(docker: &Docker, name: &str) -> Result<i64, String> {
    let options = WaitContainerOptions { condition: "not-running".to_owned() };
    match docker.wait_container(name, Some(options)).next().await {
        Some(Ok(waited)) => match waited.error.and_then(|e| e.message).filter(|m| !m.is_empty()) {
            Some(error) => Err(error),
            None => Ok(waited.status_code),
        },
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(error)) => Err(engine_error(&error)),
        None => Err("the engine gave no exit code".to_owned()),
    }
}

/// Removes a container, running or not.
async fn remove(docker: &Docker, name: &str) {
    let options = RemoveContainerOptions { force: true, ..Default::default() };
    if let Err(error) = docker.remove_container(name, Some(options)).await {
        tracing::debug!("removing the job container {name}: {}", engine_error(&error));
    }
}

/// Follows the container's output (both streams, with Docker's timestamps) into its CloudWatch Logs stream, line by
/// line as it comes, until the container stops.
async fn ship_output(
    docker: Docker,
    name: String,
    (account, region, stream): (String, String, String),
    logs: Arc<dyn LogSink>,
) {
    let options = LogsOptions { follow: true, stdout: true, stderr: true, timestamps: true, ..Default::default() };
    let mut output = docker.logs(&name, Some(options));
    // What has arrived of each stream's current line (a long line comes in several frames).
    let (mut out, mut err) = (String::new(), String::new());
    while let Some(frame) = output.next().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => {
                tracing::warn!("the output of {name} stopped arriving: {}", engine_error(&error));
                break;
            }
        };
        let partial = if matches!(frame, bollard::container::LogOutput::StdErr { .. }) { &mut err } else { &mut out };
        partial.push_str(&String::from_utf8_lossy(&frame.into_bytes()));
        let mut events = Vec::new();
        while let Some(end) = partial.find('\n') {
            let line: String = partial.drain(..=end).collect();
            events.extend(timestamped(line.trim_end_matches(['\n', '\r'])));
        }
        if !events.is_empty() {
            logs.append(&account, &region, LOG_GROUP, &stream, events, true);
        }
    }
    let rest: Vec<_> = [out, err].iter().filter_map(|partial| timestamped(partial.trim_end())).collect();
    if !rest.is_empty() {
        logs.append(&account, &region, LOG_GROUP, &stream, rest, true);
    }
}

/// What the engine said, without bollard's wrapping (`Docker responded with status code 404: No such image: ...`
/// becomes `No such image: ...`).
fn engine_error(error: &bollard::errors::Error) -> String {
    match error {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

enum Attempt {
    Exited(i64),
    TimedOut(Option<i64>),
    Stopped(Option<i64>),
    DidNotStart(String),
    /// Started, then no exit code could be had from the engine.
    Lost(String),
}

/// `<definition name>/default/<task id>`, the stream AWS Batch names for a job's container.
pub(crate) fn log_stream(definition_name: &str, task_id: &str) -> String {
    format!("{definition_name}/default/{task_id}")
}

/// The container of one attempt (its task).
fn container_name(task_id: &str) -> String {
    format!("crts-batch-{task_id}")
}

/// A line of the engine's log stream (asked with timestamps) as a log event: its RFC 3339 timestamp in milliseconds, and the rest.
fn timestamped(line: &str) -> Option<(i64, String)> {
    let (stamp, message) = line.split_once(' ').unwrap_or((line, ""));
    let at = chrono::DateTime::parse_from_rfc3339(stamp).ok()?.timestamp_millis();
    (!message.is_empty()).then(|| (at, message.to_owned()))
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
