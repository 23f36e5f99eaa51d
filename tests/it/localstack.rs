//! `--target localstack`: the runbook on LocalStack started through testcontainers, compared with the embedded
//! run. The image is `LOCALSTACK_IMAGE`, else `crts-localstack:2026.3.0`, which `.ci/run` builds with
//! scripts/build-localstack-image (no registry is reachable there). Only a missing Docker engine skips these tests;
//! a missing image is a failure that says how to build it.

use std::collections::BTreeSet;
use std::time::Duration;

use crts_harness::checks::{CheckResult, Outcome};
use crts_harness::report::{Report, StepReport};
use crts_harness::run::{RunOptions, run};
use crts_harness::targets::TargetSpec;
use crts_harness::targets::capabilities::Capability;
use crts_harness::targets::localstack::{self, LocalStack};

use crate::support::{run_embedded, scenario, snapshot_settings};

/// The image `.ci/run` builds.
const LOCAL_IMAGE: &str = "crts-localstack:2026.3.0";

/// Where LocalStack and the embedded emulator answer differently on something both do, and why. Every entry is
/// `(step id or check, observation, why with a link)`; the parity test fails on any difference not listed here,
/// and on an entry that no longer differs. Empty: every difference found so far was fixed in the emulator.
const DOCUMENTED_DEVIATIONS: &[(&str, &str, &str)] = &[(
    "apigateway.deploy",
    "deployed_methods",
    "LocalStack's GetDeployment ignores embed=apisummary, so what a stage serves cannot be read there (verify then \
     compares the stage only)",
)];

/// The runbook steps LocalStack's free edition cannot do here: ECR, Batch, and updating a function that never
/// started (no Lambda runtime image).
const UNSUPPORTED_STEPS: [&str; 7] = [
    "ecr.repository",
    "dockerfile.build-tag-push",
    "batch.compute-environment",
    "batch.job-queue",
    "batch.job-definition",
    "batch.job-definition-ecr-image",
    "lambda.environment-variables",
];

/// The LocalStack image to test, or `None` (with the reason printed) when no Docker engine answers.
async fn localstack_image() -> Option<String> {
    if !localstack::docker_reachable().await {
        crate::prerequisites::docker_missing("LocalStack runs in a container");
        return None;
    }
    let image = std::env::var("LOCALSTACK_IMAGE").unwrap_or_else(|_| LOCAL_IMAGE.to_owned());
    let present = std::process::Command::new("docker")
        .args(["image", "inspect", &image])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        present,
        "missing prerequisite: the LocalStack image {image} (scripts/build-localstack-image, or set LOCALSTACK_IMAGE \
         to an image you have); scripts/test builds it and runs the tests"
    );
    Some(image)
}

async fn run_on_localstack(scenario_file: &str, image: &str, report_dir: Option<std::path::PathBuf>) -> Report {
    let options = RunOptions {
        scenario: scenario(scenario_file),
        target: TargetSpec::localstack(image.to_owned()),
        report_dir,
        ..Default::default()
    };
    run(&options).await.expect("LocalStack starts and the scenario is valid")
}

/// What two runs of a check disagree on, leaving out what the other target declared it could not observe:
/// `(check, observation, embedded, other)`. Both ways: an observation only one target made is a difference too.
/// A check the other target could not run at all (unsupported, nothing observed) has nothing to compare.
fn differences(embedded: &CheckResult, other: &CheckResult) -> Vec<(String, String, String, String)> {
    let name = embedded.name.as_str().to_owned();
    if matches!(other.outcome, Outcome::Unsupported(_)) && other.observations.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for o in other.observations.iter().filter(|o| o.unsupported.is_none()) {
        match embedded.observations.iter().find(|e| e.what == o.what) {
            Some(e) if e.actual == o.actual && e.ok == o.ok => {}
            Some(e) => out.push((name.clone(), o.what.clone(), e.actual.clone(), o.actual.clone())),
            None => out.push((name.clone(), o.what.clone(), "(not observed)".into(), o.actual.clone())),
        }
    }
    for e in &embedded.observations {
        if !other.observations.iter().any(|o| o.what == e.what) {
            out.push((name.clone(), e.what.clone(), e.actual.clone(), "(not observed)".into()));
        }
    }
    out
}

