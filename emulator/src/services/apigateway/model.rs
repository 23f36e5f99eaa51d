//! API Gateway's resources as stored, and their JSON as the control plane returns it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value, json};

pub(crate) use crate::services::tagging::Tags;

/// Everything API Gateway holds for one account and region.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub apis: BTreeMap<String, RestApi>,
    pub api_keys: BTreeMap<String, ApiKey>,
    pub usage_plans: BTreeMap<String, UsagePlan>,
    /// Requests counted against each (usage plan, API key) pair's quota ([`super::usage`]).
    pub usage: BTreeMap<(String, String), super::usage::KeyUsage>,
    /// Token buckets of the throttles in force, by what they throttle ([`super::usage`]).
    pub buckets: BTreeMap<String, super::usage::Bucket>,
}

#[derive(Debug, Clone)]
pub(crate) struct RestApi {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub created: i64,
    pub api_key_source: String,
    pub endpoint_types: Vec<String>,
    pub root_id: String,
    pub resources: BTreeMap<String, Resource>,
    pub deployments: BTreeMap<String, Deployment>,
    pub stages: BTreeMap<String, Stage>,
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub id: String,
    pub parent_id: Option<String>,
    pub path_part: Option<String>,
    pub path: String,
    pub methods: BTreeMap<String, Method>,
}

#[derive(Debug, Clone)]
pub(crate) struct Method {
    pub http_method: String,
    pub authorization_type: String,
    pub api_key_required: bool,
    pub operation_name: Option<String>,
    pub request_parameters: BTreeMap<String, bool>,
    pub request_models: BTreeMap<String, String>,
    pub integration: Option<Integration>,
    pub responses: BTreeMap<String, MethodResponse>,
}

#[derive(Debug, Clone)]
pub(crate) struct Integration {
    pub kind: String,
    pub http_method: Option<String>,
    pub uri: Option<String>,
    pub request_templates: BTreeMap<String, String>,
    pub request_parameters: BTreeMap<String, String>,
    pub passthrough_behavior: String,
    pub timeout_in_millis: i64,
    pub cache_namespace: String,
    pub content_handling: Option<String>,
    pub responses: BTreeMap<String, IntegrationResponse>,
}

#[derive(Debug, Clone)]
pub(crate) struct IntegrationResponse {
    pub status_code: String,
    pub selection_pattern: Option<String>,
    pub response_parameters: BTreeMap<String, String>,
    pub response_templates: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct MethodResponse {
    pub status_code: String,
    pub response_parameters: BTreeMap<String, bool>,
    pub response_models: BTreeMap<String, String>,
}

/// A deployment: a frozen copy of the API's resources as they were when it was made.
#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub id: String,
    pub description: Option<String>,
    pub created: i64,
    pub snapshot: Arc<Snapshot>,
}

/// What a stage serves.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub resources: Vec<Resource>,
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
}

#[derive(Debug, Clone)]
pub(crate) struct Stage {
    pub name: String,
    pub deployment_id: String,
    pub description: Option<String>,
    pub variables: BTreeMap<String, String>,
    pub created: i64,
    pub updated: i64,
    pub tags: Tags,
    /// The throttle of the stage's `*/*` method settings, enforced on every request it serves.
    pub throttle: Option<Throttle>,
}

#[derive(Debug, Clone)]
pub(crate) struct GatewayResponse {
    pub response_type: String,
    pub status_code: Option<String>,
    pub response_parameters: BTreeMap<String, String>,
    pub response_templates: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ApiKey {
    pub id: String,
    pub name: String,
    pub value: String,
    pub enabled: bool,
    pub description: Option<String>,
    pub created: i64,
    pub updated: i64,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub(crate) struct UsagePlan {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub api_stages: Vec<ApiStage>,
    pub throttle: Option<Throttle>,
    pub quota: Option<Quota>,
    pub keys: BTreeSet<String>,
    pub tags: Tags,
    /// The day the plan was made: its quota's first period is the one `quota.offset` applies to.
    pub created: chrono::NaiveDate,
}

/// A stage a usage plan covers, with its per-method throttles keyed `/path/METHOD` (`/*/*` for every method).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiStage {
    pub api_id: String,
    pub stage: String,
    pub throttle: BTreeMap<String, Throttle>,
}

/// A usage plan's (or a method's) request rate: a token bucket of `burst_limit` tokens refilled at `rate_limit`
/// per second.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Throttle {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<f64>,
}

