//! JUnit XML for CI systems: one test suite for the steps, one for the checks.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::checks::{CheckResult, Outcome};

pub fn to_junit(report: &Report) -> String {
    let mut junit = JunitReport::new(format!("crts-harness {}", report.scenario));
    let mut steps = TestSuite::new(format!("{} steps on {}", report.scenario, report.target));
    for step in &report.steps {
        let status = outcome_status(&step.outcome, || step.error.clone().unwrap_or_default());
        let mut case = TestCase::new(step.id.clone(), status);
        case.set_time(step.duration);
        steps.add_test_case(case);
    }
    let mut checks = TestSuite::new(format!("{} checks on {}", report.scenario, report.target));
    for check in &report.checks {
        checks.add_test_case(TestCase::new(check.name.as_str(), junit_status(check)));
    }
    junit.add_test_suites([steps, checks]);
    junit.to_string().unwrap_or_else(|e| format!("<!-- JUnit serialization failed: {e} -->"))
}

/// A check as a JUnit test case status: failed observations in the message; not run, skipped, unsupported and
/// not checked are skipped with their reason.
pub fn junit_status(check: &CheckResult) -> TestCaseStatus {
    outcome_status(&check.outcome, || {
        let failed: Vec<String> = check
            .observations
            .iter()
            .filter(|o| !o.ok && o.unsupported.is_none() && o.not_checked.is_none())
            .map(|o| format!("{}: expected {}, got {}", o.what, o.expected, o.actual))
            .collect();
        failed.join("; ")
    })
}

/// Passed is a success, failed a failure with `failure`'s message, anything else skipped with its reason.
fn outcome_status(outcome: &Outcome, failure: impl FnOnce() -> String) -> TestCaseStatus {
    match outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(failure());
            status
        }
        Outcome::NotRun(reason)
        | Outcome::Skipped(reason)
        | Outcome::Unsupported(reason)
        | Outcome::NotChecked(reason) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason.clone());
            status
        }
    }
}
