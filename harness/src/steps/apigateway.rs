//! API Gateway steps: the REST API as the Lambda console's "Add trigger" makes it, then the runbook's edits
//! (POST with Lambda proxy, API key required, ANY deleted, CORS, method response header, deploy, API key).

use std::collections::BTreeMap;

use aws_sdk_apigateway::types::{ApiStage, IntegrationType, Op, PatchOperation};
use serde::Deserialize;
use serde_json::json;

use super::{ErrorKind, Observed, RunContext, RunbookStep, Settings, StepError, optional, tag_pairs};
use crate::context::ApiKeyFact;
use crate::verify::{Expect, Expected};

/// The Lambda console's "Add trigger" with an API Gateway REST API: a new API named `api_name`, a resource
/// named after the function with an `ANY` method proxying to it, permission for API Gateway to invoke the
/// function, and a deployment to `stage`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLambdaTrigger {
    pub function: String,
    /// The resource's path part: the console uses the function's name, which is the default.
    #[serde(default)]
    pub resource: Option<String>,
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

impl RunbookStep for AddLambdaTrigger {
    const READS: &'static [&'static str] = &["apigateway:GET", "lambda:GetPolicy"];
    const CHANGES: &'static [&'static str] =
        &["apigateway:POST", "apigateway:PUT", "apigateway:DELETE", "lambda:AddPermission"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let api = ctx
            .apigateway
            .create_rest_api()
            .name(&self.api_name)
            .set_tags(ctx.tags())
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
            .path_part(self.path().trim_start_matches('/'))
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
        grant_invoke(ctx, &api_id, "*", &self.path(), &self.function, "ANY").await?;
        ctx.apigateway
            .create_deployment()
            .rest_api_id(&api_id)
            .stage_name(&self.stage)
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateDeployment", e))?;
        tag_stage(ctx, &api_id, &self.stage).await
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api_name).await?;
        let resource = find_resource(ctx, &api_id, &self.path()).await?;
        let stage =
            optional("GetStage", ctx.apigateway.get_stage().rest_api_id(&api_id).stage_name(&self.stage).send().await)?;
        Ok(Observed::from([
            ("api".into(), json!(self.api_name)),
            ("resource".into(), json!(resource.as_ref().map(|r| &r.path))),
            ("methods".into(), json!(resource.map(|r| r.methods).unwrap_or_default())),
            ("stage".into(), json!(stage.as_ref().and_then(|s| s.stage_name()))),
            ("invoke_permission".into(), json!(invoke_permission_principals(ctx, &self.function).await?)),
        ]))
    }

    /// The trigger's ANY method is the runbook's to delete later, so methods are left to the later steps.
    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("api".into(), Expect::is(&self.api_name)),
            ("resource".into(), Expect::is(self.path())),
            ("stage".into(), Expect::is(&self.stage)),
            ("invoke_permission".into(), Expect::includes(["apigateway.amazonaws.com"])),
        ]))
    }

    fn creates(&self, ctx: &RunContext) -> Vec<String> {
        let id = ctx.facts.rest_api_ids.get(&self.api_name).map_or_else(String::new, |id| format!(" ({id})"));
        vec![format!("API Gateway REST API {}{id}", self.api_name)]
    }

    /// Deletes the REST API (its resources, methods, deployments and stages go with it).
    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let api_id = match api_id(ctx, &self.api_name).await {
            Ok(id) => id,
            Err(e) if e.kind() == ErrorKind::Missing => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let Some(api) = optional("GetRestApi", ctx.apigateway.get_rest_api().rest_api_id(&api_id).send().await)? else {
            return Ok(Vec::new());
        };
        ctx.ensure_owned(&format!("REST API {} ({api_id})", self.api_name), tag_pairs(api.tags()))?;
        ctx.facts.rest_api_ids.remove(&self.api_name);
        remove_rest_api(ctx, &api_id, &format!("{} ({api_id})", self.api_name)).await
    }
}

