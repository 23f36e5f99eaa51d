//! Deployments (frozen snapshots of an API) and the stages that serve them.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{Deployment, RestApi, Snapshot, Stage, Throttle};
use super::{ApiGateway, bad_request, conflict, created, input, new_id, not_found, now, patch};
use crate::protocol::{AwsResult, Response, rest_json};
use crate::services::Call;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDeploymentInput {
    stage_name: Option<String>,
    stage_description: Option<String>,
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_CreateDeployment.html>
/// The deployment freezes the API as it is now: later edits reach a stage only through a new deployment.
pub(super) fn create_deployment(call: &Call<'_, ApiGateway>, api_id: &str) -> AwsResult<Response> {
    let input: CreateDeploymentInput = input(call.req)?;
    call.api(api_id, |api| {
        if !api.resources.values().any(|r| !r.methods.is_empty()) {
            return Err(bad_request("The REST API doesn't contain any methods"));
        }
        if api.resources.values().any(|r| r.methods.values().any(|m| m.integration.is_none())) {
            return Err(bad_request("No integration defined for method"));
        }
        if let Some(stage) = &input.stage_name {
            validate_stage_name(stage)?;
        }
        let deployment = Deployment {
            id: new_id(),
            description: input.description.clone(),
            created: now(),
            snapshot: Arc::new(snapshot(api)),
        };
        let body = deployment.to_json();
        let deployment_id = deployment.id.clone();
        api.deployments.insert(deployment_id.clone(), deployment);
        if let Some(name) = input.stage_name {
            let time = now();
            let stage = api.stages.entry(name.clone()).or_insert_with(|| Stage {
                name,
                deployment_id: deployment_id.clone(),
                description: input.stage_description.clone(),
                variables: BTreeMap::new(),
                created: time,
                updated: time,
                tags: Default::default(),
                throttle: None,
            });
            stage.deployment_id = deployment_id;
            stage.updated = time;
            stage.variables.extend(input.variables);
        }
        Ok(created(&body))
    })
}

pub(super) fn snapshot(api: &RestApi) -> Snapshot {
    Snapshot { resources: api.resources.values().cloned().collect(), gateway_responses: api.gateway_responses.clone() }
}

fn validate_stage_name(name: &str) -> AwsResult<()> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid { Ok(()) } else { Err(bad_request("Stage name only allows a-zA-Z0-9_")) }
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetDeployments.html>
/// By id, paged ([`super::paged`]).
pub(super) fn get_deployments(call: &Call<'_, ApiGateway>, api_id: &str) -> AwsResult<Response> {
    let items =
        call.api(api_id, |api| Ok(api.deployments.iter().map(|(id, d)| (id.clone(), d.to_json())).collect()))?;
    super::paged(call, items)
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetDeployment.html>; `embed=apisummary` adds what the
/// deployment serves: `{"/path": {"POST": {"authorizationType": "NONE", "apiKeyRequired": true}}}`.
pub(super) fn get_deployment(call: &Call<'_, ApiGateway>, api_id: &str, id: &str) -> AwsResult<Response> {
    let summary = call.req.query.iter().any(|(k, v)| k == "embed" && v.eq_ignore_ascii_case("apisummary"));
    call.api(api_id, |api| {
        let deployment = api.deployments.get(id).ok_or_else(|| not_found("Invalid Deployment identifier specified"))?;
        let mut body = deployment.to_json();
        if summary {
            let paths: serde_json::Map<String, Value> = deployment
                .snapshot
                .resources
                .iter()
                .filter(|r| !r.methods.is_empty())
                .map(|r| {
                    let methods: serde_json::Map<String, Value> = r
                        .methods
                        .iter()
                        .map(|(name, m)| {
                            let summary = json!({ "authorizationType": m.authorization_type, "apiKeyRequired": m.api_key_required });
                            (name.clone(), summary)
                        })
                        .collect();
                    (r.path.clone(), Value::Object(methods))
                })
                .collect();
            body["apiSummary"] = Value::Object(paths);
        }
        Ok(rest_json::ok(&body))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteDeployment.html>
pub(super) fn delete_deployment(call: &Call<'_, ApiGateway>, api_id: &str, id: &str) -> AwsResult<Response> {
    call.api(api_id, |api| {
        if !api.deployments.contains_key(id) {
            return Err(not_found("Invalid Deployment identifier specified"));
        }
        if api.stages.values().any(|s| s.deployment_id == id) {
            return Err(bad_request("Active stages pointing to this deployment must be moved or deleted"));
        }
        api.deployments.remove(id);
        Ok(rest_json::empty(StatusCode::ACCEPTED))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateStageInput {
    stage_name: String,
    deployment_id: String,
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    tags: super::model::Tags,
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html>
pub(super) fn create_stage(call: &Call<'_, ApiGateway>, api_id: &str) -> AwsResult<Response> {
    let input: CreateStageInput = input(call.req)?;
    super::tags::check_new(&input.tags)?;
    validate_stage_name(&input.stage_name)?;
    call.api(api_id, |api| {
        if !api.deployments.contains_key(&input.deployment_id) {
            return Err(not_found("Invalid Deployment identifier specified"));
        }
        if api.stages.contains_key(&input.stage_name) {
            return Err(conflict("Stage already exists"));
        }
        let time = now();
        let stage = Stage {
            name: input.stage_name,
            deployment_id: input.deployment_id,
            description: input.description,
            variables: input.variables,
            created: time,
            updated: time,
            tags: input.tags,
            throttle: None,
        };
        let body = stage.to_json();
        api.stages.insert(stage.name.clone(), stage);
        Ok(created(&body))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetStages.html> (`{"item": [...]}`, singular)
pub(super) fn get_stages(call: &Call<'_, ApiGateway>, api_id: &str) -> AwsResult<Response> {
    call.api(api_id, |api| {
        let items: Vec<_> = api.stages.values().map(Stage::to_json).collect();
        Ok(rest_json::ok(&json!({ "item": items })))
    })
}

fn invalid_stage() -> crate::protocol::AwsError {
    not_found("Invalid Stage identifier specified")
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetStage.html>
pub(super) fn get_stage(call: &Call<'_, ApiGateway>, api_id: &str, name: &str) -> AwsResult<Response> {
    call.api(api_id, |api| Ok(rest_json::ok(&api.stages.get(name).ok_or_else(invalid_stage)?.to_json())))
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteStage.html>
pub(super) fn delete_stage(call: &Call<'_, ApiGateway>, api_id: &str, name: &str) -> AwsResult<Response> {
    call.api(api_id, |api| {
        api.stages.remove(name).ok_or_else(invalid_stage)?;
        Ok(rest_json::empty(StatusCode::ACCEPTED))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateStage.html>
/// (`/deploymentId`, `/description`, `/variables/<name>`, and of the method settings the stage-wide throttle,
/// `/*/*/throttling/rateLimit` and `/*/*/throttling/burstLimit`, enforced on execute-api; other method settings
/// and per-method settings are refused as unsupported paths)
pub(super) fn update_stage(call: &Call<'_, ApiGateway>, api_id: &str, name: &str) -> AwsResult<Response> {
    let operations = patch::operations(call.req)?;
    call.api(api_id, |api| {
        let deployments: Vec<String> = api.deployments.keys().cloned().collect();
        let stage = api.stages.get_mut(name).ok_or_else(invalid_stage)?;
        for op in &operations {
            match (op.op.as_str(), op.path.as_str(), op.key_under("/variables/")) {
                ("replace", "/deploymentId", _) => {
                    let id = op.value()?;
                    if !deployments.iter().any(|d| d == id) {
                        return Err(not_found("Invalid Deployment identifier specified"));
                    }
                    stage.deployment_id = id.to_owned();
                }
                ("replace", "/description", _) => stage.description = op.value.clone(),
                ("add" | "replace", _, Some(key)) => {
                    stage.variables.insert(key, op.value()?.to_owned());
                }
                ("remove", _, Some(key)) => {
                    stage.variables.remove(&key);
                }
                ("replace", "/*/*/throttling/rateLimit" | "/*/*/throttling/burstLimit", _) => {
                    let number: f64 =
                        op.value()?.parse().ok().filter(|n: &f64| *n >= 0.0).ok_or_else(|| {
                            bad_request(format!("Invalid value for {}: a non-negative number", op.path))
                        })?;
                    // AWS's defaults (10000 requests a second, bursts of 5000) for the member not set.
                    let throttle =
                        stage.throttle.get_or_insert(Throttle { burst_limit: Some(5000), rate_limit: Some(10000.0) });
                    if op.path.ends_with("rateLimit") {
                        throttle.rate_limit = Some(number);
                    } else {
                        throttle.burst_limit = Some(number as i64);
                    }
                }
                _ => return Err(op.unsupported()),
            }
        }
        stage.updated = now();
        Ok(rest_json::ok(&stage.to_json()))
    })
}
