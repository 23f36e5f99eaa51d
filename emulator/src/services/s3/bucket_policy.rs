//! Bucket policies: parsing (with S3's MalformedPolicy refusals), "is it public?" as Block Public Access
//! judges it, and evaluation for requests that are not the owner's (anonymous browsers, curl).
//!
//! Deliberate deviation: statements with a `Condition` neither allow nor deny (condition keys need request
//! context the emulator does not model), and `Principal`s other than `*` / `{"AWS": "*"}` are kept but only
//! the wildcard grants anonymous access.

use serde_json::Value;

use crate::services::iam::policy::wildcard_match;

/// A stored bucket policy: the text as sent (GetBucketPolicy returns it) and its parsed statements.
#[derive(Debug, Clone)]
pub struct BucketPolicy {
    pub text: String,
    statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
struct Statement {
    allow: bool,
    /// `Principal: "*"` or `{"AWS": "*"}` (or a list containing `*`).
    everyone: bool,
    actions: Vec<String>,
    not_actions: Vec<String>,
    resources: Vec<String>,
    condition_keys: Vec<String>,
}

/// Condition keys that make a wildcard-principal statement non-public for Block Public Access
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status>).
const RESTRICTING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:userid",
    "aws:principalarn",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// What a policy says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny,
    Silent,
}

impl BucketPolicy {
    /// Parses a policy for `bucket`; the error is S3's MalformedPolicy message.
    pub fn parse(text: &str, bucket: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text)
            .map_err(|_| "Policies must be valid JSON and the first byte must be '{'".to_owned())?;
        let Value::Object(document) = &value else {
            return Err("Policies must be valid JSON and the first byte must be '{'".to_owned());
        };
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items.iter().collect::<Vec<_>>(),
            Some(statement @ Value::Object(_)) => vec![statement],
            _ => return Err("Missing required field Statement".to_owned()),
        };
        let statements = statements.into_iter().map(|s| Statement::parse(s, bucket)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { text: text.to_owned(), statements })
    }

    /// Whether Block Public Access would call this policy public: an Allow for everyone not narrowed by a
    /// restricting condition.
    pub fn is_public(&self) -> bool {
        self.statements
            .iter()
            .any(|s| s.allow && s.everyone && !s.condition_keys.iter().any(|k| RESTRICTING_KEYS.contains(&k.as_str())))
    }

    /// What the policy says about an anonymous request for `action` (`s3:GetObject`) on `resource`.
    pub fn decide_anonymous(&self, action: &str, resource: &str) -> Verdict {
        let mut verdict = Verdict::Silent;
        for statement in self.statements.iter().filter(|s| s.everyone && s.condition_keys.is_empty()) {
            let action_matches = if statement.not_actions.is_empty() {
                statement.actions.iter().any(|p| wildcard_match(p, action, true))
            } else {
                !statement.not_actions.iter().any(|p| wildcard_match(p, action, true))
            };
            if action_matches && statement.resources.iter().any(|p| wildcard_match(p, resource, false)) {
                if !statement.allow {
                    return Verdict::Deny;
                }
                verdict = Verdict::Allow;
            }
        }
        verdict
    }
}

impl Statement {
    fn parse(value: &Value, bucket: &str) -> Result<Self, String> {
        let Value::Object(statement) = value else {
            return Err("Statements must be objects".to_owned());
        };
        let allow = match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => return Err("Invalid effect: must be Allow or Deny".to_owned()),
        };
        let everyone = match statement.get("Principal") {
            Some(Value::String(p)) => p == "*",
            Some(Value::Object(map)) => map.get("AWS").is_some_and(|aws| strings(aws).iter().any(|p| p == "*")),
            Some(_) => return Err("Invalid principal in policy".to_owned()),
            None if statement.contains_key("NotPrincipal") => false,
            None => return Err("Missing required field Principal".to_owned()),
        };
        let actions = statement.get("Action").map(strings).unwrap_or_default();
        let not_actions = statement.get("NotAction").map(strings).unwrap_or_default();
        if actions.is_empty() && not_actions.is_empty() {
            return Err("Missing required field Action".to_owned());
        }
        if let Some(bad) = actions.iter().chain(&not_actions).find(|a| !a.starts_with("s3:") && *a != "*") {
            return Err(format!("Policy has invalid action: {bad}"));
        }
        let resources = statement.get("Resource").map(strings).unwrap_or_default();
        if resources.is_empty() {
            return Err("Missing required field Resource".to_owned());
        }
        let bucket_arn = format!("arn:aws:s3:::{bucket}");
        if let Some(bad) = resources.iter().find(|r| !(**r == bucket_arn || r.starts_with(&format!("{bucket_arn}/")))) {
            return Err(format!("Policy has invalid resource: {bad}"));
        }
        let condition_keys = match statement.get("Condition") {
            Some(Value::Object(operators)) => operators
                .values()
                .filter_map(Value::as_object)
                .flat_map(|keys| keys.keys().map(|k| k.to_ascii_lowercase()))
                .collect(),
            Some(_) => return Err("Invalid Condition".to_owned()),
            None => Vec::new(),
        };
        Ok(Self { allow, everyone, actions, not_actions, resources, condition_keys })
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNBOOK: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicReadGetObject","Effect":"Allow",
        "Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}]}"#;

    #[test]
    fn the_runbook_policy_is_public_and_grants_anonymous_reads_of_objects_only() {
        let policy = BucketPolicy::parse(RUNBOOK, "site").expect("valid");
        assert!(policy.is_public());
        assert_eq!(policy.decide_anonymous("s3:GetObject", "arn:aws:s3:::site/index.html"), Verdict::Allow);
        assert_eq!(policy.decide_anonymous("s3:PutObject", "arn:aws:s3:::site/index.html"), Verdict::Silent);
        assert_eq!(policy.decide_anonymous("s3:ListBucket", "arn:aws:s3:::site"), Verdict::Silent);
    }

    #[test]
    fn deny_wins_and_conditions_make_a_statement_non_public() {
        let text = r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"}]}"#;
        let policy = BucketPolicy::parse(text, "b").expect("valid");
        assert_eq!(policy.decide_anonymous("s3:GetObject", "arn:aws:s3:::b/secret/x"), Verdict::Deny);
        assert_eq!(policy.decide_anonymous("s3:GetObject", "arn:aws:s3:::b/x"), Verdict::Allow);
        let restricted = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
        assert!(!BucketPolicy::parse(restricted, "b").expect("valid").is_public());
    }

    #[test]
    fn malformed_policies_are_refused_with_s3_messages() {
        assert!(BucketPolicy::parse("nope", "b").expect_err("refused").contains("valid JSON"));
        let other_bucket = RUNBOOK.replace("site/*", "other/*");
        assert!(BucketPolicy::parse(&other_bucket, "site").expect_err("refused").contains("invalid resource"));
        let no_principal =
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(BucketPolicy::parse(no_principal, "b").expect_err("refused").contains("Principal"));
    }
}
