//! IAM policy documents: parsing (with AWS's MalformedPolicyDocument refusals) and evaluation.
//!
//! Evaluation follows AWS's logic for identity-based policies in one account: an explicit `Deny` that matches
//! wins; otherwise an `Allow` that matches allows; otherwise the request is implicitly denied.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
//!
//! A statement's `Condition` is evaluated against the request's context ([`super::condition`]): a statement applies
//! only when its condition holds.

use serde_json::Value;

use super::condition::{Condition, ConditionError, Context, Piece, pieces_match};

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
    condition: Option<Condition>,
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

    /// Whether this document explicitly denies, allows, or says nothing about `action` on `resource` in `context`.
    fn decide(&self, action: &str, resource: &str, context: &Context) -> Decision {
        let mut decision = Decision::ImplicitDeny;
        for statement in &self.statements {
            if statement.actions.matches(action, true)
                && statement.resources.matches(resource, false)
                && statement.condition.as_ref().is_none_or(|c| c.holds(context))
            {
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
        let condition = statement.get("Condition").map(Condition::parse).transpose().map_err(|e| match e {
            ConditionError::Syntax => "Syntax errors in policy.".to_owned(),
            ConditionError::Date => "The policy failed legacy parsing".to_owned(),
        })?;
        Ok(Self { allow, actions, resources, condition })
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
/// `sts:AssumeRole` in `context` (which carries `sts:ExternalId` when the caller sent one): an explicit Deny naming
/// it wins, then an Allow. A statement applies only when its `Condition` holds; an unreadable one never does.
pub fn trust_decision(trust_policy: &str, principals: &[String], context: &Context) -> Decision {
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
        if let Some(condition) = statement.get("Condition")
            && !Condition::parse(condition).is_ok_and(|c| c.holds(context))
        {
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

/// Evaluates `action` on every resource in `context` against all `documents`: the first resource not allowed
/// decides.
pub fn evaluate<'a>(
    documents: impl IntoIterator<Item = &'a PolicyDocument> + Clone,
    action: &str,
    resources: &[String],
    context: &Context,
) -> Result<(), (Decision, String)> {
    let all = ["*".to_owned()];
    let resources = if resources.is_empty() { &all[..] } else { resources };
    for resource in resources {
        let mut decision = Decision::ImplicitDeny;
        for document in documents.clone() {
            match document.decide(action, resource, context) {
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
    let pattern: Vec<Piece> = pattern
        .chars()
        .map(|c| match c {
            '*' => Piece::Any,
            '?' => Piece::One,
            c => Piece::Char(c),
        })
        .collect();
    pieces_match(&pattern, value, case_insensitive)
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
        decide_in(documents, action, resource, &Context::new())
    }

    fn decide_in(documents: &[&str], action: &str, resource: &str, context: &Context) -> Result<(), Decision> {
        let parsed: Vec<PolicyDocument> = documents.iter().map(|d| PolicyDocument::parse(d).expect("valid")).collect();
        evaluate(&parsed, action, &[resource.to_owned()], context).map_err(|(d, _)| d)
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
    fn conditions_decide_whether_a_statement_applies() {
        let region_guard = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}}]}"#;
        let tagged = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"batch:SubmitJob","Resource":"*",
            "Condition":{"StringEquals":{"aws:PrincipalTag/team":"crts"},"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        let in_region = |region: &str| Context::new().with("aws:RequestedRegion", region);
        let team = |team: &str| Context::new().with("aws:PrincipalTag/team", team).with("aws:SecureTransport", "false");
        for (document, context, expected) in [
            (region_guard, in_region("us-east-1"), Ok(())),
            (region_guard, in_region("eu-west-1"), Err(Decision::ExplicitDeny)),
            // The key is absent: a negated operator holds, so the Deny applies.
            (region_guard, Context::new(), Err(Decision::ExplicitDeny)),
            (tagged, team("crts"), Ok(())),
            (tagged, team("other"), Err(Decision::ImplicitDeny)),
            (tagged, Context::new(), Err(Decision::ImplicitDeny)),
        ] {
            assert_eq!(
                decide_in(&[document], "batch:SubmitJob", QUEUE, &context),
                expected,
                "{document} in {context:?}"
            );
        }
    }

    #[test]
    fn trust_conditions_need_their_keys() {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},
            "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"s3cret"}}}]}"#;
        let principals = ["123456789012".to_owned()];
        for (context, expected) in [
            (Context::new().with("sts:ExternalId", "s3cret"), Decision::Allow),
            (Context::new().with("sts:ExternalId", "guess"), Decision::ImplicitDeny),
            (Context::new(), Decision::ImplicitDeny),
        ] {
            assert_eq!(trust_decision(trust, &principals, &context), expected, "{context:?}");
        }
    }

    #[test]
    fn every_resource_must_be_allowed() {
        let scoped = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"batch:SubmitJob","Resource":"arn:aws:batch:*:*:job-queue/*"}]}"#,
        )
        .expect("valid");
        let definition = "arn:aws:batch:us-east-1:000000000000:job-definition/CrtsAwsJD:2".to_owned();
        let result = evaluate([&scoped], "batch:SubmitJob", &[QUEUE.to_owned(), definition.clone()], &Context::new());
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
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"soon"}}}]}"#,
        ] {
            assert!(PolicyDocument::parse(bad).is_err(), "{bad}");
        }
        assert!(PolicyDocument::parse(RUNBOOK).is_ok());
    }
}
