//! `crts-harness verify` against a stack made by hand (tests/boto3/console_stack.py: boto3 the way the console
//! makes it, with names unlike the runbook's), the emulator playing the account: in sync and unchanged, one drift
//! per resource kind, the ignore file, least privilege by enforcement, the account guard, and `run --target aws`.

use std::process::{Command, Output};

use crts_emulator::Emulator;
use crts_emulator::journal::Entry;
use rstest::rstest;
use serde_json::Value;

use crate::prerequisites::{Prerequisite, require};
use crate::support::{harness_binary, repo_root, snapshot_settings};

/// An emulator (in this process, so its request journal can be read) holding a stack made by hand (also what a
/// provisioned run must leave untouched: tests/it/provision.rs).
pub(crate) struct Stack {
    runtime: tokio::runtime::Runtime,
    emulator: Option<Emulator>,
    /// `--var NAME=VALUE` for the names the stack uses.
    vars: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Stack {
    pub(crate) fn new(drift: Option<&str>) -> Self {
        require(&[Prerequisite::Boto3]);
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        // The stack's image is a stand-in (an empty layer): its jobs are simulated.
        let emulator = runtime.block_on(crate::support::emulator_simulating_jobs());
        let dir = tempfile::tempdir().expect("temp dir");
        let mut stack = Self { runtime, emulator: Some(emulator), vars: Vec::new(), _dir: dir };
        let definition = stack._dir.path().join("crts-swagger.json");
        let mut args = vec!["build".to_owned(), definition.display().to_string()];
        if let Some(drift) = drift {
            args.extend(["--drift".to_owned(), drift.to_owned()]);
        }
        let out = stack.python(&args);
        let names: serde_json::Map<String, Value> =
            serde_json::from_slice(&out.stdout).expect("the script prints JSON");
        stack.vars = names
            .iter()
            .flat_map(|(name, value)| ["--var".to_owned(), format!("{name}={}", value.as_str().unwrap_or_default())])
            .collect();
        stack
    }

    pub(crate) fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().expect("running")
    }

    pub(crate) fn endpoint(&self) -> String {
        self.emulator().endpoint().to_owned()
    }