impl AddLambdaTrigger {
    /// The console names the trigger's resource after the function.
    fn path(&self) -> String {
        format!("/{}", self.resource.as_deref().unwrap_or(&self.function))
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

impl RunbookStep for CreateMethod {
    const READS: &'static [&'static str] = &["apigateway:GET"];
    const CHANGES: &'static [&'static str] = &["apigateway:PUT"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
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
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource = find_resource(ctx, &api_id, &self.path).await?;
        Ok(Observed::from([
            ("resource".into(), json!(resource.as_ref().map(|r| &r.path))),
            ("methods".into(), json!(resource.map(|r| r.methods).unwrap_or_default())),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("resource".into(), Expect::is(&self.path)),
            ("methods".into(), Expect::includes([&self.method])),
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

impl RunbookStep for LambdaProxyIntegration {
    const READS: &'static [&'static str] = &["apigateway:GET"];
    const CHANGES: &'static [&'static str] = &["apigateway:PUT", "lambda:AddPermission"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource_id = resource_id(ctx, &api_id, &self.path).await?;
        put_lambda_proxy(ctx, &api_id, &resource_id, &self.method, &self.function).await?;
        grant_invoke(ctx, &api_id, "*", &self.path, &self.function, &self.method).await
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let client = &ctx.apigateway;
        let integration = resource_part(ctx, &api_id, &self.path, "GetIntegration", |id| {
            client.get_integration().rest_api_id(&api_id).resource_id(id).http_method(&self.method).send()
        })
        .await?;
        let function = integration
            .as_ref()
            .and_then(|i| i.uri())
            .and_then(|uri| uri.split("function:").nth(1))
            .map(|rest| rest.trim_end_matches("/invocations").to_owned());
        Ok(Observed::from([
            ("method".into(), json!(self.method_path())),
            ("integration".into(), json!(integration.as_ref().and_then(|i| i.r#type()).map(|t| t.as_str()))),
            ("integration_http_method".into(), json!(integration.as_ref().and_then(|i| i.http_method()))),
            ("function".into(), json!(function)),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("method".into(), Expect::is(self.method_path())),
            ("integration".into(), Expect::is(IntegrationType::AwsProxy.as_str())),
            ("integration_http_method".into(), Expect::is("POST")),
            ("function".into(), Expect::is(&self.function)),
        ]))
    }
}

impl LambdaProxyIntegration {
    fn method_path(&self) -> String {
        format!("{} {}", self.method, self.path)
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

impl RunbookStep for RequireApiKey {
    const READS: &'static [&'static str] = &["apigateway:GET"];
    const CHANGES: &'static [&'static str] = &["apigateway:PATCH"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource_id = resource_id(ctx, &api_id, &self.path).await?;
        ctx.apigateway
            .update_method()
            .rest_api_id(&api_id)
            .resource_id(&resource_id)
            .http_method(&self.method)
            .patch_operations(PatchOperation::builder().op(Op::Replace).path("/apiKeyRequired").value("true").build())
            .send()
            .await
            .map_err(|e| StepError::sdk("UpdateMethod", e))?;
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let client = &ctx.apigateway;
        let method = resource_part(ctx, &api_id, &self.path, "GetMethod", |id| {
            client.get_method().rest_api_id(&api_id).resource_id(id).http_method(&self.method).send()
        })
        .await?;
        Ok(Observed::from([
            ("method".into(), json!(format!("{} {}", self.method, self.path))),
            ("api_key_required".into(), json!(method.and_then(|m| m.api_key_required()))),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([("api_key_required".into(), Expect::is(true))]))
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

impl RunbookStep for DeleteMethod {
    const READS: &'static [&'static str] = &["apigateway:GET"];
    const CHANGES: &'static [&'static str] = &["apigateway:DELETE"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
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
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource = find_resource(ctx, &api_id, &self.path).await?;
        Ok(Observed::from([
            ("resource".into(), json!(resource.as_ref().map(|r| &r.path))),
            ("methods".into(), json!(resource.map(|r| r.methods).unwrap_or_default())),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("resource".into(), Expect::is(&self.path)),
            ("methods".into(), Expect::excludes([&self.method])),
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

impl RunbookStep for CreateApiKey {
    const READS: &'static [&'static str] = &["apigateway:GET"];
    const CHANGES: &'static [&'static str] = &["apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let key = ctx
            .apigateway
            .create_api_key()
            .name(&self.key_name)
            .enabled(true)
            .set_tags(ctx.tags())
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateApiKey", e))?;
        let key_id = key.id().unwrap_or_default().to_owned();
        let plan = ctx
            .apigateway
            .create_usage_plan()
            .name(&self.usage_plan)
            .api_stages(ApiStage::builder().api_id(&api_id).stage(&self.stage).build())
            .set_tags(ctx.tags())
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
        ctx.facts.api_key_ids.insert(self.key_name.clone(), key_id);
        ctx.facts.usage_plan_ids.insert(self.usage_plan.clone(), plan_id);
        Ok(())
    }

    /// The key (its value read with `includeValue`, kept as a secret for the checks) and the usage plan, found by
    /// the ids this run learned, else by name.
    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let key_id = match ctx.facts.api_key_ids.get(&self.key_name) {
            Some(id) => id.clone(),
            None => key_id_by_name(ctx, &self.key_name).await?,
        };
        let key = ctx
            .apigateway
            .get_api_key()
            .api_key(&key_id)
            .include_value(true)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetApiKey", e))?;
        let value = key.value().ok_or_else(|| StepError::unexpected("GetApiKey(includeValue) returned no value"))?;
        let plan_id = match ctx.facts.usage_plan_ids.get(&self.usage_plan) {
            Some(id) => Some(id.clone()),
            None => usage_plan_id_by_name(ctx, &self.usage_plan).await?,
        };
        ctx.facts.api_keys.insert(
            self.key_name.clone(),
            ApiKeyFact {
                id: key_id.clone(),
                value: value.to_owned(),
                usage_plan_id: plan_id.clone().unwrap_or_default(),
            },
        );
        let mut observed = Observed::from([
            ("api_key".into(), json!(key.name())),
            ("enabled".into(), json!(key.enabled())),
            ("value_length".into(), json!(value.len())),
            ("usage_plan".into(), serde_json::Value::Null),
            ("usage_plan_stages".into(), json!([])),
            ("usage_plan_keys".into(), json!([])),
        ]);
        let Some(plan_id) = plan_id else { return Ok(observed) };
        let plan = ctx
            .apigateway
            .get_usage_plan()
            .usage_plan_id(&plan_id)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetUsagePlan", e))?;
        let api_id = api_id(ctx, &self.api).await.ok();
        let stages: Vec<String> = plan
            .api_stages()
            .iter()
            .map(|s| {
                let api = if s.api_id().is_some() && s.api_id() == api_id.as_deref() {
                    self.api.as_str()
                } else {
                    "<another API>"
                };
                format!("{api}:{}", s.stage().unwrap_or_default())
            })
            .collect();
        let keys = ctx
            .apigateway
            .get_usage_plan_keys()
            .usage_plan_id(&plan_id)
            .limit(500)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetUsagePlanKeys", e))?;
        let mut key_names: Vec<String> = keys.items().iter().filter_map(|k| k.name().map(str::to_owned)).collect();
        key_names.sort();
        observed.insert("usage_plan".into(), json!(plan.name()));
        observed.insert("usage_plan_stages".into(), json!(stages));
        observed.insert("usage_plan_keys".into(), json!(key_names));
        Ok(observed)
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("api_key".into(), Expect::is(&self.key_name)),
            ("enabled".into(), Expect::is(true)),
            ("usage_plan".into(), Expect::is(&self.usage_plan)),
            ("usage_plan_stages".into(), Expect::includes([format!("{}:{}", self.api, self.stage)])),
            ("usage_plan_keys".into(), Expect::includes([&self.key_name])),
        ]))
    }

    fn creates(&self, ctx: &RunContext) -> Vec<String> {
        let id = |id: Option<&String>| id.map_or_else(String::new, |id| format!(" ({id})"));
        vec![
            format!("API key {}{}", self.key_name, id(ctx.facts.api_key_ids.get(&self.key_name))),
            format!("usage plan {}{}", self.usage_plan, id(ctx.facts.usage_plan_ids.get(&self.usage_plan))),
        ]
    }

    /// Deletes the key, then the usage plan once no API stage is in it (AWS refuses to delete it before).
    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let mut removed = Vec::new();
        let key_id = match ctx.facts.api_key_ids.get(&self.key_name) {
            Some(id) => Some(id.clone()),
            None => match key_id_by_name(ctx, &self.key_name).await {
                Ok(id) => Some(id),
                Err(e) if e.kind() == ErrorKind::Missing => None,
                Err(e) => return Err(e),
            },
        };
        if let Some(id) = key_id
            && let Some(key) = optional("GetApiKey", ctx.apigateway.get_api_key().api_key(&id).send().await)?
        {
            ctx.ensure_owned(&format!("API key {}", self.key_name), tag_pairs(key.tags()))?;
            removed.extend(remove_api_key(ctx, &id, &self.key_name).await?);
        }
        let plan_id = match ctx.facts.usage_plan_ids.get(&self.usage_plan) {
            Some(id) => Some(id.clone()),
            None => usage_plan_id_by_name(ctx, &self.usage_plan).await?,
        };
        let Some(plan_id) = plan_id else { return Ok(removed) };
        let Some(plan) =
            optional("GetUsagePlan", ctx.apigateway.get_usage_plan().usage_plan_id(&plan_id).send().await)?
        else {
            return Ok(removed);
        };
        ctx.ensure_owned(&format!("usage plan {}", self.usage_plan), tag_pairs(plan.tags()))?;
        removed.extend(remove_usage_plan(ctx, &plan_id).await?);
        Ok(removed)
    }
}

/// Deletes an API key.
pub(crate) async fn remove_api_key(ctx: &RunContext, id: &str, name: &str) -> Result<Vec<String>, StepError> {
    let deleted = optional("DeleteApiKey", ctx.apigateway.delete_api_key().api_key(id).send().await)?;
    Ok(deleted.map(|_| format!("API key {name}")).into_iter().collect())
}

/// Takes a usage plan off its stages, then deletes it.
pub(crate) async fn remove_usage_plan(ctx: &RunContext, id: &str) -> Result<Vec<String>, StepError> {
    let Some(plan) = optional("GetUsagePlan", ctx.apigateway.get_usage_plan().usage_plan_id(id).send().await)? else {
        return Ok(Vec::new());
    };
    for stage in plan.api_stages() {
        let value = format!("{}:{}", stage.api_id().unwrap_or_default(), stage.stage().unwrap_or_default());
        let remove = PatchOperation::builder().op(Op::Remove).path("/apiStages").value(value).build();
        let updated = ctx.apigateway.update_usage_plan().usage_plan_id(id).patch_operations(remove).send().await;
        optional("UpdateUsagePlan", updated)?;
    }
    optional("DeleteUsagePlan", ctx.apigateway.delete_usage_plan().usage_plan_id(id).send().await)?;
    Ok(vec![format!("usage plan {}", plan.name().unwrap_or(id))])
}

/// Deletes a REST API (its resources, methods, deployments and stages go with it); `label` names it.
pub(crate) async fn remove_rest_api(ctx: &RunContext, id: &str, label: &str) -> Result<Vec<String>, StepError> {
    let deleted = optional("DeleteRestApi", ctx.apigateway.delete_rest_api().rest_api_id(id).send().await)?;
    Ok(deleted.map(|_| format!("API Gateway REST API {label}")).into_iter().collect())
}

/// Gives a stage the run's tags (a stage made by CreateDeployment cannot be tagged as it is made); nothing
/// outside a provisioned run.
async fn tag_stage(ctx: &RunContext, api_id: &str, stage: &str) -> Result<(), StepError> {
    let Some(tags) = ctx.tags() else { return Ok(()) };
    let arn = format!("arn:aws:apigateway:{}::/restapis/{api_id}/stages/{stage}", ctx.target.region);
    let tagged = ctx.apigateway.tag_resource().resource_arn(arn).set_tags(Some(tags)).send().await;
    tagged.map_err(|e| StepError::sdk("TagResource", e))?;
    Ok(())
}

/// The id of the one API key called `name`.
async fn key_id_by_name(ctx: &RunContext, name: &str) -> Result<String, StepError> {
    let keys = ctx
        .apigateway
        .get_api_keys()
        .name_query(name)
        .limit(500)
        .send()
        .await
        .map_err(|e| StepError::sdk("GetApiKeys", e))?;
    let ids: Vec<&str> = keys.items().iter().filter(|k| k.name() == Some(name)).filter_map(|k| k.id()).collect();
    match ids.as_slice() {
        [] => Err(StepError::missing(format!("no API key named {name}"))),
        [id] => Ok((*id).to_owned()),
        many => Err(StepError::ambiguous(format!(
            "{} API keys are named {name} (ids {}): rename or delete the ones the runbook did not make",
            many.len(),
            many.join(", ")
        ))),
    }
}

/// The id of the usage plan called `name`, if there is one.
async fn usage_plan_id_by_name(ctx: &RunContext, name: &str) -> Result<Option<String>, StepError> {
    let plans =
        ctx.apigateway.get_usage_plans().limit(500).send().await.map_err(|e| StepError::sdk("GetUsagePlans", e))?;
    let ids: Vec<&str> = plans.items().iter().filter(|p| p.name() == Some(name)).filter_map(|p| p.id()).collect();
    match ids.as_slice() {
        [] => Ok(None),
        [id] => Ok(Some((*id).to_owned())),
        many => Err(StepError::ambiguous(format!(
            "{} usage plans are named {name} (ids {}): rename or delete the ones the runbook did not make",
            many.len(),
            many.join(", ")
        ))),
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

impl RunbookStep for EnableCors {
    const READS: &'static [&'static str] = &["apigateway:GET"];
    const CHANGES: &'static [&'static str] = &["apigateway:PUT"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource_id = resource_id(ctx, &api_id, &self.path).await?;
        let header = |name: &str| format!("method.response.header.{name}");
        let (names, values): (Vec<&str>, Vec<String>) = self.headers().into_iter().unzip();

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
        for &name in &names {
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

        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let resource = find_resource(ctx, &api_id, &self.path).await?;
        let preflight = match &resource {
            Some(resource) => optional(
                "GetIntegrationResponse",
                ctx.apigateway
                    .get_integration_response()
                    .rest_api_id(&api_id)
                    .resource_id(&resource.id)
                    .http_method("OPTIONS")
                    .status_code("200")
                    .send()
                    .await,
            )?,
            None => None,
        };
        let headers: Option<BTreeMap<String, String>> = preflight.map(|p| {
            p.response_parameters()
                .map(|p| {
                    p.iter()
                        .map(|(k, v)| (k.trim_start_matches("method.response.header.").to_owned(), v.clone()))
                        .collect()
                })
                .unwrap_or_default()
        });
        Ok(Observed::from([
            ("resource".into(), json!(resource.as_ref().map(|r| &r.path))),
            ("methods".into(), json!(resource.map(|r| r.methods).unwrap_or_default())),
            ("preflight_headers".into(), json!(headers)),
            ("gateway_responses_with_cors".into(), json!(gateway_responses_with_cors(ctx, &api_id).await?)),
        ]))
    }

    /// The header values as API Gateway keeps them: quoted (`'*'`), as the console writes them.
    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        let headers: BTreeMap<&str, String> =
            self.headers().into_iter().map(|(name, value)| (name, format!("'{value}'"))).collect();
        Ok(Expected::from([
            ("resource".into(), Expect::is(&self.path)),
            ("methods".into(), Expect::includes(["OPTIONS"])),
            ("preflight_headers".into(), Expect::is(headers)),
            ("gateway_responses_with_cors".into(), Expect::includes(&self.gateway_responses)),
        ]))
    }
}

impl EnableCors {
    /// The preflight's response headers and their values.
    fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("Access-Control-Allow-Headers", self.allow_headers.join(",")),
            ("Access-Control-Allow-Methods", self.allow_methods.join(",")),
            ("Access-Control-Allow-Origin", self.allow_origin.clone()),
        ]
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

impl RunbookStep for MethodResponseHeader {
    const READS: &'static [&'static str] = &["apigateway:GET"];
    const CHANGES: &'static [&'static str] = &["apigateway:PUT"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
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
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let client = &ctx.apigateway;
        let response = resource_part(ctx, &api_id, &self.path, "GetMethodResponse", |id| {
            let request = client.get_method_response().rest_api_id(&api_id).resource_id(id);
            request.http_method(&self.method).status_code(&self.status).send()
        })
        .await?;
        let headers: Option<Vec<String>> = response.as_ref().map(|r| {
            let mut headers: Vec<String> = r
                .response_parameters()
                .map(|p| p.keys().map(|k| k.trim_start_matches("method.response.header.").to_owned()).collect())
                .unwrap_or_default();
            headers.sort();
            headers
        });
        Ok(Observed::from([
            ("method".into(), json!(format!("{} {}", self.method, self.path))),
            ("status".into(), json!(response.as_ref().and_then(|r| r.status_code()))),
            ("headers".into(), json!(headers)),
        ]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("status".into(), Expect::is(&self.status)),
            ("headers".into(), Expect::includes(&self.headers)),
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

impl RunbookStep for Deploy {
    const READS: &'static [&'static str] = &["apigateway:GET"];
    const CHANGES: &'static [&'static str] = &["apigateway:POST", "apigateway:PUT"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
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
        if stage.deployment_id() != deployment.id() {
            return Err(StepError::unexpected(format!("stage {} does not point at the new deployment", self.stage)));
        }
        tag_stage(ctx, &api_id, &self.stage).await
    }

    /// What the stage serves: its deployment's methods (`GetDeployment` with `embed=apisummary`).
    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = api_id(ctx, &self.api).await?;
        let stage = ctx
            .apigateway
            .get_stage()
            .rest_api_id(&api_id)
            .stage_name(&self.stage)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetStage", e))?;
        let deployment = ctx
            .apigateway
            .get_deployment()
            .rest_api_id(&api_id)
            .deployment_id(stage.deployment_id().unwrap_or_default())
            .embed("apisummary")
            .send()
            .await
            .map_err(|e| StepError::sdk("GetDeployment", e))?;
        // `null` where the target does not summarize deployments (LocalStack).
        let deployed: Option<BTreeMap<String, serde_json::Value>> = deployment.api_summary().map(|summary| {
            summary
                .iter()
                .flat_map(|(path, methods)| {
                    methods.iter().map(move |(method, summary)| {
                        (format!("{method} {path}"), json!({ "api_key_required": summary.api_key_required() }))
                    })
                })
                .collect()
        });
        Ok(Observed::from([("stage".into(), json!(stage.stage_name())), ("deployed_methods".into(), json!(deployed))]))
    }

    /// The stage serves the API's methods as they are now (a change made after the last deployment is not live).
    /// Where the target cannot say what a deployment serves, only the stage is compared.
    async fn expected(&self, ctx: &mut RunContext) -> Result<Expected, StepError> {
        if self.observe(ctx).await?.get("deployed_methods").is_none_or(serde_json::Value::is_null) {
            return Ok(Expected::from([("stage".into(), Expect::is(&self.stage))]));
        }
        let api_id = api_id(ctx, &self.api).await?;
        let resources = ctx
            .apigateway
            .get_resources()
            .rest_api_id(&api_id)
            .embed("methods")
            .limit(500)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetResources", e))?;
        let current: BTreeMap<String, serde_json::Value> = resources
            .items()
            .iter()
            .flat_map(|r| {
                let path = r.path().unwrap_or_default();
                r.resource_methods().into_iter().flatten().map(move |(method, m)| {
                    (format!("{method} {path}"), json!({ "api_key_required": m.api_key_required() }))
                })
            })
            .collect();
        Ok(Expected::from([
            ("stage".into(), Expect::is(&self.stage)),
            ("deployed_methods".into(), Expect::is(current)),
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

/// The id of the REST API called `name` (learned when created, else looked up). Two APIs of that name are
/// reported, not guessed between.
pub(super) async fn api_id(ctx: &mut RunContext, name: &str) -> Result<String, StepError> {
    if let Some(id) = ctx.facts.rest_api_ids.get(name) {
        return Ok(id.clone());
    }
    let mut ids = Vec::new();
    let mut pages = ctx.apigateway.get_rest_apis().limit(500).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| StepError::sdk("GetRestApis", e))?;
        ids.extend(
            page.items().iter().filter(|api| api.name() == Some(name)).filter_map(|api| api.id()).map(str::to_owned),
        );
    }
    match ids.as_slice() {
        [] => Err(StepError::missing(format!("no REST API named {name}"))),
        [id] => {
            ctx.facts.rest_api_ids.insert(name.to_owned(), id.clone());
            Ok(id.clone())
        }
        many => Err(StepError::ambiguous(format!(
            "{} REST APIs are named {name} (ids {}): rename or delete the ones the runbook did not make",
            many.len(),
            many.join(", ")
        ))),
    }
}

/// A resource of an API as the steps read it.
struct FoundResource {
    id: String,
    path: String,
    /// Its methods, sorted.
    methods: Vec<String>,
}

/// The resource at `path` (e.g. `/crts-job-trigger`), if the API has one.
async fn find_resource(ctx: &RunContext, api_id: &str, path: &str) -> Result<Option<FoundResource>, StepError> {
    let resources = ctx
        .apigateway
        .get_resources()
        .rest_api_id(api_id)
        .limit(500)
        .send()
        .await
        .map_err(|e| StepError::sdk("GetResources", e))?;
    Ok(resources.items().iter().find(|r| r.path() == Some(path)).map(|r| {
        let mut methods: Vec<String> = r.resource_methods().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        methods.sort();
        FoundResource { id: r.id().unwrap_or_default().to_owned(), path: path.to_owned(), methods }
    }))
}

/// A part of the resource at `path` (a method, its integration, a response), read with `read` given the resource's
/// id: `None` when the resource or the part is not there.
async fn resource_part<T, E, R, Fut>(
    ctx: &RunContext,
    api_id: &str,
    path: &str,
    operation: &str,
    read: impl FnOnce(String) -> Fut,
) -> Result<Option<T>, StepError>
where
    Fut: std::future::Future<Output = Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>>,
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match find_resource(ctx, api_id, path).await? {
        Some(resource) => optional(operation, read(resource.id).await),
        None => Ok(None),
    }
}

/// The id of the resource at `path`, which a step changing it needs.
async fn resource_id(ctx: &RunContext, api_id: &str, path: &str) -> Result<String, StepError> {
    find_resource(ctx, api_id, path)
        .await?
        .map(|r| r.id)
        .ok_or_else(|| StepError::unexpected(format!("no resource {path} in the API")))
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
    let Some(policy) = optional("GetPolicy", ctx.lambda.get_policy().function_name(function).send().await)? else {
        return Ok(Vec::new());
    };
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