/// A usage plan's quota: `limit` requests per `period` (DAY, WEEK or MONTH), `offset` of them already taken in the
/// plan's first period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Quota {
    pub limit: i64,
    #[serde(default)]
    pub offset: i64,
    pub period: String,
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), json!(value));
    }
}

fn insert_map<V: serde::Serialize>(map: &mut Map<String, Value>, key: &str, value: &BTreeMap<String, V>) {
    if !value.is_empty() {
        map.insert(key.to_owned(), json!(value));
    }
}

impl RestApi {
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), json!(self.id));
        map.insert("name".into(), json!(self.name));
        insert_opt(&mut map, "description", self.description.as_ref());
        map.insert("createdDate".into(), json!(self.created));
        map.insert("apiKeySource".into(), json!(self.api_key_source));
        map.insert("endpointConfiguration".into(), json!({ "types": self.endpoint_types }));
        map.insert("rootResourceId".into(), json!(self.root_id));
        map.insert("disableExecuteApiEndpoint".into(), json!(false));
        insert_map(&mut map, "tags", &self.tags);
        Value::Object(map)
    }
}

impl Resource {
    /// `embed_methods`: whole methods (GetResources?embed=methods) instead of `{"POST": {}}`.
    pub fn to_json(&self, embed_methods: bool) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), json!(self.id));
        insert_opt(&mut map, "parentId", self.parent_id.as_ref());
        insert_opt(&mut map, "pathPart", self.path_part.as_ref());
        map.insert("path".into(), json!(self.path));
        if !self.methods.is_empty() {
            let methods: Map<String, Value> = self
                .methods
                .iter()
                .map(|(name, m)| (name.clone(), if embed_methods { m.to_json() } else { json!({}) }))
                .collect();
            map.insert("resourceMethods".into(), Value::Object(methods));
        }
        Value::Object(map)
    }
}

impl Method {
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("httpMethod".into(), json!(self.http_method));
        map.insert("authorizationType".into(), json!(self.authorization_type));
        map.insert("apiKeyRequired".into(), json!(self.api_key_required));
        insert_opt(&mut map, "operationName", self.operation_name.as_ref());
        insert_map(&mut map, "requestParameters", &self.request_parameters);
        insert_map(&mut map, "requestModels", &self.request_models);
        if let Some(integration) = &self.integration {
            map.insert("methodIntegration".into(), integration.to_json());
        }
        if !self.responses.is_empty() {
            let responses: Map<String, Value> = self.responses.iter().map(|(s, r)| (s.clone(), r.to_json())).collect();
            map.insert("methodResponses".into(), Value::Object(responses));
        }
        Value::Object(map)
    }
}

impl Integration {
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("type".into(), json!(self.kind));
        insert_opt(&mut map, "httpMethod", self.http_method.as_ref());
        insert_opt(&mut map, "uri", self.uri.as_ref());
        insert_map(&mut map, "requestTemplates", &self.request_templates);
        insert_map(&mut map, "requestParameters", &self.request_parameters);
        map.insert("passthroughBehavior".into(), json!(self.passthrough_behavior));
        insert_opt(&mut map, "contentHandling", self.content_handling.as_ref());
        map.insert("timeoutInMillis".into(), json!(self.timeout_in_millis));
        map.insert("cacheNamespace".into(), json!(self.cache_namespace));
        map.insert("cacheKeyParameters".into(), json!([]));
        if !self.responses.is_empty() {
            let responses: Map<String, Value> = self.responses.iter().map(|(s, r)| (s.clone(), r.to_json())).collect();
            map.insert("integrationResponses".into(), Value::Object(responses));
        }
        Value::Object(map)
    }
}

impl IntegrationResponse {
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("statusCode".into(), json!(self.status_code));
        insert_opt(&mut map, "selectionPattern", self.selection_pattern.as_ref());
        insert_map(&mut map, "responseParameters", &self.response_parameters);
        if !self.response_templates.is_empty() {
            map.insert("responseTemplates".into(), templates_json(&self.response_templates));
        }
        Value::Object(map)
    }
}

