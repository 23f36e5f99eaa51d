//! swagger_site: the bucket website serves the Swagger page and `crts-swagger.json`, whose URL is the deployed
//! API stage and resource; missing keys are 404; anonymous readers get only what the bucket policy grants; the
//! bucket's CORS allows PUT/POST from any origin and refuses DELETE.

use super::settings::Section;
use super::{Check, CheckSettings, HttpAnswer, Observation, Skip, send};
use crate::context::{RunContext, SideEffect};
use crate::targets::capabilities::Capability;

/// An origin that is neither the site nor the API: S3's CORS rules must still answer it.
const FOREIGN_ORIGIN: &str = "http://swagger-editor.example.org";

pub struct SwaggerSite;

impl Check for SwaggerSite {
    const REQUIRES: &'static [Capability] = &[];
    const NEEDS: &'static [Section] = &[Section::Api, Section::Swagger];

    fn iam_actions(_trigger_job: bool) -> &'static [&'static str] {
        &["apigateway:GET"]
    }

    async fn run(ctx: &RunContext, settings: &CheckSettings) -> Result<Vec<Observation>, Skip> {
        Ok(observe(ctx, settings).await)
    }
}

async fn observe(ctx: &RunContext, settings: &CheckSettings) -> Vec<Observation> {
    let (Some(api), Some(swagger)) = (&settings.api, &settings.swagger) else {
        return vec![Observation::new("settings", "api and swagger settings", "missing", false)];
    };
    let site = ctx.target.website_url(&swagger.bucket);
    let http = match site_client(ctx, &[host_of(&site)]) {
        Ok(http) => http,
        Err(e) => return vec![Observation::new("HTTP client", "built", e, false)],
    };
    let mut out = Vec::new();

    // The page, Swagger UI itself, and the API definition, as a browser loads them.
    match send(http.get(format!("{site}/"))).await {
        Ok(page) => {
            out.push(status_and_type("website index", &page, 200, "text/html"));
            let is_swagger = page.body.contains("id=\"swagger-ui\"") && page.body.contains("swagger-ui-bundle.js");
            out.push(Observation::new(
                "website index content",
                "the Swagger UI page",
                describe_page(&page),
                is_swagger,
            ));
        }
        Err(e) => out.push(Observation::new("website index", "200 text/html", e, false)),
    }
    match send(http.get(format!("{site}/swagger-ui-bundle.js"))).await {
        Ok(bundle) => out.push(status_and_type("Swagger UI bundle", &bundle, 200, "application/javascript")),
        Err(e) => out.push(Observation::new("Swagger UI bundle", "200", e, false)),
    }
    match send(http.get(format!("{site}/{}", swagger.definition))).await {
        Ok(definition) => {
            out.push(status_and_type("API definition", &definition, 200, "application/json"));
            match serde_json::from_str::<serde_json::Value>(&definition.body) {
                Ok(spec) => definition_observations(ctx, api, &spec, &mut out).await,
                Err(e) => out.push(Observation::new("API definition content", "JSON", format!("not JSON: {e}"), false)),
            }
        }
        Err(e) => out.push(Observation::new("API definition", "200", e, false)),
    }
    match send(http.get(format!("{site}/no-such-page.html"))).await {
        Ok(missing) => {
            out.push(Observation::new("missing key", "404", missing.status.to_string(), missing.status == 404))
        }
        Err(e) => out.push(Observation::new("missing key", "404", e, false)),
    }

    // Anonymous access on the REST endpoint: reads through the policy, nothing else.
    let object = ctx.target.object_url(&swagger.bucket, "index.html");
    match send(http.get(&object)).await {
        Ok(read) => {
            out.push(Observation::new("anonymous GET object", "200", read.status.to_string(), read.status == 200))
        }
        Err(e) => out.push(Observation::new("anonymous GET object", "200", e, false)),
    }
    // A refusal is only seen where policies are enforced (LocalStack's free edition lets anyone write).
    let probe = ctx.target.object_url(&swagger.bucket, "crts-harness-probe.txt");
    match (ctx.target.lacks(&[Capability::IamEnforcement]), ctx.refuses(SideEffect::WritesObject)) {
        (Some(reason), _) => out.push(Observation::unsupported("anonymous PUT object", "403", reason)),
        (None, Some(reason)) => out.push(Observation::not_checked("anonymous PUT object", "403", reason)),
        (None, None) => match send(http.put(&probe).body("not allowed")).await {
            Ok(write) => {
                out.push(Observation::new("anonymous PUT object", "403", write.status.to_string(), write.status == 403))
            }
            Err(e) => out.push(Observation::new("anonymous PUT object", "403", e, false)),
        },
    }

    // The bucket's CORS rules (the runbook's: PUT and POST from anywhere).
    let definition_url = ctx.target.object_url(&swagger.bucket, &swagger.definition);
    for (method, allowed) in [("PUT", true), ("POST", true), ("DELETE", false)] {
        let preflight = http
            .request(reqwest::Method::OPTIONS, &definition_url)
            .header("Origin", FOREIGN_ORIGIN)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", "content-type");
        let what = format!("S3 CORS preflight {method}");
        let expected = if allowed { "200, Allow-Origin *" } else { "403" };
        match send(preflight).await {
            Ok(answer) => {
                let origin = answer.header("access-control-allow-origin").unwrap_or("(absent)").to_owned();
                let actual = if answer.status == 200 {
                    format!("200, Allow-Origin {origin}")
                } else {
                    answer.status.to_string()
                };
                let ok = if allowed { answer.status == 200 && origin == "*" } else { answer.status == 403 };
                out.push(Observation::new(what, expected, actual, ok));
            }
            Err(e) => out.push(Observation::new(what, expected, e, false)),
        }
    }
    out
}

