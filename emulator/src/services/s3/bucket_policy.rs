//! Bucket policies: parsing (with S3's MalformedPolicy refusals), "is it public?" as Block Public Access
//! judges it, and evaluation: a statement applies to a request when its action, resource and principal match and
//! its `Condition` holds in the request's context ([`crate::services::iam::condition`]).
//!
//! Deliberate deviation: an `Allow` grants only anonymous requests (S3 asks IAM for role sessions and lets the
//! account's own keys do anything); a `Deny` applies to every caller its principal names.

use serde_json::Value;

use crate::services::iam::condition::{Condition, Context};
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
    /// The `"AWS"` principals of `Principal` (or of `NotPrincipal`, when `not_principal`).
    principals: Vec<String>,
    not_principal: bool,
    actions: Vec<String>,
    not_actions: Vec<String>,
    resources: Vec<String>,
    condition: Option<Condition>,
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

    /// Whether Block Public Access would call this policy public: an Allow for everyone (`Principal: "*"`, or a
    /// `NotPrincipal` naming someone) not narrowed by a restricting condition (a positive test, one that fails
    /// when the key is absent, of a restricting key).
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(|s| {
            let restricted = s
                .condition
                .as_ref()
                .is_some_and(|c| c.keys().any(|(key, positive)| positive && RESTRICTING_KEYS.contains(&key.as_str())));
            s.allow && s.everyone != s.not_principal && !restricted
        })
    }

    /// What the policy says about an anonymous request for `action` (`s3:GetObject`) on `resource` in `context`.
    pub fn decide_anonymous(&self, action: &str, resource: &str, context: &Context) -> Verdict {
        self.decide(None, action, resource, context)
    }

    /// What the policy says about a request by a caller known by `principals` (the `"AWS"` principal forms that
    /// name it; `None` for an anonymous request) for `action` on `resource` in `context`: a matching Deny wins.
    pub fn decide(&self, principals: Option<&[String]>, action: &str, resource: &str, context: &Context) -> Verdict {
        let mut verdict = Verdict::Silent;
        for statement in &self.statements {
            let named = statement.everyone
                || principals.is_some_and(|forms| statement.principals.iter().any(|p| forms.contains(p)));
            if named == statement.not_principal {
                continue;
            }
            let action_matches = if statement.not_actions.is_empty() {
                statement.actions.iter().any(|p| wildcard_match(p, action, true))
            } else {
                !statement.not_actions.iter().any(|p| wildcard_match(p, action, true))
            };
            if action_matches
                && statement.resources.iter().any(|p| wildcard_match(p, resource, false))
                && statement.condition.as_ref().is_none_or(|c| c.holds(context))
            {
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
        let not_principal = !statement.contains_key("Principal") && statement.contains_key("NotPrincipal");
        let principals = match statement.get("Principal").or_else(|| statement.get("NotPrincipal")) {
            Some(Value::String(p)) if p == "*" => vec!["*".to_owned()],
            Some(Value::Object(map)) => map.get("AWS").map(strings).unwrap_or_default(),
            Some(_) => return Err("Invalid principal in policy".to_owned()),
            None => return Err("Missing required field Principal".to_owned()),
        };
        let everyone = principals.iter().any(|p| p == "*");
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
        let condition =
            statement.get("Condition").map(Condition::parse).transpose().map_err(|_| "Invalid Condition".to_owned())?;
        Ok(Self { allow, everyone, principals, not_principal, actions, not_actions, resources, condition })
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
        let none = Context::new();
        assert!(policy.is_public());
        assert_eq!(policy.decide_anonymous("s3:GetObject", "arn:aws:s3:::site/index.html", &none), Verdict::Allow);
        assert_eq!(policy.decide_anonymous("s3:PutObject", "arn:aws:s3:::site/index.html", &none), Verdict::Silent);
        assert_eq!(policy.decide_anonymous("s3:ListBucket", "arn:aws:s3:::site", &none), Verdict::Silent);
    }

    #[test]
    fn deny_wins_and_conditions_make_a_statement_non_public() {
        let text = r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"}]}"#;
        let policy = BucketPolicy::parse(text, "b").expect("valid");
        let none = Context::new();
        assert_eq!(policy.decide_anonymous("s3:GetObject", "arn:aws:s3:::b/secret/x", &none), Verdict::Deny);
        assert_eq!(policy.decide_anonymous("s3:GetObject", "arn:aws:s3:::b/x", &none), Verdict::Allow);
        let restricted = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
        assert!(!BucketPolicy::parse(restricted, "b").expect("valid").is_public());
    }

    #[test]
    fn conditions_and_principals_decide_which_statements_apply() {
        let text = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",
             "Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},
            {"Sid":"ListHome","Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b",
             "Condition":{"StringLike":{"s3:prefix":"home/*"}}},
            {"Sid":"NoDeletesButAdmin","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:role/admin"},
             "Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        let policy = BucketPolicy::parse(text, "b").expect("valid");
        assert!(policy.is_public(), "the ListHome Allow is not narrowed by a restricting key");
        let https = Context::new().with("aws:SecureTransport", "true");
        let http = Context::new().with("aws:SecureTransport", "false");
        let prefix = |p: &str| https.clone().with("s3:prefix", p);
        let admin = ["123456789012".to_owned(), "arn:aws:iam::123456789012:role/admin".to_owned()];
        let root = ["123456789012".to_owned(), "arn:aws:iam::123456789012:root".to_owned()];
        let (bucket, object) = ("arn:aws:s3:::b", "arn:aws:s3:::b/k");
        for (principals, action, resource, context, expected) in [
            (None, "s3:GetObject", object, &http, Verdict::Deny),
            (Some(&root[..]), "s3:GetObject", object, &http, Verdict::Deny),
            (None, "s3:GetObject", object, &https, Verdict::Silent),
            (None, "s3:ListBucket", bucket, &prefix("home/alice/"), Verdict::Allow),
            (None, "s3:ListBucket", bucket, &prefix("etc/"), Verdict::Silent),
            (None, "s3:ListBucket", bucket, &https, Verdict::Silent),
            (None, "s3:DeleteObject", object, &https, Verdict::Deny),
            (Some(&root[..]), "s3:DeleteObject", object, &https, Verdict::Deny),
            (Some(&admin[..]), "s3:DeleteObject", object, &https, Verdict::Silent),
        ] {
            assert_eq!(policy.decide(principals, action, resource, context), expected, "{action} {context:?}");
        }
        let restricted = |operator: &str| {
            let text = format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
                "Condition":{{"{operator}":{{"aws:SourceAccount":"123456789012"}}}}}}]}}"#
            );
            !BucketPolicy::parse(&text, "b").expect("valid").is_public()
        };
        assert!(restricted("StringEquals"));
        assert!(!restricted("StringNotEquals"), "a negated test holds for anonymous callers");
        assert!(!restricted("StringEqualsIfExists"));
    }

    #[test]
    fn malformed_policies_are_refused_with_s3_messages() {
        assert!(BucketPolicy::parse("nope", "b").expect_err("refused").contains("valid JSON"));
        let other_bucket = RUNBOOK.replace("site/*", "other/*");
        assert!(BucketPolicy::parse(&other_bucket, "site").expect_err("refused").contains("invalid resource"));
        let no_principal =
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(BucketPolicy::parse(no_principal, "b").expect_err("refused").contains("Principal"));
        let bad_condition = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":"aws:SourceAccount"}}]}"#;
        assert_eq!(BucketPolicy::parse(bad_condition, "b").expect_err("refused"), "Invalid Condition");
    }
}
