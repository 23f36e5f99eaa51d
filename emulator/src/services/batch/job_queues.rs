//! Job queues: where jobs are submitted, in front of up to three compute environments.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Value, json};

use super::validation::is_resource_name;
use super::{Batch, Scope, Store, client_error, designates, paginate, put, requested_order, required};
use crate::protocol::{AwsError, AwsResult};
use crate::services::Call;

/// One job queue.
#[derive(Debug, Clone)]
pub(crate) struct JobQueue {
    pub name: String,
    pub arn: String,
    /// ENABLED or DISABLED.
    pub state: String,
    pub priority: i64,
    /// `(order, compute environment ARN)`, lowest order first.
    pub compute_environment_order: Vec<(i64, String)>,
    pub scheduling_policy_arn: Option<String>,
    pub job_queue_type: Option<String>,
    pub job_state_time_limit_actions: Option<Value>,
    pub tags: BTreeMap<String, String>,
}

impl JobQueue {
    pub fn uses_compute_environment(&self, arn: &str) -> bool {
        self.compute_environment_order.iter().any(|(_, ce)| ce == arn)
    }

    /// The JobQueueDetail shape.
    fn detail(&self) -> Value {
        let order: Vec<Value> = self
            .compute_environment_order
            .iter()
            .map(|(order, ce)| json!({ "order": order, "computeEnvironment": ce }))
            .collect();
        let mut out = serde_json::Map::new();
        put(&mut out, "jobQueueName", self.name.clone());
        put(&mut out, "jobQueueArn", self.arn.clone());
        put(&mut out, "state", self.state.clone());
        put(&mut out, "schedulingPolicyArn", self.scheduling_policy_arn.clone());
        put(&mut out, "status", "VALID");
        put(&mut out, "statusReason", "JobQueue Healthy");
        put(&mut out, "priority", self.priority);
        put(&mut out, "computeEnvironmentOrder", order);
        put(&mut out, "jobQueueType", self.job_queue_type.clone());
        put(&mut out, "tags", json!(self.tags));
        put(&mut out, "jobStateTimeLimitActions", self.job_state_time_limit_actions.clone());
        Value::Object(out)
    }
}

impl Store {
    /// The job queue a name or ARN designates.
    pub(crate) fn job_queue(&self, identifier: &str) -> Option<&JobQueue> {
        self.job_queues.values().find(|q| designates(identifier, &q.name, &q.arn))
    }
}

/// The ARN a job queue name or ARN stands for (for authorization before it is looked up).
pub(crate) fn arn_for(scope: &Scope, identifier: &str) -> String {
    if identifier.starts_with("arn:") { identifier.to_owned() } else { scope.arn(&format!("job-queue/{identifier}")) }
}

