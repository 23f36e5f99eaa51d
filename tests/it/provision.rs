//! `run --provision` against the emulator playing the account: unique names, a journal, and teardown that leaves
//! the account as it was (a stack made by hand before the run is the "existing" part of the account).

use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{harness_binary, repo_root};
use crate::verify::Stack;

fn provision(stack: &Stack, args: &[&str]) -> Output {
    Command::new(harness_binary())
        .args(["run", "--provision"])
        .arg(format!("--target=endpoint={}", stack.endpoint()))
        .args(args)
        .current_dir(repo_root())
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run crts-harness")
}

/// `crts-harness cleanup --yes --journal JOURNAL`.
fn cleanup_journal(journal: &std::path::Path) -> Output {
    Command::new(harness_binary())
        .args(["cleanup", "--yes", "--journal"])
        .arg(journal)
        .current_dir(repo_root())
        .output()
        .expect("cleanup")
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_provisioned_run_passes_and_leaves_the_account_as_it_found_it() {
    let stack = Stack::new(None);
    let before = stack.dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let report_dir = dir.path().display().to_string();
    let out = provision(&stack, &["--run-id", "t3st01", "--report-dir", &report_dir]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let after = stack.dump();
    assert_eq!(before, after, "the provisioned run left the account changed");

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).expect("report.json"))
            .expect("JSON");
    let removed: Vec<&str> =
        report["teardown"]["removed"].as_array().expect("removed").iter().filter_map(Value::as_str).collect();
    for what in [
        "S3 bucket cris-swagger-bucket-crts-t3st01 (emptied)",
        "API Gateway REST API crts-API-crts-t3st01",
        "Lambda function crts-crts-t3st01",
        "IAM policy crts-batch-submit-job-crts-t3st01",
        "IAM role crts-role-crts-t3st01",
        "Batch job queue crts-aws-jq-crts-t3st01",
        "Batch compute environment crts-fargate-ce-crts-t3st01",
        "Batch job definition CrtsAwsJD-crts-t3st01:2",
        "ECR repository crts-crts-t3st01 (with its images)",
    ] {
        assert!(removed.iter().any(|r| r.starts_with(what)), "{what} not removed: {removed:#?}");
    }
    assert_eq!(report["teardown"]["leftovers"], serde_json::json!([]));
    // Every step was journaled before it was applied, and every removal after it happened.
    let journal = std::fs::read_to_string(dir.path().join("crts-provision-t3st01.jsonl")).expect("the journal");
    let events: Vec<Value> = journal.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let count = |event: &str| events.iter().filter(|e| e["event"] == event).count();
    assert_eq!((count("applying"), count("applied")), (26, 26), "{journal}");
    assert_eq!(count("removed"), removed.len(), "{journal}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("TEARDOWN of run t3st01"), "{}", show(&out));
}

#[test]
fn a_failing_provisioned_run_still_tears_down() {
    let stack = Stack::new(None);
    let before = stack.dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(harness_binary());
    command.args(["run", "scenarios/faults/no-cors.yaml", "--provision", "--report-dir"]).arg(dir.path());
    command.arg(format!("--target=endpoint={}", stack.endpoint())).current_dir(repo_root());
    let out = command.output().expect("run");
    assert_eq!(out.status.code(), Some(1), "the fault fails its check: {}", show(&out));
    assert_eq!(before, stack.dump(), "the failing run left the account changed");
}

#[test]
fn keep_leaves_the_stack_and_says_so_loudly() {
    let stack = Stack::new(None);
    let before = stack.dump();
    let out = provision(
        &stack,
        &[
            "--keep",
            "--run-id",
            "kept01",
            "--report-dir",
            &tempfile::tempdir().expect("dir").path().display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("WARNING: --keep: the stack of run kept01 stays in the account"), "{stderr}");
    let after = stack.dump();
    assert_ne!(before, after);
    assert!(after["functions"].get("crts-crts-kept01").is_some(), "the function is still there");
}

#[test]
fn provision_on_aws_needs_the_account_and_checks_it_before_creating_anything() {
    let stack = Stack::new(None);
    let first = stack.requests().len();
    let run = |args: &[&str]| {
        Command::new(harness_binary())
            .args(["run", "--provision", "--target", "aws"])
            .args(args)
            .current_dir(repo_root())
            .env("AWS_ENDPOINT_URL", stack.endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("CRTS_AWS_ACCOUNT_ID")
            .output()
            .expect("run")
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --account-id"), "{}", show(&out));
    let out = run(&["--account-id", "111122223333"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let made: Vec<String> = stack.requests()[first..].iter().map(|e| e.operation.clone()).collect();
    assert_eq!(made, ["GetCallerIdentity"], "only the account was asked");
}

/// Starts a provisioned run in the background and waits until its journal shows `applied` steps.
#[allow(clippy::zombie_processes, reason = "the caller waits for the child it is given")]
fn start_and_wait(stack: &Stack, run_id: &str, dir: &std::path::Path, applied: usize) -> std::process::Child {
    let mut child = Command::new(harness_binary())
        .args(["run", "--provision", "--run-id", run_id, "--report-dir"])
        .arg(dir)
        .arg(format!("--target=endpoint={}", stack.endpoint()))
        .current_dir(repo_root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start crts-harness");
    let journal = dir.join(format!("crts-provision-{run_id}.jsonl"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        if text.matches(r#""event":"applied""#).count() >= applied {
            return child;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not apply {applied} steps: {text}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn ctrl_c_stops_the_run_and_tears_down() {
    let stack = Stack::new(None);
    let before = stack.dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let child = start_and_wait(&stack, "int001", dir.path(), 12);
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill -INT");
    assert!(status.success());
    let out = child.wait_with_output().expect("the run ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted: no new step or check starts; tearing down what run int001 made"), "{stderr}");
    assert_eq!(before, stack.dump(), "the interrupted run left the account changed");
}

/// A run killed mid-way leaves resources; `cleanup` lists them without changing anything, and removes only the run
/// it is given with `--yes`.
#[test]
fn cleanup_finds_what_a_killed_run_left_and_removes_it_only_with_yes() {
    let stack = Stack::new(None);
    let before = stack.dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let kept = provision(&stack, &["--keep", "--run-id", "kept02", "--report-dir", &dir.path().display().to_string()]);
    assert_eq!(kept.status.code(), Some(0), "{}", show(&kept));
    let mut killed = start_and_wait(&stack, "kill01", dir.path(), 14);
    killed.kill().expect("SIGKILL");
    let _ = killed.wait();
    let left = stack.dump();
    assert_ne!(before, left, "the killed run left resources");

    let journals = [dir.path().join("crts-provision-kept02.jsonl"), dir.path().join("crts-provision-kill01.jsonl")];
    let cleanup = |args: &[&str]| {
        let mut command = Command::new(harness_binary());
        command.arg("cleanup").current_dir(repo_root());
        for journal in &journals {
            command.arg("--journal").arg(journal);
        }
        command.args(args).output().expect("cleanup")
    };
    let listed = cleanup(&[]);
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0), "{}", show(&listed));
    assert!(stdout.contains("run kept02") && stdout.contains("run kill01"), "{stdout}");
    assert!(stdout.contains("(a dry run: nothing was changed"), "{stdout}");
    assert_eq!(left, stack.dump(), "the dry run changed something");

    let removed = cleanup(&["--run-id", "kill01", "--yes"]);
    assert_eq!(removed.status.code(), Some(0), "{}", show(&removed));
    let after_one = stack.dump();
    assert!(after_one["functions"].get("crts-crts-kept02").is_some(), "cleanup --run-id kill01 removed kept02's");
    assert!(after_one["functions"].get("crts-crts-kill01").is_none(), "{}", show(&removed));

    let rest = cleanup(&["--yes"]);
    assert_eq!(rest.status.code(), Some(0), "{}", show(&rest));
    assert_eq!(before, stack.dump(), "cleanup --yes left something");
    let again = cleanup(&[]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing left behind"), "{}", show(&again));
}

/// `policy provision` is enough: a provisioned run as a role session holding exactly that policy passes and leaves
/// the account as it was.
#[test]
fn the_printed_provision_policy_is_enough_for_a_provisioned_run() {
    let stack = Stack::new(None);
    let out = Command::new(harness_binary())
        .args(["policy", "provision"])
        .current_dir(repo_root())
        .output()
        .expect("policy provision");
    assert!(out.status.success(), "{}", show(&out));
    let policy: Value = serde_json::from_slice(&out.stdout).expect("the policy is JSON");
    let credentials = crate::verify::role_session(&stack, "crts-provisioner", &policy);
    let before = stack.dump();
    let mut command = Command::new(harness_binary());
    command.args(["run", "--provision", "--target", "aws", "--account-id", "000000000000"]).current_dir(repo_root());
    command.env("AWS_ENDPOINT_URL", stack.endpoint()).env("AWS_REGION", "us-east-1").env_remove("AWS_PROFILE");
    for (name, value) in &credentials {
        command.env(name, value);
    }
    let out = command.output().expect("run --provision");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(before, stack.dump(), "the run as the provisioner left the account changed");

    // The same policy finds a run whose journal is gone by its tag, and removes it.
    let cache = tempfile::tempdir().expect("cache");
    let as_provisioner = |args: &[&str]| {
        let mut command = Command::new(harness_binary());
        command.args(args).args(["--target", "aws", "--account-id", "000000000000"]).current_dir(repo_root());
        command.env("AWS_ENDPOINT_URL", stack.endpoint()).env("AWS_REGION", "us-east-1").env_remove("AWS_PROFILE");
        command.env("CRTS_CACHE_DIR", cache.path());
        for (name, value) in &credentials {
            command.env(name, value);
        }
        command.output().expect("crts-harness")
    };
    let kept = as_provisioner(&["run", "--provision", "--keep", "--run-id", "pol001"]);
    assert_eq!(kept.status.code(), Some(0), "{}", show(&kept));
    std::fs::remove_file(cache.path().join("runs/crts-provision-pol001.jsonl")).expect("the journal is lost");
    let cleaned = as_provisioner(&["cleanup", "--yes", "--older-than", "0s"]);
    assert_eq!(cleaned.status.code(), Some(0), "{}", show(&cleaned));
    assert!(String::from_utf8_lossy(&cleaned.stdout).contains("run pol001 on aws, found by its"), "{}", show(&cleaned));
    assert_eq!(before, stack.dump(), "cleanup by tag as the provisioner left something");
}

/// The provision policy allows changes only on the run's resources: a role session holding it cannot delete a
/// bucket, a function or a role the account already had (names without the run suffix), nor touch API Gateway's
/// account settings.
#[test]
fn the_provision_policy_does_not_reach_resources_without_the_run_suffix() {
    let out = Command::new(harness_binary())
        .args(["policy", "provision"])
        .current_dir(repo_root())
        .output()
        .expect("policy provision");
    let policy: Value = serde_json::from_slice(&out.stdout).expect("the policy is JSON");
    let statements = policy["Statement"].as_array().expect("statements");
    let read = statements.iter().find(|s| s["Sid"] == "CrtsHarnessProvisionRead").expect("a read statement");
    assert_eq!(read["Resource"], "*");
    for action in read["Action"].as_array().expect("actions") {
        assert!(crts_harness::verify::policy::is_read_only(action.as_str().unwrap_or_default()), "{action}");
    }
    for statement in statements.iter().filter(|s| s["Sid"] != "CrtsHarnessProvisionRead") {
        assert_ne!(statement["Resource"], "*", "changes on every resource: {statement}");
    }
    let stack = Stack::new(None);
    let credentials = crate::verify::role_session(&stack, "crts-provisioner", &policy);
    let before = stack.dump();
    let script = r#"
import boto3
from botocore.exceptions import ClientError
calls = [
    lambda: boto3.client("s3").delete_bucket_policy(Bucket="crts-console-swagger"),
    lambda: boto3.client("lambda").delete_function(FunctionName="crts-console"),
    lambda: boto3.client("iam").detach_role_policy(RoleName="crtsBatchExecutionRole",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"),
    lambda: boto3.client("batch").update_job_queue(jobQueue="crts-console-jq", state="DISABLED"),
    lambda: boto3.client("ecr").delete_repository(repositoryName="crts-console", force=True),
    lambda: boto3.client("apigateway").update_account(patchOperations=[]),
]
for call in calls:
    try:
        call()
    except ClientError as error:
        assert "AccessDenied" in error.response["Error"]["Code"], error.response
    else:
        raise AssertionError("allowed")
print("all refused")
"#;
    let mut command = Command::new("python3");
    command.args(["-c", script]).env("AWS_ENDPOINT_URL", stack.endpoint()).env("AWS_DEFAULT_REGION", "us-east-1");
    command.env_remove("AWS_PROFILE").env_remove("PYTHONOPTIMIZE");
    for (name, value) in &credentials {
        command.env(name, value);
    }
    let out = command.output().expect("python3");
    assert!(String::from_utf8_lossy(&out.stdout).contains("all refused"), "{}", show(&out));
    assert_eq!(before, stack.dump(), "the provisioner changed what the account had");
}

/// A delete that is refused twice is retried until it goes; one that is always refused is left over: exit 4, the
/// leftover listed with its step and error, and `cleanup` removes it once the refusal stops.
#[test]
fn teardown_retries_a_refused_delete_and_exits_4_when_it_stays_refused() {
    const DELETE_CE: &str = "/v1/deletecomputeenvironment";
    let stack = Stack::new(None);
    let before = stack.dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let report_dir = dir.path().display().to_string();

    stack.emulator().faults().fail_next(DELETE_CE, 2);
    let first = stack.requests().len();
    let out = provision(&stack, &["--run-id", "retry1", "--report-dir", &report_dir]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let statuses: Vec<u16> =
        stack.requests()[first..].iter().filter(|e| e.path == DELETE_CE).map(|e| e.status).collect();
    assert_eq!(statuses, [400, 400, 200], "refused twice, then deleted");
    assert_eq!(before, stack.dump());

    stack.emulator().faults().fail_next(DELETE_CE, 1000);
    let out = provision(&stack, &["--run-id", "stuck1", "--report-dir", &report_dir]);
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .contains("LEFT OVER batch.compute-environment: DeleteComputeEnvironment: ClientException: injected fault"),
        "{stdout}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).expect("report")).expect("JSON");
    assert_eq!(report["teardown"]["leftovers"][0]["step"], "batch.compute-environment");
    assert_ne!(before, stack.dump(), "the compute environment is still there");

    stack.emulator().faults().clear();
    let journal = dir.path().join("crts-provision-stuck1.jsonl");
    let out = cleanup_journal(&journal);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(before, stack.dump(), "cleanup removed what teardown could not");
}

/// Every resource a provisioned run makes carries its run id and start time: what `--keep` leaves shows them.
#[test]
fn every_resource_a_provisioned_run_makes_carries_its_run_tags() {
    let stack = Stack::new(None);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = provision(&stack, &["--keep", "--run-id", "tags01", "--report-dir", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let dump = stack.dump();
    let run_tag = |tags: &Value| -> Option<String> {
        let pairs: Vec<(String, String)> = match tags {
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect(),
            Value::Array(list) => list
                .iter()
                .map(|t| {
                    let field = |a: &str, b: &str| t[a].as_str().or_else(|| t[b].as_str()).unwrap_or("").to_owned();
                    (field("Key", "key"), field("Value", "value"))
                })
                .collect(),
            _ => Vec::new(),
        };
        let created = pairs.iter().find(|(k, _)| k == "crts-harness:created").map(|(_, v)| v.clone())?;
        assert!(created.ends_with('Z') && created.len() == 20, "created is RFC 3339 UTC: {created}");
        pairs.into_iter().find(|(k, _)| k == "crts-harness:run-id").map(|(_, v)| v)
    };
    let tags01 = Some("tags01".to_owned());
    assert_eq!(run_tag(&dump["roles"]["crts-role-crts-tags01"]["tags"]), tags01, "role");
    assert_eq!(run_tag(&dump["policies"]["crts-batch-submit-job-crts-tags01"]["tags"]), tags01, "policy");
    assert_eq!(run_tag(&dump["functions"]["crts-crts-tags01"]["tags"]), tags01, "function");
    assert_eq!(run_tag(&dump["buckets"]["cris-swagger-bucket-crts-tags01"]["tags"]["TagSet"]), tags01, "bucket");
    assert_eq!(run_tag(&dump["repositories"]["crts-crts-tags01"]["tags"]), tags01, "repository");
    // API Gateway (REST API, stage, key, usage plan) and Batch (compute environment, queue, both definition
    // revisions), as the Resource Groups Tagging API lists them.
    let tagged: Vec<String> = dump["tagged"]
        .as_array()
        .expect("tagged")
        .iter()
        .filter(|r| run_tag(&r["Tags"]) == tags01)
        .map(|r| {
            let arn = r["ResourceARN"].as_str().unwrap_or_default();
            let kind =
                arn.split(['/', ':']).filter(|p| !p.is_empty()).nth(if arn.contains(":apigateway:") { 4 } else { 5 });
            format!(
                "{}{}",
                arn.split(':').nth(2).unwrap_or_default(),
                kind.map(|k| format!(":{k}")).unwrap_or_default()
            )
        })
        .collect();
    for kind in [
        "apigateway:restapis",
        "apigateway:apikeys",
        "apigateway:usageplans",
        "batch:compute-environment",
        "batch:job-queue",
        "batch:job-definition",
        "lambda:function",
        "ecr:repository",
        "s3",
    ] {
        assert!(tagged.iter().any(|t| t.starts_with(kind)), "no {kind} tagged by the run: {tagged:#?}");
    }
    let stages = dump["tagged"].as_array().expect("tagged").iter();
    let stages: Vec<&Value> =
        stages.filter(|r| r["ResourceARN"].as_str().is_some_and(|a| a.contains("/stages/"))).collect();
    assert!(stages.iter().any(|s| run_tag(&s["Tags"]) == tags01), "the stage is tagged: {stages:#?}");
    assert_eq!(tagged.iter().filter(|t| t.starts_with("batch:job-definition")).count(), 2, "{tagged:#?}");
}

/// A resource of the run that lost its tag (someone else's now, as far as anyone can tell) is never removed:
/// teardown leaves it, says why, and exits 4; everything else goes.
#[test]
fn teardown_leaves_a_resource_without_the_run_tag_and_exits_4() {
    let stack = Stack::new(None);
    let before = stack.dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let kept = provision(&stack, &["--keep", "--run-id", "guard1", "--report-dir", &dir.path().display().to_string()]);
    assert_eq!(kept.status.code(), Some(0), "{}", show(&kept));
    stack.python(&["untag".into(), "function".into(), "crts-crts-guard1".into()]);
    let out = cleanup_journal(&dir.path().join("crts-provision-guard1.jsonl"));
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "LEFT OVER lambda.function: Lambda function crts-crts-guard1 carries no crts-harness:run-id tag, not crts-harness:run-id=guard1: it was not made by this run, so it is left as it is"
        ),
        "{stdout}"
    );
    let mut after = stack.dump();
    let function = after["functions"].as_object_mut().expect("functions").remove("crts-crts-guard1");
    assert!(function.is_some(), "the untagged function is still there");
    forget_tagged(&mut after, "arn:aws:lambda:us-east-1:000000000000:function:crts-crts-guard1");
    // The function left behind keeps the log group its invocations wrote.
    forget_tagged(&mut after, "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/crts-crts-guard1");
    assert!(before == after, "everything else was removed: {}", show(&out));
}

/// Takes a resource out of a dump's Resource Groups Tagging API listing.
fn forget_tagged(dump: &mut Value, arn: &str) {
    let tagged = dump["tagged"].as_array_mut().expect("tagged");
    let at = tagged.iter().position(|r| r["ResourceARN"] == arn).unwrap_or_else(|| panic!("{arn} is not listed"));
    tagged.remove(at);
}

/// A run whose journal is gone (a CI runner thrown away) is found by its tag on the target: listed (a dry run
/// changes nothing), then removed with `--yes`; a resource of the run whose tag someone took off is never touched.
#[test]
fn cleanup_finds_a_run_without_a_journal_by_its_tag() {
    let stack = Stack::new(None);
    let before = stack.dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let kept = provision(&stack, &["--keep", "--run-id", "orph01", "--report-dir", &dir.path().display().to_string()]);
    assert_eq!(kept.status.code(), Some(0), "{}", show(&kept));
    std::fs::remove_file(dir.path().join("crts-provision-orph01.jsonl")).expect("the journal is lost");
    stack.python(&["untag".into(), "bucket".into(), "cris-swagger-bucket-crts-orph01".into()]);
    let left = stack.dump();
    let cache = tempfile::tempdir().expect("an empty cache: no journals");
    let cleanup = |args: &[&str]| {
        Command::new(harness_binary())
            .arg("cleanup")
            .arg(format!("--target=endpoint={}", stack.endpoint()))
            .args(args)
            .env("CRTS_CACHE_DIR", cache.path())
            .current_dir(repo_root())
            .output()
            .expect("cleanup")
    };
    let listed = cleanup(&[]);
    assert_eq!(listed.status.code(), Some(0), "{}", show(&listed));
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(stdout.contains("run orph01 on endpoint="), "{stdout}");
    assert!(stdout.contains("found by its crts-harness:run-id tag (no journal)"), "{stdout}");
    assert!(stdout.contains("arn:aws:iam::000000000000:role/crts-role-crts-orph01 (created 20"), "{stdout}");
    assert!(stdout.contains("arn:aws:lambda:us-east-1:000000000000:function:crts-crts-orph01"), "{stdout}");
    assert!(!stdout.contains("arn:aws:s3:::cris-swagger-bucket-crts-orph01"), "the untagged bucket: {stdout}");
    assert_eq!(left, stack.dump(), "the dry run changed something");
    assert!(cleanup(&["--run-id", "someone-else", "--yes"]).status.success());
    assert_eq!(left, stack.dump(), "--run-id of another run removed something");

    // `--yes` alone does not remove a run no journal here names: it may be running on another machine.
    let held = cleanup(&["--yes"]);
    assert_eq!(held.status.code(), Some(0), "{}", show(&held));
    assert!(
        String::from_utf8_lossy(&held.stdout).contains("not removed: run orph01 has no journal here"),
        "{}",
        show(&held)
    );
    assert_eq!(left, stack.dump(), "cleanup --yes without --run-id removed a run found only by tag");

    let removed = cleanup(&["--yes", "--run-id", "orph01"]);
    assert_eq!(removed.status.code(), Some(0), "{}", show(&removed));
    let mut after = stack.dump();
    let bucket = after["buckets"].as_object_mut().expect("buckets").remove("cris-swagger-bucket-crts-orph01");
    assert!(bucket.is_some(), "the bucket without the tag is left as it is: {}", show(&removed));
    forget_tagged(&mut after, "arn:aws:s3:::cris-swagger-bucket-crts-orph01");
    assert!(before == after, "cleanup by tag left something: {}", show(&removed));
}

/// The second Ctrl-C exits at once (130) and lists what is left by kind, name and id, with the command that
/// removes it; that command leaves the account as it was.
#[test]
fn a_second_ctrl_c_exits_at_once_listing_what_is_left_by_name_and_id() {
    use std::io::BufRead as _;
    let stack = Stack::new(None);
    let before = stack.dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = start_and_wait(&stack, "int002", dir.path(), 17);
    // Teardown starts with the bucket (the last step that makes something): refused, it is retried for seconds, so
    // nothing is removed before the second Ctrl-C.
    stack.emulator().faults().fail_next("/cris-swagger-bucket-crts-int002", 1000);
    let stderr = child.stderr.take().expect("piped stderr");
    let (lines, received) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let interrupt =
        || assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill").success());
    interrupt();
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with("interrupted:")) {
        seen.push(received.recv_timeout(std::time::Duration::from_secs(30)).expect("the first Ctrl-C is answered"));
    }
    interrupt();
    let status = child.wait().expect("the run ends");
    reader.join().expect("stderr read");
    seen.extend(received.try_iter());
    let stderr = seen.join("\n");
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("exiting at once: run int002 leaves what it made in the account:"), "{stderr}");
    for what in [
        "ECR repository crts-crts-int002",
        "Batch compute environment crts-fargate-ce-crts-int002",
        "Batch job queue crts-aws-jq-crts-int002",
        "IAM role crts-role-crts-int002",
        "Lambda function crts-crts-int002",
        "IAM policy crts-batch-submit-job-crts-int002",
    ] {
        assert!(stderr.lines().any(|l| l.trim() == what), "{what} not listed: {stderr}");
    }
    for with_id in ["API Gateway REST API crts-API-crts-int002 (", "API key crts-api-key-crts-int002 (", "usage plan "]
    {
        assert!(
            stderr.lines().any(|l| l.trim().starts_with(with_id) && l.trim().ends_with(')')),
            "{with_id}: {stderr}"
        );
    }
    let journal = dir.path().join("crts-provision-int002.jsonl");
    assert!(stderr.contains(&format!("crts-harness cleanup --journal {} --yes", journal.display())), "{stderr}");
    stack.emulator().faults().clear();
    let out = cleanup_journal(&journal);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(before, stack.dump(), "what the interrupted run left was removed");
}
