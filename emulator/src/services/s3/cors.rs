//! Bucket CORS: the rules, S3's preflight evaluation (first rule matching origin, method and every requested
//! header wins) and the headers added to actual requests that carry an `Origin`.

use http::{HeaderMap, HeaderValue, StatusCode};

use super::error;
use crate::protocol::{AwsError, AwsResult};

const METHODS: &[&str] = &["GET", "PUT", "HEAD", "POST", "DELETE"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsRule {
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<u32>,
}

impl CorsRule {
    /// S3's validation of one rule at PutBucketCors.
    pub fn validate(&self) -> AwsResult<()> {
        if self.allowed_origins.is_empty() || self.allowed_methods.is_empty() {
            return Err(error::malformed_xml());
        }
        if let Some(bad) = self.allowed_methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
            return Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                format!("Found unsupported HTTP method in CORS config. Unsupported method is {bad}"),
            ));
        }
        for origin in &self.allowed_origins {
            if origin.matches('*').count() > 1 {
                return Err(AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequest",
                    format!("AllowedOrigin \"{origin}\" can not have more than one wildcard."),
                ));
            }
        }
        for header in &self.allowed_headers {
            if header.matches('*').count() > 1 {
                return Err(AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequest",
                    format!("AllowedHeader \"{header}\" can not have more than one wildcard."),
                ));
            }
        }
        Ok(())
    }

    fn matches_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|pattern| one_wildcard_match(pattern, origin, false))
    }

    fn matches_method(&self, method: &str) -> bool {
        self.allowed_methods.iter().any(|m| m == method)
    }

    fn matches_header(&self, header: &str) -> bool {
        self.allowed_headers.iter().any(|pattern| one_wildcard_match(pattern, header, true))
    }

    /// `*` for a rule allowing every origin; otherwise the request's origin (with credentials allowed).
    fn allow_origin_headers(&self, origin: &str, headers: &mut HeaderMap) {
        if self.allowed_origins.iter().any(|o| o == "*") {
            headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
        } else {
            if let Ok(value) = HeaderValue::from_str(origin) {
                headers.insert("access-control-allow-origin", value);
            }
            headers.insert("access-control-allow-credentials", HeaderValue::from_static("true"));
        }
        if !self.expose_headers.is_empty()
            && let Ok(value) = HeaderValue::from_str(&self.expose_headers.join(", "))
        {
            headers.insert("access-control-expose-headers", value);
        }
        if let Some(age) = self.max_age_seconds {
            headers.insert("access-control-max-age", HeaderValue::from(age));
        }
    }
}

/// `*` anywhere in `pattern` stands for any run of characters (S3 allows one).
fn one_wildcard_match(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let eq = |a: &str, b: &str| if case_insensitive { a.eq_ignore_ascii_case(b) } else { a == b };
    match pattern.split_once('*') {
        None => eq(pattern, value),
        Some((prefix, suffix)) => {
            value.len() >= prefix.len() + suffix.len()
                && value.is_char_boundary(prefix.len())
                && value.is_char_boundary(value.len() - suffix.len())
                && eq(&value[..prefix.len()], prefix)
                && eq(&value[value.len() - suffix.len()..], suffix)
        }
    }
}

