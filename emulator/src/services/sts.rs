//! AWS Security Token Service (awsQuery): who am I.
//!
//! <https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html>

use std::sync::Arc;

use crate::identity::Caller;
use crate::protocol::query::{self, QueryInput};
use crate::protocol::{AwsError, AwsRequest, Response};
use crate::server::AppState;

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub async fn handle(_state: &Arc<AppState>, req: AwsRequest) -> Response {
    let request_id = req.ctx.request_id.clone();
    let result = QueryInput::from_request(&req).and_then(|input| match input.action() {
        Some("GetCallerIdentity") => Ok(get_caller_identity(&req, &request_id)),
        Some(other) => Err(AwsError::bad_request(
            "InvalidAction",
            format!("Could not find operation {other} for version 2011-06-15"),
        )),
        None => Err(AwsError::bad_request("MissingAction", "Missing Action")),
    });
    result.unwrap_or_else(|err| query::error(&err, XMLNS, &request_id))
}

/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html>
fn get_caller_identity(req: &AwsRequest, request_id: &str) -> Response {
    let caller = &req.ctx.caller;
    let user_id = match caller {
        Caller::Account { account_id, .. } => account_id.clone(),
        Caller::Role(session) => format!("{}:{}", session.access_key_id, session.session_name),
        Caller::Anonymous => "anonymous".to_owned(),
    };
    query::respond("GetCallerIdentity", XMLNS, request_id, |w| {
        w.text("UserId", &user_id).text("Account", caller.account_id()).text("Arn", &caller.arn());
    })
}
