//! AWS Batch steps: the Fargate compute environment, the job queue, and the job definition revisions.

use aws_sdk_batch::types::{
    AssignPublicIp, CeState, CeStatus, CeType, ComputeEnvironmentOrder, ComputeResource, ContainerProperties, CrType,
    JobDefinitionType, JobStatus, JqState, JqStatus, NetworkConfiguration, PlatformCapability, ResourceRequirement,
    ResourceType,
};
use serde::Deserialize;
use serde_json::json;

use super::{Observed, RunContext, RunbookStep, Settings, StepError, StringMap, tag_pairs};
use crate::verify::{Expect, Expected};

/// Fargate compute types the runbook may use.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub enum FargateType {
    #[serde(rename = "FARGATE")]
    Fargate,
    #[serde(rename = "FARGATE_SPOT")]
    FargateSpot,
}

/// "AWS Batch > Compute Environments": a managed Fargate compute environment.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateComputeEnvironment {
    pub name: String,
    #[serde(rename = "type")]
    pub compute_type: FargateType,
    pub max_vcpus: i32,
    #[serde(default)]
    pub subnets: Vec<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
}

impl Settings for CreateComputeEnvironment {}

impl RunbookStep for CreateComputeEnvironment {
    const READS: &'static [&'static str] = &["batch:DescribeComputeEnvironments"];
    const CHANGES: &'static [&'static str] = &[
        "batch:CreateComputeEnvironment",
        "batch:TagResource",
        "batch:UpdateComputeEnvironment",
        "batch:DeleteComputeEnvironment",
        "iam:CreateServiceLinkedRole",
    ];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let resources = ComputeResource::builder()
            .r#type(self.cr_type())
            .maxv_cpus(self.max_vcpus)
            .set_subnets(Some(self.subnets.clone()))
            .set_security_group_ids(Some(self.security_groups.clone()))
            .build();
        ctx.batch
            .create_compute_environment()
            .compute_environment_name(&self.name)
            .r#type(CeType::Managed)
            .state(CeState::Enabled)
            .compute_resources(resources)
            .set_tags(ctx.tags())
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateComputeEnvironment", e))?;
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let described = ctx
            .batch
            .describe_compute_environments()
            .compute_environments(&self.name)
            .send()
            .await
            .map_err(|e| StepError::sdk("DescribeComputeEnvironments", e))?;
        let ce = described
            .compute_environments()
            .first()
            .ok_or_else(|| StepError::missing(format!("no compute environment named {}", self.name)))?;
        Ok(Observed::from([
            ("compute_environment".into(), json!(ce.compute_environment_name())),
            ("type".into(), json!(ce.r#type().map(|t| t.as_str()))),
            ("compute_resources".into(), json!(ce.compute_resources().map(|r| r.r#type().map(|t| t.as_str())))),
            ("state".into(), json!(ce.state().map(|s| s.as_str()))),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("compute_environment".into(), Expect::is(&self.name)),
            ("type".into(), Expect::is(CeType::Managed.as_str())),
            ("compute_resources".into(), Expect::is(self.cr_type().as_str())),
            ("state".into(), Expect::is(CeState::Enabled.as_str())),
        ]))
    }

    fn creates(&self, _ctx: &RunContext) -> Vec<String> {
        vec![format!("Batch compute environment {}", self.name)]
    }

    /// Disables the compute environment, deletes it, and waits until it is gone (its queue went first).
    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let described = ctx.batch.describe_compute_environments().compute_environments(&self.name).send().await;
        let described = described.map_err(|e| StepError::sdk("DescribeComputeEnvironments", e))?;
        let Some(ce) = described.compute_environments().first() else { return Ok(Vec::new()) };
        ctx.ensure_owned(&format!("Batch compute environment {}", self.name), tag_pairs(ce.tags()))?;
        remove_compute_environment(ctx, &self.name).await
    }
}

/// Disables a compute environment, deletes it, and waits until it is gone (its queues must be gone first).
pub(crate) async fn remove_compute_environment(ctx: &RunContext, name: &str) -> Result<Vec<String>, StepError> {
    let disable = ctx.batch.update_compute_environment().compute_environment(name).state(CeState::Disabled);
    disable.send().await.map_err(|e| StepError::sdk("UpdateComputeEnvironment", e))?;
    let delete = ctx.batch.delete_compute_environment().compute_environment(name);
    delete.send().await.map_err(|e| StepError::sdk("DeleteComputeEnvironment", e))?;
    wait_until_gone(&format!("compute environment {name}"), async || {
        let described = ctx.batch.describe_compute_environments().compute_environments(name).send().await;
        let described = described.map_err(|e| StepError::sdk("DescribeComputeEnvironments", e))?;
        Ok(described.compute_environments().first().is_none_or(|ce| ce.status() == Some(&CeStatus::Deleted)))
    })
    .await?;
    Ok(vec![format!("Batch compute environment {name}")])
}

impl CreateComputeEnvironment {
    fn cr_type(&self) -> CrType {
        match self.compute_type {
            FargateType::Fargate => CrType::Fargate,
            FargateType::FargateSpot => CrType::FargateSpot,
        }
    }
}

/// "AWS Batch > Job Queue": a queue over the compute environments, in order.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJobQueue {
    pub name: String,
    #[serde(default = "default_priority")]
    pub priority: i32,
    pub compute_environments: Vec<String>,
}

fn default_priority() -> i32 {
    1
}

impl Settings for CreateJobQueue {}

impl RunbookStep for CreateJobQueue {
    const READS: &'static [&'static str] = &["batch:DescribeJobQueues"];
    const CHANGES: &'static [&'static str] = &[
        "batch:CreateJobQueue",
        "batch:TagResource",
        "batch:UpdateJobQueue",
        "batch:DeleteJobQueue",
        "batch:ListJobs",
        "batch:TerminateJob",
    ];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let mut request =
            ctx.batch.create_job_queue().job_queue_name(&self.name).priority(self.priority).state(JqState::Enabled);
        request = request.set_tags(ctx.tags());
        for (order, ce) in (1..).zip(&self.compute_environments) {
            let entry = ComputeEnvironmentOrder::builder().order(order).compute_environment(ce).build();
            request = request.compute_environment_order(entry);
        }
        request.send().await.map_err(|e| StepError::sdk("CreateJobQueue", e))?;
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let described = ctx
            .batch
            .describe_job_queues()
            .job_queues(&self.name)
            .send()
            .await
            .map_err(|e| StepError::sdk("DescribeJobQueues", e))?;
        let queue = described
            .job_queues()
            .first()
            .ok_or_else(|| StepError::missing(format!("no job queue named {}", self.name)))?;
        let environments: Vec<String> = queue
            .compute_environment_order()
            .iter()
            .map(|o| o.compute_environment().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned())
            .collect();
        Ok(Observed::from([
            ("job_queue".into(), json!(queue.job_queue_name())),
            ("state".into(), json!(queue.state().map(|s| s.as_str()))),
            ("compute_environments".into(), json!(environments)),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("job_queue".into(), Expect::is(&self.name)),
            ("state".into(), Expect::is(JqState::Enabled.as_str())),
            ("compute_environments".into(), Expect::is(&self.compute_environments)),
        ]))
    }

    fn creates(&self, _ctx: &RunContext) -> Vec<String> {
        vec![format!("Batch job queue {}", self.name)]
    }

    /// Terminates the queue's unfinished jobs, disables the queue, deletes it, and waits until it is gone (AWS
    /// deletes a compute environment only when no queue uses it).
    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let described = ctx.batch.describe_job_queues().job_queues(&self.name).send().await;
        let described = described.map_err(|e| StepError::sdk("DescribeJobQueues", e))?;
        let Some(queue) = described.job_queues().first() else { return Ok(Vec::new()) };
        ctx.ensure_owned(&format!("Batch job queue {}", self.name), tag_pairs(queue.tags()))?;
        remove_job_queue(ctx, &self.name).await
    }
}

