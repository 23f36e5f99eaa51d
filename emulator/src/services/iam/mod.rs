//! Placeholder until the service is implemented: every operation answers NotImplemented.

use std::sync::Arc;

use crate::identity::Caller;
use crate::protocol::{AwsError, AwsRequest, Response, query};
use crate::server::AppState;

const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

pub async fn handle(_state: &Arc<AppState>, req: AwsRequest) -> Response {
    query::error(&AwsError::not_implemented(&req.raw_path), XMLNS, &req.ctx.request_id)
}

/// Why a role session may not do something, in AWS's words:
/// `User: <assumed-role arn> is not authorized to perform: <action> on resource: <arn> because ...`.
/// Each service wraps it in its own protocol's AccessDenied error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Iam;

impl Iam {
    pub fn new() -> Self {
        Self
    }

    /// May `caller` perform `action` (e.g. `batch:SubmitJob`) on every one of `resources` (ARNs)?
    /// The account's own keys (and unsigned requests) may do anything; role sessions are evaluated against the
    /// role's attached and inline policies: explicit Deny > Allow > implicit deny.
    pub fn authorize(&self, _caller: &Caller, _action: &str, _resources: &[String]) -> Result<(), Denial> {
        Ok(())
    }

    /// Whether a role with this ARN exists (Lambda's CreateFunction checks its execution role).
    pub fn role_exists(&self, _role_arn: &str) -> bool {
        true
    }
}
