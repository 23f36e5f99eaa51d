//! Jobs: SubmitJob, the simulated lifecycle, and the operations that read or stop jobs.
//!
//! A job whose image is in this emulator's registry really runs where a Docker engine answers
//! ([`super::containers`]): its status is what its container reached. Any other job is simulated: its status is
//! derived from its submission time whenever it is read: SUBMITTED, RUNNABLE, STARTING and
//! RUNNING last one `state_duration` each, then SUCCEEDED (exit code 0). `startedAt` is when RUNNING begins,
//! `stoppedAt` when it ends. CancelJob/TerminateJob record a forced FAILED state. A job whose definition's platform
//! does not match its queue's compute environments (FARGATE job on an EC2 queue, or the reverse) stays RUNNABLE
//! for ever, as on AWS. A job whose image is in this emulator's ECR but not there (a tag never pushed) fails to
//! start, as on AWS: FAILED after STARTING, `statusReason` "Task failed to start", the container's `reason` the
//! agent's `CannotPullContainerError: ...`. Deviation: that is decided when the job is submitted (AWS pulls when the
//! task starts); images from other registries are taken to be there.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::containers::{self, Execution, JobSpec, Mode};
use super::job_definitions::{self, ContainerCheck, check_environment, check_timeout_and_retry, not_active};
use super::job_queues;
use super::validation::{Platform, ResourceRequirement, check_resources, is_job_name};
use super::{Batch, Store, client_error, paginate, put, required};
use crate::protocol::{AwsError, AwsResult};
use crate::services::pagination;
use crate::services::{Call, Images};

/// Job statuses in lifecycle order, before the final one.
const PROGRESS: [&str; 4] = ["SUBMITTED", "RUNNABLE", "STARTING", "RUNNING"];
const STATUSES: [&str; 7] = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"];

/// What the job's definition, the submission and its overrides resolved to. Times are epoch milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub queue_arn: String,
    pub definition_arn: String,
    pub definition_name: String,
    pub platform: Platform,
    pub created_at: i64,
    /// Definition defaults overridden by the submission's parameters.
    pub parameters: BTreeMap<String, String>,
    /// The ContainerDetail before it runs: definition properties with overrides and `Ref::` substitutions.
    pub container: Value,
    pub tags: BTreeMap<String, String>,
    pub timeout: Option<Value>,
    pub retry_strategy: Option<Value>,
    pub propagate_tags: Option<bool>,
    pub scheduling_priority: Option<i64>,
    pub share_identifier: Option<String>,
    pub depends_on: Vec<Value>,
    /// The simulated ECS task: its cluster ARN and id (also the log stream's last part).
    pub cluster_arn: String,
    pub task_id: String,
    /// The queue cannot run this job's platform: it stays RUNNABLE.
    pub never_starts: bool,
    /// Why its image cannot be pulled (an image of this emulator's ECR that is not there): it fails to start.
    pub pull_error: Option<String>,
    pub forced: Option<Forced>,
    /// Set when the job may really run (its image is in this emulator's registry): what its runner reached.
    pub execution: Option<std::sync::Arc<Execution>>,
}

/// A CancelJob/TerminateJob that stopped the job.
#[derive(Debug, Clone)]
pub(crate) struct Forced {
    pub at: i64,
    pub reason: String,
    pub cancelled: bool,
}

/// Where a job is at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Phase {
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub started_at: Option<i64>,
    pub stopped_at: Option<i64>,
    pub exit_code: Option<i64>,
    /// The task exists (STARTING or later): taskArn and logStreamName are reported.
    pub has_task: bool,
}

