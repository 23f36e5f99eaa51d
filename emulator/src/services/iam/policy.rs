//! IAM policy documents: parsing (with AWS's MalformedPolicyDocument refusals) and evaluation.
//!
//! Evaluation follows AWS's logic for identity-based policies in one account: an explicit `Deny` that matches
//! wins; otherwise an `Allow` that matches allows; otherwise the request is implicitly denied.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
//!
//! Deliberate deviation: statements with a `Condition` are not evaluated (they neither allow nor deny), since
//! condition keys need request context the emulator does not model. Nothing in the CRTS runbook uses them.

use serde_json::Value;

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    allow: bool,
    actions: Patterns,
    resources: Patterns,
    has_condition: bool,
}

/// `Action`/`Resource` (a list that must match) or `NotAction`/`NotResource` (a list that must not).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Patterns {
    Only(Vec<String>),
    AllBut(Vec<String>),
}

/// The outcome of evaluating a request against a set of policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ImplicitDeny,
    ExplicitDeny,
}

impl PolicyDocument {
    /// Parses a policy; the error is AWS's MalformedPolicyDocument message.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|_| "Syntax errors in policy.".to_owned())?;
        let Value::Object(document) = &value else {
            return Err("Syntax errors in policy.".to_owned());
        };
        if let Some(version) = document.get("Version")
            && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
        {
            return Err("The policy failed legacy parsing".to_owned());
        }
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
            Some(statement @ Value::Object(_)) => vec![statement],
            _ => return Err("Syntax errors in policy.".to_owned()),
        };
        if statements.is_empty() {
            return Err("Syntax errors in policy.".to_owned());
        }
        let statements = statements.into_iter().map(Statement::parse).collect::<Result<_, _>>()?;
        Ok(Self { statements })
    }

    /// Whether this document explicitly denies, allows, or says nothing about `action` on `resource`.
    fn decide(&self, action: &str, resource: &str) -> Decision {
        let mut decision = Decision::ImplicitDeny;
        for statement in self.statements.iter().filter(|s| !s.has_condition) {
            if statement.actions.matches(action, true) && statement.resources.matches(resource, false) {
                if !statement.allow {
                    return Decision::ExplicitDeny;
                }
                decision = Decision::Allow;
            }
        }
        decision
    }
}

impl Statement {
    fn parse(value: &Value) -> Result<Self, String> {
        let Value::Object(statement) = value else {
            return Err("Syntax errors in policy.".to_owned());
        };
        let allow = match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => return Err("Syntax errors in policy.".to_owned()),
        };
        let actions = match (statement.get("Action"), statement.get("NotAction")) {
            (Some(list), None) => Patterns::Only(strings(list)?),
            (None, Some(list)) => Patterns::AllBut(strings(list)?),
            _ => return Err("Policy statement must contain actions.".to_owned()),
        };
        // Identity policies need a resource; trust policies (Principal) do not, so absent means "all".
        let resources = match (statement.get("Resource"), statement.get("NotResource")) {
            (Some(list), None) => Patterns::Only(strings(list)?),
            (None, Some(list)) => Patterns::AllBut(strings(list)?),
            (None, None) => Patterns::Only(vec!["*".to_owned()]),
            (Some(_), Some(_)) => return Err("Syntax errors in policy.".to_owned()),
        };
        Ok(Self { allow, actions, resources, has_condition: statement.contains_key("Condition") })
    }
}

impl Patterns {
    fn matches(&self, value: &str, case_insensitive: bool) -> bool {
        let any = |patterns: &[String]| patterns.iter().any(|p| wildcard_match(p, value, case_insensitive));
        match self {
            Patterns::Only(patterns) => any(patterns),
            Patterns::AllBut(patterns) => !any(patterns),
        }
    }
}

fn strings(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| "Syntax errors in policy.".to_owned()))
            .collect(),
        _ => Err("Syntax errors in policy.".to_owned()),
    }
}

/// Whether a role's trust policy lets one of `principals` (the caller's `"AWS"` principal forms) call
/// `sts:AssumeRole`: an explicit Deny naming it wins, then an Allow. Statements with a `Condition` are skipped.
pub fn trust_decision(trust_policy: &str, principals: &[String]) -> Decision {
    let Ok(Value::Object(document)) = serde_json::from_str::<Value>(trust_policy) else {
        return Decision::ImplicitDeny;
    };
    let statements: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(statement @ Value::Object(_)) => vec![statement],
        _ => return Decision::ImplicitDeny,
    };
    let mut decision = Decision::ImplicitDeny;
    for statement in statements {
        let Value::Object(statement) = statement else { continue };
        if statement.contains_key("Condition") {
            continue;
        }
        let actions = statement.get("Action").map(|a| strings(a).unwrap_or_default()).unwrap_or_default();
        if !actions.iter().any(|a| wildcard_match(a, "sts:AssumeRole", true)) {
            continue;
        }
        let named = match statement.get("Principal") {
            Some(Value::String(star)) => star == "*",
            Some(Value::Object(principal)) => principal
                .get("AWS")
                .is_some_and(|aws| strings(aws).unwrap_or_default().iter().any(|p| p == "*" || principals.contains(p))),
            _ => false,
        };
        if !named {
            continue;
        }
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Decision::ExplicitDeny,
            Some("Allow") => decision = Decision::Allow,
            _ => {}
        }
    }
    decision
}

