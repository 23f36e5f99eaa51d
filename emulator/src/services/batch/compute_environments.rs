//! Compute environments: where jobs would run. Only their configuration is kept; no capacity is simulated.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::validation::is_resource_name;
use super::{Batch, Scope, Store, client_error, designates, paginate, put, requested_order, required};
use crate::protocol::AwsResult;
use crate::services::Call;

/// One compute environment, as CreateComputeEnvironment/UpdateComputeEnvironment left it.
#[derive(Debug, Clone)]
pub(crate) struct ComputeEnvironment {
    pub name: String,
    pub arn: String,
    /// MANAGED or UNMANAGED.
    pub kind: String,
    /// ENABLED or DISABLED.
    pub state: String,
    /// The `computeResources` structure as sent (and updated), echoed by Describe.
    pub compute_resources: Option<Value>,
    pub service_role: String,
    pub unmanaged_vcpus: Option<i64>,
    pub tags: BTreeMap<String, String>,
    pub ecs_cluster_arn: String,
    pub uuid: String,
    pub update_policy: Option<Value>,
    pub eks_configuration: Option<Value>,
    pub context: Option<String>,
}

impl ComputeEnvironment {
    /// `computeResources.type`: EC2, SPOT, FARGATE or FARGATE_SPOT (None for unmanaged environments).
    pub fn resource_type(&self) -> Option<&str> {
        self.compute_resources.as_ref().and_then(|r| r.get("type")).and_then(Value::as_str)
    }

    pub fn is_fargate(&self) -> bool {
        matches!(self.resource_type(), Some("FARGATE" | "FARGATE_SPOT"))
    }

    /// The ComputeEnvironmentDetail shape.
    fn detail(&self) -> Value {
        let mut out = serde_json::Map::new();
        put(&mut out, "computeEnvironmentName", self.name.clone());
        put(&mut out, "computeEnvironmentArn", self.arn.clone());
        put(&mut out, "ecsClusterArn", self.ecs_cluster_arn.clone());
        put(&mut out, "tags", json!(self.tags));
        put(&mut out, "type", self.kind.clone());
        put(&mut out, "state", self.state.clone());
        put(&mut out, "status", "VALID");
        put(&mut out, "statusReason", "ComputeEnvironment Healthy");
        put(&mut out, "computeResources", self.compute_resources.clone());
        put(&mut out, "serviceRole", self.service_role.clone());
        put(&mut out, "unmanagedvCpus", self.unmanaged_vcpus);
        put(&mut out, "updatePolicy", self.update_policy.clone());
        put(&mut out, "eksConfiguration", self.eks_configuration.clone());
        put(&mut out, "containerOrchestrationType", if self.eks_configuration.is_some() { "EKS" } else { "ECS" });
        put(&mut out, "uuid", self.uuid.clone());
        put(&mut out, "context", self.context.clone());
        Value::Object(out)
    }
}

impl Store {
    /// The compute environment a name or ARN designates.
    pub(crate) fn compute_environment(&self, identifier: &str) -> Option<&ComputeEnvironment> {
        self.compute_environments.values().find(|ce| designates(identifier, &ce.name, &ce.arn))
    }
}

/// The ARN a compute environment name or ARN stands for (for authorization before it is looked up).
fn arn_for(scope: &Scope, identifier: &str) -> String {
    if identifier.starts_with("arn:") {
        identifier.to_owned()
    } else {
        scope.arn(&format!("compute-environment/{identifier}"))
    }
}

fn not_found(identifier: &str) -> crate::protocol::AwsError {
    client_error(format!("ComputeEnvironment {identifier} not found."))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    compute_environment_name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    state: Option<String>,
    #[serde(rename = "unmanagedvCpus")]
    unmanaged_vcpus: Option<i64>,
    compute_resources: Option<Value>,
    service_role: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    eks_configuration: Option<Value>,
    context: Option<String>,
}

/// The members of `computeResources` that are checked; the whole structure is kept as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ComputeResourcesCheck {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "maxvCpus")]
    max_vcpus: Option<i64>,
    #[serde(rename = "minvCpus")]
    min_vcpus: Option<i64>,
    subnets: Option<Vec<String>>,
    #[serde(rename = "securityGroupIds")]
    _security_group_ids: Option<Vec<String>>,
}