    /// tests/boto3/console_stack.py with `args`, as the account's administrator; it must succeed.
    pub(crate) fn python(&self, args: &[String]) -> Output {
        let out = Command::new("python3")
            .arg(repo_root().join("tests/boto3/console_stack.py"))
            .args(args)
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("CRTS_REPO", repo_root())
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run python3");
        assert!(out.status.success(), "console_stack.py {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Everything the services read back.
    pub(crate) fn dump(&self) -> Value {
        serde_json::from_slice(&self.python(&["dump".to_owned()]).stdout).expect("the dump is JSON")
    }

    /// `crts-harness verify --target endpoint=URL` with the stack's names and `args`.
    fn verify(&self, args: &[&str]) -> Verified {
        let mut command = Command::new(harness_binary());
        command.arg("verify").arg(format!("--target=endpoint={}", self.endpoint()));
        command.args(&self.vars).args(args);
        Verified::from(command)
    }

    /// `crts-harness verify --target aws` with AWS_ENDPOINT_URL at the emulator and these credentials.
    fn verify_as(&self, credentials: &[(&str, &str)], args: &[&str]) -> Verified {
        let mut command = Command::new(harness_binary());
        command.args(["verify", "--target", "aws"]).args(&self.vars).args(args);
        command.env("AWS_ENDPOINT_URL", self.endpoint()).env("AWS_REGION", "us-east-1");
        command.env_remove("AWS_SESSION_TOKEN");
        for (name, value) in credentials {
            command.env(name, value);
        }
        Verified::from(command)
    }

    pub(crate) fn requests(&self) -> Vec<Entry> {
        self.emulator().requests()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

/// What a verify run printed and how it exited.
struct Verified {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Verified {
    fn from(mut command: Command) -> Self {
        command.current_dir(repo_root()).env_remove("AWS_PROFILE").env_remove("CRTS_API_KEY");
        let out = command.output().expect("run crts-harness verify");
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
        report["steps"].as_array().and_then(|s| s.iter().find(|s| s["id"] == id)).expect("the step is reported")
    }
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// A request that cannot have changed anything: a read, or a refused call to the API or website.
fn is_read(entry: &Entry) -> bool {
    let read_operation = ["Get", "List", "Describe", "BatchGet"].iter().any(|p| entry.operation.starts_with(p));
    let read_method = matches!(entry.method.as_str(), "GET" | "HEAD" | "OPTIONS");
    // Batch's REST protocol POSTs every operation to /v1/<operation>.
    let batch_read = entry.service == "batch" && ["/v1/describe", "/v1/list"].iter().any(|p| entry.path.starts_with(p));
    let refused = matches!(entry.service, "execute-api" | "s3-website" | "s3") && entry.status >= 400;
    read_operation || read_method || batch_read || refused
}

#[test]
fn a_stack_made_by_hand_is_in_sync_and_verify_changes_nothing() {
    let stack = Stack::new(None);
    let before = stack.dump();
    let first = stack.requests().len();
    let reports = tempfile::tempdir().expect("temporary directory");
    let verified = stack.verify(&["--format", "json", "--report-dir", &reports.path().display().to_string()]);
    let made: Vec<Entry> = stack.requests()[first..].to_vec();
    let after = stack.dump();

    assert_eq!(verified.code, 0, "{verified:?}");
    let report = verified.json();
    let statuses: Vec<(&str, &str)> = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["id"].as_str().unwrap_or_default(), s["status"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(statuses.len(), 26, "{statuses:?}");
    assert!(statuses.iter().all(|(_, status)| *status == "in_sync"), "{statuses:?}");
    let checks: Vec<(&str, &str)> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| (c["name"].as_str().unwrap_or_default(), c["outcome"]["status"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        checks,
        [
            ("image", "passed"),
            ("cors", "passed"),
            ("api_key", "passed"),
            ("job_trigger", "not_checked"),
            ("swagger_site", "passed"),
            ("swagger_browser", "not_checked")
        ]
    );
    assert_eq!(
        report["checks"][3]["outcome"]["reason"], "would submit a Batch job (pass --trigger-job)",
        "what would write or spend says how to allow it"
    );

    // Nothing changed: the full read-back is the same, and every request verify made was a read.
    assert_eq!(before, after, "verify changed the account");
    let writes: Vec<&Entry> = made.iter().filter(|e| !is_read(e)).collect();
    assert!(writes.is_empty(), "verify made requests that may write: {writes:#?}");
    assert!(
        made.iter().any(|e| e.service == "apigateway" && e.method == "GET" && e.path.starts_with("/apikeys/")),
        "the key is read (GetApiKey with includeValue)"
    );
    // The API key's value (read with includeValue) is never printed.
    let value = before["api_keys"][0]["value"].as_str().expect("the dump holds the key's value");
    assert!(!verified.stdout.contains(value) && !verified.stderr.contains(value), "the API key leaked");
    for file in ["drift.txt", "drift.json", "drift.xml"] {
        let written = std::fs::read_to_string(reports.path().join(file)).expect("the report directory's files");
        assert!(!written.contains(value), "the API key leaked into {file}");
    }
    assert_eq!(made.first().map(|e| e.operation.as_str()), Some("GetCallerIdentity"), "the first call");
}

/// One drift per resource kind: the step that owns it is modified or missing with the exact path, expected and
/// actual; exit 1; the drift report is snapshotted.
#[rstest]
#[case::public_ip_off("public-ip-off", "batch.job-definition-ecr-image", "modified")]
#[case::api_key_not_deployed("api-key-not-deployed", "apigateway.deploy", "modified")]
#[case::env_wrong_revision("env-wrong-revision", "lambda.environment-variables", "modified")]
#[case::policy_detached("policy-detached", "lambda.submit-job-policy", "modified")]
#[case::cors_options_missing("cors-options-missing", "apigateway.enable-cors", "modified")]
#[case::website_off("website-off", "s3.static-website-hosting", "missing")]
#[case::bucket_cors_missing("bucket-cors-missing", "s3.cors", "missing")]
#[case::image_not_pushed("image-not-pushed", "dockerfile.build-tag-push", "missing")]
fn each_drift_is_reported_where_it_is(#[case] drift: &str, #[case] step: &str, #[case] status: &str) {
    let stack = Stack::new(Some(drift));
    let first = stack.requests().len();
    let verified = stack.verify(&["--format", "json"]);
    assert_eq!(verified.code, 1, "{verified:?}");
    // Even where the drift lets a refusal probe through to the function (api-key-not-deployed), no job is made.
    let jobs = stack.requests()[first..].iter().filter(|e| e.path == "/v1/submitjob").count();
    assert_eq!(jobs, 0, "verify submitted a Batch job");
    let report = verified.json();
    assert_eq!(Verified::step(&report, step)["status"], status, "{verified:?}");
    let view = drift_view(&report);
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!(format!("verify_drift_{drift}"), view));

    // The same drift in the text table: the step, its status, and each difference's path.
    let text = stack.verify(&[]);
    assert_eq!(text.code, 1, "{text:?}");
    assert!(text.stdout.contains("DRIFT: "), "{text:?}");
    let line = text.stdout.lines().find(|l| l.starts_with(step)).expect("the step's line");
    assert!(line.contains(status), "{line}");
}

/// The steps that are not in sync, and every check's outcome.
fn drift_view(report: &Value) -> Value {
    let steps: Vec<&Value> =
        report["steps"].as_array().expect("steps").iter().filter(|s| s["status"] != "in_sync").collect();
    let steps: Vec<Value> = steps
        .into_iter()
        .map(|s| {
            let mut s = s.clone();
            if let Some(map) = s.as_object_mut() {
                map.remove("observed");
                map.remove("runbook");
            }
            s
        })
        .collect();
    let checks: Vec<Value> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| serde_json::json!({ "name": c["name"], "outcome": c["outcome"] }))
        .collect();
    serde_json::json!({ "steps": steps, "checks": checks })
}

#[test]
fn an_ignore_file_accepts_a_known_deviation_and_still_lists_it() {
    let stack = Stack::new(Some("public-ip-off"));
    let dir = tempfile::tempdir().expect("temp dir");
    let ignore = dir.path().join("crts.driftignore");
    std::fs::write(&ignore, "# Our compute environment has a NAT gateway.\nbatch.*-ecr-image.assign_public_ip\n")
        .expect("write");
    let verified = stack.verify(&["--format", "json", "--ignore", &ignore.display().to_string()]);
    assert_eq!(verified.code, 0, "{verified:?}");
    let report = verified.json();
    let step = Verified::step(&report, "batch.job-definition-ecr-image");
    assert_eq!(step["status"], "ignored");
    let difference = &step["differences"][0];
    assert_eq!(difference["path"], "assign_public_ip");
    assert_eq!((difference["expected"].as_str(), difference["actual"].as_str()), (Some("ENABLED"), Some("DISABLED")));
    let by = difference["ignored_by"].as_str().expect("the accepting line");
    assert!(by.ends_with("crts.driftignore:2: batch.*-ecr-image.assign_public_ip"), "{by}");

    // A pattern that reaches no step is a mistake, named with its line.
    std::fs::write(&ignore, "batch.job-defintion.vcpu\n").expect("write");
    let typo = stack.verify(&["--ignore", &ignore.display().to_string()]);
    assert_eq!(typo.code, 2, "{typo:?}");
    assert!(typo.stderr.contains("crts.driftignore:1: `batch.job-defintion.vcpu` matches no step"), "{typo:?}");
}

/// A boto3 snippet run as the account's administrator; it must succeed.
fn boto3(stack: &Stack, script: &str) -> Output {
    let out = Command::new("python3")
        .args(["-c", script])
        .env("AWS_ENDPOINT_URL", stack.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("python3");
    assert!(out.status.success(), "{script}\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Credentials of a role session holding `policy` (a role trusting the account, the policy attached).
pub(crate) fn role_session(stack: &Stack, name: &str, policy: &Value) -> Vec<(&'static str, String)> {
    let script = format!(
        r#"
import boto3, json
iam, sts = boto3.client("iam"), boto3.client("sts")
trust = {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow",
          "Principal": {{"AWS": "arn:aws:iam::000000000000:root"}}, "Action": "sts:AssumeRole"}}]}}
role = iam.create_role(RoleName="{name}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
policy = iam.create_policy(PolicyName="{name}-policy", PolicyDocument=json.dumps({policy}))["Policy"]
iam.attach_role_policy(RoleName="{name}", PolicyArn=policy["Arn"])
print(json.dumps(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="verify")["Credentials"], default=str))
"#
    );
    let credentials: Value = serde_json::from_slice(&boto3(stack, &script).stdout).expect("credentials");
    let field = |name: &str| credentials[name].as_str().expect("credential").to_owned();
    vec![
        ("AWS_ACCESS_KEY_ID", field("AccessKeyId")),
        ("AWS_SECRET_ACCESS_KEY", field("SecretAccessKey")),
        ("AWS_SESSION_TOKEN", field("SessionToken")),
    ]
}

/// What cannot be read as the runbook says is an `error`; a name two resources share is `ambiguous`, not guessed.
#[test]
fn an_unreadable_resource_is_an_error_and_a_shared_name_is_ambiguous() {
    let stack = Stack::new(None);
    boto3(
        &stack,
        r#"import boto3; boto3.client("s3").put_object(Bucket="crts-console-swagger", Key="crts-swagger.json", Body=b"<html>")"#,
    );
    let verified = stack.verify(&["--format", "json"]);
    assert_eq!(verified.code, 1, "{verified:?}");
    let report = verified.json();
    let step = Verified::step(&report, "swagger.api-definition");
    assert_eq!(step["status"], "error", "{step}");
    assert!(
        step["reason"].as_str().is_some_and(|r| r.starts_with("crts-swagger.json read back is not JSON")),
        "{step}"
    );

    let second = boto3(
        &stack,
        r#"import boto3; print(boto3.client("apigateway").create_rest_api(name="crts-console-API")["id"])"#,
    );
    let second = String::from_utf8_lossy(&second.stdout).trim().to_owned();
    let report = stack.verify(&["--format", "json"]).json();
    for id in ["apigateway.add-trigger", "apigateway.post-method", "apigateway.deploy", "swagger.api-definition"] {
        let step = Verified::step(&report, id);
        assert_eq!(step["status"], "ambiguous", "{step}");
        let reason = step["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("2 REST APIs are named crts-console-API (ids ") && reason.contains(&second),
            "{reason}"
        );
    }
}

/// `--trigger-job`: the job_trigger check runs, one job is submitted and its id printed; nothing else submits one.
#[test]
fn trigger_job_submits_one_job_and_says_its_id() {
    let stack = Stack::new(None);
    let first = stack.requests().len();
    let verified = stack.verify(&["--trigger-job", "--format", "json"]);
    assert_eq!(verified.code, 0, "{verified:?}");
    let report = verified.json();
    let outcome = |name: &str| {
        report["checks"].as_array().and_then(|c| c.iter().find(|c| c["name"] == name)).expect("check")["outcome"]
            .clone()
    };
    assert_eq!(outcome("job_trigger")["status"], "passed", "{verified:?}");
    assert_eq!(
        outcome("swagger_browser")["reason"],
        "would submit a second Batch job (--trigger-job allows one: the job_trigger check's)"
    );
    let submitted: Vec<Entry> =
        stack.requests()[first..].iter().filter(|e| e.path == "/v1/submitjob").cloned().collect();
    assert_eq!(submitted.len(), 1, "{submitted:#?}");
    assert!(
        verified.stderr.contains("--trigger-job: submitted Batch job ")
            && verified.stderr.contains(" on crts-console-jq"),
        "{verified:?}"
    );

    // CRTS_API_KEY is the key's value instead of the one read from the account: a wrong one is refused, unprinted.
    let mut command = Command::new(harness_binary());
    command.arg("verify").arg(format!("--target=endpoint={}", stack.endpoint())).args(&stack.vars);
    command.args(["--trigger-job", "--format", "json"]);
    command.current_dir(repo_root()).env("CRTS_API_KEY", "crts-wrong-key-from-the-environment-000000");
    let out = command.output().expect("verify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(!stdout.contains("crts-wrong-key-from-the-environment"), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    let job = report["checks"].as_array().and_then(|c| c.iter().find(|c| c["name"] == "job_trigger")).expect("check");
    assert_eq!(job["outcome"]["status"], "failed", "{job}");
}

#[test]
fn the_printed_policy_is_enough_and_each_action_in_it_is_needed_where_it_is_named() {
    let stack = Stack::new(None);
    let out = Command::new(harness_binary())
        .args(["policy", "verify"])
        .args(&stack.vars)
        .current_dir(repo_root())
        .output()
        .expect("policy verify");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let policy: Value = serde_json::from_slice(&out.stdout).expect("the policy is JSON");
    let actions: Vec<&str> =
        policy["Statement"][0]["Action"].as_array().expect("actions").iter().filter_map(Value::as_str).collect();
    assert!(actions.iter().all(|a| crts_harness::verify::policy::is_read_only(a)), "read actions only: {actions:?}");

    // Exactly that policy: all in sync, as the administrator sees it.
    let credentials = role_session(&stack, "crts-verifier", &policy);
    let as_pairs: Vec<(&str, &str)> = credentials.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let verified = stack.verify_as(&as_pairs, &["--account-id", "000000000000", "--format", "json"]);
    assert_eq!(verified.code, 0, "{verified:?}");

    // Without one Batch action and one S3 action: the steps that need them are denied, naming them.
    let mut reduced = policy.clone();
    let kept: Vec<&str> =
        actions.iter().copied().filter(|a| !matches!(*a, "batch:DescribeJobQueues" | "s3:GetBucketCORS")).collect();
    reduced["Statement"][0]["Action"] = serde_json::json!(kept);
    let credentials = role_session(&stack, "crts-verifier-reduced", &reduced);
    let as_pairs: Vec<(&str, &str)> = credentials.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let denied = stack.verify_as(&as_pairs, &["--account-id", "000000000000", "--format", "json"]);
    assert_eq!(denied.code, 1, "{denied:?}");
    let report = denied.json();
    for (step, action) in [("batch.job-queue", "batch:DescribeJobQueues"), ("s3.cors", "s3:GetBucketCORS")] {
        let step = Verified::step(&report, step);
        assert_eq!((step["status"].as_str(), step["denied_action"].as_str()), (Some("denied"), Some(action)), "{step}");
    }
    let others = report["steps"].as_array().expect("steps").iter().filter(|s| s["status"] != "in_sync").count();
    assert_eq!(others, 2, "only the two steps are affected: {report}");
    // JUnit fails a denied step, naming the refused action.
    let junit = stack.verify_as(&as_pairs, &["--account-id", "000000000000", "--format", "junit"]);
    assert_eq!(junit.code, 1, "{junit:?}");
    assert!(junit.stdout.contains(r#"<testcase name="s3.cors">"#), "{}", junit.stdout);
    assert!(junit.stdout.contains("<failure") && junit.stdout.contains("denied: "), "{}", junit.stdout);
    assert!(junit.stdout.contains("s3:GetBucketCORS"), "{}", junit.stdout);

    // `policy verify --trigger-job` is enough for `verify --trigger-job`: every check that runs passes.
    let out = Command::new(harness_binary())
        .args(["policy", "verify", "--trigger-job"])
        .args(&stack.vars)
        .current_dir(repo_root())
        .output()
        .expect("policy verify --trigger-job");
    let policy: Value = serde_json::from_slice(&out.stdout).expect("the policy is JSON");
    let credentials = role_session(&stack, "crts-verifier-trigger", &policy);
    let as_pairs: Vec<(&str, &str)> = credentials.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let triggered = stack.verify_as(&as_pairs, &["--account-id", "000000000000", "--trigger-job", "--format", "json"]);
    assert_eq!(triggered.code, 0, "{triggered:?}");
    let report = triggered.json();
    let passed: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["outcome"]["status"] == "passed")
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(passed, ["image", "cors", "api_key", "job_trigger", "swagger_site"], "{triggered:?}");
}

#[test]
fn the_wrong_account_stops_verify_after_get_caller_identity() {
    let stack = Stack::new(None);
    let first = stack.requests().len();
    // The account named by the environment, as a CI job would set it.
    let verified = stack.verify_as(
        &[("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("CRTS_AWS_ACCOUNT_ID", "111122223333")],
        &[],
    );
    assert_eq!(verified.code, 2, "{verified:?}");
    assert!(
        verified.stderr.contains("the credentials are for account 000000000000 (arn:aws:iam::000000000000:root), not 111122223333: nothing else was called"),
        "{verified:?}"
    );
    let made: Vec<String> =
        stack.requests()[first..].iter().map(|e| format!("{} {}", e.service, e.operation)).collect();
    assert_eq!(made, ["sts GetCallerIdentity"]);

    // On aws the account is not optional.
    let unnamed = stack.verify_as(&[("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")], &[]);
    assert_eq!(unnamed.code, 2, "{unnamed:?}");
    assert!(unnamed.stderr.contains("verify --target aws needs --account-id"), "{unnamed:?}");
    assert_eq!(stack.requests().len(), first + 1, "nothing called without --account-id");
}

#[test]
fn verify_of_a_target_that_does_not_answer_exits_2_saying_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let out = Command::new(harness_binary())
        .args(["verify", &format!("--target=endpoint=http://127.0.0.1:{port}")])
        .current_dir(repo_root())
        .output()
        .expect("verify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("target endpoint=http://127.0.0.1:{port} is unreachable")), "{stderr}");
}

#[test]
fn run_on_aws_is_refused_before_any_call_and_points_at_verify() {
    let stack = Stack::new(None);
    let first = stack.requests().len();
    let out = Command::new(harness_binary())
        .args(["run", "--target", "aws"])
        .current_dir(repo_root())
        .env("AWS_ENDPOINT_URL", stack.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("crts-harness verify --target aws --account-id ACCOUNT"), "{stderr}");
    assert!(stderr.contains("--provision"), "{stderr}");
    assert_eq!(stack.requests().len(), first, "run --target aws called the account");
}

#[test]
fn verify_on_the_empty_embedded_target_finds_every_step_missing_and_says_why() {
    let out = Command::new(harness_binary()).args(["verify"]).current_dir(repo_root()).output().expect("verify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("note: the embedded target starts empty"), "{stdout}");
    assert!(stdout.contains("DRIFT: 26 missing of 26 steps"), "{stdout}");
    assert!(
        stdout.contains(
            "ecr.repository                    missing      DescribeRepositories: RepositoryNotFoundException"
        ),
        "{stdout}"
    );
    // What is missing, path by path: what the runbook states, and nothing there.
    assert!(stdout.contains("REMOVE repository: crts -> (absent)"), "{stdout}");
    // JUnit fails every missing step.
    let out = Command::new(harness_binary())
        .args(["verify", "--format", "junit"])
        .current_dir(repo_root())
        .output()
        .expect("verify --format junit");
    let junit = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{junit}");
    assert_eq!(junit.matches("message=\"missing: ").count(), 26, "each step a failure: {junit}");
}

/// The scenario's report directory gets the drift report in three forms; JUnit fails the drifted step.
#[test]
fn the_report_directory_holds_text_json_and_junit() {
    let stack = Stack::new(Some("env-wrong-revision"));
    let dir = tempfile::tempdir().expect("temp dir");
    let verified = stack.verify(&["--report-dir", &dir.path().display().to_string(), "--format", "junit"]);
    assert_eq!(verified.code, 1, "{verified:?}");
    let junit = std::fs::read_to_string(dir.path().join("drift.xml")).expect("drift.xml");
    assert_eq!(junit.trim(), verified.stdout.trim());
    assert!(junit.contains(r#"<testcase name="lambda.environment-variables">"#), "{junit}");
    assert!(
        junit.contains("modified: environment.aws_jobdefinition: expected CrtsConsoleJD:2, actual CrtsConsoleJD:1"),
        "{junit}"
    );
    let text = std::fs::read_to_string(dir.path().join("drift.txt")).expect("drift.txt");
    assert!(text.contains("NOT_EQUAL environment.aws_jobdefinition: CrtsConsoleJD:2 -> CrtsConsoleJD:1"), "{text}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("drift.json")).expect("json")).expect("JSON");
    assert_eq!(json["target"], "endpoint");
}
