//! AWS Identity and Access Management (awsQuery): roles, managed and inline policies, and the evaluation of
//! those policies for calls made with a role session's credentials.
//!
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/welcome.html>
//!
//! Codemap: [`operations`] (one function per API action), [`tags`] (role and policy tags), [`policy`] (parsing
//! and evaluation), [`condition`] (`Condition` blocks and the request context they read, for every policy kind),
//! [`managed`] (the AWS-managed policies the runbook attaches). Resources live per account.

pub mod condition;
mod managed;
mod operations;
pub mod policy;
mod tags;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::identity::Caller;
use crate::protocol::query::{self, QueryInput};
use crate::protocol::{AwsError, AwsRequest, Response};

pub use condition::Context;
use policy::{Decision, PolicyDocument};

pub(crate) const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Serves one IAM request: reads the action and runs its handler with a [`crate::services::Call`] (IAM asks
/// itself whether a role session may perform the action).
pub async fn handle(iam: &Iam, req: AwsRequest) -> Response {
    let request_id = req.ctx.request_id.clone();
    let result = QueryInput::from_request(&req).and_then(|input| operations::dispatch(iam, &req, &input));
    result.unwrap_or_else(|err| query::error(&err, XMLNS, &request_id))
}

/// Why a role session may not do something, in AWS's words:
/// `User: <assumed-role arn> is not authorized to perform: <action> on resource: <arn> because ...`.
/// Each service wraps it in its own protocol's AccessDenied error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub message: String,
}

/// The IAM service of one emulator instance.
#[derive(Debug, Default)]
pub struct Iam {
    accounts: crate::store::Scoped<String, Account>,
}

impl crate::services::Service for Iam {
    const IAM_PREFIX: &'static str = "iam";
    const PROTOCOL: Protocol = Protocol::Query;
}

/// One account's IAM resources.
#[derive(Debug, Default)]
pub(crate) struct Account {
    pub roles: BTreeMap<String, Role>,
    /// Customer-managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
}

#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created: String,
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    /// Attached managed policy ARNs, in attachment order.
    pub attached: Vec<String>,
    /// Inline policies: name → (original text, parsed).
    pub inline: BTreeMap<String, (String, PolicyDocument)>,
    pub tags: crate::services::tagging::Tags,
}

#[derive(Debug, Clone)]
pub(crate) struct ManagedPolicy {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub description: Option<String>,
    pub created: String,
    pub document: String,
    pub parsed: PolicyDocument,
    pub tags: crate::services::tagging::Tags,
}

impl Iam {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on one account's resources. The lock is never held across an `.await`.
    pub(crate) fn with_account<T>(&self, account_id: &str, f: impl FnOnce(&mut Account) -> T) -> T {
        self.accounts.with(account_id.to_owned(), f)
    }

    /// May `caller` perform `action` (e.g. `batch:SubmitJob`) on every one of `resources` (ARNs), in the request's
    /// `context` (its condition keys, see [`crate::services::Call::context`])?
    /// The account's own keys (and unsigned requests) may do anything; role sessions are evaluated against the
    /// role's attached and inline policies: explicit Deny > Allow > implicit deny.
    ///
    /// Deliberate deviation: unsigned control-plane calls act as the account (AWS would refuse them).
    pub fn authorize(
        &self,
        caller: &Caller,
        action: &str,
        resources: &[String],
        context: &Context,
    ) -> Result<(), Denial> {
        let Caller::Role(session) = caller else { return Ok(()) };
        let denied = |decision: Decision, resource: &str| {
            let because = match decision {
                Decision::ExplicitDeny => "with an explicit deny in an identity-based policy".to_owned(),
                _ => format!("because no identity-based policy allows the {action} action"),
            };
            Denial {
                message: format!(
                    "User: {} is not authorized to perform: {action} on resource: {resource} {because}",
                    session.assumed_role_arn()
                ),
            }
        };
        self.with_account(&session.account_id, |account| {
            let Some(role) = account.roles.get(&session.role_name) else {
                return Err(denied(Decision::ImplicitDeny, resources.first().map_or("*", String::as_str)));
            };
            let managed: Vec<&PolicyDocument> = role
                .attached
                .iter()
                .filter_map(|arn| match account.policies.get(arn) {
                    Some(policy) => Some(&policy.parsed),
                    None => managed::parsed(arn),
                })
                .collect();
            let documents = managed.into_iter().chain(role.inline.values().map(|(_, parsed)| parsed));
            policy::evaluate(documents, action, resources, context)
                .map_err(|(decision, resource)| denied(decision, &resource))
        })
    }