impl Job {
    /// The status the job would have at `now` if nobody stopped it.
    fn natural_status(&self, now: i64, state_ms: i64) -> &'static str {
        let elapsed = (now - self.created_at).max(0);
        let step = if state_ms <= 0 { PROGRESS.len() as i64 } else { elapsed / state_ms };
        if self.never_starts {
            return PROGRESS[usize::try_from(step.min(1)).unwrap_or(1)];
        }
        if self.pull_error.is_some() && step >= 3 {
            return "FAILED";
        }
        usize::try_from(step).ok().and_then(|i| PROGRESS.get(i).copied()).unwrap_or("SUCCEEDED")
    }

    fn running_from(&self, state_ms: i64) -> i64 {
        self.created_at + 3 * state_ms.max(0)
    }

    /// What its container run reached, when one runs (or ran).
    fn real_run(&self) -> Option<containers::RunState> {
        self.execution.as_ref().map(|e| e.state()).filter(|state| state.mode == Mode::Real)
    }

    /// Whether nothing runs it: no container, the lifecycle derived from time (said in DescribeJobs).
    fn simulated(&self) -> bool {
        self.execution.as_ref().is_none_or(|e| e.state().mode == Mode::Simulated)
    }

    /// The job's status and times at `now`.
    pub fn phase(&self, now: i64, state_ms: i64) -> Phase {
        if let Some(run) = self.real_run() {
            let has_task = run.started_at.is_some() || matches!(run.status, "STARTING" | "RUNNING" | "FAILED");
            if let Some(forced) = &self.forced {
                return Phase {
                    status: "FAILED",
                    status_reason: Some(forced.reason.clone()),
                    started_at: run.started_at,
                    stopped_at: Some(forced.at),
                    exit_code: run.exit_code,
                    has_task: run.started_at.is_some() || run.status == "STARTING",
                };
            }
            return Phase {
                status: run.status,
                status_reason: run.status_reason,
                started_at: run.started_at,
                stopped_at: run.stopped_at,
                exit_code: run.exit_code,
                has_task,
            };
        }
        // Until the runner knows whether an engine answers, the job waits in RUNNABLE at the latest.
        let deciding = self.execution.as_ref().is_some_and(|e| e.state().mode == Mode::Deciding);
        if deciding && self.forced.is_none() && self.natural_status(now, state_ms) != "SUBMITTED" {
            return Phase {
                status: "RUNNABLE",
                status_reason: None,
                started_at: None,
                stopped_at: None,
                exit_code: None,
                has_task: false,
            };
        }
        if let Some(forced) = &self.forced {
            let started =
                (!self.never_starts && forced.at >= self.running_from(state_ms)).then(|| self.running_from(state_ms));
            let was = self.natural_status(forced.at, state_ms);
            return Phase {
                status: "FAILED",
                status_reason: Some(forced.reason.clone()),
                started_at: started,
                stopped_at: Some(forced.at),
                exit_code: None,
                has_task: matches!(was, "STARTING" | "RUNNING"),
            };
        }
        let status = self.natural_status(now, state_ms);
        let running_from = self.running_from(state_ms);
        match status {
            "SUCCEEDED" => Phase {
                status,
                status_reason: Some(if self.simulated() {
                    "Essential container in task exited (simulated by crts-emulator: no container ran)".to_owned()
                } else {
                    "Essential container in task exited".to_owned()
                }),
                started_at: Some(running_from),
                stopped_at: Some(running_from + state_ms.max(0)),
                exit_code: Some(0),
                has_task: true,
            },
            "RUNNING" => Phase {
                status,
                status_reason: None,
                started_at: Some(running_from),
                stopped_at: None,
                exit_code: None,
                has_task: true,
            },
            // Only a job whose image cannot be pulled fails by itself: its task never starts.
            "FAILED" => Phase {
                status,
                status_reason: Some("Task failed to start".to_owned()),
                started_at: None,
                stopped_at: Some(running_from),
                exit_code: None,
                has_task: true,
            },
            _ => Phase {
                status,
                status_reason: None,
                started_at: None,
                stopped_at: None,
                exit_code: None,
                has_task: status == "STARTING",
            },
        }
    }

    /// The current attempt's task id: a real run's own, else the one chosen at submission.
    fn current_task_id(&self) -> String {
        self.real_run().map(|run| run.task_id).filter(|id| !id.is_empty()).unwrap_or_else(|| self.task_id.clone())
    }

    fn task_arn_of(&self, task_id: &str) -> String {
        let (prefix, cluster) = self.cluster_arn.split_once(":cluster/").unwrap_or((&self.cluster_arn, ""));
        format!("{prefix}:task/{cluster}/{task_id}")
    }

    fn task_arn(&self) -> String {
        self.task_arn_of(&self.current_task_id())
    }

    fn log_stream_name(&self) -> String {
        containers::log_stream(&self.definition_name, &self.current_task_id())
    }

    /// The JobDetail shape at `now`.
    fn detail(&self, now: i64, state_ms: i64) -> Value {
        let phase = self.phase(now, state_ms);
        let mut container = self.container.clone();
        if let Value::Object(map) = &mut container {
            if phase.has_task {
                map.insert("taskArn".into(), json!(self.task_arn()));
                map.insert("logStreamName".into(), json!(self.log_stream_name()));
                map.insert("networkInterfaces".into(), json!([]));
            }
            if let Some(code) = phase.exit_code {
                map.insert("exitCode".into(), json!(code));
            }
            if let (true, Some(reason)) = (phase.status == "FAILED" && self.forced.is_none(), &self.pull_error) {
                map.insert("reason".into(), json!(reason));
            }
            if let Some(reason) = self.real_run().and_then(|run| run.reason) {
                map.insert("reason".into(), json!(reason));
            }
        }
        let real_attempts = self.real_run().map(|run| {
            run.attempts
                .into_iter()
                .map(|mut attempt| {
                    if let Some(task_id) = attempt["container"]["taskArn"].as_str().map(str::to_owned) {
                        attempt["container"]["taskArn"] = json!(self.task_arn_of(&task_id));
                    }
                    attempt
                })
                .collect::<Vec<Value>>()
        });
        let attempts: Vec<Value> = match (phase.status, phase.exit_code) {
            _ if real_attempts.is_some() => real_attempts.unwrap_or_default(),
            ("SUCCEEDED", Some(code)) => vec![json!({
                "container": {
                    "taskArn": self.task_arn(),
                    "exitCode": code,
                    "logStreamName": self.log_stream_name(),
                    "networkInterfaces": [],
                },
                "startedAt": phase.started_at,
                "stoppedAt": phase.stopped_at,
                "statusReason": phase.status_reason,
            })],
            ("FAILED", None) if self.forced.is_none() => vec![json!({
                "container": {
                    "taskArn": self.task_arn(),
                    "reason": self.pull_error,
                    "logStreamName": self.log_stream_name(),
                    "networkInterfaces": [],
                },
                "stoppedAt": phase.stopped_at,
                "statusReason": phase.status_reason,
            })],
            _ => Vec::new(),
        };
        let mut out = serde_json::Map::new();
        put(&mut out, "jobArn", self.arn.clone());
        put(&mut out, "jobName", self.name.clone());
        put(&mut out, "jobId", self.id.clone());
        put(&mut out, "jobQueue", self.queue_arn.clone());
        put(&mut out, "status", phase.status);
        put(&mut out, "shareIdentifier", self.share_identifier.clone());
        put(&mut out, "schedulingPriority", self.scheduling_priority);
        put(&mut out, "attempts", attempts);
        put(&mut out, "statusReason", phase.status_reason);
        put(&mut out, "createdAt", self.created_at);
        put(&mut out, "retryStrategy", self.retry_strategy.clone());
        put(&mut out, "startedAt", phase.started_at);
        put(&mut out, "stoppedAt", phase.stopped_at);
        put(&mut out, "dependsOn", self.depends_on.clone());
        put(&mut out, "jobDefinition", self.definition_arn.clone());
        put(&mut out, "parameters", json!(self.parameters));
        put(&mut out, "container", container);
        put(&mut out, "timeout", self.timeout.clone());
        put(&mut out, "tags", json!(self.tags));
        put(&mut out, "propagateTags", self.propagate_tags);
        put(&mut out, "platformCapabilities", json!([platform_name(self.platform)]));
        put(&mut out, "eksAttempts", json!([]));
        if let Some(forced) = &self.forced {
            put(&mut out, if forced.cancelled { "isCancelled" } else { "isTerminated" }, true);
        }
        Value::Object(out)
    }

    /// The JobSummary shape at `now`.
    fn summary(&self, now: i64, state_ms: i64) -> Value {
        let phase = self.phase(now, state_ms);
        let mut out = serde_json::Map::new();
        put(&mut out, "jobArn", self.arn.clone());
        put(&mut out, "jobId", self.id.clone());
        put(&mut out, "jobName", self.name.clone());
        put(&mut out, "createdAt", self.created_at);
        put(&mut out, "status", phase.status);
        put(&mut out, "statusReason", phase.status_reason);
        put(&mut out, "startedAt", phase.started_at);
        put(&mut out, "stoppedAt", phase.stopped_at);
        if let Some(code) = phase.exit_code {
            put(&mut out, "container", json!({ "exitCode": code }));
        }
        put(&mut out, "jobDefinition", self.definition_arn.clone());
        Value::Object(out)
    }
}

fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Ec2 => "EC2",
        Platform::Fargate => "FARGATE",
    }
}

impl Store {
    /// The job a job id or job ARN designates.
    fn job(&self, identifier: &str) -> Option<&Job> {
        match identifier.starts_with("arn:") {
            true => self.jobs.values().find(|j| j.arn == identifier),
            false => self.jobs.get(identifier),
        }
    }
}

/// Replaces `Ref::<name>` placeholders in each command argument with the parameter's value. Longer names are
/// replaced first so `Ref::target_dir` is not taken for `Ref::target` + `_dir`; unknown placeholders stay literal.
pub(crate) fn substitute(command: &[String], parameters: &BTreeMap<String, String>) -> Vec<String> {
    let mut names: Vec<&String> = parameters.keys().collect();
    names.sort_by_key(|name| std::cmp::Reverse(name.len()));
    command
        .iter()
        .map(|arg| {
            let mut arg = arg.clone();
            for name in &names {
                let placeholder = format!("Ref::{name}");
                if arg.contains(&placeholder) {
                    arg = arg.replace(&placeholder, &parameters[*name]);
                }
            }
            arg
        })
        .collect()
}

/// `list` with `changes` applied: an entry of `changes` replaces the entry of `list` with the same key.
fn merge_by(list: &mut Vec<Value>, changes: Vec<Value>, key: &str) {
    for change in changes {
        let id = change.get(key).cloned();
        match list.iter_mut().find(|entry| entry.get(key) == id.as_ref()) {
            Some(entry) => *entry = change,
            None => list.push(change),
        }
    }
}

