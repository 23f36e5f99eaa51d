//! GetExport: a stage's deployed API as a Swagger 2.0 or OpenAPI 3.0 document, in JSON or YAML.
//! <https://docs.aws.amazon.com/apigateway/latest/api/API_GetExport.html>,
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-export-api.html>
//!
//! The document describes what the stage serves (its deployment's snapshot, not the API as edited since):
//! `info.title` the API's name, `info.version` the deployment's creation time, the stage's invoke URL as
//! host + basePath (Swagger) or a server with a `basePath` variable (OpenAPI), one operation per method with its
//! parameters (path, `method.request.querystring.*`, `method.request.header.*`), its method responses (headers and
//! models) and `api_key` security when it requires a key. `extensions=integrations` adds each method's
//! `x-amazon-apigateway-integration`; `extensions=apigateway` adds those, `x-amazon-apigateway-api-key-source` and
//! the customised `x-amazon-apigateway-gateway-responses`. Deviations: models other than the built-in `Empty` and
//! `Error` are not emulated (a method naming another model gets no schema); `extensions=postman` and
//! `extensions=authorizers` add nothing (no authorizers are emulated); the Content-Disposition file name is this
//! emulator's choice (AWS's is unrecorded).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::model::{GatewayResponse, Integration, Method, Resource};
use super::{ApiGateway, bad_request, not_found};
use crate::protocol::{AwsResult, Response, rest_json};
use crate::services::Call;

/// Which document to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Swagger,
    OpenApi,
}