/// What two runs of a step read back differently, for steps that passed on both: `(step, key, embedded,
/// other)`. A value the other target reports as `unsupported on ...` was not observable there.
fn step_differences(embedded: &StepReport, other: &StepReport) -> Vec<(String, String, String, String)> {
    if embedded.outcome != Outcome::Passed || other.outcome != Outcome::Passed {
        return Vec::new();
    }
    let keys: BTreeSet<&String> = embedded.observed.keys().chain(other.observed.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (e, o) = (embedded.observed.get(key), other.observed.get(key));
            let unobservable = o.and_then(|o| o.as_str()).is_some_and(|o| o.starts_with("unsupported on "));
            let show = |v: Option<&serde_json::Value>| v.map_or("(not observed)".to_owned(), |v| v.to_string());
            (e != o && !unobservable).then(|| (embedded.id.clone(), key.clone(), show(e), show(o)))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runbook_on_localstack_matches_the_embedded_run_wherever_localstack_can_follow() {
    let Some(image) = localstack_image().await else { return };
    let embedded = run_embedded(&scenario("crts.yaml")).await;
    let report = run_on_localstack("crts.yaml", &image, None).await;
    let text = crts_harness::report::to_text(&report);
    assert!(report.passed(), "nothing LocalStack can do may fail:\n{text}");
    assert_eq!(report.target, "localstack");

    // Unsupported, with the reason, and only that: ECR, Batch, and what needs a function to run.
    let unsupported_steps: BTreeSet<&str> =
        report.steps.iter().filter(|s| matches!(s.outcome, Outcome::Unsupported(_))).map(|s| s.id.as_str()).collect();
    let expected: BTreeSet<&str> = UNSUPPORTED_STEPS.into();
    assert_eq!(unsupported_steps, expected, "{text}");
    for step in report.steps.iter().filter(|s| !expected.contains(s.id.as_str())) {
        assert_eq!(step.outcome, Outcome::Passed, "step {} on LocalStack:\n{text}", step.id);
    }
    for (check, capability) in [("image", "ECR"), ("job_trigger", "function"), ("swagger_browser", "function")] {
        let result = report.checks.iter().find(|c| c.name.as_str() == check).expect("check reported");
        let Outcome::Unsupported(reason) = &result.outcome else { panic!("{check} must be unsupported:\n{text}") };
        assert!(reason.starts_with("unsupported on localstack: "), "{reason}");
        assert!(reason.contains(capability) || reason.contains("Lambda") || reason.contains("lambda"), "{reason}");
    }
    // What LocalStack does run passes: API keys; S3 website and CORS and the MOCK CORS preflight, but for an
    // anonymous write refusal (policies are not enforced) and the POST's CORS header (the function cannot run).
    let api_key = report.checks.iter().find(|c| c.name.as_str() == "api_key").expect("check reported");
    assert_eq!(api_key.outcome, Outcome::Passed, "{text}");
    for (check, unsupported) in
        [("swagger_site", "anonymous PUT object"), ("cors", "POST response Access-Control-Allow-Origin")]
    {
        let result = report.checks.iter().find(|c| c.name.as_str() == check).expect("check reported");
        assert!(matches!(result.outcome, Outcome::Unsupported(_)), "{check} on LocalStack:\n{text}");
        let not_observed: Vec<&str> =
            result.observations.iter().filter(|o| o.unsupported.is_some()).map(|o| o.what.as_str()).collect();
        assert_eq!(not_observed, [unsupported], "{text}");
        assert!(result.observations.iter().filter(|o| o.unsupported.is_none()).all(|o| o.ok), "{text}");
    }

    // Parity: every observation LocalStack made equals the embedded one, but for documented deviations.
    let mut found = Vec::new();
    for step in &report.steps {
        let reference = embedded.steps.iter().find(|s| s.id == step.id).expect("same scenario");
        found.extend(step_differences(reference, step));
    }
    for check in &report.checks {
        let reference = embedded.checks.iter().find(|c| c.name == check.name).expect("same scenario");
        found.extend(differences(reference, check));
    }
    let unexplained: Vec<_> = found
        .iter()
        .filter(|(c, what, ..)| !DOCUMENTED_DEVIATIONS.iter().any(|(dc, dw, _)| dc == c && dw == what))
        .collect();
    assert!(
        unexplained.is_empty(),
        "LocalStack and the embedded emulator differ (step or check, observation, embedded, LocalStack): \
         {unexplained:#?}"
    );
    for (check, what, _) in DOCUMENTED_DEVIATIONS {
        assert!(
            found.iter().any(|(c, w, ..)| c == check && w == what),
            "documented deviation {check}/{what} no longer differs: remove it"
        );
    }

    // Both start times are in the report.
    let embedded_start = report.embedded_start.expect("the embedded start time is measured on other targets");
    assert!(embedded_start < report.target_start, "{embedded_start:?} vs {:?}", report.target_start);
    assert!(text.contains("the embedded emulator: "), "{text}");

    // The snapshot holds for any LocalStack release the capabilities name.
    let mut settings = snapshot_settings();
    settings.add_filter(r"LocalStack [0-9][0-9.]*[0-9] without", "LocalStack <version> without");
    settings.bind(|| insta::assert_yaml_snapshot!("crts_localstack", report.snapshot_view()));
}

/// A fault fails the same check on LocalStack, and the container's logs are kept in the report directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_fails_its_check_on_localstack_and_keeps_the_container_logs() {
    let Some(image) = localstack_image().await else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let report = run_on_localstack("faults/swagger-wrong-stage.yaml", &image, Some(dir.path().to_path_buf())).await;
    let text = crts_harness::report::to_text(&report);
    assert!(!report.passed(), "{text}");
    let site = report.checks.iter().find(|c| c.name.as_str() == "swagger_site").expect("check reported");
    assert_eq!(site.outcome, Outcome::Failed, "{text}");
    let embedded = run_embedded(&scenario("faults/swagger-wrong-stage.yaml")).await;
    let reference = embedded.checks.iter().find(|c| c.name == site.name).expect("same scenario");
    assert_eq!(differences(reference, site), [], "the fault shows the same way on both targets");

    let logs = std::fs::read_to_string(dir.path().join("localstack.log")).expect("localstack.log in the report dir");
    assert!(logs.contains("Ready."), "LocalStack's own output: {}", &logs[..logs.len().min(2000)]);
    assert!(logs.contains("s3.PutBucketWebsite"), "the requests LocalStack served are in its log");
}

/// An endpoint that turns out to be LocalStack (`/_localstack/info`) gets LocalStack's capabilities, so
/// `--target endpoint=URL` against docker compose reports the same unsupported steps (tested here: the runbook
/// through the endpoint target, against a container this test started).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_is_localstack_gets_its_capabilities() {
    let Some(image) = localstack_image().await else { return };
    let container = LocalStack::start(&image).await.expect("LocalStack starts");
    let (info, capabilities) = tokio::time::timeout(Duration::from_secs(30), localstack::detect(&container.endpoint))
        .await
        .expect("detect answers")
        .expect("/_localstack/info identifies LocalStack");
    if image == LOCAL_IMAGE {
        assert_eq!(info.version, "2026.3.0");
    }
    assert!(!info.pro, "no auth token in tests");
    for capability in [Capability::Ecr, Capability::Batch, Capability::IamEnforcement] {
        assert!(!capabilities.has(capability), "{capability:?} without a Pro licence");
    }

    // The runbook through `--target endpoint=URL` reports the same steps unsupported as `--target localstack`.
    let options = RunOptions {
        scenario: scenario("crts.yaml"),
        target: TargetSpec::endpoint(container.endpoint.clone()),
        ..Default::default()
    };
    let report = run(&options).await.expect("the endpoint answers");
    container.stop().await;
    let text = crts_harness::report::to_text(&report);
    assert!(report.passed(), "{text}");
    let unsupported: BTreeSet<&str> = report
        .steps
        .iter()
        .filter_map(|s| match &s.outcome {
            Outcome::Unsupported(reason) => {
                assert!(reason.starts_with("unsupported on endpoint: "), "{reason}");
                Some(s.id.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(unsupported, UNSUPPORTED_STEPS.into(), "{text}");
}

/// A LocalStack image that exits instead of starting: the error says so, with what the container printed (the
/// container is gone by then, so its output is kept while it starts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_localstack_that_does_not_start_says_why() {
    if !localstack::docker_reachable().await {
        crate::prerequisites::docker_missing("LocalStack runs in a container");
        return;
    }
    // An image that fails like a broken LocalStack: FROM scratch with the CRTS job binary, which says it does not
    // know the suite and exits 3 (no registry needed).
    let context = tempfile::tempdir().expect("temp dir");
    crate::support::write_job_binary(context.path());
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM scratch\nCOPY crts-job /crts/run\nENTRYPOINT [\"/crts/run\", \"cannot-bind-the-gateway\", \"x\"]\n",
    )
    .expect("write the Dockerfile");
    let tag = "crts-test-broken-localstack:latest";
    let built = std::process::Command::new("docker")
        .args(["build", "-q", "-t", tag])
        .arg(context.path())
        .output()
        .expect("run docker build");
    assert!(built.status.success(), "docker build: {}", String::from_utf8_lossy(&built.stderr));

    let error = LocalStack::start(tag).await.expect_err("the container exits before \"Ready.\"").to_string();
    let _ = std::process::Command::new("docker").args(["rmi", "-f", tag]).output();
    assert!(error.contains("did not start"), "{error}");
    assert!(
        error.contains("crts: unknown suite 'cannot-bind-the-gateway'"),
        "the container's own output is in: {error}"
    );
}

/// verify on LocalStack after run there: what LocalStack can do is in sync, what it cannot is `not_checked` with
/// the reason, and that is a pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_after_run_on_localstack_is_in_sync_where_localstack_can_follow() {
    let Some(image) = localstack_image().await else { return };
    let localstack = LocalStack::start(&image).await.expect("LocalStack starts");
    let target = TargetSpec::endpoint(localstack.endpoint.clone());
    let ran = run(&RunOptions { scenario: scenario("crts.yaml"), target: target.clone(), ..Default::default() })
        .await
        .expect("valid scenario");
    let verified = crts_harness::verify::verify(&crts_harness::verify::VerifyOptions {
        scenario: scenario("crts.yaml"),
        target,
        ..Default::default()
    })
    .await
    .expect("LocalStack answers");
    localstack.stop().await;
    let text = crts_harness::verify::report::to_text(&verified);
    assert!(ran.passed(), "{}", crts_harness::report::to_text(&ran));
    assert!(verified.passed(), "{text}");
    for step in &verified.steps {
        let expected = if UNSUPPORTED_STEPS.contains(&step.id.as_str()) {
            crts_harness::verify::DriftStatus::NotChecked
        } else {
            crts_harness::verify::DriftStatus::InSync
        };
        assert_eq!(step.status, expected, "{}: {text}", step.id);
    }
    let reason = verified.steps[0].reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with("unsupported on endpoint: ECR is a Pro service"), "{reason}");
}