impl Call<'_, Batch> {
    /// Starts the job's container in the background when it can really run: its image is in this emulator's
    /// registry (and there), its queue can start it, and Batch may run containers. Otherwise it stays simulated.
    fn start_container(&self, mut job: Job, images: &dyn Images, queue_name: &str) -> Job {
        let service = self.service;
        let image = job.container["image"].as_str().unwrap_or_default().to_owned();
        if service.config.containers == containers::JobRunner::Simulate
            || job.never_starts
            || job.pull_error.is_some()
            || !images.is_local(&image)
        {
            return job;
        }
        let scope = self.scope();
        // The registry is this emulator's: Docker reaches it as localhost:PORT over plain HTTP.
        let port = self.req.ctx.endpoint.rsplit(':').next().unwrap_or("4566").to_owned();
        let host = format!("localhost:{port}");
        let Some((_, path)) = image.split_once('/') else { return job };
        let (user, password) = images.credentials(&scope.account, &scope.region);
        let resource = |kind: &str| -> Option<f64> {
            job.container["resourceRequirements"]
                .as_array()?
                .iter()
                .find(|r| r["type"] == kind)
                .and_then(|r| r["value"].as_str()?.parse().ok())
        };
        let vcpus = resource("VCPU").or_else(|| job.container["vcpus"].as_f64());
        let memory = resource("MEMORY").or_else(|| job.container["memory"].as_f64());
        let strings = |value: &Value| -> Vec<String> {
            value
                .as_array()
                .map(|list| list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let environment = job.container["environment"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|e| {
                        Some((e["name"].as_str()?.to_owned(), e["value"].as_str().unwrap_or("").to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let attempt_timeout =
            job.timeout.as_ref().and_then(|t| t["attemptDurationSeconds"].as_u64()).map(std::time::Duration::from_secs);
        let attempts = job
            .retry_strategy
            .as_ref()
            .and_then(|r| r["attempts"].as_u64())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1);
        let spec = JobSpec {
            job_id: job.id.clone(),
            queue_name: queue_name.to_owned(),
            account: scope.account.clone(),
            region: scope.region.clone(),
            image: format!("{host}/{path}"),
            digest: images.manifest_digest(&image),
            registry: (host, user, password),
            command: strings(&job.container["command"]),
            environment,
            vcpus,
            memory_mib: memory.map(|m| m as u64),
            definition_name: job.definition_name.clone(),
            first_task_id: job.task_id.clone(),
            attempts,
            attempt_timeout,
            state_duration: service.config.state_duration,
        };
        let execution = std::sync::Arc::new(Execution::default());
        service.runner.start(spec, std::sync::Arc::clone(&execution), std::sync::Arc::clone(&service.logs));
        job.execution = Some(execution);
        job
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubmitInput {
    job_name: Option<String>,
    job_queue: Option<String>,
    job_definition: Option<String>,
    share_identifier: Option<String>,
    scheduling_priority_override: Option<i64>,
    array_properties: Option<Value>,
    depends_on: Option<Vec<Value>>,
    parameters: Option<BTreeMap<String, String>>,
    container_overrides: Option<serde_json::Map<String, Value>>,
    node_overrides: Option<Value>,
    retry_strategy: Option<Value>,
    propagate_tags: Option<bool>,
    timeout: Option<Value>,
    tags: Option<BTreeMap<String, String>>,
    eks_properties_override: Option<Value>,
    ecs_properties_override: Option<Value>,
}

/// The container detail a job starts from: the definition's properties, the submission's overrides, and the
/// command with `Ref::` placeholders substituted.
fn resolve_container(
    call: &Call<'_, Batch>,
    definition: &job_definitions::JobDefinition,
    overrides: Option<serde_json::Map<String, Value>>,
    parameters: &BTreeMap<String, String>,
) -> AwsResult<Value> {
    let mut container = definition.described_container();
    let Value::Object(map) = &mut container else {
        return Err(AwsError::internal("a job definition's containerProperties is not an object"));
    };
    for (key, value) in overrides.unwrap_or_default() {
        match key.as_str() {
            "environment" | "resourceRequirements" => {
                let key_member = if key == "environment" { "name" } else { "type" };
                let Value::Array(changes) = value else {
                    return Err(client_error(format!("containerOverrides.{key} must be a list")));
                };
                let mut list = match map.remove(&key) {
                    Some(Value::Array(list)) => list,
                    _ => Vec::new(),
                };
                merge_by(&mut list, changes, key_member);
                map.insert(key, Value::Array(list));
            }
            "command" | "vcpus" | "memory" | "instanceType" => {
                map.insert(key, value);
            }
            other => return Err(client_error(format!("Unknown member containerOverrides.{other}"))),
        }
    }
    let check: ContainerCheck = serde_json::from_value(container.clone())
        .map_err(|e| client_error(format!("containerOverrides is not valid: {e}")))?;
    check_environment(call, check.environment.as_deref().unwrap_or_default())?;
    let requirements: Vec<ResourceRequirement> = check.resource_requirements.unwrap_or_default();
    check_resources(definition.platform, &requirements, check.vcpus, check.memory)
        .map_err(|detail| call.executing_error(detail))?;
    if let (Some(command), Value::Object(map)) = (check.command, &mut container) {
        map.insert("command".into(), json!(substitute(&command, parameters)));
    }
    Ok(container)
}

/// SubmitJob: <https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html>
///
/// `jobQueue` is a name or ARN; `jobDefinition` a name (latest ACTIVE revision), `name:revision` or ARN.
/// Refusals: `JobQueue <q> not found.` and `JobDefinition <d> does not exist or is not in ACTIVE status` (AWS's
/// recorded wording), a DISABLED queue (our wording), overrides that break the definition's resource rules.
/// Authorized as `batch:SubmitJob` on the queue's and the definition revision's ARNs. Submission-time parameters
/// override the definition's defaults.
/// Deviations: DescribeJobs shows the command with `Ref::` placeholders already substituted (a choice; AWS
/// substitutes when the container starts); `dependsOn` is recorded but does not delay the job; array, multi-node,
/// ECS-properties and EKS jobs answer NotImplemented.
pub(crate) fn submit(call: &Call<'_, Batch>, images: &dyn Images) -> AwsResult<Value> {
    let input: SubmitInput = call.input()?;
    let name = required(input.job_name, "jobName")?;
    let queue_id = required(input.job_queue, "jobQueue")?;
    let definition_id = required(input.job_definition, "jobDefinition")?;
    let resources = call.with_store(|store| {
        [job_queues::arn_for(&call.scope(), &queue_id), job_definitions::arn_for(&call.scope(), store, &definition_id)]
    });
    call.authorize(&resources)?;
    if !is_job_name(&name) {
        return Err(call.executing_error(
            "Job name must be 1-128 letters (uppercase and lowercase), numbers, hyphens and underscores, \
             starting with a letter or number.",
        ));
    }
    if input.array_properties.as_ref().and_then(|a| a.get("size")).is_some_and(|s| !s.is_null()) {
        return Err(AwsError::not_implemented("Batch array jobs"));
    }
    if input.node_overrides.is_some()
        || input.eks_properties_override.is_some()
        || input.ecs_properties_override.is_some()
    {
        return Err(AwsError::not_implemented("Batch multi-node, ECS-properties and EKS job overrides"));
    }
    check_timeout_and_retry(call, input.timeout.as_ref(), input.retry_strategy.as_ref())?;
    let now = call.now();
    call.with_store(|store| {
        let queue = store.job_queue(&queue_id).ok_or_else(|| job_queues::not_found(&queue_id))?;
        if queue.state != "ENABLED" {
            return Err(client_error(format!("JobQueue {queue_id} is not in ENABLED state.")));
        }
        let definition = store.active_job_definition(&definition_id).ok_or_else(|| not_active(&definition_id))?;
        let mut parameters = definition.parameters.clone();
        parameters.extend(input.parameters.unwrap_or_default());
        let container = resolve_container(call, definition, input.container_overrides, &parameters)?;
        let pull_error = container["image"].as_str().and_then(|image| images.pull_error(image));
        let environments: Vec<_> =
            queue.compute_environment_order.iter().filter_map(|(_, arn)| store.compute_environment(arn)).collect();
        let wants_fargate = definition.platform == Platform::Fargate;
        let never_starts = !environments.iter().any(|ce| ce.is_fargate() == wants_fargate);
        let cluster_arn = environments.first().map_or_else(
            || format!("arn:aws:ecs:{}:{}:cluster/AWSBatch", call.scope().region, call.scope().account),
            |ce| ce.ecs_cluster_arn.clone(),
        );
        let id = uuid::Uuid::new_v4().to_string();
        let job = Job {
            arn: call.scope().arn(&format!("job/{id}")),
            id: id.clone(),
            name: name.clone(),
            queue_arn: queue.arn.clone(),
            definition_arn: definition.arn.clone(),
            definition_name: definition.name.clone(),
            platform: definition.platform,
            created_at: now,
            parameters,
            container,
            tags: super::tags::checked(call, &call.scope().arn(&format!("job/{id}")), input.tags)?,
            timeout: input.timeout.or_else(|| definition.timeout.clone()),
            retry_strategy: input.retry_strategy.or_else(|| definition.retry_strategy.clone()),
            propagate_tags: input.propagate_tags.or(definition.propagate_tags),
            scheduling_priority: input.scheduling_priority_override.or(definition.scheduling_priority),
            share_identifier: input.share_identifier,
            depends_on: input.depends_on.unwrap_or_default(),
            cluster_arn,
            task_id: uuid::Uuid::new_v4().simple().to_string(),
            never_starts,
            pull_error,
            forced: None,
            execution: None,
        };
        let job = call.start_container(job, images, &queue.name);
        let out = json!({ "jobArn": job.arn, "jobName": job.name, "jobId": job.id });
        store.jobs.insert(id, job);
        Ok(out)
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    jobs: Option<Vec<String>>,
}

/// DescribeJobs: <https://docs.aws.amazon.com/batch/latest/APIReference/API_DescribeJobs.html>
///
/// Up to 100 job ids (job ARNs are accepted too); unknown ones are simply absent. jobQueue and jobDefinition are
/// ARNs, times epoch milliseconds.
pub(crate) fn describe(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: DescribeInput = call.input()?;
    let ids = required(input.jobs, "jobs")?;
    call.authorize(&["*".to_owned()])?;
    if ids.len() > 100 {
        return Err(call.executing_error("jobs can list at most 100 job IDs."));
    }
    let (now, state_ms) = (call.now(), call.service.state_ms());
    let jobs: Vec<Value> =
        call.with_store(|store| ids.iter().filter_map(|id| store.job(id)).map(|j| j.detail(now, state_ms)).collect());
    Ok(json!({ "jobs": jobs }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    job_queue: Option<String>,
    array_job_id: Option<String>,
    multi_node_job_id: Option<String>,
    job_status: Option<String>,
    max_results: Option<i32>,
    next_token: Option<String>,
    filters: Option<Vec<Filter>>,
}

#[derive(Debug, Deserialize)]
struct Filter {
    name: Option<String>,
    values: Option<Vec<String>>,
}

/// Whether `value` matches `pattern`, case-insensitively, where a trailing `*` matches any suffix.
fn wildcard_match(pattern: &str, value: &str) -> bool {
    let (pattern, value) = (pattern.to_lowercase(), value.to_lowercase());
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// One ListJobs filter, checked and ready to apply.
enum JobFilter {
    Name(Vec<String>),
    Definition(Vec<String>),
    CreatedBefore(i64),
    CreatedAfter(i64),
}

impl JobFilter {
    fn parse(call: &Call<'_, Batch>, filter: Filter) -> AwsResult<Self> {
        let name = required(filter.name, "filters.member.name")?;
        let values = required(filter.values, "filters.member.values")?;
        let timestamp = |values: &[String]| -> AwsResult<i64> {
            values
                .first()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| call.executing_error(format!("{name} needs a timestamp in epoch milliseconds.")))
        };
        Ok(match name.as_str() {
            "JOB_NAME" => Self::Name(values),
            "JOB_DEFINITION" => Self::Definition(values),
            "BEFORE_CREATED_AT" => Self::CreatedBefore(timestamp(&values)?),
            "AFTER_CREATED_AT" => Self::CreatedAfter(timestamp(&values)?),
            other => {
                return Err(call.executing_error(format!(
                    "Invalid filter name {other}: must be JOB_NAME, JOB_DEFINITION, BEFORE_CREATED_AT or AFTER_CREATED_AT."
                )));
            }
        })
    }

    fn matches(&self, job: &Job) -> bool {
        match self {
            Self::Name(patterns) => patterns.iter().any(|p| wildcard_match(p, &job.name)),
            Self::Definition(patterns) => patterns.iter().any(|p| {
                let short = job.definition_arn.split_once(":job-definition/").map_or("", |(_, s)| s);
                let revision_of_name = format!("{}:", p.trim_end_matches('*'));
                wildcard_match(p, &job.definition_arn)
                    || wildcard_match(p, short)
                    || (!p.contains(':') && !p.ends_with('*') && short.starts_with(&revision_of_name))
            }),
            Self::CreatedBefore(t) => job.created_at < *t,
            Self::CreatedAfter(t) => job.created_at > *t,
        }
    }
}

/// ListJobs: <https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobs.html>
///
/// By queue (name or ARN). Without `jobStatus` and without filters only RUNNING jobs are listed, as on AWS; with
/// filters (JOB_NAME, JOB_DEFINITION with a trailing `*` wildcard, BEFORE/AFTER_CREATED_AT in epoch ms) every
/// status is. Oldest first. Deviation: there are no array or multi-node jobs, so `arrayJobId`/`multiNodeJobId` list
/// nothing.
pub(crate) fn list(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: ListInput = call.input()?;
    call.authorize(&["*".to_owned()])?;
    if let Some(status) = &input.job_status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(client_error(format!("Invalid jobStatus {status}: must be one of {}", STATUSES.join(", "))));
    }
    let filters = match input.filters {
        Some(filters) if filters.len() > 1 => {
            return Err(call.executing_error("Only one filter can be used at a time."));
        }
        Some(filters) => filters.into_iter().map(|f| JobFilter::parse(call, f)).collect::<AwsResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    let Some(queue_id) = input.job_queue else {
        if input.array_job_id.is_some() || input.multi_node_job_id.is_some() {
            return Ok(json!({ "jobSummaryList": [] }));
        }
        return Err(call.executing_error("One of jobQueue, arrayJobId or multiNodeJobId must be specified."));
    };
    let (now, state_ms) = (call.now(), call.service.state_ms());
    let summaries = call.with_store(|store| {
        let queue = store.job_queue(&queue_id).ok_or_else(|| job_queues::not_found(&queue_id))?;
        let wanted_status = match (&input.job_status, filters.is_empty()) {
            (_, false) => None,
            (Some(status), true) => Some(status.as_str()),
            (None, true) => Some("RUNNING"),
        };
        let mut jobs: Vec<&Job> = store
            .jobs
            .values()
            .filter(|j| j.queue_arn == queue.arn)
            .filter(|j| wanted_status.is_none_or(|s| j.phase(now, state_ms).status == s))
            .filter(|j| filters.iter().all(|f| f.matches(j)))
            .collect();
        jobs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok::<_, AwsError>(
            jobs.into_iter()
                .map(|j| (pagination::key(&[&pagination::number(j.created_at), &j.id]), j.summary(now, state_ms)))
                .collect::<Vec<_>>(),
        )
    })?;
    let (page, token) = paginate(summaries, input.max_results, input.next_token.as_deref())?;
    let mut out = serde_json::Map::new();
    put(&mut out, "jobSummaryList", page);
    put(&mut out, "nextToken", token);
    Ok(Value::Object(out))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopInput {
    job_id: Option<String>,
    reason: Option<String>,
}

/// Stops a job that is in one of `stoppable` states at `now`; other jobs are left alone (the call still succeeds).
fn stop(call: &Call<'_, Batch>, stoppable: &[&str], cancelled: bool) -> AwsResult<Value> {
    let input: StopInput = call.input()?;
    let id = required(input.job_id, "jobId")?;
    let reason = required(input.reason, "reason")?;
    let arn = if id.starts_with("arn:") { id.clone() } else { call.scope().arn(&format!("job/{id}")) };
    call.authorize(&[arn])?;
    let (now, state_ms) = (call.now(), call.service.state_ms());
    call.with_store(|store| {
        let key = store.job(&id).map(|j| j.id.clone()).ok_or_else(|| client_error(format!("Job {id} not found.")))?;
        let job = store.jobs.get_mut(&key).ok_or_else(|| client_error(format!("Job {id} not found.")))?;
        if job.forced.is_none() && stoppable.contains(&job.phase(now, state_ms).status) {
            job.forced = Some(Forced { at: now, reason, cancelled });
            if let Some(execution) = &job.execution {
                execution.stop();
            }
        }
        Ok(json!({}))
    })
}

/// CancelJob: <https://docs.aws.amazon.com/batch/latest/APIReference/API_CancelJob.html>
///
/// SUBMITTED, PENDING and RUNNABLE jobs become FAILED with `statusReason` = reason; later states are unaffected
/// (the call still succeeds). Deviation: an unknown job id is refused (`Job <id> not found.`, our wording).
pub(crate) fn cancel(call: &Call<'_, Batch>) -> AwsResult<Value> {
    stop(call, &["SUBMITTED", "PENDING", "RUNNABLE"], true)
}

/// TerminateJob: <https://docs.aws.amazon.com/batch/latest/APIReference/API_TerminateJob.html>
///
/// Any job not yet SUCCEEDED or FAILED becomes FAILED with `statusReason` = reason. Deviation: an unknown job id
/// is refused (`Job <id> not found.`, our wording).
pub(crate) fn terminate(call: &Call<'_, Batch>) -> AwsResult<Value> {
    stop(call, &["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"], false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_replace_placeholders_longest_name_first() {
        let params: BTreeMap<String, String> = [("suite", "smoke"), ("target", "default"), ("target_dir", "/out")]
            .map(|(k, v)| (k.into(), v.into()))
            .into();
        let command: Vec<String> =
            ["/crts/run", "Ref::suite", "--to=Ref::target_dir", "Ref::target", "Ref::unknown"].map(String::from).into();
        assert_eq!(substitute(&command, &params), ["/crts/run", "smoke", "--to=/out", "default", "Ref::unknown"]);
    }

    #[test]
    fn wildcards_match_prefixes_case_insensitively() {
        assert!(wildcard_match("crts-*", "CRTS-run"));
        assert!(wildcard_match("crts-run", "crts-run"));
        assert!(!wildcard_match("crts-run", "crts-run-2"));
        assert!(!wildcard_match("x*", "crts"));
    }
}
