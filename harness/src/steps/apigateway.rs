//! API Gateway steps: the REST API as the Lambda console's "Add trigger" makes it, then the runbook's edits
//! (POST with Lambda proxy, API key required, ANY deleted, CORS, method response header, deploy, API key).

use std::collections::HashMap;

use aws_sdk_apigateway::types::{ApiStage, IntegrationType, Op, PatchOperation};
use serde::Deserialize;
use serde_json::json;

use super::context::ApiKeyFact;
use super::{Observed, RunContext, Settings, StepError};

/// The Lambda console's "Add trigger" with an API Gateway REST API: a new API named `api_name`, a resource
/// named after the function with an `ANY` method proxying to it, permission for API Gateway to invoke the
/// function, and a deployment to `stage`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLambdaTrigger {
    pub function: String,
    pub api_name: String,
    pub stage: String,
    /// The console's "Security" choice: `open` or `api_key`.
    pub security: TriggerSecurity,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerSecurity {
    Open,
    ApiKey,
}

impl Settings for AddLambdaTrigger {}

impl AddLambdaTrigger {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api = ctx
            .apigateway
            .create_rest_api()
            .name(&self.api_name)
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateRestApi", e))?;
        let api_id = api.id().ok_or_else(|| StepError::unexpected("CreateRestApi returned no id"))?.to_owned();
        let root_id = api.root_resource_id().map(str::to_owned).unwrap_or_default();
        ctx.facts.rest_api_ids.insert(self.api_name.clone(), api_id.clone());

        let resource = ctx
            .apigateway
            .create_resource()
            .rest_api_id(&api_id)
            .parent_id(root_id)
            .path_part(&self.function)
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateResource", e))?;
        let resource_id = resource.id().unwrap_or_default().to_owned();
        ctx.apigateway
            .put_method()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method("ANY")
            .authorization_type("NONE")
            .api_key_required(self.security == TriggerSecurity::ApiKey)
            .send()
            .await
            .map_err(|e| StepError::sdk("PutMethod", e))?;
        put_lambda_proxy(ctx, &api_id, &resource_id, "ANY", &self.function).await?;
        let path = format!("/{}", self.function);
        grant_invoke(ctx, &api_id, "*", &path, &self.function, "ANY").await?;
        ctx.apigateway
            .create_deployment()
            .rest_api_id(&api_id)
            .stage_name(&self.stage)
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateDeployment", e))?;

        let methods = resource_methods(ctx, &api_id, &path).await?;
        let stage = ctx
            .apigateway
            .get_stage()
            .rest_api_id(&api_id)
            .stage_name(&self.stage)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetStage", e))?;
        Ok(Observed::from([
            ("api".into(), json!(self.api_name)),
            ("resource".into(), json!(path)),
            ("methods".into(), json!(methods)),
            ("stage".into(), json!(stage.stage_name())),
            ("invoke_permission".into(), json!(invoke_permission_principals(ctx, &self.function).await?)),
        ]))
    }
}

/// "Create Method": a method on a resource, without an integration yet.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMethod {
    pub api: String,
    pub path: String,
    pub method: String,
}

impl Settings for CreateMethod {}

impl CreateMethod {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource_id = resource_id(ctx, &api_id, &self.path).await?;
        ctx.apigateway
            .put_method()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&self.method)
            .authorization_type("NONE")
            .send()
            .await
            .map_err(|e| StepError::sdk("PutMethod", e))?;
        Ok(Observed::from([
            ("resource".into(), json!(self.path)),
            ("methods".into(), json!(resource_methods(ctx, &api_id, &self.path).await?)),
        ]))
    }
}

/// "Lambda Proxy Integration" on a method, and the permission the console adds for it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LambdaProxyIntegration {
    pub api: String,
    pub path: String,
    pub method: String,
    pub function: String,
}

impl Settings for LambdaProxyIntegration {}

impl LambdaProxyIntegration {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource_id = resource_id(ctx, &api_id, &self.path).await?;
        put_lambda_proxy(ctx, &api_id, &resource_id, &self.method, &self.function).await?;
        grant_invoke(ctx, &api_id, "*", &self.path, &self.function, &self.method).await?;

        let integration = ctx
            .apigateway
            .get_integration()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&self.method)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetIntegration", e))?;
        let function = integration
            .uri()
            .and_then(|uri| uri.split("function:").nth(1))
            .map(|rest| rest.trim_end_matches("/invocations").to_owned());
        Ok(Observed::from([
            ("method".into(), json!(format!("{} {}", self.method, self.path))),
            ("integration".into(), json!(integration.r#type().map(|t| t.as_str()))),
            ("integration_http_method".into(), json!(integration.http_method())),
            ("function".into(), json!(function)),
        ]))
    }
}

/// "Method Request": API Key Required = true.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequireApiKey {
    pub api: String,
    pub path: String,
    pub method: String,
}