/// AWS's recorded wording for an unknown queue.
pub(crate) fn not_found(identifier: &str) -> AwsError {
    client_error(format!("JobQueue {identifier} not found."))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderEntry {
    order: Option<i64>,
    compute_environment: Option<String>,
}

/// Checks a computeEnvironmentOrder and resolves it to `(order, ARN)` pairs, lowest order first.
fn resolve_order(call: &Call<'_, Batch>, store: &Store, entries: Vec<OrderEntry>) -> AwsResult<Vec<(i64, String)>> {
    if entries.is_empty() {
        return Err(call.executing_error("computeEnvironmentOrder must contain at least one compute environment."));
    }
    if entries.len() > 3 {
        return Err(call.executing_error("A job queue can have at most 3 compute environments."));
    }
    let mut resolved = Vec::new();
    let mut orders = BTreeSet::new();
    let mut fargate = BTreeSet::new();
    for entry in entries {
        let order = required(entry.order, "computeEnvironmentOrder.member.order")?;
        let identifier = required(entry.compute_environment, "computeEnvironmentOrder.member.computeEnvironment")?;
        if !orders.insert(order) {
            return Err(call.executing_error(format!("Duplicate order {order} in computeEnvironmentOrder.")));
        }
        let ce = store
            .compute_environment(&identifier)
            .ok_or_else(|| client_error(format!("ComputeEnvironment {identifier} not found.")))?;
        fargate.insert(ce.is_fargate());
        resolved.push((order, ce.arn.clone()));
    }
    if fargate.len() > 1 {
        return Err(call.executing_error("A job queue cannot mix Fargate and EC2 (or SPOT) compute environments."));
    }
    resolved.sort();
    Ok(resolved)
}

fn check_state(state: Option<&str>) -> AwsResult<()> {
    match state {
        None | Some("ENABLED" | "DISABLED") => Ok(()),
        Some(other) => Err(client_error(format!("Invalid state {other}: must be ENABLED or DISABLED"))),
    }
}

fn check_unsupported(service_environment_order: Option<&Vec<Value>>) -> AwsResult<()> {
    if service_environment_order.is_some_and(|l| !l.is_empty()) {
        return Err(AwsError::not_implemented("Batch serviceEnvironmentOrder (SageMaker job queues)"));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    job_queue_name: Option<String>,
    state: Option<String>,
    scheduling_policy_arn: Option<String>,
    priority: Option<i64>,
    compute_environment_order: Option<Vec<OrderEntry>>,
    service_environment_order: Option<Vec<Value>>,
    job_queue_type: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    job_state_time_limit_actions: Option<Value>,
}

/// CreateJobQueue: <https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateJobQueue.html>
///
/// Compute environments may be given by name or ARN and are described back as ARNs. Refusals in our wording:
/// unknown compute environment (`ComputeEnvironment <x> not found.`), more than 3, duplicate orders, Fargate mixed
/// with EC2. Deviations: VALID at once; scheduling policies are not checked; SageMaker queues are not emulated.
pub(crate) fn create(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: CreateInput = call.input()?;
    let name = required(input.job_queue_name, "jobQueueName")?;
    let priority = required(input.priority, "priority")?;
    call.authorize(&[arn_for(&call.scope(), &name)])?;
    if !is_resource_name(&name) {
        return Err(call.executing_error(
            "Job queue name must be 1-128 letters (uppercase and lowercase), numbers, hyphens and underscores.",
        ));
    }
    check_state(input.state.as_deref())?;
    check_unsupported(input.service_environment_order.as_ref())?;
    call.with_store(|store| {
        if store.job_queues.contains_key(&name) {
            return Err(client_error("Object already exists"));
        }
        let order = resolve_order(call, store, input.compute_environment_order.unwrap_or_default())?;
        let queue = JobQueue {
            arn: call.scope().arn(&format!("job-queue/{name}")),
            name: name.clone(),
            state: input.state.unwrap_or_else(|| "ENABLED".to_owned()),
            priority,
            compute_environment_order: order,
            scheduling_policy_arn: input.scheduling_policy_arn,
            job_queue_type: input.job_queue_type,
            job_state_time_limit_actions: input.job_state_time_limit_actions,
            tags: super::tags::checked(call, &call.scope().arn(&format!("job-queue/{name}")), input.tags)?,
        };
        let out = json!({ "jobQueueName": queue.name, "jobQueueArn": queue.arn });
        store.job_queues.insert(name, queue);
        Ok(out)
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    job_queues: Option<Vec<String>>,
    max_results: Option<i32>,
    next_token: Option<String>,
}

/// DescribeJobQueues: <https://docs.aws.amazon.com/batch/latest/APIReference/API_DescribeJobQueues.html>
///
/// Names or ARNs; unknown ones are simply absent. Without a list, every queue in name order.
pub(crate) fn describe(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: DescribeInput = call.input()?;
    call.authorize(&["*".to_owned()])?;
    if input.job_queues.as_ref().is_some_and(|l| l.len() > 100) {
        return Err(client_error("jobQueues can list at most 100 job queues"));
    }
    let details: Vec<(String, Value)> = call.with_store(|store| match &input.job_queues {
        Some(wanted) if !wanted.is_empty() => wanted
            .iter()
            .filter_map(|id| store.job_queue(id))
            .enumerate()
            .map(|(i, found)| (requested_order(i), found.detail()))
            .collect(),
        _ => store.job_queues.iter().map(|(name, found)| (name.clone(), found.detail())).collect(),
    });
    let (page, token) = paginate(details, input.max_results, input.next_token.as_deref())?;
    let mut out = serde_json::Map::new();
    put(&mut out, "jobQueues", page);
    put(&mut out, "nextToken", token);
    Ok(Value::Object(out))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    job_queue: Option<String>,
    state: Option<String>,
    scheduling_policy_arn: Option<String>,
    priority: Option<i64>,
    compute_environment_order: Option<Vec<OrderEntry>>,
    service_environment_order: Option<Vec<Value>>,
    job_state_time_limit_actions: Option<Value>,
}

/// UpdateJobQueue: <https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateJobQueue.html>
///
/// Same checks as CreateJobQueue for a new computeEnvironmentOrder. Deviation: immediate (AWS: UPDATING).
pub(crate) fn update(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: UpdateInput = call.input()?;
    let identifier = required(input.job_queue, "jobQueue")?;
    call.authorize(&[arn_for(&call.scope(), &identifier)])?;
    check_state(input.state.as_deref())?;
    check_unsupported(input.service_environment_order.as_ref())?;
    call.with_store(|store| {
        let name = store.job_queue(&identifier).map(|q| q.name.clone()).ok_or_else(|| not_found(&identifier))?;
        let order = match input.compute_environment_order {
            Some(entries) => Some(resolve_order(call, store, entries)?),
            None => None,
        };
        let queue = store.job_queues.get_mut(&name).ok_or_else(|| not_found(&identifier))?;
        if let Some(state) = input.state {
            queue.state = state;
        }
        if let Some(priority) = input.priority {
            queue.priority = priority;
        }
        if let Some(order) = order {
            queue.compute_environment_order = order;
        }
        if input.scheduling_policy_arn.is_some() {
            queue.scheduling_policy_arn = input.scheduling_policy_arn;
        }
        if input.job_state_time_limit_actions.is_some() {
            queue.job_state_time_limit_actions = input.job_state_time_limit_actions;
        }
        Ok(json!({ "jobQueueName": queue.name, "jobQueueArn": queue.arn }))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteInput {
    job_queue: Option<String>,
}

/// DeleteJobQueue: <https://docs.aws.amazon.com/batch/latest/APIReference/API_DeleteJobQueue.html>
///
/// Refused while ENABLED (our wording). Deviations: deletion is immediate (AWS: DELETING), and the queue's jobs
/// are kept as they are (AWS terminates them).
pub(crate) fn delete(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: DeleteInput = call.input()?;
    let identifier = required(input.job_queue, "jobQueue")?;
    call.authorize(&[arn_for(&call.scope(), &identifier)])?;
    call.with_store(|store| {
        let queue = store.job_queue(&identifier).ok_or_else(|| not_found(&identifier))?;
        if queue.state != "DISABLED" {
            return Err(client_error(format!(
                "Cannot delete, job queue {} must be DISABLED before it can be deleted",
                queue.name
            )));
        }
        let name = queue.name.clone();
        store.job_queues.remove(&name);
        Ok(json!({}))
    })
}
