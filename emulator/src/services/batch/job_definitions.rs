//! Job definitions: numbered revisions of a container template. Registering a name again makes the next revision
//! (`CrtsAwsJD:2` in the runbook); deregistering makes one INACTIVE, and numbers are never reused.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::validation::{Platform, ResourceRequirement, check_resources, is_resource_name};
use super::{Batch, Scope, Store, client_error, paginate, put, required};
use crate::protocol::{AwsError, AwsResult};
use crate::services::Call;
use crate::services::pagination;

/// One revision of a job definition.
#[derive(Debug, Clone)]
pub(crate) struct JobDefinition {
    pub name: String,
    pub revision: i64,
    pub arn: String,
    /// ACTIVE or INACTIVE.
    pub status: String,
    pub platform: Platform,
    pub parameters: BTreeMap<String, String>,
    /// The `containerProperties` structure as registered.
    pub container_properties: Value,
    pub scheduling_priority: Option<i64>,
    pub retry_strategy: Option<Value>,
    pub timeout: Option<Value>,
    pub propagate_tags: Option<bool>,
    pub tags: BTreeMap<String, String>,
    pub consumable_resource_properties: Option<Value>,
}

impl JobDefinition {
    pub fn platform_name(&self) -> &'static str {
        match self.platform {
            Platform::Ec2 => "EC2",
            Platform::Fargate => "FARGATE",
        }
    }

    /// `containerProperties` as DescribeJobDefinitions shows it: AWS fills in empty lists and, for Fargate, the
    /// default network configuration (no public IP) and platform version (LATEST).
    pub fn described_container(&self) -> Value {
        let mut container = self.container_properties.clone();
        if let Value::Object(map) = &mut container {
            for list in ["volumes", "environment", "mountPoints", "ulimits", "secrets", "resourceRequirements"] {
                map.entry(list).or_insert_with(|| json!([]));
            }
            if self.platform == Platform::Fargate {
                map.entry("networkConfiguration").or_insert_with(|| json!({ "assignPublicIp": "DISABLED" }));
                if let Some(Value::Object(network)) = map.get_mut("networkConfiguration") {
                    network.entry("assignPublicIp").or_insert_with(|| json!("DISABLED"));
                }
                map.entry("fargatePlatformConfiguration").or_insert_with(|| json!({ "platformVersion": "LATEST" }));
            }
        }
        container
    }

    /// The JobDefinition shape.
    fn detail(&self) -> Value {
        let mut out = serde_json::Map::new();
        put(&mut out, "jobDefinitionName", self.name.clone());
        put(&mut out, "jobDefinitionArn", self.arn.clone());
        put(&mut out, "revision", self.revision);
        put(&mut out, "status", self.status.clone());
        put(&mut out, "type", "container");
        put(&mut out, "schedulingPriority", self.scheduling_priority);
        put(&mut out, "parameters", json!(self.parameters));
        put(&mut out, "retryStrategy", self.retry_strategy.clone());
        put(&mut out, "containerProperties", self.described_container());
        put(&mut out, "timeout", self.timeout.clone());
        put(&mut out, "tags", json!(self.tags));
        put(&mut out, "propagateTags", self.propagate_tags);
        put(&mut out, "platformCapabilities", json!([self.platform_name()]));
        put(&mut out, "containerOrchestrationType", "ECS");
        put(&mut out, "consumableResourceProperties", self.consumable_resource_properties.clone());
        Value::Object(out)
    }
}

/// What a job definition identifier names: every revision of a name, or one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DefinitionRef {
    Name(String),
    Revision(String, i64),
}

impl DefinitionRef {
    /// Parses `name`, `name:revision`, or `arn:aws:batch:<r>:<acct>:job-definition/name[:revision]`.
    /// None when the revision is not a number.
    pub fn parse(identifier: &str) -> Option<Self> {
        let short = match identifier.strip_prefix("arn:") {
            Some(_) => identifier.split_once(":job-definition/")?.1,
            None => identifier,
        };
        match short.split_once(':') {
            Some((name, revision)) => Some(Self::Revision(name.to_owned(), revision.parse().ok()?)),
            None => Some(Self::Name(short.to_owned())),
        }
    }
}

impl Store {
    /// Every revision an identifier names (all of a name's revisions, or the one named).
    fn job_definitions_named(&self, identifier: &str) -> Vec<&JobDefinition> {
        let revisions = |name: &str| self.job_definitions.get(name).map(Vec::as_slice).unwrap_or_default();
        match DefinitionRef::parse(identifier) {
            Some(DefinitionRef::Name(name)) => revisions(&name).iter().collect(),
            Some(DefinitionRef::Revision(name, revision)) => {
                revisions(&name).iter().filter(|d| d.revision == revision).collect()
            }
            None => Vec::new(),
        }
    }