impl Settings for RequireApiKey {}

impl RequireApiKey {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource_id = resource_id(ctx, &api_id, &self.path).await?;
        let method = ctx
            .apigateway
            .update_method()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&self.method)
            .patch_operations(PatchOperation::builder().op(Op::Replace).path("/apiKeyRequired").value("true").build())
            .send()
            .await
            .map_err(|e| StepError::sdk("UpdateMethod", e))?;
        Ok(Observed::from([
            ("method".into(), json!(format!("{} {}", self.method, self.path))),
            ("api_key_required".into(), json!(method.api_key_required())),
        ]))
    }
}

/// "Delete Method" (the runbook deletes the console's ANY).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMethod {
    pub api: String,
    pub path: String,
    pub method: String,
}

impl Settings for DeleteMethod {}

impl DeleteMethod {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource_id = resource_id(ctx, &api_id, &self.path).await?;
        ctx.apigateway
            .delete_method()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&self.method)
            .send()
            .await
            .map_err(|e| StepError::sdk("DeleteMethod", e))?;
        Ok(Observed::from([
            ("resource".into(), json!(self.path)),
            ("methods".into(), json!(resource_methods(ctx, &api_id, &self.path).await?)),
        ]))
    }
}

/// "Create API Keys" (runbook step 8), enabled, in a usage plan bound to the API's stage, which is what
/// API Gateway needs before it accepts the key.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub api: String,
    pub stage: String,
    pub key_name: String,
    pub usage_plan: String,
}

impl Settings for CreateApiKey {}

impl CreateApiKey {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let key = ctx
            .apigateway
            .create_api_key()
            .name(&self.key_name)
            .enabled(true)
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateApiKey", e))?;
        let key_id = key.id().unwrap_or_default().to_owned();
        let plan = ctx
            .apigateway
            .create_usage_plan()
            .name(&self.usage_plan)
            .api_stages(ApiStage::builder().api_id(&api_id).stage(&self.stage).build())
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateUsagePlan", e))?;
        let plan_id = plan.id().unwrap_or_default().to_owned();
        ctx.apigateway
            .create_usage_plan_key()
            .usage_plan_id(&plan_id)
            .key_id(&key_id)
            .key_type("API_KEY")
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateUsagePlanKey", e))?;

        let key = ctx
            .apigateway
            .get_api_key()
            .api_key(&key_id)
            .include_value(true)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetApiKey", e))?;
        let value = key.value().ok_or_else(|| StepError::unexpected("GetApiKey(includeValue) returned no value"))?;
        ctx.facts.api_keys.insert(
            self.key_name.clone(),
            ApiKeyFact { id: key_id.clone(), value: value.to_owned(), usage_plan_id: plan_id.clone() },
        );
        ctx.facts.usage_plan_ids.insert(self.usage_plan.clone(), plan_id.clone());
        let plan = ctx
            .apigateway
            .get_usage_plan()
            .usage_plan_id(&plan_id)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetUsagePlan", e))?;
        let stages: Vec<String> = plan
            .api_stages()
            .iter()
            .map(|s| {
                let api = if s.api_id() == Some(api_id.as_str()) { self.api.as_str() } else { "<another API>" };
                format!("{api}:{}", s.stage().unwrap_or_default())
            })
            .collect();
        Ok(Observed::from([
            ("api_key".into(), json!(key.name())),
            ("enabled".into(), json!(key.enabled())),
            ("value_length".into(), json!(value.len())),
            ("usage_plan".into(), json!(plan.name())),
            ("usage_plan_stages".into(), json!(stages)),
        ]))
    }
}

/// "Enable CORS" as the console does it: an OPTIONS method with a MOCK integration answering the preflight
/// with the Access-Control-Allow-* headers.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableCors {
    pub api: String,
    pub path: String,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub allow_origin: String,
    /// Gateway responses that also get the headers (the console's "Default 4XX" / "Default 5XX" boxes), so a
    /// browser can read API Gateway's own errors (403 Forbidden for a wrong key) too.
    #[serde(default)]
    pub gateway_responses: Vec<String>,
}

impl Settings for EnableCors {}

impl EnableCors {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource_id = resource_id(ctx, &api_id, &self.path).await?;
        let header = |name: &str| format!("method.response.header.{name}");
        let names = ["Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Allow-Origin"];
        let values = [self.allow_headers.join(","), self.allow_methods.join(","), self.allow_origin.clone()];

