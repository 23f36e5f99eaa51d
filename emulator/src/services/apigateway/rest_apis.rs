//! REST APIs and their resource tree: CreateRestApi, GetRestApi(s), UpdateRestApi, DeleteRestApi,
//! CreateResource, GetResource(s), DeleteResource.

use std::collections::BTreeMap;

use http::StatusCode;
use serde::Deserialize;

use super::model::{Resource, RestApi, Tags};
use super::{ApiGateway, bad_request, conflict, created, input, new_id, not_found, now, patch};
use crate::protocol::{AwsResult, Response, rest_json};
use crate::services::Call;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateApiInput {
    name: String,
    description: Option<String>,
    api_key_source: Option<String>,
    endpoint_configuration: Option<EndpointConfiguration>,
    #[serde(default)]
    tags: Tags,
}

#[derive(Debug, Deserialize)]
struct EndpointConfiguration {
    types: Option<Vec<String>>,
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_CreateRestApi.html>
/// Deviations: `cloneFrom`, binary media types and policies are accepted but not emulated.
pub(super) fn create_api(call: &Call<'_, ApiGateway>) -> AwsResult<Response> {
    let input: CreateApiInput = input(call.req)?;
    super::tags::check_new(&input.tags)?;
    if input.name.trim().is_empty() {
        return Err(bad_request("The name of the API must not be empty"));
    }
    let api_key_source = input.api_key_source.unwrap_or_else(|| "HEADER".to_owned());
    if !matches!(api_key_source.as_str(), "HEADER" | "AUTHORIZER") {
        return Err(bad_request(format!("Invalid apiKeySource {api_key_source}: must be HEADER or AUTHORIZER")));
    }
    let root_id = new_id();
    let root = Resource {
        id: root_id.clone(),
        parent_id: None,
        path_part: None,
        path: "/".to_owned(),
        methods: BTreeMap::new(),
    };
    let api = RestApi {
        id: new_id(),
        name: input.name,
        description: input.description,
        created: now(),
        api_key_source,
        endpoint_types: input.endpoint_configuration.and_then(|e| e.types).unwrap_or_else(|| vec!["EDGE".to_owned()]),
        root_id: root_id.clone(),
        resources: BTreeMap::from([(root_id, root)]),
        deployments: BTreeMap::new(),
        stages: BTreeMap::new(),
        gateway_responses: BTreeMap::new(),
        tags: input.tags,
    };
    let body = api.to_json();
    call.store(|store| store.apis.insert(api.id.clone(), api));
    Ok(created(&body))
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetRestApis.html> (by id, paged: [`super::paged`])
pub(super) fn get_apis(call: &Call<'_, ApiGateway>) -> AwsResult<Response> {
    let items: Vec<_> = call.store(|store| store.apis.iter().map(|(id, api)| (id.clone(), api.to_json())).collect());
    super::paged(call, items)
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetRestApi.html>
pub(super) fn get_api(call: &Call<'_, ApiGateway>, api_id: &str) -> AwsResult<Response> {
    call.api(api_id, |api| Ok(rest_json::ok(&api.to_json())))
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateRestApi.html> (`/name`, `/description`)
pub(super) fn update_api(call: &Call<'_, ApiGateway>, api_id: &str) -> AwsResult<Response> {
    let operations = patch::operations(call.req)?;
    call.api(api_id, |api| {
        for op in &operations {
            match (op.op.as_str(), op.path.as_str()) {
                ("replace", "/name") => api.name = op.value()?.to_owned(),
                ("replace", "/description") => api.description = op.value.clone(),
                _ => return Err(op.unsupported()),
            }
        }
        Ok(rest_json::ok(&api.to_json()))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteRestApi.html>
pub(super) fn delete_api(call: &Call<'_, ApiGateway>, api_id: &str) -> AwsResult<Response> {
    let account = call.account_id().to_owned();
    call.store(|store| store.apis.remove(api_id))
        .ok_or_else(|| not_found(format!("Invalid API identifier specified {account}:{api_id}")))?;
    // Usage plans keep pointing at the deleted API's stages, as on AWS, but can no longer match a request.
    Ok(rest_json::empty(StatusCode::ACCEPTED))
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetResources.html> (`embed=methods`; by path, paged:
/// [`super::paged`])
pub(super) fn get_resources(call: &Call<'_, ApiGateway>, api_id: &str) -> AwsResult<Response> {
    let embed = call.req.query.iter().any(|(k, v)| k == "embed" && v.split(',').any(|e| e == "methods"));
    let items = call.api(api_id, |api| {
        Ok(api.resources.values().map(|r: &Resource| (r.path.clone(), r.to_json(embed))).collect())
    })?;
    super::paged(call, items)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateResourceInput {
    path_part: String,
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_CreateResource.html>
pub(super) fn create_resource(call: &Call<'_, ApiGateway>, api_id: &str, parent_id: &str) -> AwsResult<Response> {
    let input: CreateResourceInput = input(call.req)?;
    let part = input.path_part;
    validate_path_part(&part)?;
    call.api(api_id, |api| {
        let parent = api.resources.get(parent_id).ok_or_else(|| not_found("Invalid Resource identifier specified"))?;
        let path = if parent.path == "/" { format!("/{part}") } else { format!("{}/{part}", parent.path) };
        let siblings = api.resources.values().filter(|r| r.parent_id.as_deref() == Some(parent_id));
        for sibling in siblings {
            let same = sibling.path_part.as_deref() == Some(part.as_str());
            let both_variables =
                sibling.path_part.as_deref().is_some_and(|p| p.starts_with('{')) && part.starts_with('{');
            if same || both_variables {
                return Err(conflict(format!("Another resource with the same parent already has this name: {part}")));
            }
        }
        let resource = Resource {
            id: new_id(),
            parent_id: Some(parent_id.to_owned()),
            path_part: Some(part.clone()),
            path,
            methods: BTreeMap::new(),
        };
        let body = resource.to_json(false);
        api.resources.insert(resource.id.clone(), resource);
        Ok(created(&body))
    })
}

/// A path part is a literal (`crts`), a variable (`{function}`) or a greedy variable (`{proxy+}`).
fn validate_path_part(part: &str) -> AwsResult<()> {
    let literal =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-._~:@!$&'()*+,;=".contains(c));
    let valid = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(name) => {
            let name = name.strip_suffix('+').unwrap_or(name);
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }
        None => literal(part),
    };
    if valid {
        Ok(())
    } else {
        Err(bad_request(format!(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace: {part}"
        )))
    }
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetResource.html>
pub(super) fn get_resource(call: &Call<'_, ApiGateway>, api_id: &str, id: &str) -> AwsResult<Response> {
    let embed = call.req.query.iter().any(|(k, v)| k == "embed" && v.split(',').any(|e| e == "methods"));
    call.api(api_id, |api| {
        let resource = api.resources.get(id).ok_or_else(|| not_found("Invalid Resource identifier specified"))?;
        Ok(rest_json::ok(&resource.to_json(embed)))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteResource.html> (descendants go too)
pub(super) fn delete_resource(call: &Call<'_, ApiGateway>, api_id: &str, id: &str) -> AwsResult<Response> {
    call.api(api_id, |api| {
        if id == api.root_id {
            return Err(bad_request("Cannot delete root resource"));
        }
        let path = api
            .resources
            .get(id)
            .map(|r| r.path.clone())
            .ok_or_else(|| not_found("Invalid Resource identifier specified"))?;
        let prefix = format!("{path}/");
        api.resources.retain(|_, r| r.path != path && !r.path.starts_with(&prefix));
        Ok(rest_json::empty(StatusCode::ACCEPTED))
    })
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateResource.html>
/// Deviation: renaming or moving resources is not emulated.
pub(super) fn update_resource(call: &Call<'_, ApiGateway>, api_id: &str, id: &str) -> AwsResult<Response> {
    let operations = patch::operations(call.req)?;
    call.api(api_id, |api| {
        let resource = api.resources.get(id).ok_or_else(|| not_found("Invalid Resource identifier specified"))?;
        if let Some(op) = operations.first() {
            return Err(op.unsupported());
        }
        Ok(rest_json::ok(&resource.to_json(false)))
    })
}