/// Terminates a queue's unfinished jobs, disables the queue, deletes it, and waits until it is gone.
pub(crate) async fn remove_job_queue(ctx: &RunContext, name: &str) -> Result<Vec<String>, StepError> {
    let mut removed = Vec::new();
    for status in
        [JobStatus::Submitted, JobStatus::Pending, JobStatus::Runnable, JobStatus::Starting, JobStatus::Running]
    {
        let listed = ctx.batch.list_jobs().job_queue(name).job_status(status).send().await;
        let listed = listed.map_err(|e| StepError::sdk("ListJobs", e))?;
        for job in listed.job_summary_list() {
            let id = job.job_id().unwrap_or_default();
            let terminate = ctx.batch.terminate_job().job_id(id).reason("crts-harness run --provision: teardown");
            terminate.send().await.map_err(|e| StepError::sdk("TerminateJob", e))?;
            removed.push(format!("Batch job {id} (terminated)"));
        }
    }
    let disable = ctx.batch.update_job_queue().job_queue(name).state(JqState::Disabled);
    disable.send().await.map_err(|e| StepError::sdk("UpdateJobQueue", e))?;
    ctx.batch.delete_job_queue().job_queue(name).send().await.map_err(|e| StepError::sdk("DeleteJobQueue", e))?;
    wait_until_gone(&format!("job queue {name}"), async || {
        let described = ctx.batch.describe_job_queues().job_queues(name).send().await;
        let described = described.map_err(|e| StepError::sdk("DescribeJobQueues", e))?;
        Ok(described.job_queues().first().is_none_or(|q| q.status() == Some(&JqStatus::Deleted)))
    })
    .await?;
    removed.push(format!("Batch job queue {name}"));
    Ok(removed)
}

