//! The whole CRTS runbook on the embedded target: every step applies and every check passes.

use crts_harness::checks::Outcome;

use crts_harness::run::{RunOptions, run};
use crts_harness::targets::TargetSpec;

use crate::prerequisites::{Prerequisite, require};
use crate::support::{emulator, run_embedded, scenario, sdk_config, snapshot_settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crts_runbook_passes_every_check_on_the_embedded_target() {
    let report = run_embedded(&scenario("crts.yaml")).await;
    let text = crts_harness::report::to_text(&report);
    assert!(report.passed(), "the runbook must pass on the embedded target:\n{text}");
    assert!(
        report.checks.iter().all(|c| c.outcome == Outcome::Passed),
        "every check must run and pass (swagger_browser needs Debian's chromium):\n{text}"
    );
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("crts_embedded", report.snapshot_view()));
}

/// The endpoint target against an emulator we own, so the test can read the key values afterwards and
/// prove none of them reached any report format.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_never_contain_api_key_values_and_match_on_the_endpoint_target() {
    require(&[Prerequisite::Browser]);
    let emulator = emulator().await;
    let options = RunOptions {
        scenario: scenario("crts.yaml"),
        target: TargetSpec::endpoint(emulator.endpoint().to_owned()),
        ..Default::default()
    };
    let report = run(&options).await.expect("valid scenario, reachable endpoint");
    assert!(report.passed(), "{}", crts_harness::report::to_text(&report));
    assert_eq!(report.target, "endpoint");

    let apigateway = aws_sdk_apigateway::Client::new(&sdk_config(emulator.endpoint()).await);
    let keys = apigateway.get_api_keys().include_values(true).send().await.expect("GetApiKeys");
    let values: Vec<&str> = keys.items().iter().filter_map(|k| k.value()).collect();
    assert!(!values.is_empty(), "the scenario created an API key");
    let rendered = [
        serde_json::to_string(&report).expect("reports serialize"),
        crts_harness::report::to_junit(&report),
        crts_harness::report::to_text(&report),
        serde_json::to_string(&report.snapshot_view()).expect("views serialize"),
    ];
    for value in values {
        for text in &rendered {
            assert!(!text.contains(value), "an API key value leaked into a report");
        }
    }
    // Same contract on every target: the endpoint run's snapshot is the embedded one.
    snapshot_settings().bind(|| insta::assert_yaml_snapshot!("crts_embedded", report.snapshot_view()));
    emulator.shutdown().await;
}