/// Evaluates `action` on every resource against all `documents`: the first resource not allowed decides.
pub fn evaluate<'a>(
    documents: impl IntoIterator<Item = &'a PolicyDocument> + Clone,
    action: &str,
    resources: &[String],
) -> Result<(), (Decision, String)> {
    let all = ["*".to_owned()];
    let resources = if resources.is_empty() { &all[..] } else { resources };
    for resource in resources {
        let mut decision = Decision::ImplicitDeny;
        for document in documents.clone() {
            match document.decide(action, resource) {
                Decision::ExplicitDeny => {
                    decision = Decision::ExplicitDeny;
                    break;
                }
                Decision::Allow => decision = Decision::Allow,
                Decision::ImplicitDeny => {}
            }
        }
        if decision != Decision::Allow {
            return Err((decision, resource.clone()));
        }
    }
    Ok(())
}

/// IAM's wildcard match: `*` any run of characters, `?` any one character.
pub fn wildcard_match(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let fold = |c: char| if case_insensitive { c.to_ascii_lowercase() } else { c };
    let pattern: Vec<char> = pattern.chars().map(fold).collect();
    let value: Vec<char> = value.chars().map(fold).collect();
    let (mut p, mut v) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while v < value.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, v));
                p += 1;
            }
            Some(&c) if c == '?' || c == value[v] => {
                p += 1;
                v += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    v = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNBOOK: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [{"Sid": "VisualEditor0", "Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}]
    }"#;
    const QUEUE: &str = "arn:aws:batch:us-east-1:000000000000:job-queue/crts-aws-jq";

    fn decide(documents: &[&str], action: &str, resource: &str) -> Result<(), Decision> {
        let parsed: Vec<PolicyDocument> = documents.iter().map(|d| PolicyDocument::parse(d).expect("valid")).collect();
        evaluate(&parsed, action, &[resource.to_owned()]).map_err(|(d, _)| d)
    }

    #[test]
    fn wildcards() {
        for (pattern, value, case_insensitive, expected) in [
            ("*", "anything", false, true),
            ("batch:*", "batch:SubmitJob", true, true),
            ("batch:submit*", "batch:SubmitJob", true, true),
            ("batch:submit*", "batch:SubmitJob", false, false),
            ("batch:Submit???", "batch:SubmitJob", false, true),
            ("batch:Submit??", "batch:SubmitJob", false, false),
            ("arn:aws:batch:*:*:job-queue/crts-*", QUEUE, false, true),
            ("arn:aws:batch:*:*:job-queue/other", QUEUE, false, false),
            ("a*b*c", "aXbYbZc", false, true),
            ("a*b*c", "aXbYbZ", false, false),
            ("", "", false, true),
        ] {
            assert_eq!(wildcard_match(pattern, value, case_insensitive), expected, "{pattern} vs {value}");
        }
    }

    #[test]
    fn evaluation_table() {
        let deny_submit =
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"batch:Submit*","Resource":"*"}}"#;
        let allow_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let not_action =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#;
        let scoped = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["batch:SubmitJob"],"Resource":["arn:aws:batch:*:*:job-queue/crts-*"]}]}"#;
        let conditional = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
        assert_eq!(decide(&[RUNBOOK], "batch:SubmitJob", QUEUE), Ok(()));
        assert_eq!(decide(&[RUNBOOK], "batch:submitjob", QUEUE), Ok(()), "actions are case-insensitive");
        assert_eq!(decide(&[RUNBOOK], "batch:CancelJob", QUEUE), Err(Decision::ImplicitDeny));
        assert_eq!(decide(&[], "batch:SubmitJob", QUEUE), Err(Decision::ImplicitDeny));
        assert_eq!(decide(&[RUNBOOK, deny_submit], "batch:SubmitJob", QUEUE), Err(Decision::ExplicitDeny));
        assert_eq!(decide(&[deny_submit, allow_all], "batch:SubmitJob", QUEUE), Err(Decision::ExplicitDeny));
        assert_eq!(decide(&[allow_all], "iam:CreateRole", "*"), Ok(()));
        assert_eq!(decide(&[not_action], "batch:SubmitJob", QUEUE), Ok(()));
        assert_eq!(decide(&[not_action], "iam:CreateRole", "*"), Err(Decision::ImplicitDeny));
        assert_eq!(decide(&[scoped], "batch:SubmitJob", QUEUE), Ok(()));
        assert_eq!(
            decide(&[scoped], "batch:SubmitJob", "arn:aws:batch:us-east-1:0:job-queue/x"),
            Err(Decision::ImplicitDeny)
        );
        assert_eq!(decide(&[conditional], "batch:SubmitJob", QUEUE), Err(Decision::ImplicitDeny));
    }

    #[test]
    fn every_resource_must_be_allowed() {
        let scoped = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"batch:SubmitJob","Resource":"arn:aws:batch:*:*:job-queue/*"}]}"#,
        )
        .expect("valid");
        let definition = "arn:aws:batch:us-east-1:000000000000:job-definition/CrtsAwsJD:2".to_owned();
        let result = evaluate([&scoped], "batch:SubmitJob", &[QUEUE.to_owned(), definition.clone()]);
        assert_eq!(result, Err((Decision::ImplicitDeny, definition)));
    }

    #[test]
    fn malformed_documents_are_refused() {
        for bad in [
            "not json",
            "[]",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[1],"Resource":"*"}]}"#,
            r#"{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        ] {
            assert!(PolicyDocument::parse(bad).is_err(), "{bad}");
        }
        assert!(PolicyDocument::parse(RUNBOOK).is_ok());
    }
}
