//! API key: the job-trigger POST must be refused (403) without a valid, enabled key in the stage's usage
//! plan, and let through to the function with one.
//!
//! The check creates a temporary *disabled* key in the same usage plan (and deletes it afterwards), because
//! "disabled" is a refusal of its own on AWS.

use aws_sdk_apigateway::types::{Op, PatchOperation};

use super::settings::Section;
use super::{Check, CheckSettings, Observation, Skip, invoke_url, send};
use crate::context::{RunContext, SideEffect};
use crate::targets::capabilities::Capability;

/// What the key probes send: not JSON, so the function, when a probe reaches it (the valid key, or a key that is
/// wrongly not required), reads no job request and submits no job (the trigger answers 400 before calling Batch).
/// Whether a POST becomes a job is the job_trigger check's question.
const PROBE_BODY: &str = "crts-harness: an API key probe (not a job request)";

/// An obviously wrong key of a valid length.
const WRONG_KEY: &str = "crts-wrong-key-0000000000000000000000000";

pub struct ApiKey;

impl Check for ApiKey {
    const REQUIRES: &'static [Capability] = &[];
    const NEEDS: &'static [Section] = &[Section::Api];

    fn iam_actions(trigger_job: bool) -> &'static [&'static str] {
        if trigger_job {
            &["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"]
        } else {
            &["apigateway:GET"]
        }
    }

    async fn run(ctx: &RunContext, settings: &CheckSettings) -> Result<Vec<Observation>, Skip> {
        Ok(observe(ctx, settings).await)
    }
}

async fn observe(ctx: &RunContext, settings: &CheckSettings) -> Vec<Observation> {
    let Some(api) = &settings.api else {
        return vec![Observation::new("settings", "api settings", "missing", false)];
    };
    let url = match invoke_url(ctx, api).await {
        Ok(url) => url,
        Err(e) => return vec![Observation::new("invoke URL", "the deployed API", e, false)],
    };
    let body = PROBE_BODY.to_owned();
    let Some(key) = ctx.facts.api_keys.get(&api.api_key) else {
        return vec![Observation::new(
            "API key",
            format!("key {} created by the scenario", api.api_key),
            "missing",
            false,
        )];
    };
    let mut observations = Vec::new();

    let post = |key: Option<&str>| {
        let mut request = ctx.http.post(&url).header("Content-Type", "application/json").body(body.clone());
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        request
    };
    let refused = |what: &str, answer: Result<super::HttpAnswer, String>| match answer {
        Ok(a) => Observation::new(what, "403 Forbidden", a.summary(), a.status == 403),
        Err(e) => Observation::new(what, "403 Forbidden", e, false),
    };

    observations.push(refused("POST without x-api-key", send(post(None)).await));
    observations.push(refused("POST with a wrong key", send(post(Some(WRONG_KEY))).await));

    match ctx.refuses(SideEffect::CreatesApiKey) {
        Some(reason) => {
            observations.push(Observation::not_checked("POST with a disabled key", "403 Forbidden", reason))
        }
        None => match disabled_key(ctx, &key.usage_plan_id).await {
            Ok((id, value)) => {
                observations.push(refused("POST with a disabled key", send(post(Some(&value))).await));
                let _ = ctx.apigateway.delete_api_key().api_key(id).send().await;
            }
            Err(e) => observations.push(Observation::new("POST with a disabled key", "403 Forbidden", e, false)),
        },
    }

    // What the function answers is the job_trigger check's business (and needs a target that runs functions);
    // here the gateway must let the request through, whatever the integration then answers.
    let accepted = "accepted by API Gateway (not 403)";
    if let Some(reason) = ctx.refuses(SideEffect::SubmitsAnotherJob) {
        observations.push(Observation::not_checked("POST with the valid key", accepted, reason));
        return observations;
    }
    match send(post(Some(&key.value))).await {
        Ok(a) if a.status != 403 => {
            observations.push(Observation::new("POST with the valid key", accepted, "accepted", true));
        }
        Ok(a) => observations.push(Observation::new("POST with the valid key", accepted, a.summary(), false)),
        Err(e) => observations.push(Observation::new("POST with the valid key", accepted, e, false)),
    }
    observations
}

/// Creates a key in the usage plan, then disables it: (id, value).
async fn disabled_key(ctx: &RunContext, usage_plan_id: &str) -> Result<(String, String), String> {
    let describe = |e: &dyn std::error::Error| e.to_string();
    let key = ctx
        .apigateway
        .create_api_key()
        .name(format!("crts-check-disabled-{}", std::process::id()))
        .enabled(true)
        .send()
        .await
        .map_err(|e| format!("CreateApiKey: {}", aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
    let id = key.id().unwrap_or_default().to_owned();
    let value = key.value().unwrap_or_default().to_owned();
    ctx.apigateway
        .create_usage_plan_key()
        .usage_plan_id(usage_plan_id)
        .key_id(&id)
        .key_type("API_KEY")
        .send()
        .await
        .map_err(|e| format!("CreateUsagePlanKey: {}", describe(&e)))?;
    ctx.apigateway
        .update_api_key()
        .api_key(&id)
        .patch_operations(PatchOperation::builder().op(Op::Replace).path("/enabled").value("false").build())
        .send()
        .await
        .map_err(|e| format!("UpdateApiKey: {}", describe(&e)))?;
    Ok((id, value))
}
