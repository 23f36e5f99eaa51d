//! boto3 and the AWS CLI against `crts-harness serve`: the emulator accepts what other clients send, not only
//! what the Rust SDK sends. The scripts live in tests/boto3 and tests/cli.

use std::path::Path;
use std::process::Command;

use rstest::rstest;

use crate::prerequisites::{Prerequisite, docker_engine, docker_missing, require};
use crate::support::{harness_binary, repo_root, serve, serve_simulating_jobs};

fn run_client(program: &str, script: &Path, endpoint: &str) {
    let out = Command::new(program)
        .arg(script)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("CRTS_REPO", repo_root())
        .env_remove("AWS_PROFILE")
        // PYTHONOPTIMIZE strips every `assert`: the scripts would pass whatever the emulator answered.
        .env_remove("PYTHONOPTIMIZE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (install it: see README): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A script that stopped early without an error (an `exit 0`, a swallowed exception) has not said "ok".
    let finished = stdout.lines().last().is_some_and(|last| last.contains(": ok"));
    assert!(
        out.status.success() && finished,
        "{} failed (or did not print its final \": ok\" line):\n--- stdout\n{stdout}\n--- stderr\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[rstest]
#[case::boto3_sts_iam("boto3/iam_smoke.py")]
#[case::boto3_batch("boto3/batch_smoke.py")]
#[case::boto3_lambda("boto3/lambda_smoke.py")]
#[case::boto3_apigateway("boto3/apigateway_smoke.py")]
#[case::boto3_apigateway_usage_export_test_invoke("boto3/apigateway_usage.py")]
#[case::boto3_s3("boto3/s3_smoke.py")]
#[case::boto3_s3_presigned("boto3/s3_presigned.py")]
#[case::boto3_s3_conformance("boto3/s3_conformance.py")]
#[case::boto3_ecr("boto3/ecr_smoke.py")]
#[case::boto3_tagging("boto3/tagging_smoke.py")]
#[case::boto3_pagination("boto3/pagination.py")]
#[case::boto3_logs("boto3/logs.py")]
#[case::boto3_iam_conditions("boto3/iam_conditions.py")]
#[case::boto3_crts_setup_and_trigger("boto3/crts_setup.py")]
fn boto3_scripts_pass_against_serve(#[case] script: &str) {
    require(&[Prerequisite::Boto3]);
    // crts_setup.py pushes a stand-in image (a config and no layers): its job is simulated.
    let served = if script.ends_with("crts_setup.py") { serve_simulating_jobs() } else { serve() };
    run_client("python3", &repo_root().join("tests").join(script), &served.endpoint);
}

#[test]
fn the_aws_cli_performs_the_crts_setup_and_trigger_against_serve() {
    require(&[Prerequisite::AwsCli, Prerequisite::Curl]);
    // The script pushes a stand-in image (no layers): its job is simulated.
    let served = serve_simulating_jobs();
    run_client("bash", &repo_root().join("tests/cli/crts_setup.sh"), &served.endpoint);
}

#[test]
fn the_aws_cli_sets_up_the_swagger_bucket_website_against_serve() {
    require(&[Prerequisite::AwsCli, Prerequisite::Curl]);
    let served = serve();
    run_client("bash", &repo_root().join("tests/cli/s3_website.sh"), &served.endpoint);
}

#[test]
fn the_aws_cli_lists_versions_copies_parts_and_empties_buckets_as_s3_does_against_serve() {
    require(&[Prerequisite::AwsCli]);
    let served = serve();
    run_client("bash", &repo_root().join("tests/cli/s3_conformance.sh"), &served.endpoint);
}

#[test]
fn the_aws_cli_creates_the_ecr_repository_and_logs_in_against_serve() {
    require(&[Prerequisite::AwsCli, Prerequisite::Curl]);
    let served = serve();
    run_client("bash", &repo_root().join("tests/cli/ecr.sh"), &served.endpoint);
}

#[test]
fn the_aws_cli_auto_paginates_every_listing_against_serve() {
    require(&[Prerequisite::AwsCli]);
    let served = serve();
    run_client("bash", &repo_root().join("tests/cli/pagination.sh"), &served.endpoint);
}

#[test]
fn the_aws_cli_reads_cloudwatch_logs_and_tails_a_functions_log_against_serve() {
    require(&[Prerequisite::AwsCli, Prerequisite::AwsCliV2]);
    let served = serve();
    run_client("bash", &repo_root().join("tests/cli/logs.sh"), &served.endpoint);
}

#[test]
fn the_aws_cli_meets_api_gateway_quotas_exports_a_stage_and_test_invokes_a_method_against_serve() {
    require(&[Prerequisite::AwsCli, Prerequisite::Curl]);
    let served = serve();
    run_client("bash", &repo_root().join("tests/cli/apigateway.sh"), &served.endpoint);
}

#[test]
fn the_aws_cli_is_held_to_policy_conditions_against_serve() {
    require(&[Prerequisite::AwsCli]);
    let served = serve();
    run_client("bash", &repo_root().join("tests/cli/iam_conditions.sh"), &served.endpoint);
}

/// Where a Docker engine answers, Batch runs jobs whose image is in the emulator's registry: the runbook deployed
/// through `run --target endpoint=URL` (which pushes the CRTS image), then jobs submitted with boto3 and the AWS
/// CLI run for real.
#[test]
fn batch_runs_jobs_in_docker_from_the_emulators_registry_against_serve() {
    require(&[Prerequisite::Boto3, Prerequisite::Browser]);
    if !docker_engine() {
        return docker_missing("Batch jobs that really run");
    }
    let served = serve();
    let out = Command::new(harness_binary())
        .args(["run", "--target"])
        .arg(format!("endpoint={}", served.endpoint))
        .current_dir(repo_root())
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run crts-harness");
    assert!(
        out.status.success(),
        "crts-harness run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    run_client("python3", &repo_root().join("tests/boto3/batch_containers.py"), &served.endpoint);
    require(&[Prerequisite::AwsCli]);
    run_client("bash", &repo_root().join("tests/cli/batch_containers.sh"), &served.endpoint);

    // Stopping serve removes the containers of jobs still running.
    let mut served = served;
    let submit = r#"
import boto3, time
batch = boto3.client("batch")
job = batch.submit_job(jobName="left-running", jobQueue="crts-aws-jq", jobDefinition="CrtsAwsJD:2",
    containerOverrides={"environment": [{"name": "CRTS_DURATION_SECONDS", "value": "300"}]})["jobId"]
for _ in range(600):
    if batch.describe_jobs(jobs=[job])["jobs"][0]["status"] == "RUNNING":
        break
    time.sleep(0.1)
print(job)
"#;
    let out = Command::new("python3")
        .args(["-c", submit])
        .env("AWS_ENDPOINT_URL", &served.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("python3");
    let job = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let containers = |job: &str| {
        let filter = format!("label=crts-emulator.batch-job={job}");
        let out = Command::new("docker").args(["ps", "-aq", "--filter", &filter]).output().expect("docker ps");
        String::from_utf8_lossy(&out.stdout).split_whitespace().count()
    };
    assert_eq!(containers(&job), 1, "the job {job:?} runs in a container: {}", String::from_utf8_lossy(&out.stderr));
    let status = served.stop_with("TERM", std::time::Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "serve exits 0 on SIGTERM: {status:?}");
    assert_eq!(containers(&job), 0, "the running job's container is gone with serve");
}
