//! The human report: one line per step and check, details only for what failed.

use std::fmt::Write;

use super::Report;
use crate::checks::Outcome;

pub fn to_text(report: &Report) -> String {
    let mut out = String::new();
    let embedded = report
        .embedded_start
        .map(|d| format!("; the embedded emulator: {:.1} ms", d.as_secs_f64() * 1000.0))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "scenario {} on {} (target ready in {:.1} ms{embedded}; run {:.1} ms)",
        report.scenario,
        report.target,
        report.target_start.as_secs_f64() * 1000.0,
        report.wall_time.as_secs_f64() * 1000.0
    );
    write_variables(&mut out, &report.variables);
    let width = report.steps.iter().map(|s| s.id.len()).chain(std::iter::once(24)).max().unwrap_or(24);
    let _ = writeln!(out, "\n{:<width$}  {:<8}  OBSERVED", "STEP", "RESULT");
    for step in &report.steps {
        let detail = match (&step.outcome, &step.error) {
            (_, Some(error)) => error.clone(),
            (
                Outcome::NotRun(reason)
                | Outcome::Skipped(reason)
                | Outcome::Unsupported(reason)
                | Outcome::NotChecked(reason),
                None,
            ) => reason.clone(),
            _ => step.observed.iter().map(|(k, v)| format!("{k}={}", compact(v))).collect::<Vec<_>>().join(" "),
        };
        let _ = writeln!(out, "{:<width$}  {:<8}  {}", step.id, label(&step.outcome), detail);
        for note in &step.notes {
            let _ = writeln!(out, "{:<width$}    - {note}", "");
        }
    }
    let _ = writeln!(out, "\n{:<width$}  {:<8}  DETAIL", "CHECK", "RESULT");
    for check in &report.checks {
        let detail = match &check.outcome {
            Outcome::NotRun(reason) => reason.clone(),
            Outcome::Skipped(reason) => format!("skipped: {reason}"),
            Outcome::NotChecked(reason) => format!("not checked: {reason}"),
            Outcome::Unsupported(reason) if check.observations.is_empty() => reason.clone(),
            Outcome::Unsupported(reason) => format!(
                "{reason} ({} other observations as expected)",
                check.observations.iter().filter(|o| o.ok).count()
            ),
            _ => format!(
                "{}/{} observations as expected",
                check.observations.iter().filter(|o| o.ok).count(),
                check.observations.len()
            ),
        };
        let _ = writeln!(out, "{:<width$}  {:<8}  {}", check.name.as_str(), label(&check.outcome), detail);
        for o in check.observations.iter().filter(|o| !o.ok && o.unsupported.is_none()) {
            let _ = writeln!(out, "{:<width$}    ✗ {}: expected {}, got {}", "", o.what, o.expected, o.actual);
        }
    }
    if let Some(teardown) = &report.teardown {
        let _ = writeln!(out, "\nTEARDOWN of run {} (journal {})", teardown.run_id, teardown.journal.display());
        if teardown.kept {
            let _ = writeln!(
                out,
                "  KEPT (--keep): nothing was removed; every name of the run ends in -crts-{}",
                teardown.run_id
            );
        }
        for what in &teardown.removed {
            let _ = writeln!(out, "  removed   {what}");
        }
        for leftover in &teardown.leftovers {
            let _ = writeln!(out, "  LEFT OVER {}: {}", leftover.step, leftover.error);
        }
    }
    let steps_ok = report.steps.iter().filter(|s| s.outcome == Outcome::Passed).count();
    let checks_ok = report.checks.iter().filter(|c| c.outcome == Outcome::Passed).count();
    let skipped = report.checks.iter().filter(|c| matches!(c.outcome, Outcome::Skipped(_))).count();
    let unsupported = report
        .steps
        .iter()
        .map(|s| &s.outcome)
        .chain(report.checks.iter().map(|c| &c.outcome))
        .filter(|o| matches!(o, Outcome::Unsupported(_)))
        .count();
    let _ = writeln!(
        out,
        "\n{}: {steps_ok}/{} steps, {checks_ok}/{} checks passed{}",
        if report.passed() { "PASSED" } else { "FAILED" },
        report.steps.len(),
        report.checks.len(),
        [(skipped, "skipped"), (unsupported, "unsupported on this target")]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!(", {n} {what}"))
            .collect::<String>()
    );
    out
}

/// The scenario's variables as the run used them, `--var` ones marked.
pub(crate) fn write_variables(out: &mut String, variables: &[crate::scenario::ScenarioVariable]) {
    if variables.is_empty() {
        return;
    }
    let name_width = variables.iter().map(|v| v.name.len()).max().unwrap_or(0);
    let _ = writeln!(out, "\nvariables (--var marked *):");
    for var in variables {
        let mark = if var.from_command_line { "*" } else { " " };
        let _ = writeln!(out, " {mark} {:<name_width$} = {}", var.name, var.value);
    }
}

fn label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "ok",
        Outcome::Failed => "FAILED",
        Outcome::NotRun(_) => "not run",
        Outcome::Skipped(_) => "skipped",
        Outcome::Unsupported(_) => "unsupp.",
        Outcome::NotChecked(_) => "not chkd",
    }
}

fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