/// "AWS Batch > Job Definitions": a Fargate container job definition. Registering the same name again makes
/// the next revision, which is how the runbook ends up with `CrtsAwsJD:2`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterJobDefinition {
    pub name: String,
    pub image: String,
    /// Fargate vCPU (e.g. "1") and memory in MiB (e.g. "2048"): AWS checks the pair.
    pub vcpu: String,
    pub memory: String,
    /// Name of the role ECS uses to pull the image and write logs.
    pub execution_role: String,
    /// The runbook's "Assign public IP" (needed to pull from ECR without a NAT gateway).
    pub assign_public_ip: bool,
    #[serde(default)]
    pub command: Vec<String>,
    /// Default parameters, substituted for `Ref::name` in the command.
    #[serde(default)]
    pub parameters: StringMap,
    /// The revision this registration must produce (the Lambda's `aws_jobdefinition` names it).
    pub expect_revision: Option<i32>,
}

impl Settings for RegisterJobDefinition {}

impl RunbookStep for RegisterJobDefinition {
    const READS: &'static [&'static str] = &["batch:DescribeJobDefinitions"];
    const CHANGES: &'static [&'static str] = &[
        "iam:GetRole",
        "iam:PassRole",
        "batch:RegisterJobDefinition",
        "batch:TagResource",
        "batch:DeregisterJobDefinition",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:DeleteLogStream",
        "logs:DeleteLogGroup",
    ];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let role = ctx
            .iam
            .get_role()
            .role_name(&self.execution_role)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetRole", e))?;
        let role_arn = role.role().map(|r| r.arn().to_owned()).unwrap_or_default();
        let requirement =
            |kind: ResourceType, value: &str| ResourceRequirement::builder().r#type(kind).value(value).build();
        let container = ContainerProperties::builder()
            .image(&self.image)
            .set_command(if self.command.is_empty() { None } else { Some(self.command.clone()) })
            .execution_role_arn(role_arn)
            .resource_requirements(requirement(ResourceType::Vcpu, &self.vcpu))
            .resource_requirements(requirement(ResourceType::Memory, &self.memory))
            .network_configuration(NetworkConfiguration::builder().assign_public_ip(self.public_ip()).build())
            .build();
        let registered = ctx
            .batch
            .register_job_definition()
            .job_definition_name(&self.name)
            .r#type(JobDefinitionType::Container)
            .platform_capabilities(PlatformCapability::Fargate)
            .container_properties(container)
            .set_tags(ctx.tags())
            .set_parameters(if self.parameters.is_empty() {
                None
            } else {
                Some(self.parameters.clone().into_iter().collect())
            })
            .send()
            .await
            .map_err(|e| StepError::sdk("RegisterJobDefinition", e))?;
        let revision = registered.revision().unwrap_or_default();
        if let Some(expected) = self.expect_revision
            && expected != revision
        {
            return Err(StepError::unexpected(format!(
                "registered {}:{revision}, but the runbook needs revision {expected} (was the definition registered before?)",
                self.name
            )));
        }
        Ok(())
    }

    /// The revision the runbook names (`expect_revision`), else the latest active one.
    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let request = match self.expect_revision {
            Some(revision) => ctx.batch.describe_job_definitions().job_definitions(format!("{}:{revision}", self.name)),
            None => ctx.batch.describe_job_definitions().job_definition_name(&self.name).status("ACTIVE"),
        };
        let described = request.send().await.map_err(|e| StepError::sdk("DescribeJobDefinitions", e))?;
        let definition = described.job_definitions().iter().max_by_key(|d| d.revision()).ok_or_else(|| {
            match self.expect_revision {
                Some(revision) => StepError::missing(format!("no job definition {}:{revision}", self.name)),
                None => StepError::missing(format!("no active job definition named {}", self.name)),
            }
        })?;
        let container = definition.container_properties();
        let public_ip = container
            .and_then(|c| c.network_configuration())
            .and_then(|n| n.assign_public_ip())
            .map(|a| a.as_str().to_owned());
        let resource = |kind: ResourceType| {
            container
                .and_then(|c| c.resource_requirements().iter().find(|r| r.r#type() == Some(&kind)))
                .and_then(|r| r.value())
                .map(str::to_owned)
        };
        Ok(Observed::from([
            (
                "job_definition".into(),
                json!(format!(
                    "{}:{}",
                    definition.job_definition_name().unwrap_or_default(),
                    definition.revision().unwrap_or_default()
                )),
            ),
            ("status".into(), json!(definition.status())),
            (
                "platform".into(),
                json!(definition.platform_capabilities().iter().map(|p| p.as_str()).collect::<Vec<_>>()),
            ),
            ("image".into(), json!(container.and_then(|c| c.image()))),
            ("vcpu".into(), json!(resource(ResourceType::Vcpu))),
            ("memory".into(), json!(resource(ResourceType::Memory))),
            ("assign_public_ip".into(), json!(public_ip)),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        let mut expected = Expected::from([
            ("status".into(), Expect::is("ACTIVE")),
            ("platform".into(), Expect::is([PlatformCapability::Fargate.as_str()])),
            ("image".into(), Expect::is(&self.image)),
            ("vcpu".into(), Expect::is(&self.vcpu)),
            ("memory".into(), Expect::is(&self.memory)),
            ("assign_public_ip".into(), Expect::is(self.public_ip().as_str())),
        ]);
        if let Some(revision) = self.expect_revision {
            expected.insert("job_definition".into(), Expect::is(format!("{}:{revision}", self.name)));
        }
        Ok(expected)
    }

    fn creates(&self, _ctx: &RunContext) -> Vec<String> {
        vec![format!("Batch job definition {}", self.name)]
    }

    /// Deregisters the revision the runbook names (else every active one of the name): AWS keeps deregistered
    /// revisions as INACTIVE, which is all a job definition can be brought back to.
    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let request = match self.expect_revision {
            Some(revision) => ctx.batch.describe_job_definitions().job_definitions(format!("{}:{revision}", self.name)),
            None => ctx.batch.describe_job_definitions().job_definition_name(&self.name),
        };
        let described = request.send().await.map_err(|e| StepError::sdk("DescribeJobDefinitions", e))?;
        let mut removed = Vec::new();
        for definition in described.job_definitions().iter().filter(|d| d.status() == Some("ACTIVE")) {
            let what = format!("Batch job definition {}:{}", self.name, definition.revision().unwrap_or_default());
            ctx.ensure_owned(&what, tag_pairs(definition.tags()))?;
            removed.extend(deregister(ctx, definition.job_definition_arn().unwrap_or_default()).await?);
        }
        Ok(removed)
    }
}

/// Deregisters one job definition revision (`arn` or `name:revision`), and removes its jobs' output.
pub(crate) async fn deregister(ctx: &RunContext, definition: &str) -> Result<Vec<String>, StepError> {
    let deregistered = ctx.batch.deregister_job_definition().job_definition(definition).send().await;
    deregistered.map_err(|e| StepError::sdk("DeregisterJobDefinition", e))?;
    let revision = definition.rsplit('/').next().unwrap_or(definition);
    let mut removed = vec![format!("Batch job definition {revision}")];
    let name = revision.split(':').next().unwrap_or(revision);
    removed.extend(super::logs::remove_job_logs(ctx, name).await?);
    Ok(removed)
}

/// Polls `gone` until it says the resource is gone, at most a minute: Batch deletes asynchronously.
async fn wait_until_gone(what: &str, gone: impl AsyncFn() -> Result<bool, StepError>) -> Result<(), StepError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if gone().await? {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(StepError::unexpected(format!("{what} was still there a minute after its deletion")));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

impl RegisterJobDefinition {
    fn public_ip(&self) -> AssignPublicIp {
        if self.assign_public_ip { AssignPublicIp::Enabled } else { AssignPublicIp::Disabled }
    }
}
