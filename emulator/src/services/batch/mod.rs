//! AWS Batch (rest-json, every operation is `POST /v1/<lowercase operation name>`): compute environments, job
//! queues, job definitions and simulated container jobs.
//!
//! <https://docs.aws.amazon.com/batch/latest/APIReference/Welcome.html>
//!
//! Codemap: [`compute_environments`], [`job_queues`], [`job_definitions`], [`jobs`] (SubmitJob and the simulated
//! lifecycle), [`tags`], [`validation`] (names, Fargate vCPU/memory pairs). Resources live per account and region.
//!
//! Jobs whose image is in this emulator's registry really run where a Docker engine answers ([`containers`]);
//! the others are simulated: their status is derived from the submission time each time it is read (SUBMITTED →
//! RUNNABLE → STARTING → RUNNING → SUCCEEDED, one [`BatchConfig::state_duration`] each); CancelJob/TerminateJob
//! record a forced final state (and stop a running container).

mod compute_environments;
mod containers;
mod job_definitions;
mod job_queues;
mod jobs;
mod tags;
mod validation;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

pub use containers::JobRunner;

/// A job and its status now, as DescribeJobs would give it (for a log of what jobs do, e.g. `crts-harness up`'s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    pub id: String,
    pub name: String,
    pub queue_arn: String,
    pub status: &'static str,
    pub status_reason: Option<String>,
    /// Submission time, epoch milliseconds.
    pub created_at: i64,
}

use crate::config::BatchConfig;
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response, rest_json};
use crate::services::iam::Protocol;
use crate::services::{Authorize, Call, Images, Service, pagination};

/// Serves one Batch request: finds the operation and runs its handler, which asks IAM whether the caller may
/// perform it; `images` says whether a job's image can be pulled.
pub async fn handle(batch: &Batch, iam: &dyn Authorize, images: &dyn Images, req: AwsRequest) -> Response {
    match batch.dispatch(&req, iam, images) {
        Ok(output) => rest_json::ok(&output),
        Err(err) => rest_json::error(&err, rest_json::ErrorStyle::Message),
    }
}

impl Service for Batch {
    const IAM_PREFIX: &'static str = "batch";
    const PROTOCOL: Protocol = Protocol::RestJson;
}

/// Milliseconds since the Unix epoch, the unit of every Batch timestamp.
pub(crate) type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The Batch service of one emulator instance.
pub struct Batch {
    config: BatchConfig,
    clock: Clock,
    /// Runs jobs in Docker where it can.
    runner: Arc<containers::Runner>,
    /// Where jobs that really run write their output (CloudWatch Logs).
    logs: Arc<dyn crate::services::logs::LogSink>,
    /// Resources per (account id, region).
    stores: crate::store::Scoped<Scope, Store>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Default for Batch {
    fn default() -> Self {
        Self::new(BatchConfig::default(), Arc::new(crate::services::logs::Logs::new()))
    }
}

impl Batch {
    pub fn new(config: BatchConfig, logs: Arc<dyn crate::services::logs::LogSink>) -> Self {
        Self::with_clock(config, Arc::new(|| chrono::Utc::now().timestamp_millis()), logs)
    }

    /// A Batch whose notion of "now" is `clock` (tests drive simulated job lifecycles with it).
    pub(crate) fn with_clock(config: BatchConfig, clock: Clock, logs: Arc<dyn crate::services::logs::LogSink>) -> Self {
        let runner = Arc::new(containers::Runner::new(config.containers));
        Self { config, clock, runner, logs, stores: crate::store::Scoped::default() }
    }

    /// Every job of every account and region, oldest first, with its status now.
    pub fn job_states(&self) -> Vec<JobState> {
        let (now, state_ms) = (self.now(), self.state_ms());
        let mut states: Vec<JobState> = self.stores.all(|scopes| {
            scopes
                .values()
                .flat_map(|store| store.jobs.values())
                .map(|job| {
                    let phase = job.phase(now, state_ms);
                    JobState {
                        id: job.id.clone(),
                        name: job.name.clone(),
                        queue_arn: job.queue_arn.clone(),
                        status: phase.status,
                        status_reason: phase.status_reason,
                        created_at: job.created_at,
                    }
                })
                .collect()
        });
        states.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        states
    }

    /// Stops every job container still running (the emulator is stopping).
    pub async fn shutdown(&self) {
        self.runner.shutdown().await;
    }

    /// Runs one operation and returns its JSON output: one `match` from the route (`POST /v1/<operation>`, the
    /// name case-insensitive, or `/v1/tags/<arn>`) to the operation's name and handler.
    pub(crate) fn dispatch(&self, req: &AwsRequest, iam: &dyn Authorize, images: &dyn Images) -> AwsResult<Value> {
        let segments = req.path();
        let call = |operation| Call { service: self, req, iam, operation };
        match (req.method.as_str(), segments.as_slice()) {
            ("POST", ["v1", name]) => match name.to_ascii_lowercase().as_str() {
                "createcomputeenvironment" => compute_environments::create(&call("CreateComputeEnvironment")),
                "describecomputeenvironments" => compute_environments::describe(&call("DescribeComputeEnvironments")),
                "updatecomputeenvironment" => compute_environments::update(&call("UpdateComputeEnvironment")),
                "deletecomputeenvironment" => compute_environments::delete(&call("DeleteComputeEnvironment")),
                "createjobqueue" => job_queues::create(&call("CreateJobQueue")),
                "describejobqueues" => job_queues::describe(&call("DescribeJobQueues")),
                "updatejobqueue" => job_queues::update(&call("UpdateJobQueue")),
                "deletejobqueue" => job_queues::delete(&call("DeleteJobQueue")),
                "registerjobdefinition" => job_definitions::register(&call("RegisterJobDefinition")),
                "describejobdefinitions" => job_definitions::describe(&call("DescribeJobDefinitions")),
                "deregisterjobdefinition" => job_definitions::deregister(&call("DeregisterJobDefinition")),
                "submitjob" => jobs::submit(&call("SubmitJob"), images),
                "describejobs" => jobs::describe(&call("DescribeJobs")),
                "listjobs" => jobs::list(&call("ListJobs")),
                "canceljob" => jobs::cancel(&call("CancelJob")),
                "terminatejob" => jobs::terminate(&call("TerminateJob")),
                _ => Err(AwsError::unknown_operation("Batch", &req.method, &req.raw_path)),
            },
            (method, ["v1", "tags", arn @ ..]) if !arn.is_empty() => {
                let arn = arn.join("/");
                match method {
                    "GET" => tags::list(&call("ListTagsForResource"), &arn),
                    "POST" => tags::tag(&call("TagResource"), &arn),
                    "DELETE" => tags::untag(&call("UntagResource"), &arn),
                    _ => Err(AwsError::unknown_operation("Batch", &req.method, &req.raw_path)),
                }
            }
            _ => Err(AwsError::unknown_operation("Batch", &req.method, &req.raw_path)),
        }
    }

