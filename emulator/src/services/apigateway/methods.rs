//! Methods, their integrations, and both kinds of responses: Put/Get/Delete/Update Method, MethodResponse,
//! Integration and IntegrationResponse.

use std::collections::BTreeMap;

use http::{Method as HttpMethod, StatusCode};
use serde::Deserialize;

use super::model::{Integration, IntegrationResponse, Method, MethodResponse, Resource, RestApi};
use super::patch::PatchOp;
use super::{ApiGateway, bad_request, conflict, created, input, not_found, patch};
use crate::protocol::{AwsError, AwsResult, Response, rest_json};
use crate::services::Call;

const VERBS: &[&str] = &["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY"];

fn resource<'a>(api: &'a mut RestApi, id: &str) -> AwsResult<&'a mut Resource> {
    api.resources.get_mut(id).ok_or_else(|| not_found("Invalid Resource identifier specified"))
}

fn find_method<'a>(api: &'a mut RestApi, id: &str, verb: &str) -> AwsResult<&'a mut Method> {
    resource(api, id)?.methods.get_mut(verb).ok_or_else(|| not_found("Invalid Method identifier specified"))
}

fn find_integration<'a>(api: &'a mut RestApi, id: &str, verb: &str) -> AwsResult<&'a mut Integration> {
    find_method(api, id, verb)?
        .integration
        .as_mut()
        .ok_or_else(|| not_found("Invalid Integration identifier specified"))
}

