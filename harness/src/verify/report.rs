//! The drift report as people and CI read it: a table (step, status, path, expected, actual), then the checks;
//! JUnit with each step a test case (`modified`, `missing`, `denied`, `ambiguous` and `error` are failures).

use std::fmt::Write;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::{DiffKind, DriftReport, DriftStatus};
use crate::checks::Outcome;

pub fn to_text(report: &DriftReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "verify {} on {} (read-only{}; {:.1} ms)",
        report.scenario,
        report.target,
        if report.trigger_job { ", --trigger-job: one real Batch job" } else { "" },
        report.wall_time.as_secs_f64() * 1000.0
    );
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    if let Some(file) = &report.ignore_file {
        let _ = writeln!(out, "ignore file: {}", file.display());
    }
    crate::report::write_variables(&mut out, &report.variables);

    let width = report.steps.iter().map(|s| s.id.len()).chain(std::iter::once(24)).max().unwrap_or(24);
    let _ = writeln!(out, "\n{:<width$}  {:<11}  PATH: EXPECTED -> ACTUAL", "STEP", "STATUS");
    for step in &report.steps {
        let reason = step.reason.as_deref().unwrap_or_default();
        let line = format!("{:<width$}  {:<11}  {reason}", step.id, step.status.as_str().replace('_', " "));
        let _ = writeln!(out, "{}", line.trim_end());
        if let Some(action) = &step.denied_action {
            let _ = writeln!(out, "{:<width$}    refused: {action}", "");
        }
        if let Some(line) = &step.ignored_by {
            let _ = writeln!(out, "{:<width$}    ignored by {line}", "");
        }
        for d in &step.differences {
            let kind = match d.kind {
                DiffKind::Add => "ADD",
                DiffKind::Remove => "REMOVE",
                DiffKind::NotEqual => "NOT_EQUAL",
            };
            let ignored = d.ignored_by.as_ref().map(|line| format!("  (ignored by {line})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<width$}    {kind} {}: {} -> {}{ignored}",
                "",
                d.path,
                shown(&d.expected),
                shown(&d.actual)
            );
        }
    }

    let _ = writeln!(out, "\n{:<width$}  {:<11}  DETAIL", "CHECK", "RESULT");
    for check in &report.checks {
        let made: Vec<_> =
            check.observations.iter().filter(|o| o.unsupported.is_none() && o.not_checked.is_none()).collect();
        let detail = match &check.outcome {
            Outcome::NotRun(reason)
            | Outcome::Skipped(reason)
            | Outcome::Unsupported(reason)
            | Outcome::NotChecked(reason)
                if check.observations.is_empty() =>
            {
                reason.clone()
            }
            _ => format!("{}/{} observations as expected", made.iter().filter(|o| o.ok).count(), made.len()),
        };
        let label = match &check.outcome {
            Outcome::Passed => "ok",
            Outcome::Failed => "FAILED",
            Outcome::NotRun(_) => "not run",
            Outcome::Skipped(_) => "skipped",
            Outcome::Unsupported(_) => "unsupported",
            Outcome::NotChecked(_) => "not checked",
        };
        let _ = writeln!(out, "{:<width$}  {label:<11}  {detail}", check.name.as_str());
        for o in &made {
            if !o.ok {
                let _ = writeln!(out, "{:<width$}    ✗ {}: expected {}, got {}", "", o.what, o.expected, o.actual);
            }
        }
        for o in check.observations.iter().filter(|o| o.not_checked.is_some()) {
            let _ = writeln!(
                out,
                "{:<width$}    - not checked: {}: {}",
                "",
                o.what,
                o.not_checked.as_deref().unwrap_or("")
            );
        }
    }

    let count = |status: DriftStatus| report.steps.iter().filter(|s| s.status == status).count();
    let summary: Vec<String> = [
        DriftStatus::InSync,
        DriftStatus::Modified,
        DriftStatus::Missing,
        DriftStatus::Denied,
        DriftStatus::Ambiguous,
        DriftStatus::Error,
        DriftStatus::Ignored,
        DriftStatus::NotChecked,
    ]
    .into_iter()
    .filter(|s| count(*s) > 0)
    .map(|s| format!("{} {}", count(s), s.as_str().replace('_', " ")))
    .collect();
    let checks_ok = report.checks.iter().filter(|c| c.outcome == Outcome::Passed).count();
    let _ = writeln!(
        out,
        "\n{}: {} of {} steps; {checks_ok}/{} checks passed",
        if report.passed() { "IN SYNC" } else { "DRIFT" },
        summary.join(", "),
        report.steps.len(),
        report.checks.len()
    );
    out
}

fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "(absent)".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn to_junit(report: &DriftReport) -> String {
    let mut junit = JunitReport::new(format!("crts-harness verify {}", report.scenario));
    let mut steps = TestSuite::new(format!("{} drift on {}", report.scenario, report.target));
    for step in &report.steps {
        let describe = || {
            let mut lines: Vec<String> = step.reason.iter().cloned().collect();
            lines.extend(
                step.differences
                    .iter()
                    .filter(|d| d.ignored_by.is_none())
                    .map(|d| format!("{}: expected {}, actual {}", d.path, shown(&d.expected), shown(&d.actual))),
            );
            lines.join("; ")
        };
        let status = if step.status.is_failure() {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("{}: {}", step.status.as_str(), describe()));
            status
        } else if step.status == DriftStatus::NotChecked {
            let mut status = TestCaseStatus::skipped();
            status.set_message(describe());
            status
        } else {
            TestCaseStatus::success()
        };
        steps.add_test_case(TestCase::new(step.id.clone(), status));
    }
    let mut checks = TestSuite::new(format!("{} checks on {}", report.scenario, report.target));
    for check in &report.checks {
        checks.add_test_case(TestCase::new(check.name.as_str(), crate::report::junit_status(check)));
    }
    junit.add_test_suites([steps, checks]);
    junit.to_string().unwrap_or_else(|e| format!("<!-- JUnit serialization failed: {e} -->"))
}
