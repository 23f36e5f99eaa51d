//! `crts-harness load`: the stack under load loses nothing, and the reconciliation that says so would say
//! otherwise.

use std::collections::BTreeSet;

use aws_sdk_batch::types::{
    CeState, CeType, ComputeEnvironmentOrder, ComputeResource, ContainerProperties, CrType, JobDefinitionType, JqState,
    PlatformCapability, ResourceRequirement, ResourceType,
};

use crate::support::{emulator, harness_binary, repo_root, sdk_config};

/// A small load through the real stack (API Gateway → Lambda → Batch, and S3): every 200 is a listed job.
#[test]
fn a_small_load_loses_nothing_and_says_so() {
    let out = std::process::Command::new(harness_binary())
        .args(["load", "--requests", "300", "--concurrency", "16", "--objects", "50", "--idle-seconds", "0"])
        .current_dir(repo_root())
        .output()
        .expect("run crts-harness load");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("answered 200          : 300 (not 200: 0); lost (200 but not in ListJobs): 0"), "{text}");
    assert!(
        text.contains("S3 PUT/GET round trips : 50 objects,") && text.contains(": 0 failed, 0 corrupted"),
        "{text}"
    );
    assert!(text.contains("emulator RSS (with its Lambda workers): before ") && !text.contains("n/a"), "{text}");
    assert!(text.contains("result                 : nothing lost"), "{text}");
}

/// A job id answered but not in ListJobs is reported lost; the ones that are there are not.
#[tokio::test]
async fn a_job_answered_but_not_listed_is_reported_lost() {
    let emulator = emulator().await;
    let batch = aws_sdk_batch::Client::new(&sdk_config(emulator.endpoint()).await);
    let resources = ComputeResource::builder()
        .r#type(CrType::Fargate)
        .maxv_cpus(4)
        .subnets("subnet-1")
        .security_group_ids("sg-1")
        .build();
    batch
        .create_compute_environment()
        .compute_environment_name("ce")
        .r#type(CeType::Managed)
        .state(CeState::Enabled)
        .compute_resources(resources)
        .send()
        .await
        .expect("CreateComputeEnvironment");
    let order = ComputeEnvironmentOrder::builder().order(1).compute_environment("ce").build();
    batch
        .create_job_queue()
        .job_queue_name("queue")
        .priority(1)
        .state(JqState::Enabled)
        .compute_environment_order(order)
        .send()
        .await
        .expect("CreateJobQueue");
    let requirement = |kind, value: &str| ResourceRequirement::builder().r#type(kind).value(value).build();
    let container = ContainerProperties::builder()
        .image("busybox")
        .execution_role_arn("arn:aws:iam::000000000000:role/ecsTaskExecutionRole")
        .resource_requirements(requirement(ResourceType::Vcpu, "0.25"))
        .resource_requirements(requirement(ResourceType::Memory, "512"))
        .build();
    batch
        .register_job_definition()
        .job_definition_name("jd")
        .r#type(JobDefinitionType::Container)
        .platform_capabilities(PlatformCapability::Fargate)
        .container_properties(container)
        .send()
        .await
        .expect("RegisterJobDefinition");
    let mut answered = BTreeSet::new();
    for i in 0..3 {
        let job = batch.submit_job().job_name(format!("j{i}")).job_queue("queue").job_definition("jd").send().await;
        answered.insert(job.expect("SubmitJob").job_id().expect("a job id").to_owned());
    }
    assert_eq!(
        crts_harness::load::reconcile(&batch, "queue", &answered, std::time::Duration::from_secs(1)).await,
        Ok(Vec::new())
    );
    answered.insert("00000000-0000-0000-0000-000000000000".to_owned());
    let lost = crts_harness::load::reconcile(&batch, "queue", &answered, std::time::Duration::from_secs(1)).await;
    assert_eq!(lost, Ok(vec!["00000000-0000-0000-0000-000000000000".to_owned()]));
    emulator.shutdown().await;
}