fn check_state(state: Option<&str>) -> AwsResult<()> {
    match state {
        None | Some("ENABLED" | "DISABLED") => Ok(()),
        Some(other) => Err(client_error(format!("Invalid state {other}: must be ENABLED or DISABLED"))),
    }
}

fn check_compute_resources(resources: &Value) -> AwsResult<()> {
    let check: ComputeResourcesCheck = serde_json::from_value(resources.clone())
        .map_err(|e| client_error(format!("computeResources is not valid: {e}")))?;
    let kind = required(check.kind, "computeResources.type")?;
    if !matches!(kind.as_str(), "EC2" | "SPOT" | "FARGATE" | "FARGATE_SPOT") {
        return Err(client_error(format!(
            "Invalid computeResources.type {kind}: must be one of EC2, SPOT, FARGATE, FARGATE_SPOT"
        )));
    }
    let max = required(check.max_vcpus, "computeResources.maxvCpus")?;
    required(check.subnets, "computeResources.subnets")?;
    if max < 0 || check.min_vcpus.is_some_and(|min| min < 0 || min > max) {
        return Err(client_error("computeResources: minvCpus must be between 0 and maxvCpus"));
    }
    Ok(())
}

/// CreateComputeEnvironment: <https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateComputeEnvironment.html>
///
/// Deviations: the environment is VALID at once (AWS goes through CREATING); no EC2/ECS resources are checked
/// or created (subnets, security groups and roles are kept as given); EKS configurations are stored only.
pub(crate) fn create(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: CreateInput = call.input()?;
    let name = required(input.compute_environment_name, "computeEnvironmentName")?;
    let kind = required(input.kind, "type")?;
    call.authorize(&[arn_for(&call.scope(), &name)])?;
    if !is_resource_name(&name) {
        return Err(call.executing_error(
            "Compute environment name must be 1-128 letters (uppercase and lowercase), numbers, hyphens and underscores.",
        ));
    }
    if !matches!(kind.as_str(), "MANAGED" | "UNMANAGED") {
        return Err(client_error(format!("Invalid type {kind}: must be MANAGED or UNMANAGED")));
    }
    check_state(input.state.as_deref())?;
    match (&input.compute_resources, kind.as_str()) {
        (Some(resources), _) => check_compute_resources(resources)?,
        (None, "MANAGED") => {
            return Err(call.executing_error("computeResources must be provided for a MANAGED compute environment."));
        }
        (None, _) => {}
    }
    let scope = &call.scope();
    let uuid = uuid::Uuid::new_v4().to_string();
    let ce = ComputeEnvironment {
        arn: scope.arn(&format!("compute-environment/{name}")),
        ecs_cluster_arn: format!(
            "arn:aws:ecs:{}:{}:cluster/AWSBatch-{name}-{}",
            scope.region,
            scope.account,
            uuid::Uuid::new_v4()
        ),
        uuid,
        name: name.clone(),
        kind,
        state: input.state.unwrap_or_else(|| "ENABLED".to_owned()),
        compute_resources: input.compute_resources,
        service_role: input.service_role.unwrap_or_else(|| {
            format!("arn:aws:iam::{}:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch", scope.account)
        }),
        unmanaged_vcpus: input.unmanaged_vcpus,
        tags: super::tags::checked(call, &arn_for(&call.scope(), &name), input.tags)?,
        update_policy: None,
        eks_configuration: input.eks_configuration,
        context: input.context,
    };
    call.with_store(|store| {
        if store.compute_environments.contains_key(&name) {
            return Err(client_error("Object already exists"));
        }
        let out = json!({ "computeEnvironmentName": ce.name, "computeEnvironmentArn": ce.arn });
        store.compute_environments.insert(name, ce);
        Ok(out)
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    compute_environments: Option<Vec<String>>,
    max_results: Option<i32>,
    next_token: Option<String>,
}

/// DescribeComputeEnvironments: <https://docs.aws.amazon.com/batch/latest/APIReference/API_DescribeComputeEnvironments.html>
///
/// Names or ARNs; unknown ones are simply absent. Without a list, every environment in name order.
pub(crate) fn describe(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: DescribeInput = call.input()?;
    call.authorize(&["*".to_owned()])?;
    if input.compute_environments.as_ref().is_some_and(|l| l.len() > 100) {
        return Err(client_error("computeEnvironments can list at most 100 compute environments"));
    }
    let details: Vec<(String, Value)> = call.with_store(|store| match &input.compute_environments {
        Some(wanted) if !wanted.is_empty() => wanted
            .iter()
            .filter_map(|id| store.compute_environment(id))
            .enumerate()
            .map(|(i, found)| (requested_order(i), found.detail()))
            .collect(),
        _ => store.compute_environments.iter().map(|(name, found)| (name.clone(), found.detail())).collect(),
    });
    let (page, token) = paginate(details, input.max_results, input.next_token.as_deref())?;
    let mut out = serde_json::Map::new();
    put(&mut out, "computeEnvironments", page);
    put(&mut out, "nextToken", token);
    Ok(Value::Object(out))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    compute_environment: Option<String>,
    state: Option<String>,
    #[serde(rename = "unmanagedvCpus")]
    unmanaged_vcpus: Option<i64>,
    compute_resources: Option<serde_json::Map<String, Value>>,
    service_role: Option<String>,
    update_policy: Option<Value>,
    context: Option<String>,
}

/// UpdateComputeEnvironment: <https://docs.aws.amazon.com/batch/latest/APIReference/API_UpdateComputeEnvironment.html>
///
/// The members of `computeResources` sent replace the stored ones (`updateToLatestImageVersion` is accepted and
/// dropped). Deviations: the update is immediate (AWS goes through UPDATING) and AWS's limits on which members
/// may change for which environment type are not enforced.
pub(crate) fn update(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: UpdateInput = call.input()?;
    let identifier = required(input.compute_environment, "computeEnvironment")?;
    call.authorize(&[arn_for(&call.scope(), &identifier)])?;
    check_state(input.state.as_deref())?;
    let max_vcpus = input.compute_resources.as_ref().and_then(|r| r.get("maxvCpus"));
    if max_vcpus.is_some_and(|max| max.as_i64().is_none_or(|m| m < 0)) {
        return Err(client_error("computeResources.maxvCpus must be a non-negative integer"));
    }
    call.with_store(|store| {
        let ce = store
            .compute_environments
            .values_mut()
            .find(|ce| designates(&identifier, &ce.name, &ce.arn))
            .ok_or_else(|| not_found(&identifier))?;
        if let Some(state) = input.state {
            ce.state = state;
        }
        if let Some(changes) = input.compute_resources {
            if ce.compute_resources.is_none() {
                return Err(client_error("computeResources cannot be updated for an UNMANAGED compute environment"));
            }
            if let Some(Value::Object(resources)) = ce.compute_resources.as_mut() {
                for (key, value) in changes {
                    if key != "updateToLatestImageVersion" {
                        resources.insert(key, value);
                    }
                }
            }
        }
        if let Some(role) = input.service_role {
            ce.service_role = role;
        }
        if input.unmanaged_vcpus.is_some() {
            ce.unmanaged_vcpus = input.unmanaged_vcpus;
        }
        if input.update_policy.is_some() {
            ce.update_policy = input.update_policy;
        }
        if input.context.is_some() {
            ce.context = input.context;
        }
        Ok(json!({ "computeEnvironmentName": ce.name, "computeEnvironmentArn": ce.arn }))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteInput {
    compute_environment: Option<String>,
}

/// DeleteComputeEnvironment: <https://docs.aws.amazon.com/batch/latest/APIReference/API_DeleteComputeEnvironment.html>
///
/// Refused while ENABLED (our wording) or while a job queue uses it (AWS's recorded
/// `Cannot delete, found existing JobQueue relationship`). Deviation: deletion is immediate (AWS: DELETING).
pub(crate) fn delete(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: DeleteInput = call.input()?;
    let identifier = required(input.compute_environment, "computeEnvironment")?;
    call.authorize(&[arn_for(&call.scope(), &identifier)])?;
    call.with_store(|store| {
        let ce = store.compute_environment(&identifier).ok_or_else(|| not_found(&identifier))?;
        if ce.state != "DISABLED" {
            return Err(client_error(format!(
                "Cannot delete, compute environment {} must be DISABLED before it can be deleted",
                ce.name
            )));
        }
        let arn = ce.arn.clone();
        let name = ce.name.clone();
        if store.job_queues.values().any(|q| q.uses_compute_environment(&arn)) {
            return Err(client_error("Cannot delete, found existing JobQueue relationship"));
        }
        store.compute_environments.remove(&name);
        Ok(json!({}))
    })
}
