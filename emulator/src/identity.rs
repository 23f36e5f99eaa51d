//! Who is calling: the account's own keys, a role session (a Lambda's execution role), or nobody.
//!
//! Accounts follow the LocalStack convention users expect: a 12-digit access key id *is* the account id, any
//! other key maps to `000000000000`. Role sessions are issued by the emulator itself (for Lambda functions) and
//! recognised by their access key id, so their calls are authorized against the role's policies.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::Rng;

/// The account every non-numeric access key maps to.
pub const DEFAULT_ACCOUNT: &str = "000000000000";

/// The identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Signed with the account's own (root or user) keys: every action is allowed, as for an administrator.
    Account { account_id: String, access_key_id: String },
    /// Signed with temporary credentials of a role session: actions are evaluated against the role's policies.
    Role(RoleSession),
    /// Not signed at all (browsers, curl, the execute-api data plane).
    Anonymous,
}

impl Caller {
    pub fn account_id(&self) -> &str {
        match self {
            Caller::Account { account_id, .. } => account_id,
            Caller::Role(session) => &session.account_id,
            Caller::Anonymous => DEFAULT_ACCOUNT,
        }
    }

    /// The ARN `sts:GetCallerIdentity` reports and AccessDenied messages name.
    pub fn arn(&self) -> String {
        match self {
            Caller::Account { account_id, .. } => format!("arn:aws:iam::{account_id}:root"),
            Caller::Role(session) => session.assumed_role_arn(),
            Caller::Anonymous => "anonymous".to_owned(),
        }
    }
}

/// Maps an access key id to its account id (see the module docs).
pub fn account_for_access_key(access_key_id: &str) -> String {
    if access_key_id.len() == 12 && access_key_id.bytes().all(|b| b.is_ascii_digit()) {
        access_key_id.to_owned()
    } else {
        DEFAULT_ACCOUNT.to_owned()
    }
}

/// Temporary credentials for a role, as a Lambda function's runtime receives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSession {
    pub account_id: String,
    pub role_arn: String,
    pub role_name: String,
    pub session_name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl RoleSession {
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub fn assumed_role_arn(&self) -> String {
        format!("arn:aws:sts::{}:assumed-role/{}/{}", self.account_id, self.role_name, self.session_name)
    }
}

/// The role sessions the emulator has issued, by access key id.
#[derive(Debug, Default)]
pub struct Sessions {
    by_access_key: Mutex<HashMap<String, RoleSession>>,
}

impl Sessions {
    /// Issues new temporary credentials for `role_arn` (`arn:aws:iam::<acct>:role/<path/><name>`).
    pub fn issue(&self, role_arn: &str, session_name: &str) -> RoleSession {
        let account_id = role_arn.split(':').nth(4).unwrap_or(DEFAULT_ACCOUNT).to_owned();
        let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn).to_owned();
        let session = RoleSession {
            account_id,
            role_arn: role_arn.to_owned(),
            role_name,
            session_name: session_name.to_owned(),
            access_key_id: format!("ASIA{}", random_upper_alnum(16)),
            secret_access_key: random_alnum(40),
            session_token: random_alnum(120),
        };
        crate::store::lock(&self.by_access_key).insert(session.access_key_id.clone(), session.clone());
        session
    }

    /// The caller for a signed request's access key id.
    pub fn caller_for(&self, access_key_id: &str) -> Caller {
        let sessions = crate::store::lock(&self.by_access_key);
        match sessions.get(access_key_id) {
            Some(session) => Caller::Role(session.clone()),
            None => Caller::Account {
                account_id: account_for_access_key(access_key_id),
                access_key_id: access_key_id.to_owned(),
            },
        }
    }
}

/// `n` random characters from `A-Z0-9`.
pub fn random_upper_alnum(n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..n).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

/// `n` random characters from `A-Za-z0-9`.
pub fn random_alnum(n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

/// `n` random characters from `a-z0-9` (API Gateway ids look like this).
pub fn random_lower_alnum(n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_keys_are_accounts_and_others_map_to_the_default() {
        assert_eq!(account_for_access_key("123456789012"), "123456789012");
        assert_eq!(account_for_access_key("AKIAIOSFODNN7EXAMPLE"), DEFAULT_ACCOUNT);
        assert_eq!(account_for_access_key("12345"), DEFAULT_ACCOUNT);
    }

    #[test]
    fn issued_sessions_are_recognised_by_their_key() {
        let sessions = Sessions::default();
        let s = sessions.issue("arn:aws:iam::123456789012:role/service-role/crts-role", "crts-trigger");
        assert_eq!(s.assumed_role_arn(), "arn:aws:sts::123456789012:assumed-role/crts-role/crts-trigger");
        assert!(matches!(sessions.caller_for(&s.access_key_id), Caller::Role(_)));
        assert_eq!(sessions.caller_for("test").arn(), "arn:aws:iam::000000000000:root");
    }
}