const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// Answers an OPTIONS preflight as S3 does: 200 with the CORS headers of the first matching rule, else 403/400.
pub fn preflight(rules: Option<&[CorsRule]>, request: &HeaderMap) -> AwsResult<HeaderMap> {
    let text = |name: &str| request.get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = text("origin") else {
        return Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Insufficient information. Origin request header needed.",
        ));
    };
    let Some(method) = text("access-control-request-method") else {
        return Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Invalid Access-Control-Request-Method: null",
        ));
    };
    let Some(rules) = rules else {
        return Err(AwsError::new(
            StatusCode::FORBIDDEN,
            "AccessForbidden",
            "CORSResponse: CORS is not enabled for this bucket.",
        )
        .with("Method", method)
        .with("ResourceType", "OBJECT"));
    };
    let requested: Vec<String> = text("access-control-request-headers")
        .map(|h| h.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let rule = rules.iter().find(|rule| {
        rule.matches_origin(origin) && rule.matches_method(method) && requested.iter().all(|h| rule.matches_header(h))
    });
    let Some(rule) = rule else {
        return Err(AwsError::new(
            StatusCode::FORBIDDEN,
            "AccessForbidden",
            "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        )
        .with("Method", method)
        .with("ResourceType", "OBJECT"));
    };
    let mut headers = HeaderMap::new();
    rule.allow_origin_headers(origin, &mut headers);
    if let Ok(value) = HeaderValue::from_str(&rule.allowed_methods.join(", ")) {
        headers.insert("access-control-allow-methods", value);
    }
    if !requested.is_empty()
        && let Ok(value) = HeaderValue::from_str(&requested.join(", "))
    {
        headers.insert("access-control-allow-headers", value);
    }
    headers.insert("vary", HeaderValue::from_static(VARY));
    Ok(headers)
}

/// The CORS headers for an actual request with an `Origin`: those of the first rule matching origin and method,
/// none otherwise (the request itself still succeeds; the browser refuses to expose it).
pub fn actual_request_headers(rules: Option<&[CorsRule]>, request: &HeaderMap, method: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let (Some(rules), Some(origin)) = (rules, request.get("origin").and_then(|v| v.to_str().ok())) else {
        return headers;
    };
    if let Some(rule) = rules.iter().find(|r| r.matches_origin(origin) && r.matches_method(method)) {
        rule.allow_origin_headers(origin, &mut headers);
        if let Ok(value) = HeaderValue::from_str(&rule.allowed_methods.join(", ")) {
            headers.insert("access-control-allow-methods", value);
        }
        headers.insert("vary", HeaderValue::from_static(VARY));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runbook_rules() -> Vec<CorsRule> {
        vec![CorsRule {
            id: None,
            allowed_origins: vec!["*".into()],
            allowed_methods: vec!["PUT".into(), "POST".into()],
            allowed_headers: vec!["*".into()],
            expose_headers: vec![],
            max_age_seconds: None,
        }]
    }

    fn request(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).expect("valid"));
        }
        headers
    }

    #[test]
    fn the_runbook_rule_allows_put_and_post_from_anywhere_and_refuses_delete() {
        let rules = runbook_rules();
        let ok = preflight(
            Some(&rules),
            &request(&[
                ("origin", "http://x.example"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "Content-Type, X-Amz-Meta-A"),
            ]),
        )
        .expect("allowed");
        assert_eq!(ok["access-control-allow-origin"], "*");
        assert_eq!(ok["access-control-allow-methods"], "PUT, POST");
        assert_eq!(ok["access-control-allow-headers"], "content-type, x-amz-meta-a");
        let refused =
            preflight(Some(&rules), &request(&[("origin", "http://x"), ("access-control-request-method", "DELETE")]))
                .expect_err("refused");
        assert_eq!((refused.status.as_u16(), refused.code.as_ref()), (403, "AccessForbidden"));
    }

    #[test]
    fn no_origin_is_400_and_no_configuration_is_403() {
        let no_origin = preflight(None, &request(&[("access-control-request-method", "GET")])).expect_err("refused");
        assert_eq!(no_origin.status.as_u16(), 400);
        let disabled = preflight(None, &request(&[("origin", "http://x"), ("access-control-request-method", "GET")]))
            .expect_err("refused");
        assert!(disabled.message.contains("CORS is not enabled"));
    }

    #[test]
    fn specific_origins_echo_the_origin_with_credentials() {
        let mut rules = runbook_rules();
        rules[0].allowed_origins = vec!["http://*.example.com".into()];
        rules[0].allowed_headers = vec!["x-amz-*".into()];
        let ok = preflight(
            Some(&rules),
            &request(&[
                ("origin", "http://a.example.com"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "x-amz-date"),
            ]),
        )
        .expect("allowed");
        assert_eq!(ok["access-control-allow-origin"], "http://a.example.com");
        assert_eq!(ok["access-control-allow-credentials"], "true");
        let refused = preflight(
            Some(&rules),
            &request(&[
                ("origin", "http://a.example.com"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ]),
        );
        assert!(refused.is_err());
        assert!(actual_request_headers(Some(&rules), &request(&[("origin", "http://evil.org")]), "POST").is_empty());
    }
}