        ctx.apigateway
            .put_method()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method("OPTIONS")
            .authorization_type("NONE")
            .send()
            .await
            .map_err(|e| StepError::sdk("PutMethod", e))?;
        ctx.apigateway
            .put_integration()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method("OPTIONS")
            .r#type(IntegrationType::Mock)
            .request_templates("application/json", "{\"statusCode\": 200}")
            .send()
            .await
            .map_err(|e| StepError::sdk("PutIntegration", e))?;
        let mut method_response = ctx
            .apigateway
            .put_method_response()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method("OPTIONS")
            .status_code("200")
            .response_models("application/json", "Empty");
        for name in names {
            method_response = method_response.response_parameters(header(name), false);
        }
        method_response.send().await.map_err(|e| StepError::sdk("PutMethodResponse", e))?;
        let mut integration_response = ctx
            .apigateway
            .put_integration_response()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method("OPTIONS")
            .status_code("200");
        // No response template: the console's empty one behaves the same on a MOCK integration, and AWS (like
        // LocalStack) reads an empty template back as `"application/json": null`, which the AWS SDK for Rust
        // refuses to parse ("dense map cannot contain null values"), failing every later read of the method.
        for (name, value) in names.iter().zip(&values) {
            integration_response = integration_response.response_parameters(header(name), format!("'{value}'"));
        }
        integration_response.send().await.map_err(|e| StepError::sdk("PutIntegrationResponse", e))?;
        for kind in &self.gateway_responses {
            let mut response = ctx
                .apigateway
                .put_gateway_response()
                .rest_api_id(&api_id)
                .response_type(aws_sdk_apigateway::types::GatewayResponseType::from(kind.as_str()));
            for (name, value) in names.iter().zip(&values) {
                response = response.response_parameters(format!("gatewayresponse.header.{name}"), format!("'{value}'"));
            }
            response.send().await.map_err(|e| StepError::sdk("PutGatewayResponse", e))?;
        }

        let observed = ctx
            .apigateway
            .get_integration_response()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method("OPTIONS")
            .status_code("200")
            .send()
            .await
            .map_err(|e| StepError::sdk("GetIntegrationResponse", e))?;
        let headers: HashMap<String, String> = observed
            .response_parameters()
            .map(|p| {
                p.iter().map(|(k, v)| (k.trim_start_matches("method.response.header.").to_owned(), v.clone())).collect()
            })
            .unwrap_or_default();
        Ok(Observed::from([
            ("resource".into(), json!(self.path)),
            ("methods".into(), json!(resource_methods(ctx, &api_id, &self.path).await?)),
            ("preflight_headers".into(), json!(headers.into_iter().collect::<std::collections::BTreeMap<_, _>>())),
            ("gateway_responses_with_cors".into(), json!(gateway_responses_with_cors(ctx, &api_id).await?)),
        ]))
    }
}

/// "Method Response": declare response headers for a status (the runbook adds Access-Control-Allow-Origin
/// to POST 200).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodResponseHeader {
    pub api: String,
    pub path: String,
    pub method: String,
    pub status: String,
    pub headers: Vec<String>,
}

impl Settings for MethodResponseHeader {}

impl MethodResponseHeader {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource_id = resource_id(ctx, &api_id, &self.path).await?;
        let mut request = ctx
            .apigateway
            .put_method_response()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&self.method)
            .status_code(&self.status);
        for name in &self.headers {
            request = request.response_parameters(format!("method.response.header.{name}"), false);
        }
        request.send().await.map_err(|e| StepError::sdk("PutMethodResponse", e))?;
        let observed = ctx
            .apigateway
            .get_method_response()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&self.method)
            .status_code(&self.status)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetMethodResponse", e))?;
        let mut headers: Vec<String> = observed
            .response_parameters()
            .map(|p| p.keys().map(|k| k.trim_start_matches("method.response.header.").to_owned()).collect())
            .unwrap_or_default();
        headers.sort();
        Ok(Observed::from([
            ("method".into(), json!(format!("{} {}", self.method, self.path))),
            ("status".into(), json!(observed.status_code())),
            ("headers".into(), json!(headers)),
        ]))
    }
}

/// "Deploy API" to a stage.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    pub api: String,
    pub stage: String,
}

impl Settings for Deploy {}

impl Deploy {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let deployment = ctx
            .apigateway
            .create_deployment()
            .rest_api_id(&api_id)
            .stage_name(&self.stage)
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateDeployment", e))?;
        let stage = ctx
            .apigateway
            .get_stage()
            .rest_api_id(&api_id)
            .stage_name(&self.stage)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetStage", e))?;
        let current = stage.deployment_id() == deployment.id();
        if !current {
            return Err(StepError::unexpected(format!("stage {} does not point at the new deployment", self.stage)));
        }
        Ok(Observed::from([
            ("stage".into(), json!(stage.stage_name())),
            ("serves_new_deployment".into(), json!(current)),
        ]))
    }
}