/// What the definition says about the API, compared with what is deployed.
async fn definition_observations(
    ctx: &RunContext,
    api: &super::ApiSettings,
    spec: &serde_json::Value,
    out: &mut Vec<Observation>,
) {
    let api_id = match super::api_id(ctx, api).await {
        Ok(id) => id,
        Err(e) => {
            out.push(Observation::new("API definition server", "the deployed API", e, false));
            return;
        }
    };
    let server = crate::swagger_definition::server(spec);
    let (scheme, host, base_path) = server.as_ref().map_or(("", "", ""), |s| (&*s.scheme, &*s.host, &*s.base_path));
    let (want_scheme, want_host, _) = ctx.target.api_base(&api_id, &api.stage);
    let stage = base_path.trim_start_matches('/');
    let stage_exists =
        ctx.apigateway.get_stage().rest_api_id(&api_id).stage_name(stage).send().await.is_ok() && !stage.is_empty();
    let expected = format!("{}, stage {}", api.name, api.stage);
    let actual = if scheme == want_scheme && host == want_host {
        format!("{}, stage {stage}{}", api.name, if stage_exists { "" } else { " (not deployed)" })
    } else {
        "another host".to_owned()
    };
    out.push(Observation::new(
        "API definition server",
        expected,
        actual,
        scheme == want_scheme && host == want_host && stage == api.stage && stage_exists,
    ));

    // The operation the page offers must be one the API has: a POST method on that resource.
    let operation = &spec["paths"][api.path.as_str()]["post"];
    let deployed = match ctx.apigateway.get_resources().rest_api_id(&api_id).limit(500).send().await {
        Ok(resources) => resources.items().iter().any(|r| {
            r.path() == Some(api.path.as_str()) && r.resource_methods().is_some_and(|m| m.contains_key("POST"))
        }),
        Err(_) => false,
    };
    let actual = match (operation.is_object(), deployed) {
        (true, true) => format!("POST {}", api.path),
        (true, false) => format!("POST {} (no such method on the API)", api.path),
        (false, _) => "absent".to_owned(),
    };
    out.push(Observation::new(
        "API definition operation",
        format!("POST {}", api.path),
        actual,
        operation.is_object() && deployed,
    ));
    let security: Vec<&str> = operation["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_object())
        .flat_map(|s| s.keys().map(String::as_str))
        .collect();
    let header_keys: Vec<String> = security
        .iter()
        .filter_map(|name| {
            let scheme = &spec["securityDefinitions"][*name];
            (scheme["type"] == "apiKey" && scheme["in"] == "header")
                .then(|| scheme["name"].as_str().unwrap_or("").to_ascii_lowercase())
        })
        .collect();
    out.push(Observation::new(
        "API definition security",
        "apiKey in header x-api-key",
        if header_keys.is_empty() { "none".to_owned() } else { format!("apiKey in header {}", header_keys.join(", ")) },
        header_keys.iter().any(|h| h == "x-api-key"),
    ));
    let body = operation["parameters"].as_array().into_iter().flatten().find(|p| p["in"] == "body");
    out.push(Observation::new(
        "API definition request body",
        "a JSON body schema",
        if body.is_some_and(|b| b["schema"].is_object()) { "a JSON body schema" } else { "absent" },
        body.is_some_and(|b| b["schema"].is_object()),
    ));
}

fn status_and_type(what: &str, answer: &HttpAnswer, status: u16, content_type: &str) -> Observation {
    let actual_type = answer.header("content-type").unwrap_or("").split(';').next().unwrap_or("").trim().to_owned();
    Observation::new(
        what,
        format!("{status} {content_type}"),
        format!("{} {actual_type}", answer.status),
        answer.status == status && actual_type == content_type,
    )
}

fn describe_page(page: &HttpAnswer) -> String {
    if page.body.contains("id=\"swagger-ui\"") && page.body.contains("swagger-ui-bundle.js") {
        "the Swagger UI page".to_owned()
    } else {
        format!("{} bytes without Swagger UI", page.body.len())
    }
}

/// `host[:port]` of a URL.
pub(super) fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| Some(format!("{}{}", u.host_str()?, u.port().map(|p| format!(":{p}")).unwrap_or_default())))
        .unwrap_or_default()
}

/// An HTTP client that does not follow redirects and, on emulator targets, resolves the given `*.localhost`
/// hosts to the emulator (browsers do that by themselves; reqwest does not).
pub(super) fn site_client(ctx: &RunContext, hosts: &[String]) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30));
    if let Some(addr) = ctx.target.loopback() {
        for host in hosts {
            let name = host.split(':').next().unwrap_or(host);
            builder = builder.resolve(name, addr);
        }
    }
    builder.build().map_err(|e| e.to_string())
}