/// Mapping templates as API Gateway returns them: an empty template reads back as `null` (what the console's
/// "Enable CORS" leaves, and what `put-integration-response --response-templates '{"application/json":""}'`
/// shows afterwards; aws/aws-cli#1610).
fn templates_json(templates: &BTreeMap<String, String>) -> Value {
    Value::Object(
        templates
            .iter()
            .map(|(k, v)| (k.clone(), if v.is_empty() { Value::Null } else { Value::String(v.clone()) }))
            .collect(),
    )
}

impl MethodResponse {
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("statusCode".into(), json!(self.status_code));
        insert_map(&mut map, "responseParameters", &self.response_parameters);
        insert_map(&mut map, "responseModels", &self.response_models);
        Value::Object(map)
    }
}

impl Deployment {
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), json!(self.id));
        insert_opt(&mut map, "description", self.description.as_ref());
        map.insert("createdDate".into(), json!(self.created));
        Value::Object(map)
    }
}

impl Stage {
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("stageName".into(), json!(self.name));
        map.insert("deploymentId".into(), json!(self.deployment_id));
        insert_opt(&mut map, "description", self.description.as_ref());
        insert_map(&mut map, "variables", &self.variables);
        map.insert("cacheClusterEnabled".into(), json!(false));
        map.insert("cacheClusterStatus".into(), json!("NOT_AVAILABLE"));
        let mut settings = Map::new();
        if let Some(throttle) = &self.throttle {
            // The other members of a method setting, at AWS's defaults (they are not emulated).
            settings.insert(
                "*/*".into(),
                json!({
                    "metricsEnabled": false,
                    "loggingLevel": "OFF",
                    "dataTraceEnabled": false,
                    "throttlingBurstLimit": throttle.burst_limit.unwrap_or(5000),
                    "throttlingRateLimit": throttle.rate_limit.unwrap_or(10000.0),
                    "cachingEnabled": false,
                    "cacheTtlInSeconds": 300,
                    "cacheDataEncrypted": false,
                    "requireAuthorizationForCacheControl": true,
                    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
                }),
            );
        }
        map.insert("methodSettings".into(), Value::Object(settings));
        map.insert("tracingEnabled".into(), json!(false));
        map.insert("createdDate".into(), json!(self.created));
        map.insert("lastUpdatedDate".into(), json!(self.updated));
        insert_map(&mut map, "tags", &self.tags);
        Value::Object(map)
    }
}

impl GatewayResponse {
    pub fn to_json(&self, default: bool) -> Value {
        let mut map = Map::new();
        map.insert("responseType".into(), json!(self.response_type));
        insert_opt(&mut map, "statusCode", self.status_code.as_ref());
        map.insert("responseParameters".into(), json!(self.response_parameters));
        map.insert("responseTemplates".into(), json!(self.response_templates));
        map.insert("defaultResponse".into(), json!(default));
        Value::Object(map)
    }
}

impl ApiKey {
    pub fn to_json(&self, include_value: bool) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), json!(self.id));
        map.insert("name".into(), json!(self.name));
        insert_opt(&mut map, "description", self.description.as_ref());
        map.insert("enabled".into(), json!(self.enabled));
        map.insert("createdDate".into(), json!(self.created));
        map.insert("lastUpdatedDate".into(), json!(self.updated));
        map.insert("stageKeys".into(), json!([]));
        if include_value {
            map.insert("value".into(), json!(self.value));
        }
        insert_map(&mut map, "tags", &self.tags);
        Value::Object(map)
    }
}

impl UsagePlan {
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), json!(self.id));
        map.insert("name".into(), json!(self.name));
        insert_opt(&mut map, "description", self.description.as_ref());
        let stages: Vec<Value> = self
            .api_stages
            .iter()
            .map(|s| {
                let mut stage = json!({ "apiId": s.api_id, "stage": s.stage });
                if !s.throttle.is_empty() {
                    stage["throttle"] = json!(s.throttle);
                }
                stage
            })
            .collect();
        map.insert("apiStages".into(), json!(stages));
        if let Some(throttle) = &self.throttle {
            map.insert("throttle".into(), json!(throttle));
        }
        if let Some(quota) = &self.quota {
            map.insert("quota".into(), json!(quota));
        }
        insert_map(&mut map, "tags", &self.tags);
        Value::Object(map)
    }
}