fn method_not_allowed(call: &Call<'_, ApiGateway>) -> AwsError {
    AwsError::unknown_operation("API Gateway", &call.req.method, &call.req.raw_path)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutMethodInput {
    authorization_type: String,
    #[serde(default)]
    api_key_required: bool,
    operation_name: Option<String>,
    #[serde(default)]
    request_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    request_models: BTreeMap<String, String>,
}

/// PutMethod, GetMethod, DeleteMethod, UpdateMethod:
/// <https://docs.aws.amazon.com/apigateway/latest/api/API_PutMethod.html>.
/// Deviations: authorizers and request validators are stored by name only and not enforced.
pub(super) fn method(call: &Call<'_, ApiGateway>, api_id: &str, id: &str, verb: &str) -> AwsResult<Response> {
    let verb = verb.to_ascii_uppercase();
    if !VERBS.contains(&verb.as_str()) {
        return Err(bad_request(
            "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY",
        ));
    }
    match call.req.method {
        HttpMethod::PUT => {
            let input: PutMethodInput = input(call.req)?;
            if !matches!(input.authorization_type.as_str(), "NONE" | "AWS_IAM" | "CUSTOM" | "COGNITO_USER_POOLS") {
                return Err(bad_request(format!("Invalid authorization type specified: {}", input.authorization_type)));
            }
            call.api(api_id, |api| {
                let resource = resource(api, id)?;
                if resource.methods.contains_key(&verb) {
                    return Err(conflict("Method already exists for this resource"));
                }
                let method = Method {
                    http_method: verb.clone(),
                    authorization_type: input.authorization_type,
                    api_key_required: input.api_key_required,
                    operation_name: input.operation_name,
                    request_parameters: input.request_parameters,
                    request_models: input.request_models,
                    integration: None,
                    responses: BTreeMap::new(),
                };
                let body = method.to_json();
                resource.methods.insert(verb.clone(), method);
                Ok(created(&body))
            })
        }
        HttpMethod::GET => call.api(api_id, |api| Ok(rest_json::ok(&find_method(api, id, &verb)?.to_json()))),
        HttpMethod::DELETE => call.api(api_id, |api| {
            resource(api, id)?.methods.remove(&verb).ok_or_else(|| not_found("Invalid Method identifier specified"))?;
            Ok(rest_json::empty(StatusCode::NO_CONTENT))
        }),
        HttpMethod::PATCH => {
            let operations = patch::operations(call.req)?;
            call.api(api_id, |api| {
                let method = find_method(api, id, &verb)?;
                for op in &operations {
                    patch_method(method, op)?;
                }
                Ok(rest_json::ok(&method.to_json()))
            })
        }
        _ => Err(method_not_allowed(call)),
    }
}

fn patch_method(method: &mut Method, op: &PatchOp) -> AwsResult<()> {
    match (op.op.as_str(), op.path.as_str()) {
        ("replace", "/apiKeyRequired") => method.api_key_required = op.bool_value()?,
        ("replace", "/authorizationType") => method.authorization_type = op.value()?.to_owned(),
        ("replace", "/operationName") => method.operation_name = op.value.clone(),
        (kind, _) => match (kind, op.key_under("/requestParameters/")) {
            ("add" | "replace", Some(key)) => {
                let required = op.value.as_deref() == Some("true");
                method.request_parameters.insert(key, required);
            }
            ("remove", Some(key)) => {
                method.request_parameters.remove(&key);
            }
            _ => return Err(op.unsupported()),
        },
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutMethodResponseInput {
    #[serde(default)]
    response_parameters: BTreeMap<String, bool>,
    #[serde(default)]
    response_models: BTreeMap<String, String>,
}

/// Put/Get/Delete/UpdateMethodResponse: <https://docs.aws.amazon.com/apigateway/latest/api/API_PutMethodResponse.html>
pub(super) fn method_response(
    call: &Call<'_, ApiGateway>,
    api_id: &str,
    id: &str,
    verb: &str,
    status: &str,
) -> AwsResult<Response> {
    let verb = verb.to_ascii_uppercase();
    validate_status(status)?;
    match call.req.method {
        HttpMethod::PUT => {
            let input: PutMethodResponseInput = input(call.req)?;
            call.api(api_id, |api| {
                let response = MethodResponse {
                    status_code: status.to_owned(),
                    response_parameters: input.response_parameters,
                    response_models: input.response_models,
                };
                let body = response.to_json();
                find_method(api, id, &verb)?.responses.insert(status.to_owned(), response);
                Ok(created(&body))
            })
        }
        HttpMethod::GET => call.api(api_id, |api| {
            let response = find_method(api, id, &verb)?.responses.get(status).ok_or_else(invalid_status)?;
            Ok(rest_json::ok(&response.to_json()))
        }),
        HttpMethod::DELETE => call.api(api_id, |api| {
            find_method(api, id, &verb)?.responses.remove(status).ok_or_else(invalid_status)?;
            Ok(rest_json::empty(StatusCode::NO_CONTENT))
        }),
        HttpMethod::PATCH => {
            let operations = patch::operations(call.req)?;
            call.api(api_id, |api| {
                let response = find_method(api, id, &verb)?.responses.get_mut(status).ok_or_else(invalid_status)?;
                for op in &operations {
                    match (op.op.as_str(), op.key_under("/responseParameters/")) {
                        ("add" | "replace", Some(key)) => {
                            response.response_parameters.insert(key, op.value.as_deref() == Some("true"));
                        }
                        ("remove", Some(key)) => {
                            response.response_parameters.remove(&key);
                        }
                        _ => return Err(op.unsupported()),
                    }
                }
                Ok(rest_json::ok(&response.to_json()))
            })
        }
        _ => Err(method_not_allowed(call)),
    }
}

fn invalid_status() -> AwsError {
    not_found("Invalid Response status code specified")
}

fn validate_status(status: &str) -> AwsResult<()> {
    match status.parse::<u16>() {
        Ok(code) if (100..=599).contains(&code) && status.len() == 3 => Ok(()),
        _ => Err(bad_request(format!("Invalid status code specified: {status}"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutIntegrationInput {
    #[serde(rename = "type")]
    kind: String,
    http_method: Option<String>,
    uri: Option<String>,
    #[serde(default)]
    request_templates: BTreeMap<String, String>,
    #[serde(default)]
    request_parameters: BTreeMap<String, String>,
    passthrough_behavior: Option<String>,
    timeout_in_millis: Option<i64>,
    content_handling: Option<String>,
}

/// Put/Get/Delete/UpdateIntegration: <https://docs.aws.amazon.com/apigateway/latest/api/API_PutIntegration.html>
/// Deviations: AWS (non-proxy), HTTP and HTTP_PROXY integrations are stored but the data plane answers them
/// with 500 (only MOCK and AWS_PROXY to Lambda are served).
pub(super) fn integration(call: &Call<'_, ApiGateway>, api_id: &str, id: &str, verb: &str) -> AwsResult<Response> {
    let verb = verb.to_ascii_uppercase();
    match call.req.method {
        HttpMethod::PUT => {
            let input: PutIntegrationInput = input(call.req)?;
            if !matches!(input.kind.as_str(), "AWS" | "AWS_PROXY" | "HTTP" | "HTTP_PROXY" | "MOCK") {
                return Err(bad_request(format!("Invalid integration type specified: {}", input.kind)));
            }
            if input.kind != "MOCK" && input.uri.is_none() {
                return Err(bad_request("Enumeration value for HttpMethod must be non-empty"));
            }
            if input.kind != "MOCK" && input.http_method.is_none() {
                return Err(bad_request("Enumeration value for HttpMethod must be non-empty"));
            }
            if input.kind == "AWS_PROXY"
                && let Some(uri) = &input.uri
                && !uri.starts_with("arn:aws:apigateway:")
            {
                return Err(bad_request(format!("AWS ARN for integration must contain path or action: {uri}")));
            }
            let timeout = input.timeout_in_millis.unwrap_or(29000);
            if !(50..=29000).contains(&timeout) {
                return Err(bad_request("Timeout should be between 50 ms and 29000 ms"));
            }
            call.api(api_id, |api| {
                let method = find_method(api, id, &verb)?;
                let integration = Integration {
                    kind: input.kind,
                    http_method: input.http_method,
                    uri: input.uri,
                    request_templates: input.request_templates,
                    request_parameters: input.request_parameters,
                    passthrough_behavior: input.passthrough_behavior.unwrap_or_else(|| "WHEN_NO_MATCH".to_owned()),
                    timeout_in_millis: timeout,
                    cache_namespace: id.to_owned(),
                    content_handling: input.content_handling,
                    responses: BTreeMap::new(),
                };
                let body = integration.to_json();
                method.integration = Some(integration);
                Ok(created(&body))
            })
        }
        HttpMethod::GET => call.api(api_id, |api| Ok(rest_json::ok(&find_integration(api, id, &verb)?.to_json()))),
        HttpMethod::DELETE => call.api(api_id, |api| {
            let method = find_method(api, id, &verb)?;
            method.integration.take().ok_or_else(|| not_found("Invalid Integration identifier specified"))?;
            Ok(rest_json::empty(StatusCode::NO_CONTENT))
        }),
        HttpMethod::PATCH => {
            let operations = patch::operations(call.req)?;
            call.api(api_id, |api| {
                let integration = find_integration(api, id, &verb)?;
                for op in &operations {
                    match (op.op.as_str(), op.path.as_str()) {
                        ("replace", "/uri") => integration.uri = Some(op.value()?.to_owned()),
                        ("replace", "/httpMethod") => integration.http_method = Some(op.value()?.to_owned()),
                        ("replace", "/passthroughBehavior") => {
                            integration.passthrough_behavior = op.value()?.to_owned()
                        }
                        ("replace", "/timeoutInMillis") => {
                            integration.timeout_in_millis = op.value()?.parse().map_err(|_| op.unsupported())?;
                        }
                        (kind, _) => match (kind, op.key_under("/requestTemplates/")) {
                            ("add" | "replace", Some(key)) => {
                                integration.request_templates.insert(key, op.value.clone().unwrap_or_default());
                            }
                            ("remove", Some(key)) => {
                                integration.request_templates.remove(&key);
                            }
                            _ => return Err(op.unsupported()),
                        },
                    }
                }
                Ok(rest_json::ok(&integration.to_json()))
            })
        }
        _ => Err(method_not_allowed(call)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutIntegrationResponseInput {
    selection_pattern: Option<String>,
    #[serde(default)]
    response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    response_templates: BTreeMap<String, String>,
}

/// Put/Get/Delete/UpdateIntegrationResponse:
/// <https://docs.aws.amazon.com/apigateway/latest/api/API_PutIntegrationResponse.html>
pub(super) fn integration_response(
    call: &Call<'_, ApiGateway>,
    api_id: &str,
    id: &str,
    verb: &str,
    status: &str,
) -> AwsResult<Response> {
    let verb = verb.to_ascii_uppercase();
    validate_status(status)?;
    match call.req.method {
        HttpMethod::PUT => {
            let input: PutIntegrationResponseInput = input(call.req)?;
            call.api(api_id, |api| {
                let integration = find_integration(api, id, &verb)?;
                let response = IntegrationResponse {
                    status_code: status.to_owned(),
                    selection_pattern: input.selection_pattern,
                    response_parameters: input.response_parameters,
                    response_templates: input.response_templates,
                };
                let body = response.to_json();
                integration.responses.insert(status.to_owned(), response);
                Ok(created(&body))
            })
        }
        HttpMethod::GET => call.api(api_id, |api| {
            let response = find_integration(api, id, &verb)?.responses.get(status).ok_or_else(invalid_status)?;
            Ok(rest_json::ok(&response.to_json()))
        }),
        HttpMethod::DELETE => call.api(api_id, |api| {
            find_integration(api, id, &verb)?.responses.remove(status).ok_or_else(invalid_status)?;
            Ok(rest_json::empty(StatusCode::NO_CONTENT))
        }),
        HttpMethod::PATCH => {
            let operations = patch::operations(call.req)?;
            call.api(api_id, |api| {
                let response =
                    find_integration(api, id, &verb)?.responses.get_mut(status).ok_or_else(invalid_status)?;
                for op in &operations {
                    match (op.op.as_str(), op.path.as_str(), op.key_under("/responseParameters/")) {
                        ("replace", "/selectionPattern", _) => response.selection_pattern = op.value.clone(),
                        ("add" | "replace", _, Some(key)) => {
                            response.response_parameters.insert(key, op.value()?.to_owned());
                        }
                        ("remove", _, Some(key)) => {
                            response.response_parameters.remove(&key);
                        }
                        _ => return Err(op.unsupported()),
                    }
                }
                Ok(rest_json::ok(&response.to_json()))
            })
        }
        _ => Err(method_not_allowed(call)),
    }
}