    /// The ACTIVE job definition SubmitJob runs: the named revision, or a name's latest ACTIVE revision.
    pub(crate) fn active_job_definition(&self, identifier: &str) -> Option<&JobDefinition> {
        let found = self.job_definitions_named(identifier);
        let active = found.into_iter().filter(|d| d.status == "ACTIVE");
        let found = active.max_by_key(|d| d.revision)?;
        // A full ARN must be this account's and region's.
        (!identifier.starts_with("arn:") || identifier == found.arn || identifier == arn_without_revision(found))
            .then_some(found)
    }
}

fn arn_without_revision(definition: &JobDefinition) -> &str {
    definition.arn.rsplit_once(':').map_or(definition.arn.as_str(), |(arn, _)| arn)
}

/// AWS's recorded wording when SubmitJob or DeregisterJobDefinition names no ACTIVE revision.
pub(crate) fn not_active(identifier: &str) -> AwsError {
    client_error(format!("JobDefinition {identifier} does not exist or is not in ACTIVE status"))
}

/// The ARN a job definition identifier stands for, for authorization: ARNs as given, `name:revision` as the
/// revision's ARN, a bare name as its latest ACTIVE revision's ARN (or `job-definition/<name>` if none).
pub(crate) fn arn_for(scope: &Scope, store: &Store, identifier: &str) -> String {
    if identifier.starts_with("arn:") {
        return identifier.to_owned();
    }
    match store.active_job_definition(identifier) {
        Some(definition) => definition.arn.clone(),
        None => scope.arn(&format!("job-definition/{identifier}")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterInput {
    job_definition_name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    parameters: Option<BTreeMap<String, String>>,
    scheduling_priority: Option<i64>,
    container_properties: Option<Value>,
    node_properties: Option<Value>,
    retry_strategy: Option<Value>,
    propagate_tags: Option<bool>,
    timeout: Option<Value>,
    tags: Option<BTreeMap<String, String>>,
    platform_capabilities: Option<Vec<String>>,
    eks_properties: Option<Value>,
    ecs_properties: Option<Value>,
    consumable_resource_properties: Option<Value>,
}

/// The members of `containerProperties` that are checked; the whole structure is kept as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerCheck {
    pub image: Option<String>,
    pub vcpus: Option<i64>,
    pub memory: Option<i64>,
    pub command: Option<Vec<String>>,
    pub execution_role_arn: Option<String>,
    pub resource_requirements: Option<Vec<ResourceRequirement>>,
    pub environment: Option<Vec<KeyValuePair>>,
    pub network_configuration: Option<NetworkConfiguration>,
    pub privileged: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct KeyValuePair {
    pub name: Option<String>,
    /// Type-checked only.
    #[serde(rename = "value")]
    pub _value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NetworkConfiguration {
    pub assign_public_ip: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimeoutCheck {
    attempt_duration_seconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RetryCheck {
    attempts: Option<i64>,
}

/// Checks the members shared by job definitions and SubmitJob overrides: timeout and retry strategy.
pub(crate) fn check_timeout_and_retry(
    call: &Call<'_, Batch>,
    timeout: Option<&Value>,
    retry: Option<&Value>,
) -> AwsResult<()> {
    if let Some(timeout) = timeout {
        let check: TimeoutCheck =
            serde_json::from_value(timeout.clone()).map_err(|e| client_error(format!("timeout is not valid: {e}")))?;
        if check.attempt_duration_seconds.is_some_and(|s| s < 60) {
            return Err(call.executing_error("The minimum value for the timeout is 60 seconds."));
        }
    }
    if let Some(retry) = retry {
        let check: RetryCheck = serde_json::from_value(retry.clone())
            .map_err(|e| client_error(format!("retryStrategy is not valid: {e}")))?;
        if check.attempts.is_some_and(|a| !(1..=10).contains(&a)) {
            return Err(call.executing_error("Attempts must be between 1 and 10."));
        }
    }
    Ok(())
}

/// Checks environment variables: AWS reserves the `AWS_BATCH` prefix for the variables it sets.
pub(crate) fn check_environment(call: &Call<'_, Batch>, environment: &[KeyValuePair]) -> AwsResult<()> {
    for variable in environment {
        let name = variable.name.as_deref().unwrap_or_default();
        if name.is_empty() {
            return Err(call.executing_error("Environment variable name must not be empty."));
        }
        if name.starts_with("AWS_BATCH") {
            return Err(call.executing_error(format!(
                "Environment variable {name} is reserved: names cannot start with AWS_BATCH."
            )));
        }
    }
    Ok(())
}

fn check_container(call: &Call<'_, Batch>, platform: Platform, container: &Value) -> AwsResult<()> {
    let check: ContainerCheck = serde_json::from_value(container.clone())
        .map_err(|e| client_error(format!("containerProperties is not valid: {e}")))?;
    if check.image.as_deref().is_none_or(str::is_empty) {
        return Err(call.executing_error("Image is not provided."));
    }
    if platform == Platform::Fargate {
        if check.execution_role_arn.as_deref().is_none_or(str::is_empty) {
            return Err(call.executing_error("executionRoleArn is required for jobs that run on Fargate resources."));
        }
        if check.privileged == Some(true) {
            return Err(call.executing_error("privileged is not applicable for jobs that run on Fargate resources."));
        }
    }
    if let Some(ip) = check.network_configuration.and_then(|n| n.assign_public_ip)
        && !matches!(ip.as_str(), "ENABLED" | "DISABLED")
    {
        return Err(client_error(format!(
            "Invalid networkConfiguration.assignPublicIp {ip}: must be ENABLED or DISABLED"
        )));
    }
    check_environment(call, check.environment.as_deref().unwrap_or_default())?;
    let requirements = check.resource_requirements.unwrap_or_default();
    check_resources(platform, &requirements, check.vcpus, check.memory).map_err(|detail| call.executing_error(detail))
}

/// RegisterJobDefinition: <https://docs.aws.amazon.com/batch/latest/APIReference/API_RegisterJobDefinition.html>
///
/// Each registration of a name makes the next revision. Checked as AWS does: name, type, platform, image, and for
/// FARGATE the execution role and a valid vCPU/memory pair in resourceRequirements (see `validation`).
/// Deviations: only `container` definitions with containerProperties are emulated (multinode, ecsProperties and
/// eksProperties answer NotImplemented); roles and images are not checked for existence.
pub(crate) fn register(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: RegisterInput = call.input()?;
    let name = required(input.job_definition_name, "jobDefinitionName")?;
    let kind = required(input.kind, "type")?;
    call.authorize(&[call.scope().arn(&format!("job-definition/{name}"))])?;
    if !is_resource_name(&name) {
        return Err(call.executing_error(
            "Job definition name must be 1-128 letters (uppercase and lowercase), numbers, hyphens and underscores.",
        ));
    }
    match kind.as_str() {
        "container" => {}
        "multinode" => return Err(AwsError::not_implemented("Batch multinode job definitions")),
        other => return Err(client_error(format!("Invalid type {other}: must be container or multinode"))),
    }
    if input.node_properties.is_some() {
        return Err(call.executing_error("nodeProperties is only valid for multinode job definitions."));
    }
    let platform = match input.platform_capabilities.as_deref().unwrap_or_default() {
        [] => Platform::Ec2,
        [one] if one == "EC2" => Platform::Ec2,
        [one] if one == "FARGATE" => Platform::Fargate,
        other => {
            return Err(client_error(format!(
                "Invalid platformCapabilities {other:?}: must be exactly one of EC2, FARGATE"
            )));
        }
    };
    let container = match input.container_properties {
        Some(container) => container,
        None if input.ecs_properties.is_some() || input.eks_properties.is_some() => {
            return Err(AwsError::not_implemented("Batch job definitions with ecsProperties or eksProperties"));
        }
        None => {
            return Err(call.executing_error("containerProperties must be provided for a container job definition."));
        }
    };
    check_container(call, platform, &container)?;
    check_timeout_and_retry(call, input.timeout.as_ref(), input.retry_strategy.as_ref())?;
    call.with_store(|store| {
        let revisions = store.job_definitions.entry(name.clone()).or_default();
        let revision = revisions.last().map_or(1, |d| d.revision + 1);
        let definition = JobDefinition {
            arn: call.scope().arn(&format!("job-definition/{name}:{revision}")),
            name: name.clone(),
            revision,
            status: "ACTIVE".to_owned(),
            platform,
            parameters: input.parameters.unwrap_or_default(),
            container_properties: container,
            scheduling_priority: input.scheduling_priority,
            retry_strategy: input.retry_strategy,
            timeout: input.timeout,
            propagate_tags: input.propagate_tags,
            tags: super::tags::checked(
                call,
                &call.scope().arn(&format!("job-definition/{name}:{revision}")),
                input.tags,
            )?,
            consumable_resource_properties: input.consumable_resource_properties,
        };
        let out = json!({
            "jobDefinitionName": definition.name,
            "jobDefinitionArn": definition.arn,
            "revision": definition.revision,
        });
        revisions.push(definition);
        Ok(out)
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    job_definitions: Option<Vec<String>>,
    max_results: Option<i32>,
    job_definition_name: Option<String>,
    status: Option<String>,
    next_token: Option<String>,
}

/// DescribeJobDefinitions: <https://docs.aws.amazon.com/batch/latest/APIReference/API_DescribeJobDefinitions.html>
///
/// `jobDefinitions` entries may be ARNs, `name:revision` or bare names (every revision); `jobDefinitionName` and
/// `status` filter. Sorted by name, then revision. Unknown entries are simply absent.
pub(crate) fn describe(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: DescribeInput = call.input()?;
    call.authorize(&["*".to_owned()])?;
    if input.job_definitions.as_ref().is_some_and(|l| l.len() > 100) {
        return Err(client_error("jobDefinitions can list at most 100 job definitions"));
    }
    let details: Vec<(String, Value)> = call.with_store(|store| {
        let mut found: Vec<&JobDefinition> = match &input.job_definitions {
            Some(wanted) if !wanted.is_empty() => wanted
                .iter()
                .flat_map(|id| {
                    let all = store.job_definitions_named(id);
                    let exact_arn = id.starts_with("arn:");
                    all.into_iter().filter(move |d| !exact_arn || *id == d.arn || id == arn_without_revision(d))
                })
                .collect(),
            _ => store.job_definitions.values().flatten().collect(),
        };
        if let Some(name) = &input.job_definition_name {
            found.retain(|d| &d.name == name);
        }
        if let Some(status) = &input.status {
            found.retain(|d| &d.status == status);
        }
        found.sort_by(|a, b| (&a.name, a.revision).cmp(&(&b.name, b.revision)));
        found.dedup_by(|a, b| a.arn == b.arn);
        found.into_iter().map(|d| (pagination::key(&[&d.name, &pagination::number(d.revision)]), d.detail())).collect()
    });
    let (page, token) = paginate(details, input.max_results, input.next_token.as_deref())?;
    let mut out = serde_json::Map::new();
    put(&mut out, "jobDefinitions", page);
    put(&mut out, "nextToken", token);
    Ok(Value::Object(out))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeregisterInput {
    job_definition: Option<String>,
}

/// DeregisterJobDefinition: <https://docs.aws.amazon.com/batch/latest/APIReference/API_DeregisterJobDefinition.html>
///
/// By `name:revision` or ARN; the revision becomes INACTIVE (still described, no longer submittable). A bare name
/// or an already INACTIVE/unknown revision is refused with the SubmitJob wording.
pub(crate) fn deregister(call: &Call<'_, Batch>) -> AwsResult<Value> {
    let input: DeregisterInput = call.input()?;
    let identifier = required(input.job_definition, "jobDefinition")?;
    let Some(DefinitionRef::Revision(name, revision)) = DefinitionRef::parse(&identifier) else {
        return Err(call.executing_error(format!(
            "jobDefinition {identifier} must be name:revision or a job definition ARN with its revision."
        )));
    };
    let arn = if identifier.starts_with("arn:") {
        identifier.clone()
    } else {
        call.scope().arn(&format!("job-definition/{name}:{revision}"))
    };
    call.authorize(std::slice::from_ref(&arn))?;
    call.with_store(|store| {
        let definition = store
            .job_definitions
            .get_mut(&name)
            .and_then(|revisions| revisions.iter_mut().find(|d| d.revision == revision && d.arn == arn))
            .filter(|d| d.status == "ACTIVE")
            .ok_or_else(|| not_active(&identifier))?;
        definition.status = "INACTIVE".to_owned();
        Ok(json!({}))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_identifiers() {
        let parse = DefinitionRef::parse;
        assert_eq!(parse("CrtsAwsJD"), Some(DefinitionRef::Name("CrtsAwsJD".into())));
        assert_eq!(parse("CrtsAwsJD:2"), Some(DefinitionRef::Revision("CrtsAwsJD".into(), 2)));
        assert_eq!(
            parse("arn:aws:batch:us-east-1:000000000000:job-definition/CrtsAwsJD:2"),
            Some(DefinitionRef::Revision("CrtsAwsJD".into(), 2))
        );
        assert_eq!(
            parse("arn:aws:batch:us-east-1:000000000000:job-definition/CrtsAwsJD"),
            Some(DefinitionRef::Name("CrtsAwsJD".into()))
        );
        assert_eq!(parse("CrtsAwsJD:two"), None);
        assert_eq!(parse("arn:aws:batch:us-east-1:000000000000:job-queue/q"), None);
    }
}
