//! CORS: the browser on the Swagger site must be allowed to POST to the API with an API key.
//!
//! A preflight (OPTIONS with Origin, Access-Control-Request-Method/Headers) must answer 200 with
//! Allow-Origin/Methods/Headers that cover the request, and the actual POST must carry Allow-Origin too,
//! otherwise the browser hides the response from Swagger UI.

use super::settings::Section;
use super::{Check, CheckSettings, HttpAnswer, Observation, Skip, invoke_url, send};
use crate::context::{RunContext, SideEffect};
use crate::targets::capabilities::Capability;

pub struct Cors;

impl Check for Cors {
    const REQUIRES: &'static [Capability] = &[];
    const NEEDS: &'static [Section] = &[Section::Api, Section::Cors];

    fn iam_actions(_trigger_job: bool) -> &'static [&'static str] {
        &["apigateway:GET"]
    }

    async fn run(ctx: &RunContext, settings: &CheckSettings) -> Result<Vec<Observation>, Skip> {
        Ok(observe(ctx, settings).await)
    }
}

async fn observe(ctx: &RunContext, settings: &CheckSettings) -> Vec<Observation> {
    let (Some(api), Some(cors)) = (&settings.api, &settings.cors) else {
        return vec![Observation::new("settings", "api and cors settings", "missing", false)];
    };
    let url = match invoke_url(ctx, api).await {
        Ok(url) => url,
        Err(e) => return vec![Observation::new("invoke URL", "the deployed API", e, false)],
    };
    let mut observations = Vec::new();

    let preflight = ctx
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", &cors.origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", cors.request_headers.join(","));
    match send(preflight).await {
        Ok(answer) => preflight_observations(&answer, &cors.origin, &cors.request_headers, &mut observations),
        Err(e) => observations.push(Observation::new("preflight OPTIONS", "200", e, false)),
    }

    // The POST's Allow-Origin comes from the function's proxy response: no function run, nothing to see.
    let post_what = "POST response Access-Control-Allow-Origin";
    if let Some(reason) = ctx.target.lacks(&[Capability::LambdaExecution]) {
        observations.push(Observation::unsupported(post_what, "* or the origin", reason));
        return observations;
    }
    if let Some(reason) = ctx.refuses(SideEffect::SubmitsAnotherJob) {
        observations.push(Observation::not_checked(post_what, "* or the origin", reason));
        return observations;
    }
    let key = ctx.facts.api_keys.get(&api.api_key).map(|k| k.value.clone()).unwrap_or_default();
    let post = ctx
        .http
        .post(&url)
        .header("Origin", &cors.origin)
        .header("Content-Type", "application/json")
        .header("x-api-key", key)
        .body(settings.trigger.as_ref().map_or_else(|| "{}".to_owned(), |t| t.body.to_string()));
    match send(post).await {
        Ok(answer) => {
            let allow_origin = answer.header("access-control-allow-origin").unwrap_or("(absent)").to_owned();
            let ok = allow_origin == "*" || allow_origin == cors.origin;
            observations.push(Observation::new(
                post_what,
                "* or the origin",
                normalize_origin(&allow_origin, &cors.origin),
                ok,
            ));
        }
        Err(e) => observations.push(Observation::new("POST", "a response", e, false)),
    }
    observations
}

fn preflight_observations(answer: &HttpAnswer, origin: &str, request_headers: &[String], out: &mut Vec<Observation>) {
    out.push(Observation::new("preflight status", "200", answer.status.to_string(), answer.status == 200));

    let allow_origin = answer.header("access-control-allow-origin").unwrap_or("(absent)");
    out.push(Observation::new(
        "preflight Access-Control-Allow-Origin",
        "* or the origin",
        normalize_origin(allow_origin, origin),
        allow_origin == "*" || allow_origin == origin,
    ));

    let allow_methods = answer.header("access-control-allow-methods").unwrap_or("(absent)");
    out.push(Observation::new(
        "preflight Access-Control-Allow-Methods",
        "includes POST",
        allow_methods,
        list_contains(allow_methods, "POST"),
    ));

    let allow_headers = answer.header("access-control-allow-headers").unwrap_or("(absent)");
    let missing: Vec<&str> =
        request_headers.iter().map(String::as_str).filter(|h| !list_contains(allow_headers, h)).collect();
    out.push(Observation::new(
        "preflight Access-Control-Allow-Headers",
        format!("includes {}", request_headers.join(", ")),
        allow_headers,
        missing.is_empty(),
    ));
}

/// Whether a comma-separated header value lists `item` (case-insensitively) or is `*`.
fn list_contains(list: &str, item: &str) -> bool {
    list.split(',').map(str::trim).any(|v| v == "*" || v.eq_ignore_ascii_case(item))
}

/// The origin echoed back is target-specific (ports); the snapshot shows it as `<origin>`.
fn normalize_origin(value: &str, origin: &str) -> String {
    if value == origin { "<origin>".to_owned() } else { value.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lists_match_case_insensitively_and_wildcards() {
        assert!(list_contains("Content-Type,X-Amz-Date,Authorization,X-Api-Key", "x-api-key"));
        assert!(list_contains("OPTIONS, POST", "POST"));
        assert!(list_contains("*", "x-api-key"));
        assert!(!list_contains("OPTIONS,GET", "POST"));
        assert!(!list_contains("(absent)", "POST"));
    }
}
