//! API keys and usage plans: what lets a key through an `apiKeyRequired` method on a stage.

use std::collections::{BTreeMap, BTreeSet};

use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{ApiKey, ApiStage, Quota, Throttle, UsagePlan};
use super::{ApiGateway, bad_request, conflict, created, input, new_id, not_found, now, patch, usage};
use crate::protocol::{AwsError, AwsResult, Response, rest_json};
use crate::services::Call;

fn invalid_key() -> crate::protocol::AwsError {
    not_found("Invalid API Key identifier specified")
}

fn invalid_plan() -> crate::protocol::AwsError {
    not_found("Invalid Usage Plan ID specified")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateKeyInput {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    enabled: bool,
    value: Option<String>,
    #[serde(default)]
    tags: super::model::Tags,
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_CreateApiKey.html>
/// `enabled` defaults to false, as on AWS. Deviations: `stageKeys` and `customerId` are not emulated.
pub(super) fn create_key(call: &Call<'_, ApiGateway>) -> AwsResult<Response> {
    let input: CreateKeyInput = input(call.req)?;
    super::tags::check_new(&input.tags)?;
    let value = match input.value {
        Some(value) if (20..=128).contains(&value.len()) => value,
        Some(_) => return Err(bad_request("API Key value should be at least 20 characters")),
        None => crate::identity::random_alnum(40),
    };
    let time = now();
    let key = ApiKey {
        id: new_id(),
        name: input.name.unwrap_or_default(),
        value,
        enabled: input.enabled,
        description: input.description,
        created: time,
        updated: time,
        tags: input.tags,
    };
    let body = key.to_json(true);
    call.store(|store| {
        if store.api_keys.values().any(|k| k.value == key.value) {
            return Err(conflict("API Key already exists"));
        }
        store.api_keys.insert(key.id.clone(), key);
        Ok(())
    })?;
    Ok(created(&body))
}

fn flag(call: &Call<'_, ApiGateway>, name: &str) -> bool {
    call.req.query_param(name) == Some("true")
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetApiKeys.html> (values only with includeValues=true;
/// by id, paged: [`super::paged`])
pub(super) fn get_keys(call: &Call<'_, ApiGateway>) -> AwsResult<Response> {
    let include = flag(call, "includeValues");
    let name_query = call.req.query_param("name").map(str::to_owned);
    let items: Vec<(String, Value)> = call.store(|store| {
        store
            .api_keys
            .values()
            .filter(|k| name_query.as_deref().is_none_or(|q| k.name.starts_with(q)))
            .map(|k| (k.id.clone(), k.to_json(include)))
            .collect()
    });
    super::paged(call, items)
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetApiKey.html> (value only with includeValue=true)
pub(super) fn get_key(call: &Call<'_, ApiGateway>, id: &str) -> AwsResult<Response> {
    let include = flag(call, "includeValue");
    let key = call.store(|store| store.api_keys.get(id).cloned()).ok_or_else(invalid_key)?;
    Ok(rest_json::ok(&key.to_json(include)))
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateApiKey.html> (`/enabled`, `/name`, `/description`)
pub(super) fn update_key(call: &Call<'_, ApiGateway>, id: &str) -> AwsResult<Response> {
    let operations = patch::operations(call.req)?;
    call.store(|store| {
        let key = store.api_keys.get_mut(id).ok_or_else(invalid_key)?;
        for op in &operations {
            match (op.op.as_str(), op.path.as_str()) {
                ("replace", "/enabled") => key.enabled = op.bool_value()?,
                ("replace", "/name") => key.name = op.value()?.to_owned(),
                ("replace", "/description") => key.description = op.value.clone(),
                _ => return Err(op.unsupported()),
            }
        }
        key.updated = now();
        Ok(rest_json::ok(&key.to_json(false)))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteApiKey.html>
pub(super) fn delete_key(call: &Call<'_, ApiGateway>, id: &str) -> AwsResult<Response> {
    call.store(|store| {
        store.api_keys.remove(id).ok_or_else(invalid_key)?;
        for plan in store.usage_plans.values_mut() {
            plan.keys.remove(id);
        }
        Ok(rest_json::empty(StatusCode::ACCEPTED))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePlanInput {
    name: String,
    description: Option<String>,
    #[serde(default)]
    api_stages: Vec<ApiStageInput>,
    throttle: Option<Throttle>,
    quota: Option<Quota>,
    #[serde(default)]
    tags: super::model::Tags,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiStageInput {
    api_id: String,
    stage: String,
    #[serde(default)]
    throttle: BTreeMap<String, Throttle>,
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_CreateUsagePlan.html>
/// The throttle, the quota and the stages' method throttles (`/path/METHOD`) are enforced on execute-api
/// ([`super::usage`]).
pub(super) fn create_plan(call: &Call<'_, ApiGateway>) -> AwsResult<Response> {
    let input: CreatePlanInput = input(call.req)?;
    super::tags::check_new(&input.tags)?;
    if let Some(throttle) = &input.throttle {
        usage::check_throttle(throttle)?;
    }
    if let Some(quota) = &input.quota {
        usage::check_quota(quota)?;
    }
    call.store(|store| {
        let mut api_stages = Vec::new();
        for s in input.api_stages {
            check_stage(store, &s.api_id, &s.stage)?;
            for (method, throttle) in &s.throttle {
                check_method_key(method)?;
                usage::check_throttle(throttle)?;
            }
            api_stages.push(ApiStage { api_id: s.api_id, stage: s.stage, throttle: s.throttle });
        }
        let plan = UsagePlan {
            id: new_id(),
            name: input.name,
            description: input.description,
            api_stages,
            throttle: input.throttle,
            quota: input.quota,
            keys: BTreeSet::new(),
            tags: input.tags,
            created: chrono::Utc::now().date_naive(),
        };
        let body = plan.to_json();
        store.usage_plans.insert(plan.id.clone(), plan);
        Ok(created(&body))
    })
}

/// A method throttle's key: `/path/METHOD`, or `/*/*` for every method.
fn check_method_key(key: &str) -> AwsResult<()> {
    let valid =
        key.starts_with('/') && key.rsplit_once('/').is_some_and(|(path, verb)| !path.is_empty() && !verb.is_empty());
    if valid { Ok(()) } else { Err(bad_request(format!("Invalid method throttle key specified: {key}"))) }
}

/// The API and stage a usage plan names must exist.
fn check_stage(store: &super::model::Store, api_id: &str, stage: &str) -> AwsResult<()> {
    let api = store.apis.get(api_id).ok_or_else(|| not_found(format!("Invalid API identifier specified {api_id}")))?;
    if api.stages.contains_key(stage) {
        Ok(())
    } else {
        Err(not_found(format!("Invalid stage identifier specified {api_id}:{stage}")))
    }
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsagePlans.html> (by id, paged: [`super::paged`])
pub(super) fn get_plans(call: &Call<'_, ApiGateway>) -> AwsResult<Response> {
    let key_id = call.req.query_param("keyId").map(str::to_owned);
    let items: Vec<(String, Value)> = call.store(|store| {
        store
            .usage_plans
            .values()
            .filter(|p| key_id.as_ref().is_none_or(|k| p.keys.contains(k)))
            .map(|p| (p.id.clone(), p.to_json()))
            .collect()
    });
    super::paged(call, items)
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsagePlan.html>
pub(super) fn get_plan(call: &Call<'_, ApiGateway>, id: &str) -> AwsResult<Response> {
    let plan = call.store(|store| store.usage_plans.get(id).cloned()).ok_or_else(invalid_plan)?;
    Ok(rest_json::ok(&plan.to_json()))
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateUsagePlan.html>
/// (`/name`, `/description`, add/remove `/apiStages` with value `apiId:stage`, replace `/throttle/rateLimit`,
/// `/throttle/burstLimit`, `/quota/limit`, `/quota/period`, `/quota/offset`, remove `/throttle` and `/quota`)
pub(super) fn update_plan(call: &Call<'_, ApiGateway>, id: &str) -> AwsResult<Response> {
    let operations = patch::operations(call.req)?;
    call.store(|store| {
        for op in &operations {
            if op.path == "/apiStages" && op.op == "add" {
                let (api, stage) = op.value()?.split_once(':').ok_or_else(|| op.unsupported())?;
                check_stage(store, api, stage)?;
            }
        }
        let mut plan = store.usage_plans.get(id).cloned().ok_or_else(invalid_plan)?;
        let number = |op: &patch::PatchOp| -> AwsResult<f64> {
            op.value()?.parse::<f64>().map_err(|_| bad_request(format!("Invalid number for {}", op.path)))
        };
        for op in &operations {
            match (op.op.as_str(), op.path.as_str()) {
                ("replace", "/name") => plan.name = op.value()?.to_owned(),
                ("replace", "/description") => plan.description = op.value.clone(),
                ("add", "/apiStages") => {
                    let (api, stage) = op.value()?.split_once(':').ok_or_else(|| op.unsupported())?;
                    if !plan.api_stages.iter().any(|s| s.api_id == api && s.stage == stage) {
                        let throttle = Default::default();
                        plan.api_stages.push(ApiStage { api_id: api.to_owned(), stage: stage.to_owned(), throttle });
                    }
                }
                ("remove", "/apiStages") => {
                    let (api, stage) = op.value()?.split_once(':').ok_or_else(|| op.unsupported())?;
                    plan.api_stages.retain(|s| !(s.api_id == api && s.stage == stage));
                }
                ("replace", "/throttle/rateLimit") => {
                    plan.throttle.get_or_insert(Throttle { burst_limit: None, rate_limit: None }).rate_limit =
                        Some(number(op)?);
                }
                ("replace", "/throttle/burstLimit") => {
                    plan.throttle.get_or_insert(Throttle { burst_limit: None, rate_limit: None }).burst_limit =
                        Some(number(op)? as i64);
                }
                ("remove", "/throttle") => plan.throttle = None,
                ("replace", "/quota/limit" | "/quota/period" | "/quota/offset") => {
                    let quota = plan.quota.get_or_insert(Quota { limit: 0, offset: 0, period: "DAY".into() });
                    match op.path.as_str() {
                        "/quota/limit" => quota.limit = number(op)? as i64,
                        "/quota/offset" => quota.offset = number(op)? as i64,
                        _ => quota.period = op.value()?.to_owned(),
                    }
                }
                ("remove", "/quota") => plan.quota = None,
                _ => return Err(op.unsupported()),
            }
        }
        if let Some(throttle) = &plan.throttle {
            usage::check_throttle(throttle)?;
        }
        if let Some(quota) = &plan.quota {
            usage::check_quota(quota)?;
        }
        let body = plan.to_json();
        store.usage_plans.insert(id.to_owned(), plan);
        Ok(rest_json::ok(&body))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteUsagePlan.html>
pub(super) fn delete_plan(call: &Call<'_, ApiGateway>, id: &str) -> AwsResult<Response> {
    call.store(|store| {
        store.usage_plans.remove(id).ok_or_else(invalid_plan)?;
        store.usage.retain(|(plan, _), _| plan != id);
        Ok::<_, AwsError>(())
    })?;
    Ok(rest_json::empty(StatusCode::ACCEPTED))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePlanKeyInput {
    key_id: String,
    key_type: String,
}

fn plan_key_json(key: &ApiKey) -> Value {
    json!({ "id": key.id, "name": key.name, "type": "API_KEY", "value": key.value })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_CreateUsagePlanKey.html>
pub(super) fn create_plan_key(call: &Call<'_, ApiGateway>, plan_id: &str) -> AwsResult<Response> {
    let input: CreatePlanKeyInput = input(call.req)?;
    if input.key_type != "API_KEY" {
        return Err(bad_request(format!("Invalid key type: {}", input.key_type)));
    }
    call.store(|store| {
        let key = store.api_keys.get(&input.key_id).cloned().ok_or_else(invalid_key)?;
        let plan = store.usage_plans.get_mut(plan_id).ok_or_else(invalid_plan)?;
        if !plan.keys.insert(key.id.clone()) {
            return Err(conflict(format!("Usage Plan {plan_id} cannot be added because API Key {} cannot reference multiple Usage Plans with the same API Stage", key.id)));
        }
        Ok(created(&plan_key_json(&key)))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsagePlanKeys.html> (by key id, paged: [`super::paged`])
pub(super) fn get_plan_keys(call: &Call<'_, ApiGateway>, plan_id: &str) -> AwsResult<Response> {
    let items = call.store(|store| {
        let plan = store.usage_plans.get(plan_id).ok_or_else(invalid_plan)?;
        Ok::<_, AwsError>(
            plan.keys
                .iter()
                .filter_map(|id| store.api_keys.get(id))
                .map(|k| (k.id.clone(), plan_key_json(k)))
                .collect::<Vec<_>>(),
        )
    })?;
    super::paged(call, items)
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsagePlanKey.html>
pub(super) fn get_plan_key(call: &Call<'_, ApiGateway>, plan_id: &str, key_id: &str) -> AwsResult<Response> {
    call.store(|store| {
        let plan = store.usage_plans.get(plan_id).ok_or_else(invalid_plan)?;
        let key = plan.keys.get(key_id).and_then(|id| store.api_keys.get(id)).ok_or_else(invalid_key)?;
        Ok(rest_json::ok(&plan_key_json(key)))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteUsagePlanKey.html>
pub(super) fn delete_plan_key(call: &Call<'_, ApiGateway>, plan_id: &str, key_id: &str) -> AwsResult<Response> {
    call.store(|store| {
        let plan = store.usage_plans.get_mut(plan_id).ok_or_else(invalid_plan)?;
        if !plan.keys.remove(key_id) {
            return Err(invalid_key());
        }
        Ok(rest_json::empty(StatusCode::ACCEPTED))
    })
}
