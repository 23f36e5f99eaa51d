//! The awsQuery protocol (IAM, STS): form-encoded `Action=...&Version=...` requests, XML responses.
//!
//! Reference: <https://smithy.io/2.0/aws/protocols/aws-query-protocol.html>.

use axum::body::Body;
use http::{HeaderValue, StatusCode};

use super::xml::XmlWriter;
use super::{AwsError, AwsRequest, Response};

/// The decoded parameters of an awsQuery request (body and query string together).
#[derive(Debug, Clone, Default)]
pub struct QueryInput {
    params: Vec<(String, String)>,
}

impl QueryInput {
    /// Reads the form body (and, as AWS does, the URL query string) of a request.
    pub fn from_request(req: &AwsRequest) -> Result<Self, AwsError> {
        let body = std::str::from_utf8(&req.body)
            .map_err(|_| AwsError::bad_request("MalformedQueryString", "The request body is not valid UTF-8"))?;
        let mut params = req.query.clone();
        params.extend(super::parse_query(body));
        Ok(Self { params })
    }

    /// `Action`, which names the operation.
    pub fn action(&self) -> Option<&str> {
        self.get("Action")
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A required parameter, or AWS's ValidationError naming it.
    pub fn required(&self, name: &str) -> Result<&str, AwsError> {
        self.get(name).ok_or_else(|| {
            AwsError::bad_request(
                "ValidationError",
                format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(name)),
            )
        })
    }

    /// A list serialized as `Name.member.1`, `Name.member.2`, ... in index order.
    pub fn list(&self, name: &str) -> Vec<&str> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(u32, &str)> = self
            .params
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).and_then(|i| i.parse().ok()).map(|i| (i, v.as_str())))
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }
}

impl QueryInput {
    /// A list of structures serialized as `Name.member.1.Field`, ... in index order, each as field → value.
    pub fn struct_list(&self, name: &str) -> Vec<std::collections::BTreeMap<&str, &str>> {
        let prefix = format!("{name}.member.");
        let mut items: std::collections::BTreeMap<u32, std::collections::BTreeMap<&str, &str>> = Default::default();
        for (k, v) in &self.params {
            let Some((index, field)) = k.strip_prefix(&prefix).and_then(|rest| rest.split_once('.')) else { continue };
            if let Ok(index) = index.parse::<u32>() {
                items.entry(index).or_default().insert(field, v.as_str());
            }
        }
        items.into_values().collect()
    }
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// Writes `<{Action}Response><{Action}Result>...</{Action}Result><ResponseMetadata>...` around `result`.
pub fn respond(action: &str, xmlns: &str, request_id: &str, result: impl FnOnce(&mut XmlWriter)) -> Response {
    let mut w = XmlWriter::new();
    let response_name = format!("{action}Response");
    let result_name = format!("{action}Result");
    w.open(&response_name, Some(xmlns));
    w.open(&result_name, None);
    result(&mut w);
    w.close(&result_name);
    w.open("ResponseMetadata", None).text("RequestId", request_id).close("ResponseMetadata");
    w.close(&response_name);
    xml_response(StatusCode::OK, w.finish())
}

/// A response for an action whose output has no members (AWS still sends the metadata).
pub fn respond_empty(action: &str, xmlns: &str, request_id: &str) -> Response {
    let mut w = XmlWriter::new();
    let response_name = format!("{action}Response");
    w.open(&response_name, Some(xmlns));
    w.open("ResponseMetadata", None).text("RequestId", request_id).close("ResponseMetadata");
    w.close(&response_name);
    xml_response(StatusCode::OK, w.finish())
}

/// Writes an error the awsQuery way: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
pub fn error(err: &AwsError, xmlns: &str, request_id: &str) -> Response {
    let mut w = XmlWriter::new();
    w.open("ErrorResponse", Some(xmlns));
    w.open("Error", None)
        .text("Type", if err.sender_fault { "Sender" } else { "Receiver" })
        .text("Code", &err.code)
        .text("Message", &err.message)
        .close("Error");
    w.text("RequestId", request_id);
    w.close("ErrorResponse");
    let mut response = xml_response(err.status, w.finish());
    err.add_headers_to(&mut response);
    response
}

fn xml_response(status: StatusCode, xml: String) -> Response {
    let mut response = Response::new(Body::from(xml));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}