/// What the export describes, copied out of the store.
struct Exported {
    name: String,
    description: Option<String>,
    api_key_source: String,
    version: String,
    host: String,
    stage: String,
    resources: Vec<Resource>,
    gateway_responses: BTreeMap<String, GatewayResponse>,
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetExport.html>
pub(super) fn get_export(call: &Call<'_, ApiGateway>, api_id: &str, stage: &str, kind: &str) -> AwsResult<Response> {
    let kind = match kind {
        "swagger" => Kind::Swagger,
        "oas30" => Kind::OpenApi,
        other => {
            return Err(bad_request(format!(
                "Invalid export type specified: {other}. Valid values are swagger or oas30"
            )));
        }
    };
    let accept = call.req.header("accept").unwrap_or("application/json");
    let yaml = if accept.contains("application/yaml") {
        true
    } else if accept.contains("application/json") || accept.contains("*/*") || accept.trim().is_empty() {
        false
    } else {
        return Err(bad_request(format!(
            "Invalid accept type specified: {accept}. Valid values are application/json or application/yaml"
        )));
    };
    let extensions: Vec<String> = call
        .req
        .query
        .iter()
        .filter(|(k, _)| k == "extensions")
        .flat_map(|(_, v)| v.split(',').map(|e| e.trim().to_ascii_lowercase()).collect::<Vec<_>>())
        .collect();
    let apigateway = extensions.iter().any(|e| e == "apigateway");
    let integrations = apigateway || extensions.iter().any(|e| e == "integrations");
    let region = call.region().to_owned();
    let exported = call.api(api_id, |api| {
        let stage = api.stages.get(stage).ok_or_else(|| not_found("Invalid Stage identifier specified"))?;
        let deployment = api
            .deployments
            .get(&stage.deployment_id)
            .ok_or_else(|| not_found("Invalid Deployment identifier specified"))?;
        let version = chrono::DateTime::from_timestamp(deployment.created, 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        Ok(Exported {
            name: api.name.clone(),
            description: api.description.clone(),
            api_key_source: api.api_key_source.clone(),
            version,
            host: format!("{api_id}.execute-api.{region}.amazonaws.com"),
            stage: stage.name.clone(),
            resources: deployment.snapshot.resources.clone(),
            gateway_responses: deployment.snapshot.gateway_responses.clone(),
        })
    })?;
    let document = document(&exported, kind, integrations, apigateway);
    let (content_type, bytes) = if yaml {
        let text = serde_norway::to_string(&document)
            .map_err(|e| crate::protocol::AwsError::internal(format!("writing the export as YAML: {e}")))?;
        ("application/yaml", text.into_bytes())
    } else {
        let bytes = serde_json::to_vec_pretty(&document)
            .map_err(|e| crate::protocol::AwsError::internal(format!("writing the export as JSON: {e}")))?;
        ("application/json", bytes)
    };
    let file = format!(
        "attachment; filename=\"{}-{}-{}.{}\"",
        exported.name,
        exported.stage,
        if kind == Kind::Swagger { "swagger" } else { "oas30" },
        if yaml { "yaml" } else { "json" }
    );
    Ok(rest_json::blob(content_type, &[("content-disposition", file)], bytes))
}

/// The document as a JSON value (written as JSON or YAML by the caller).
fn document(api: &Exported, kind: Kind, integrations: bool, apigateway: bool) -> Value {
    let mut info = Map::new();
    info.insert("title".into(), json!(api.name));
    if let Some(description) = &api.description {
        info.insert("description".into(), json!(description));
    }
    info.insert("version".into(), json!(api.version));
    let mut paths = Map::new();
    let mut models = Vec::new();
    let mut uses_key = false;
    let mut resources: Vec<&Resource> = api.resources.iter().filter(|r| !r.methods.is_empty()).collect();
    resources.sort_by(|a, b| a.path.cmp(&b.path));
    for resource in resources {
        let mut item = Map::new();
        for (verb, method) in &resource.methods {
            uses_key |= method.api_key_required;
            let name =
                if verb == "ANY" { "x-amazon-apigateway-any-method".to_owned() } else { verb.to_ascii_lowercase() };
            item.insert(name, operation(resource, method, kind, integrations, &mut models));
        }
        paths.insert(resource.path.clone(), Value::Object(item));
    }
    let key_scheme = json!({ "type": "apiKey", "name": "x-api-key", "in": "header" });
    let schemas: Map<String, Value> = models.iter().filter_map(|m| builtin_model(m).map(|s| (m.clone(), s))).collect();
    let mut doc = Map::new();
    match kind {
        Kind::Swagger => {
            doc.insert("swagger".into(), json!("2.0"));
            doc.insert("info".into(), Value::Object(info));
            doc.insert("host".into(), json!(api.host));
            doc.insert("basePath".into(), json!(format!("/{}", api.stage)));
            doc.insert("schemes".into(), json!(["https"]));
            doc.insert("paths".into(), Value::Object(paths));
            if uses_key {
                doc.insert("securityDefinitions".into(), json!({ "api_key": key_scheme }));
            }
            if !schemas.is_empty() {
                doc.insert("definitions".into(), Value::Object(schemas));
            }
        }
        Kind::OpenApi => {
            doc.insert("openapi".into(), json!("3.0.1"));
            doc.insert("info".into(), Value::Object(info));
            doc.insert(
                "servers".into(),
                json!([{
                    "url": format!("https://{}/{{basePath}}", api.host),
                    "variables": { "basePath": { "default": api.stage } },
                }]),
            );
            doc.insert("paths".into(), Value::Object(paths));
            let mut components = Map::new();
            if !schemas.is_empty() {
                components.insert("schemas".into(), Value::Object(schemas));
            }
            if uses_key {
                components.insert("securitySchemes".into(), json!({ "api_key": key_scheme }));
            }
            if !components.is_empty() {
                doc.insert("components".into(), Value::Object(components));
            }
        }
    }
    if apigateway {
        doc.insert("x-amazon-apigateway-api-key-source".into(), json!(api.api_key_source));
        if !api.gateway_responses.is_empty() {
            let responses: Map<String, Value> =
                api.gateway_responses.iter().map(|(kind, r)| (kind.clone(), gateway_response(r))).collect();
            doc.insert("x-amazon-apigateway-gateway-responses".into(), Value::Object(responses));
        }
    }
    Value::Object(doc)
}

/// The models every REST API is created with.
fn builtin_model(name: &str) -> Option<Value> {
    match name {
        "Empty" => Some(json!({ "type": "object", "title": "Empty Schema" })),
        "Error" => Some(json!({
            "type": "object",
            "properties": { "message": { "type": "string" } },
            "title": "Error Schema",
        })),
        _ => None,
    }
}

fn schema_ref(kind: Kind, model: &str) -> Value {
    match kind {
        Kind::Swagger => json!({ "$ref": format!("#/definitions/{model}") }),
        Kind::OpenApi => json!({ "$ref": format!("#/components/schemas/{model}") }),
    }
}

fn string_schema(kind: Kind, mut parameter: Map<String, Value>) -> Value {
    match kind {
        Kind::Swagger => parameter.insert("type".into(), json!("string")),
        Kind::OpenApi => parameter.insert("schema".into(), json!({ "type": "string" })),
    };
    Value::Object(parameter)
}

/// One method as an operation object.
fn operation(resource: &Resource, method: &Method, kind: Kind, integrations: bool, models: &mut Vec<String>) -> Value {
    let mut op = Map::new();
    let mut consumes: Vec<String> = method.request_models.keys().cloned().collect();
    consumes.sort();
    let mut produces: Vec<String> = method.responses.values().flat_map(|r| r.response_models.keys().cloned()).collect();
    produces.sort();
    produces.dedup();
    if kind == Kind::Swagger {
        if !consumes.is_empty() {
            op.insert("consumes".into(), json!(consumes));
        }
        if !produces.is_empty() {
            op.insert("produces".into(), json!(produces));
        }
    }
    let mut parameters = Vec::new();
    for part in resource.path.split('/') {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let name = name.trim_end_matches('+');
            let base = Map::from_iter([
                ("name".to_owned(), json!(name)),
                ("in".to_owned(), json!("path")),
                ("required".to_owned(), json!(true)),
            ]);
            parameters.push(string_schema(kind, base));
        }
    }
    for (source, required) in &method.request_parameters {
        let (location, name) = if let Some(name) = source.strip_prefix("method.request.querystring.") {
            ("query", name)
        } else if let Some(name) = source.strip_prefix("method.request.header.") {
            ("header", name)
        } else {
            continue;
        };
        let base = Map::from_iter([
            ("name".to_owned(), json!(name)),
            ("in".to_owned(), json!(location)),
            ("required".to_owned(), json!(required)),
        ]);
        parameters.push(string_schema(kind, base));
    }
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(model) = method.request_models.values().next() {
        models.push(model.clone());
        match kind {
            Kind::Swagger => {
                // A body parameter, as Swagger 2.0 describes request bodies.
                let body = json!({ "in": "body", "name": model, "required": true, "schema": schema_ref(kind, model) });
                if let Some(parameters) = op.entry("parameters").or_insert_with(|| json!([])).as_array_mut() {
                    parameters.push(body);
                }
            }
            Kind::OpenApi => {
                let content: Map<String, Value> = method
                    .request_models
                    .iter()
                    .map(|(ct, m)| (ct.clone(), json!({ "schema": schema_ref(kind, m) })))
                    .collect();
                op.insert("requestBody".into(), json!({ "content": content, "required": true }));
            }
        }
    }
    let mut responses = Map::new();
    for (status, response) in &method.responses {
        let mut out = Map::new();
        out.insert("description".into(), json!(format!("{status} response")));
        let headers: Map<String, Value> = response
            .response_parameters
            .keys()
            .filter_map(|k| k.strip_prefix("method.response.header."))
            .map(|name| {
                let schema = match kind {
                    Kind::Swagger => json!({ "type": "string" }),
                    Kind::OpenApi => json!({ "schema": { "type": "string" } }),
                };
                (name.to_owned(), schema)
            })
            .collect();
        if !headers.is_empty() {
            out.insert("headers".into(), Value::Object(headers));
        }
        for model in response.response_models.values() {
            models.push(model.clone());
        }
        match kind {
            Kind::Swagger => {
                if let Some(model) = response.response_models.values().next() {
                    out.insert("schema".into(), schema_ref(kind, model));
                }
            }
            Kind::OpenApi => {
                if !response.response_models.is_empty() {
                    let content: Map<String, Value> = response
                        .response_models
                        .iter()
                        .map(|(ct, m)| (ct.clone(), json!({ "schema": schema_ref(kind, m) })))
                        .collect();
                    out.insert("content".into(), Value::Object(content));
                }
            }
        }
        responses.insert(status.clone(), Value::Object(out));
    }
    op.insert("responses".into(), Value::Object(responses));
    if method.api_key_required {
        op.insert("security".into(), json!([{ "api_key": [] }]));
    }
    if integrations && let Some(integration) = &method.integration {
        op.insert("x-amazon-apigateway-integration".into(), integration_extension(integration));
    }
    Value::Object(op)
}

/// `x-amazon-apigateway-integration`: the integration as API Gateway's import reads it back (lower-case type and
/// passthrough behavior; responses keyed by selection pattern, `default` for none).
fn integration_extension(integration: &Integration) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!(integration.kind.to_ascii_lowercase()));
    if let Some(verb) = &integration.http_method {
        out.insert("httpMethod".into(), json!(verb));
    }
    if let Some(uri) = &integration.uri {
        out.insert("uri".into(), json!(uri));
    }
    if !integration.responses.is_empty() {
        let responses: Map<String, Value> = integration
            .responses
            .values()
            .map(|r| {
                let key = r.selection_pattern.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| "default".into());
                let mut response = Map::new();
                response.insert("statusCode".into(), json!(r.status_code));
                if !r.response_parameters.is_empty() {
                    response.insert("responseParameters".into(), json!(r.response_parameters));
                }
                if !r.response_templates.is_empty() {
                    response.insert("responseTemplates".into(), json!(r.response_templates));
                }
                (key, Value::Object(response))
            })
            .collect();
        out.insert("responses".into(), Value::Object(responses));
    }
    if !integration.request_parameters.is_empty() {
        out.insert("requestParameters".into(), json!(integration.request_parameters));
    }
    if !integration.request_templates.is_empty() {
        out.insert("requestTemplates".into(), json!(integration.request_templates));
    }
    out.insert("passthroughBehavior".into(), json!(integration.passthrough_behavior.to_ascii_lowercase()));
    if let Some(handling) = &integration.content_handling {
        out.insert("contentHandling".into(), json!(handling));
    }
    if integration.timeout_in_millis != 29000 {
        out.insert("timeoutInMillis".into(), json!(integration.timeout_in_millis));
    }
    Value::Object(out)
}

fn gateway_response(response: &GatewayResponse) -> Value {
    let mut out = Map::new();
    if let Some(status) = &response.status_code {
        out.insert("statusCode".into(), json!(status));
    }
    if !response.response_parameters.is_empty() {
        out.insert("responseParameters".into(), json!(response.response_parameters));
    }
    if !response.response_templates.is_empty() {
        out.insert("responseTemplates".into(), json!(response.response_templates));
    }
    Value::Object(out)
}
