//! Gateway responses: how API Gateway's own errors (missing token, invalid key, ...) are answered.
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html>

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde::Deserialize;

use super::model::GatewayResponse;
use super::{ApiGateway, bad_request, created, input, not_found};
use crate::protocol::{AwsResult, Response, rest_json};
use crate::services::Call;

/// (type, default status) of the gateway responses the emulator knows.
pub(crate) const DEFAULTS: &[(&str, &str)] = &[
    ("ACCESS_DENIED", "403"),
    ("API_CONFIGURATION_ERROR", "500"),
    ("AUTHORIZER_CONFIGURATION_ERROR", "500"),
    ("AUTHORIZER_FAILURE", "500"),
    ("BAD_REQUEST_BODY", "400"),
    ("BAD_REQUEST_PARAMETERS", "400"),
    ("DEFAULT_4XX", ""),
    ("DEFAULT_5XX", ""),
    ("EXPIRED_TOKEN", "403"),
    ("INTEGRATION_FAILURE", "504"),
    ("INTEGRATION_TIMEOUT", "504"),
    ("INVALID_API_KEY", "403"),
    ("INVALID_SIGNATURE", "403"),
    ("MISSING_AUTHENTICATION_TOKEN", "403"),
    ("QUOTA_EXCEEDED", "429"),
    ("REQUEST_TOO_LARGE", "413"),
    ("RESOURCE_NOT_FOUND", "404"),
    ("THROTTLED", "429"),
    ("UNAUTHORIZED", "401"),
    ("UNSUPPORTED_MEDIA_TYPE", "415"),
    ("WAF_FILTERED", "403"),
];

fn default_response(kind: &str, status: &str) -> GatewayResponse {
    GatewayResponse {
        response_type: kind.to_owned(),
        status_code: (!status.is_empty()).then(|| status.to_owned()),
        response_parameters: BTreeMap::new(),
        response_templates: BTreeMap::from([(
            "application/json".to_owned(),
            "{\"message\":$context.error.messageString}".to_owned(),
        )]),
    }
}

/// The gateway response API Gateway reports for `kind`, and whether it is a default one: the API's own; else,
/// for a type with a status, the API's DEFAULT_4XX or DEFAULT_5XX carried over (its status if it set one, its
/// parameters and templates, still reported as a default, as AWS's console and GetGatewayResponses show it);
/// else the built-in default. The data plane answers with the same fallback (`execute::gateway_error`).
fn effective(custom: &BTreeMap<String, GatewayResponse>, kind: &str, status: &str) -> (GatewayResponse, bool) {
    if let Some(own) = custom.get(kind) {
        return (own.clone(), false);
    }
    let family = match status {
        "" => None,
        s if s >= "500" => custom.get("DEFAULT_5XX"),
        _ => custom.get("DEFAULT_4XX"),
    };
    let Some(family) = family else { return (default_response(kind, status), true) };
    let mut inherited = default_response(kind, status);
    inherited.status_code = family.status_code.clone().or(inherited.status_code);
    inherited.response_parameters.clone_from(&family.response_parameters);
    if !family.response_templates.is_empty() {
        inherited.response_templates.clone_from(&family.response_templates);
    }
    (inherited, true)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutInput {
    status_code: Option<String>,
    #[serde(default)]
    response_parameters: BTreeMap<String, String>,
    #[serde(default)]
    response_templates: BTreeMap<String, String>,
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetGatewayResponses.html> (by type, paged:
/// [`super::paged`]; the 21 types fit the default page of 25)
pub(super) fn get_all(call: &Call<'_, ApiGateway>, api_id: &str) -> AwsResult<Response> {
    let items = call.api(api_id, |api| {
        Ok(DEFAULTS
            .iter()
            .map(|(kind, status)| {
                let (response, default) = effective(&api.gateway_responses, kind, status);
                ((*kind).to_owned(), response.to_json(default))
            })
            .collect())
    })?;
    super::paged(call, items)
}

/// Put/Get/DeleteGatewayResponse: <https://docs.aws.amazon.com/apigateway/latest/api/API_PutGatewayResponse.html>
pub(super) fn one(call: &Call<'_, ApiGateway>, api_id: &str, kind: &str) -> AwsResult<Response> {
    let Some((_, default_status)) = DEFAULTS.iter().find(|(k, _)| *k == kind) else {
        return Err(bad_request(format!("Invalid response type specified: {kind}")));
    };
    match call.req.method {
        Method::PUT => {
            let input: PutInput = input(call.req)?;
            call.api(api_id, |api| {
                let response = GatewayResponse {
                    response_type: kind.to_owned(),
                    status_code: input
                        .status_code
                        .or_else(|| (!default_status.is_empty()).then(|| (*default_status).to_owned())),
                    response_parameters: input.response_parameters,
                    response_templates: input.response_templates,
                };
                let body = response.to_json(false);
                api.gateway_responses.insert(kind.to_owned(), response);
                Ok(created(&body))
            })
        }
        Method::GET => call.api(api_id, |api| {
            let (response, default) = effective(&api.gateway_responses, kind, default_status);
            Ok(rest_json::ok(&response.to_json(default)))
        }),
        Method::DELETE => call.api(api_id, |api| {
            api.gateway_responses.remove(kind).ok_or_else(|| not_found("Invalid Gateway Response specified"))?;
            Ok(rest_json::empty(StatusCode::ACCEPTED))
        }),
        _ => Err(crate::protocol::AwsError::unknown_operation("API Gateway", &call.req.method, &call.req.raw_path)),
    }
}