/// The gateway response types of an API that carry an Access-Control-Allow-Origin header.
async fn gateway_responses_with_cors(ctx: &RunContext, api_id: &str) -> Result<Vec<String>, StepError> {
    let responses = ctx
        .apigateway
        .get_gateway_responses()
        .rest_api_id(api_id)
        .send()
        .await
        .map_err(|e| StepError::sdk("GetGatewayResponses", e))?;
    let mut kinds: Vec<String> = responses
        .items()
        .iter()
        .filter(|r| {
            r.response_parameters()
                .is_some_and(|p| p.contains_key("gatewayresponse.header.Access-Control-Allow-Origin"))
        })
        .filter_map(|r| r.response_type().map(|t| t.as_str().to_owned()))
        .collect();
    kinds.sort();
    Ok(kinds)
}

/// The id of the REST API called `name` (learned when created, else looked up).
pub(super) async fn api_id(ctx: &mut RunContext, name: &str) -> Result<String, StepError> {
    if let Some(id) = ctx.facts.rest_api_ids.get(name) {
        return Ok(id.clone());
    }
    let apis = ctx.apigateway.get_rest_apis().limit(500).send().await.map_err(|e| StepError::sdk("GetRestApis", e))?;
    let id = apis
        .items()
        .iter()
        .find(|api| api.name() == Some(name))
        .and_then(|api| api.id())
        .ok_or_else(|| StepError::unexpected(format!("no REST API named {name} (the add-trigger step creates it)")))?
        .to_owned();
    ctx.facts.rest_api_ids.insert(name.to_owned(), id.clone());
    Ok(id)
}

/// The id of the resource at `path` (e.g. `/crts-job-trigger`).
async fn resource_id(ctx: &RunContext, api_id: &str, path: &str) -> Result<String, StepError> {
    let resources = ctx
        .apigateway
        .get_resources()
        .rest_api_id(api_id)
        .limit(500)
        .send()
        .await
        .map_err(|e| StepError::sdk("GetResources", e))?;
    resources
        .items()
        .iter()
        .find(|r| r.path() == Some(path))
        .and_then(|r| r.id())
        .map(str::to_owned)
        .ok_or_else(|| StepError::unexpected(format!("no resource {path} in the API")))
}

/// The methods on the resource at `path`, sorted.
async fn resource_methods(ctx: &RunContext, api_id: &str, path: &str) -> Result<Vec<String>, StepError> {
    let resources = ctx
        .apigateway
        .get_resources()
        .rest_api_id(api_id)
        .limit(500)
        .send()
        .await
        .map_err(|e| StepError::sdk("GetResources", e))?;
    let mut methods: Vec<String> = resources
        .items()
        .iter()
        .find(|r| r.path() == Some(path))
        .and_then(|r| r.resource_methods())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    methods.sort();
    Ok(methods)
}

async fn put_lambda_proxy(
    ctx: &RunContext,
    api_id: &str,
    resource_id: &str,
    method: &str,
    function: &str,
) -> Result<(), StepError> {
    let function_arn = format!("arn:aws:lambda:{}:{}:function:{function}", ctx.target.region, ctx.target.account_id);
    let uri =
        format!("arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{function_arn}/invocations", ctx.target.region);
    ctx.apigateway
        .put_integration()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(method)
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(uri)
        .send()
        .await
        .map_err(|e| StepError::sdk("PutIntegration", e))?;
    Ok(())
}

/// `lambda:AddPermission` for API Gateway, scoped to the API, stage, method and path as the console does.
async fn grant_invoke(
    ctx: &RunContext,
    api_id: &str,
    stage: &str,
    path: &str,
    function: &str,
    method: &str,
) -> Result<(), StepError> {
    let method_part = if method == "ANY" { "*" } else { method };
    let source_arn = format!(
        "arn:aws:execute-api:{}:{}:{api_id}/{stage}/{method_part}{path}",
        ctx.target.region, ctx.target.account_id
    );
    ctx.lambda
        .add_permission()
        .function_name(function)
        .statement_id(format!("crts-apigateway-{}-{}", method.to_ascii_lowercase(), api_id))
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .source_arn(source_arn)
        .send()
        .await
        .map_err(|e| StepError::sdk("AddPermission", e))?;
    Ok(())
}

/// The principals the function's resource policy lets invoke it.
async fn invoke_permission_principals(ctx: &RunContext, function: &str) -> Result<Vec<String>, StepError> {
    let policy =
        ctx.lambda.get_policy().function_name(function).send().await.map_err(|e| StepError::sdk("GetPolicy", e))?;
    let document: serde_json::Value = serde_json::from_str(policy.policy().unwrap_or("{}"))
        .map_err(|e| StepError::unexpected(format!("function policy is not JSON: {e}")))?;
    let mut principals: Vec<String> = document["Statement"]
        .as_array()
        .map(|statements| {
            statements.iter().filter_map(|s| s["Principal"]["Service"].as_str().map(str::to_owned)).collect()
        })
        .unwrap_or_default();
    principals.sort();
    principals.dedup();
    Ok(principals)
}
