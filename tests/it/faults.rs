//! Every check fails on a scenario that breaks the runbook step it exists to catch (scenarios/faults/),
//! and only the checks that step affects fail.

use crts_harness::checks::Outcome;
use crts_harness::scenario::CheckName::{self, ApiKey, Cors, JobTrigger};
use rstest::rstest;

use crate::support::{run_embedded, scenario, snapshot_settings};

#[rstest]
#[case::no_cors("no-cors", &[Cors])]
#[case::api_key_not_required("api-key-not-required", &[ApiKey])]
#[case::policy_missing("policy-missing", &[JobTrigger])]
#[case::wrong_queue_name("wrong-queue-name", &[JobTrigger])]
#[case::malformed_lambda_response("malformed-lambda-response", &[Cors, JobTrigger])]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_step_fails_exactly_its_checks(#[case] fault: &str, #[case] failing: &[CheckName]) {
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
