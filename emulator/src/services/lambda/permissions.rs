//! The function's resource-based policy: AddPermission, GetPolicy, RemovePermission, and the check that an
//! AWS service (API Gateway) may invoke the function.

use std::sync::Arc;

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Env;
use super::{Function, function_arn, function_name, not_found};
use crate::protocol::{AwsError, AwsResult, Response, rest_json};
use crate::services::Call;
use crate::services::iam::condition::{Condition, Context};
use crate::services::iam::policy::wildcard_match;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddPermissionInput {
    statement_id: String,
    action: String,
    principal: String,
    source_arn: Option<String>,
    source_account: Option<String>,
    revision_id: Option<String>,
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html>
/// Deviation: `Qualifier`, `EventSourceToken` and `PrincipalOrgID` are not emulated.
pub(super) fn add(call: &Call<'_, Arc<dyn Env>>, reference: &str) -> AwsResult<Response> {
    let input: AddPermissionInput = rest_json::input(call.req)?;
    let (account, region) = (call.account_id(), call.region());
    let name = function_name(reference);
    let arn = function_arn(region, account, name);
    call.authorize(std::slice::from_ref(&arn))?;
    if !input.action.to_ascii_lowercase().starts_with("lambda:") {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
            input.action
        )));
    }
    let principal = if input.principal.ends_with(".amazonaws.com") {
        json!({ "Service": input.principal })
    } else {
        json!({ "AWS": input.principal })
    };
    let mut statement = json!({
        "Sid": input.statement_id,
        "Effect": "Allow",
        "Principal": principal,
        "Action": input.action,
        "Resource": arn,
    });
    let mut condition = serde_json::Map::new();
    if let Some(source_arn) = &input.source_arn {
        condition.insert("ArnLike".to_owned(), json!({ "AWS:SourceArn": source_arn }));
    }
    if let Some(source_account) = &input.source_account {
        condition.insert("StringEquals".to_owned(), json!({ "AWS:SourceAccount": source_account }));
    }
    if !condition.is_empty() {
        statement["Condition"] = Value::Object(condition);
    }
    call.service.lambda().with_functions(account, region, |fs| {
        let function = fs.get_mut(name).ok_or_else(|| not_found(&arn))?;
        check_revision(function, input.revision_id.as_deref())?;
        if function.policy.iter().any(|s| s["Sid"] == json!(input.statement_id)) {
            return Err(AwsError::conflict(
                "ResourceConflictException",
                format!(
                    "The statement id ({}) provided already exists. Please provide a new statement id, or remove the existing statement.",
                    input.statement_id
                ),
            ));
        }
        function.policy.push(statement.clone());
        function.revision_id = uuid::Uuid::new_v4().to_string();
        Ok(())
    })?;
    Ok(rest_json::respond(StatusCode::CREATED, &json!({ "Statement": statement.to_string() })))
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_GetPolicy.html>
pub(super) fn get(call: &Call<'_, Arc<dyn Env>>, reference: &str) -> AwsResult<Response> {
    let (account, region) = (call.account_id(), call.region());
    let name = function_name(reference);
    let arn = function_arn(region, account, name);
    call.authorize(std::slice::from_ref(&arn))?;
    let (policy, revision) = call.service.lambda().with_functions(account, region, |fs| {
        fs.get(name).map(|f| (f.policy.clone(), f.revision_id.clone())).ok_or_else(|| not_found(&arn))
    })?;
    if policy.is_empty() {
        return Err(AwsError::not_found("ResourceNotFoundException", "The resource you requested does not exist."));
    }
    let document = json!({ "Version": "2012-10-17", "Id": "default", "Statement": policy });
    Ok(rest_json::ok(&json!({ "Policy": document.to_string(), "RevisionId": revision })))
}

/// <https://docs.aws.amazon.com/lambda/latest/api/API_RemovePermission.html>
pub(super) fn remove(call: &Call<'_, Arc<dyn Env>>, reference: &str, sid: &str) -> AwsResult<Response> {
    let (account, region) = (call.account_id(), call.region());
    let name = function_name(reference);
    let arn = function_arn(region, account, name);
    call.authorize(std::slice::from_ref(&arn))?;
    call.service.lambda().with_functions(account, region, |fs| {
        let function = fs.get_mut(name).ok_or_else(|| not_found(&arn))?;
        let before = function.policy.len();
        function.policy.retain(|s| s["Sid"] != json!(sid));
        if function.policy.len() == before {
            return Err(AwsError::not_found(
                "ResourceNotFoundException",
                format!("Statement {sid} is not found in resource policy."),
            ));
        }
        function.revision_id = uuid::Uuid::new_v4().to_string();
        Ok(())
    })?;
    Ok(rest_json::empty(StatusCode::NO_CONTENT))
}

fn check_revision(function: &Function, expected: Option<&str>) -> AwsResult<()> {
    match expected {
        Some(expected) if expected != function.revision_id => Err(AwsError::bad_request(
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id",
        )),
        _ => Ok(()),
    }
}

/// Whether the resource policy lets `principal` (an AWS service) invoke the function in `context` (which carries
/// `aws:SourceArn` and `aws:SourceAccount`, what AddPermission's `SourceArn` / `SourceAccount` became): a
/// statement applies when its action, principal and `Condition` match; a matching Deny wins.
pub(super) fn allows_service(policy: &[Value], principal: &str, context: &Context) -> bool {
    let mut allowed = false;
    for statement in policy {
        let action_ok = match &statement["Action"] {
            Value::String(a) => wildcard_match(a, "lambda:InvokeFunction", true),
            Value::Array(actions) => {
                actions.iter().filter_map(Value::as_str).any(|a| wildcard_match(a, "lambda:InvokeFunction", true))
            }
            _ => false,
        };
        let principal_ok = statement["Principal"]["Service"].as_str() == Some(principal)
            || statement["Principal"] == json!("*")
            || statement["Principal"]["AWS"] == json!("*");
        let condition_ok = match statement.get("Condition") {
            None => true,
            Some(condition) => Condition::parse(condition).is_ok_and(|c| c.holds(context)),
        };
        if action_ok && principal_ok && condition_ok {
            match statement["Effect"].as_str() {
                Some("Deny") => return false,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_permissions_match_principal_action_and_source_arn() {
        let policy = vec![json!({
            "Sid": "apigw", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:crts",
            "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:000000000000:abc123/*/POST/crts"}}
        })];
        let from = |source: &str, account: &str| {
            Context::new()
                .with("aws:SourceArn", format!("arn:aws:execute-api:us-east-1:000000000000:{source}"))
                .with("aws:SourceAccount", account)
        };
        let apigw = "apigateway.amazonaws.com";
        let with_account = {
            let mut statement = policy[0].clone();
            statement["Condition"]["StringEquals"] = json!({"AWS:SourceAccount": "000000000000"});
            vec![statement]
        };
        let own = "000000000000";
        for (policy, principal, context, expected) in [
            (&policy, apigw, from("abc123/default/POST/crts", own), true),
            (&policy, apigw, from("abc123/default/GET/crts", own), false),
            (&policy, apigw, from("other/default/POST/crts", own), false),
            (&policy, "events.amazonaws.com", from("abc123/default/POST/crts", own), false),
            (&policy, apigw, Context::new(), false),
            (&vec![], apigw, from("abc123/default/POST/crts", own), false),
            (&with_account, apigw, from("abc123/default/POST/crts", own), true),
            (&with_account, apigw, from("abc123/default/POST/crts", "111111111111"), false),
        ] {
            assert_eq!(allows_service(policy, principal, &context), expected, "{principal} {context:?}");
        }
    }
}