    /// The condition keys IAM knows about `caller`: `aws:PrincipalArn` (a session's role ARN, as AWS reports it),
    /// `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid` (`<role id>:<session>` for a role session, the
    /// account id for its root) and `aws:PrincipalTag/<key>` (the role's tags). Anonymous requests have none but
    /// `aws:PrincipalType`. `aws:username` belongs to IAM users, which the emulator does not have.
    pub fn principal_keys(&self, caller: &Caller, context: &mut Context) {
        match caller {
            Caller::Account { account_id, .. } => {
                context.insert("aws:PrincipalArn", format!("arn:aws:iam::{account_id}:root"));
                context.insert("aws:PrincipalAccount", account_id.clone());
                context.insert("aws:PrincipalType", "Account");
                context.insert("aws:userid", account_id.clone());
            }
            Caller::Role(session) => {
                context.insert("aws:PrincipalArn", session.role_arn.clone());
                context.insert("aws:PrincipalAccount", session.account_id.clone());
                context.insert("aws:PrincipalType", "AssumedRole");
                self.with_account(&session.account_id, |account| {
                    if let Some(role) = account.roles.get(&session.role_name) {
                        context.insert("aws:userid", format!("{}:{}", role.id, session.session_name));
                        for (key, value) in &role.tags {
                            context.insert(&format!("aws:PrincipalTag/{key}"), value.clone());
                        }
                    }
                });
            }
            Caller::Anonymous => context.insert("aws:PrincipalType", "Anonymous"),
        }
    }

    /// STS AssumeRole's check: may `caller` assume `role_arn`? The role must exist, its trust policy must allow
    /// `sts:AssumeRole` for the caller's account (`"AWS": "<account>"`, `"arn:aws:iam::<account>:root"`, `"*"`) or
    /// the caller itself, and a role session's own policies must allow `sts:AssumeRole` on the role (chaining).
    /// A missing role is refused in the same words as an untrusting one, as AWS does. Returns the role's id and
    /// its maximum session duration. Trust statements' conditions read `context` (STS adds `sts:ExternalId`).
    pub fn trusts(&self, caller: &Caller, role_arn: &str, context: &Context) -> Result<(String, u32), Denial> {
        let denied = || Denial {
            message: format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn()
            ),
        };
        if matches!(caller, Caller::Anonymous) {
            return Err(denied());
        }
        self.authorize(caller, "sts:AssumeRole", &[role_arn.to_owned()], context)?;
        let account_id = role_arn.split(':').nth(4).ok_or_else(denied)?;
        self.with_account(account_id, |account| {
            let role = account.roles.values().find(|r| r.arn == role_arn).ok_or_else(denied)?;
            let principals = caller_principals(caller);
            match policy::trust_decision(&role.trust_policy, &principals, context) {
                Decision::Allow => Ok((role.id.clone(), role.max_session_duration)),
                Decision::ImplicitDeny | Decision::ExplicitDeny => Err(denied()),
            }
        })
    }

    /// Whether a role with this ARN exists (Lambda's CreateFunction checks its execution role).
    pub fn role_exists(&self, role_arn: &str) -> bool {
        let Some(account_id) = role_arn.split(':').nth(4) else { return false };
        self.with_account(account_id, |account| account.roles.values().any(|r| r.arn == role_arn))
    }
}

/// The `"AWS"` principals a trust or resource policy may name to mean this caller.
pub(crate) fn caller_principals(caller: &Caller) -> Vec<String> {
    match caller {
        Caller::Account { account_id, .. } => vec![account_id.clone(), format!("arn:aws:iam::{account_id}:root")],
        Caller::Role(session) => vec![
            session.account_id.clone(),
            format!("arn:aws:iam::{}:root", session.account_id),
            session.role_arn.clone(),
            session.assumed_role_arn(),
        ],
        Caller::Anonymous => Vec::new(),
    }
}

/// The protocol a refusal is answered in: each writes IAM's refusal with its own code and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsQuery (IAM, STS): 403 `AccessDenied`.
    Query,
    /// rest-json (Lambda, API Gateway, Batch): 403 `AccessDeniedException`.
    RestJson,
    /// awsJson1.1 (ECR, the Resource Groups Tagging API): 400 `AccessDeniedException`, as JSON-protocol services
    /// answer it.
    Json,
    /// restXml (S3): 403 `AccessDenied`.
    RestXml,
}

impl Denial {
    /// The one mapping of an IAM refusal to each protocol's error; the message is IAM's.
    pub fn into_error(self, protocol: Protocol) -> AwsError {
        let (status, code) = match protocol {
            Protocol::Query | Protocol::RestXml => (http::StatusCode::FORBIDDEN, "AccessDenied"),
            Protocol::RestJson => (http::StatusCode::FORBIDDEN, "AccessDeniedException"),
            Protocol::Json => (http::StatusCode::BAD_REQUEST, "AccessDeniedException"),
        };
        AwsError::new(status, code, self.message)
    }
}
