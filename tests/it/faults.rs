//! Every check fails on a scenario that breaks the runbook step it exists to catch (scenarios/faults/),
//! and only the checks that step affects fail.

use crts_harness::checks::Outcome;
use crts_harness::scenario::CheckName::{self, ApiKey, Cors, Image, JobTrigger, SwaggerBrowser, SwaggerSite};
use rstest::rstest;

use crate::prerequisites::{docker_engine, docker_missing};
use crate::support::{run_embedded, scenario, snapshot_settings};

#[rstest]
#[case::no_cors("no-cors", &[Cors, SwaggerBrowser])]
#[case::api_key_not_required("api-key-not-required", &[ApiKey, SwaggerBrowser])]
#[case::policy_missing("policy-missing", &[JobTrigger, SwaggerBrowser])]
#[case::wrong_queue_name("wrong-queue-name", &[JobTrigger, SwaggerBrowser])]
#[case::malformed_lambda_response("malformed-lambda-response", &[JobTrigger, SwaggerBrowser])]
#[case::s3_policy_missing("s3-policy-missing", &[SwaggerSite, SwaggerBrowser])]
#[case::swagger_wrong_stage("swagger-wrong-stage", &[SwaggerSite, SwaggerBrowser])]
#[case::s3_cors_missing("s3-cors-missing", &[SwaggerSite])]
#[case::image_tag_never_pushed("image-tag-never-pushed", &[Image, JobTrigger])]
#[case::job_definition_revision_1("job-definition-revision-1", &[JobTrigger])]
#[case::lambda_drops_parameters("lambda-drops-parameters", &[JobTrigger])]
#[case::lambda_post_without_cors("lambda-post-without-cors", &[Cors, SwaggerBrowser])]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_step_fails_exactly_its_checks(#[case] fault: &str, #[case] failing: &[CheckName]) {
    fails_exactly(fault, failing).await;
}

/// A job command that ignores the parameters shows only in the job's output, which exists where jobs really run:
/// on the embedded emulator, where a Docker engine answers (CI has one; elsewhere this is skipped, saying so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_command_that_ignores_the_parameters_fails_the_job_trigger_where_jobs_really_run() {
    if !docker_engine() {
        return docker_missing("the job's output exists only where jobs really run");
    }
    fails_exactly("job-command-ignores-parameters", &[JobTrigger]).await;
}

async fn fails_exactly(fault: &str, failing: &[CheckName]) {
    let report = run_embedded(&scenario(&format!("faults/{fault}.yaml"))).await;
    let text = crts_harness::report::to_text(&report);
    assert!(report.steps.iter().all(|s| s.outcome == Outcome::Passed), "every step applies:\n{text}");
    for check in &report.checks {
        let expected = if failing.contains(&check.name) { Outcome::Failed } else { Outcome::Passed };
        assert_eq!(check.outcome, expected, "check {} on fault {fault}:\n{text}", check.name.as_str());
    }
    // How each check fails is part of the contract: the snapshot holds the failing observations.
    let failed: Vec<serde_json::Value> = failing.iter().map(|&name| report.check_view(name)).collect();
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!(format!("fault_{fault}"), failed));
}

/// Block Public Access left on: the runbook's public bucket policy is refused by the target itself (AccessDenied,
/// as on AWS), so the run stops at that step and no check runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_public_access_left_on_refuses_the_bucket_policy_step() {
    let report = run_embedded(&scenario("faults/block-public-access-on.yaml")).await;
    let text = crts_harness::report::to_text(&report);
    let failed: Vec<&str> =
        report.steps.iter().filter(|s| s.outcome == Outcome::Failed).map(|s| s.id.as_str()).collect();
    assert_eq!(failed, ["s3.bucket-policy"], "{text}");
    let step = report.steps.iter().find(|s| s.id == "s3.bucket-policy").expect("step is reported");
    let error = step.error.as_deref().unwrap_or_default();
    assert!(error.starts_with("PutBucketPolicy: AccessDenied: ") && error.contains("BlockPublicPolicy"), "{error}");
    assert!(report.checks.iter().all(|c| matches!(c.outcome, Outcome::NotRun(_))), "{text}");
    assert!(!report.passed());
}
