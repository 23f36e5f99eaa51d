//! AWS Security Token Service (awsQuery): who am I, and temporary credentials for a role.
//!
//! <https://docs.aws.amazon.com/STS/latest/APIReference/welcome.html>

use crate::identity::{Caller, Sessions};
use crate::protocol::query::{self, QueryInput};
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response};
use crate::services::iam::{self, Iam};
use crate::services::{Call, Service};

pub(crate) const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// STS for one request: IAM decides whether a role may be assumed, `sessions` issues its credentials.
struct Sts<'a> {
    iam: &'a Iam,
    sessions: &'a Sessions,
}

impl Service for Sts<'_> {
    const IAM_PREFIX: &'static str = "sts";
    const PROTOCOL: iam::Protocol = iam::Protocol::Query;
}

/// Serves one STS request: reads the action and runs its handler.
pub async fn handle(iam: &Iam, sessions: &Sessions, req: AwsRequest) -> Response {
    let request_id = req.ctx.request_id.clone();
    let sts = Sts { iam, sessions };
    let result = QueryInput::from_request(&req).and_then(|input| dispatch(&sts, &req, &input));
    result.unwrap_or_else(|err| query::error(&err, XMLNS, &request_id))
}

fn dispatch(sts: &Sts<'_>, req: &AwsRequest, input: &QueryInput) -> AwsResult<Response> {
    let Some(action) = input.action() else {
        return Err(AwsError::bad_request("MissingAction", "Missing Action"));
    };
    let call = Call { service: sts, req, iam: sts.iam, operation: action };
    match action {
        "GetCallerIdentity" => Ok(get_caller_identity(&call)),
        "AssumeRole" => assume_role(&call, input),
        other => Err(AwsError::bad_request(
            "InvalidAction",
            format!("Could not find operation {other} for version 2011-06-15"),
        )),
    }
}

/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html>
fn get_caller_identity(call: &Call<'_, Sts<'_>>) -> Response {
    let caller = call.caller();
    let user_id = match caller {
        Caller::Account { account_id, .. } => account_id.clone(),
        Caller::Role(session) => format!("{}:{}", session.access_key_id, session.session_name),
        Caller::Anonymous => "anonymous".to_owned(),
    };
    query::respond(call.operation, XMLNS, call.request_id(), |w| {
        w.text("UserId", &user_id).text("Account", caller.account_id()).text("Arn", &caller.arn());
    })
}

/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html>
///
/// Deliberate deviations: session policies (`Policy`, `PolicyArns`), tags, MFA and source identity are refused
/// with ValidationError rather than ignored (ignoring a session policy would grant more than AWS does); the
/// credentials' `Expiration` is reported but not enforced.
fn assume_role(call: &Call<'_, Sts<'_>>, input: &QueryInput) -> AwsResult<Response> {
    let role_arn = input.required("RoleArn")?;
    let session_name = input.required("RoleSessionName")?;
    let valid_name = (2..=64).contains(&session_name.len())
        && session_name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !valid_name {
        return Err(AwsError::bad_request(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
            ),
        ));
    }
    if role_arn.len() < 20 || !role_arn.starts_with("arn:") {
        return Err(AwsError::bad_request("ValidationError", format!("{role_arn} is invalid")));
    }
    let unsupported = ["Policy", "PolicyArns.member.1.arn", "Tags.member.1.Key", "SerialNumber", "SourceIdentity"];
    if let Some(name) = unsupported.iter().find(|name| input.get(name).is_some()) {
        return Err(AwsError::bad_request(
            "ValidationError",
            format!("{} is not supported by this emulator", name.split('.').next().unwrap_or(name)),
        ));
    }
    // The trust policy's conditions read the request's keys and the caller's `ExternalId` (`sts:ExternalId`).
    let mut context = call.context();
    if let Some(external_id) = input.get("ExternalId") {
        context.insert("sts:ExternalId", external_id);
    }
    let (role_id, max_duration) =
        call.service.iam.trusts(call.caller(), role_arn, &context).map_err(|d| call.refused(d))?;
    let duration = match input.get("DurationSeconds") {
        None => 3600,
        Some(text) => text.parse::<u32>().map_err(|_| {
            AwsError::bad_request("ValidationError", format!("Value '{text}' at 'durationSeconds' is not a number"))
        })?,
    };
    if duration < 900 {
        return Err(AwsError::bad_request(
            "ValidationError",
            format!(
                "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: \
                 Member must have value greater than or equal to 900"
            ),
        ));
    }
    if duration > max_duration {
        return Err(AwsError::bad_request(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let session = call.service.sessions.issue(role_arn, session_name);
    let expiration =
        (chrono::Utc::now() + chrono::Duration::seconds(i64::from(duration))).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Ok(query::respond(call.operation, XMLNS, call.request_id(), |w| {
        w.open("Credentials", None)
            .text("AccessKeyId", &session.access_key_id)
            .text("SecretAccessKey", &session.secret_access_key)
            .text("SessionToken", &session.session_token)
            .text("Expiration", &expiration)
            .close("Credentials");
        w.open("AssumedRoleUser", None)
            .text("AssumedRoleId", &format!("{role_id}:{session_name}"))
            .text("Arn", &session.assumed_role_arn())
            .close("AssumedRoleUser");
    }))
}