    /// Every taggable resource of one account and region with its tags (for the Resource Groups Tagging API).
    pub fn tagged(&self, account: &str, region: &str) -> Vec<crate::services::tagging::Tagged> {
        let scope = Scope { account: account.to_owned(), region: region.to_owned() };
        self.with_store(&scope, |store| tags::tagged(store))
    }

    /// Runs `f` on the resources of one account and region. The lock is never held across an `.await`.
    fn with_store<T>(&self, scope: &Scope, f: impl FnOnce(&mut Store) -> T) -> T {
        self.stores.with(scope.clone(), f)
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// [`BatchConfig::state_duration`] in milliseconds.
    fn state_ms(&self) -> i64 {
        i64::try_from(self.config.state_duration.as_millis()).unwrap_or(i64::MAX / 8)
    }
}

/// Batch's side of every operation: its input, its account and region's resources, its clock.
impl Call<'_, Batch> {
    fn input<T: serde::de::DeserializeOwned>(&self) -> AwsResult<T> {
        rest_json::input(self.req)
    }

    /// The account and region the operation acts in.
    fn scope(&self) -> Scope {
        Scope::of(self.req)
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        self.service.with_store(&self.scope(), f)
    }

    fn now(&self) -> i64 {
        self.service.now()
    }

    /// AWS Batch's wording for most semantic refusals: `Error executing request, Exception : <detail>, RequestId: <id>`.
    fn executing_error(&self, detail: impl std::fmt::Display) -> AwsError {
        client_error(format!("Error executing request, Exception : {detail}, RequestId: {}", self.req.ctx.request_id))
    }
}

/// The account and region resources belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Scope {
    account: String,
    region: String,
}

impl Scope {
    fn of(req: &AwsRequest) -> Self {
        Self { account: req.ctx.account_id().to_owned(), region: req.ctx.region.clone() }
    }

    /// `arn:aws:batch:<region>:<account>:<resource>`.
    fn arn(&self, resource: &str) -> String {
        format!("arn:aws:batch:{}:{}:{resource}", self.region, self.account)
    }
}

/// Every Batch resource of one account and region.
#[derive(Debug, Default)]
pub(crate) struct Store {
    compute_environments: BTreeMap<String, compute_environments::ComputeEnvironment>,
    job_queues: BTreeMap<String, job_queues::JobQueue>,
    /// Revisions of each job definition name, revision 1 first.
    job_definitions: BTreeMap<String, Vec<job_definitions::JobDefinition>>,
    jobs: HashMap<String, jobs::Job>,
}

/// 400 ClientException: the error shape of every Batch refusal.
fn client_error(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ClientException", message)
}

/// A required member that was not sent, in AWS's validation wording.
fn required<T>(value: Option<T>, member: &str) -> AwsResult<T> {
    value.ok_or_else(|| {
        client_error(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// Whether `identifier` (a name or a full ARN) designates the resource `name`/`arn`.
fn designates(identifier: &str, name: &str, arn: &str) -> bool {
    if identifier.starts_with("arn:") { identifier == arn } else { identifier == name }
}

/// `maxResults`/`nextToken` pagination ([`crate::services::pagination`]): `items` with their sort keys, up to 100
/// per page by default and 1000 at most, in Batch's words when refused.
fn paginate<T>(
    items: Vec<(String, T)>,
    max_results: Option<i32>,
    next_token: Option<&str>,
) -> AwsResult<(Vec<T>, Option<String>)> {
    let size = pagination::PageSize { default: 100, max: 1000 };
    match pagination::page(items, size, max_results.map(i64::from), next_token) {
        Ok(page) => Ok((page.items, page.next)),
        Err(pagination::PageError::Token) => {
            Err(client_error(format!("Invalid nextToken: {}", next_token.unwrap_or_default())))
        }
        Err(pagination::PageError::Limit { requested, .. }) => {
            Err(client_error(format!("maxResults must be between 1 and 1000, got {requested}")))
        }
    }
}

/// The sort key of the `index`th entry of a list the request names, which is served in the request's order.
fn requested_order(index: usize) -> String {
    pagination::number(i64::try_from(index).unwrap_or(i64::MAX))
}

/// Inserts `value` under `key` unless it is null (AWS omits absent members rather than sending null).
fn put(object: &mut serde_json::Map<String, Value>, key: &str, value: impl Into<Value>) {
    let value = value.into();
    if !value.is_null() {
        object.insert(key.to_owned(), value);
    }
}

#[cfg(test)]
mod tests;
