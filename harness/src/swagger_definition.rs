//! The API definition the Swagger page loads (`crts-swagger.json`): a Swagger 2.0 or OpenAPI 3 document whose
//! server is the deployed API. The runbook has the developer edit the URL in by hand ("update crts-swagger.json
//! with the API gateway details"); the harness does that edit for the target it runs on, and the swagger_site
//! check reads it back, the same way for both formats.

use serde_json::{Value, json};

/// Where a definition sends requests: scheme, host (with port), base path (the stage, `/default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub scheme: String,
    pub host: String,
    pub base_path: String,
}

/// Parses a definition, refusing what Swagger UI would not show as one.
pub fn parse(text: &str) -> Result<Value, String> {
    let spec: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if spec.get("swagger").is_none() && spec.get("openapi").is_none() {
        return Err("not a Swagger 2.0 or OpenAPI 3 definition (it has no `swagger` or `openapi` field)".to_owned());
    }
    Ok(spec)
}

/// Points the definition at `server`: Swagger 2.0's `schemes`, `host` and `basePath`, or OpenAPI 3's `servers`.
pub fn set_server(spec: &mut Value, server: &Server) {
    if spec.get("openapi").is_some() {
        spec["servers"] = json!([{ "url": format!("{}://{}{}", server.scheme, server.host, server.base_path) }]);
    } else {
        spec["schemes"] = json!([server.scheme]);
        spec["host"] = json!(server.host);
        spec["basePath"] = json!(server.base_path);
    }
}

/// The server a definition names (the first, for OpenAPI 3), if it names one.
pub fn server(spec: &Value) -> Option<Server> {
    if spec.get("openapi").is_some() {
        let url = spec["servers"][0]["url"].as_str()?;
        let (scheme, rest) = url.split_once("://")?;
        let (host, base_path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        return Some(Server { scheme: scheme.to_owned(), host: host.to_owned(), base_path: base_path.to_owned() });
    }
    Some(Server {
        scheme: spec["schemes"][0].as_str()?.to_owned(),
        host: spec["host"].as_str()?.to_owned(),
        base_path: spec["basePath"].as_str().unwrap_or("").to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_is_set_and_read_back_in_both_formats() {
        let server = Server {
            scheme: "http".into(),
            host: "abc.execute-api.localhost:4566".into(),
            base_path: "/default".into(),
        };
        for text in [
            r#"{"swagger": "2.0", "host": "x.execute-api.us-east-1.amazonaws.com", "basePath": "/prod", "schemes": ["https"], "paths": {}}"#,
            r#"{"openapi": "3.0.1", "servers": [{"url": "https://x.execute-api.us-east-1.amazonaws.com/prod"}], "paths": {}}"#,
        ] {
            let mut spec = parse(text).expect("a definition");
            set_server(&mut spec, &server);
            assert_eq!(super::server(&spec), Some(server.clone()), "{spec}");
        }
        assert_eq!(
            parse("{\"paths\": {}}").expect_err("no version"),
            "not a Swagger 2.0 or OpenAPI 3 definition (it has no `swagger` or `openapi` field)"
        );
        assert!(parse("nope").expect_err("not JSON").starts_with("not JSON"));
    }
}
