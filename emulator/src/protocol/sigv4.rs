//! Reading (not verifying) AWS Signature Version 4: who signed the request and for which service and region.
//!
//! Deliberate deviation from AWS: signatures are not verified. The emulator trusts the access key id, because
//! its job is to reproduce AWS's *authorization* decisions offline, not to be a security boundary.

use http::HeaderMap;

/// The credential scope of a SigV4-signed request: `AKID/20260101/us-east-1/iam/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

/// Finds the credential scope in the `Authorization` header or in presigned-URL query parameters.
pub fn credential_scope(headers: &HeaderMap, query: &[(String, String)]) -> Option<CredentialScope> {
    if let Some(auth) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let rest = auth.strip_prefix("AWS4-HMAC-SHA256")?;
        let credential = rest.split(',').map(str::trim).find_map(|part| part.strip_prefix("Credential="))?;
        return parse_credential(credential);
    }
    if let Some((_, credential)) = query.iter().find(|(k, _)| k == "X-Amz-Credential") {
        return parse_credential(credential);
    }
    // S3's older (SigV2) presigned URLs, which boto3 still makes by default: `AWSAccessKeyId`, `Signature`,
    // `Expires`. They name no region (an empty one: the server's default applies).
    let access_key_id = query.iter().find(|(k, _)| k == "AWSAccessKeyId").map(|(_, v)| v.clone())?;
    (!access_key_id.is_empty()).then(|| CredentialScope { access_key_id, region: String::new(), service: "s3".into() })
}

fn parse_credential(credential: &str) -> Option<CredentialScope> {
    let mut parts = credential.split('/');
    let access_key_id = parts.next()?.to_owned();
    let _date = parts.next()?;
    let region = parts.next()?.to_owned();
    let service = parts.next()?.to_owned();
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return None;
    }
    Some(CredentialScope { access_key_id, region, service })
}

/// The query-string authentication of a presigned URL: when it was signed and for how long it holds (SigV2 URLs
/// carry only their expiry: signed then, for 0 s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAuth {
    pub signed_at: chrono::DateTime<chrono::Utc>,
    /// `X-Amz-Expires`, in seconds (0 to 604800).
    pub expires_in: i64,
    /// A SigV2 URL (`AWSAccessKeyId`, `Expires`).
    pub sigv2: bool,
}

impl QueryAuth {
    pub fn expires_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.signed_at + chrono::TimeDelta::seconds(self.expires_in)
    }
}

/// The parameters of query-string authentication (SigV4 presigned URLs).
const QUERY_AUTH: [&str; 6] =
    ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"];

/// Reads a presigned URL's authentication (SigV4's `X-Amz-*` parameters, or SigV2's `AWSAccessKeyId` and
/// `Expires`, an epoch second): `None` when the request does not use query-string authentication;
/// `Err` with S3's words when it does but a parameter is missing or malformed (S3 answers these with
/// `AuthorizationQueryParametersError`).
pub fn query_auth(query: &[(String, String)]) -> Option<Result<QueryAuth, String>> {
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"].iter().all(|name| param(name).is_none()) {
        let (_, expires) = (param("AWSAccessKeyId")?, param("Expires"));
        return Some(match expires.and_then(|e| e.parse::<i64>().ok()) {
            Some(at) => chrono::DateTime::from_timestamp(at, 0)
                .map(|expires_at| QueryAuth { signed_at: expires_at, expires_in: 0, sigv2: true })
                .ok_or_else(|| format!("Invalid date (should be seconds since epoch): {}", expires.unwrap_or(""))),
            None if expires.is_none() => {
                Err("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
                    .to_owned())
            }
            None => Err(format!("Invalid date (should be seconds since epoch): {}", expires.unwrap_or(""))),
        });
    }
    Some((|| {
        if QUERY_AUTH.iter().any(|name| param(name).is_none()) {
            return Err("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.".to_owned());
        }
        if param("X-Amz-Algorithm") != Some("AWS4-HMAC-SHA256") {
            return Err("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".to_owned());
        }
        if param("X-Amz-Credential").and_then(parse_credential).is_none() {
            return Err("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".".to_owned());
        }
        let signed_at = param("X-Amz-Date")
            .and_then(|date| chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ").ok())
            .map(|date| date.and_utc())
            .ok_or("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")?;
        let expires_in = param("X-Amz-Expires")
            .and_then(|expires| expires.parse::<i64>().ok())
            .ok_or("X-Amz-Expires should be a number")?;
        if expires_in < 0 {
            return Err("X-Amz-Expires must be non-negative".to_owned());
        }
        if expires_in > 604_800 {
            return Err(
                "X-Amz-Expires must be less than a week (in seconds) that's 7 days or 604800 seconds".to_owned()
            );
        }
        Ok(QueryAuth { signed_at, expires_in, sigv2: false })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_scope_of_an_authorization_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/eu-west-1/batch/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
                .parse()
                .expect("static header value is valid"),
        );
        let scope = credential_scope(&headers, &[]).expect("scope is present");
        assert_eq!(scope.access_key_id, "AKIDEXAMPLE");
        assert_eq!(scope.region, "eu-west-1");
        assert_eq!(scope.service, "batch");
    }

    #[test]
    fn reads_a_presigned_urls_time_and_refuses_its_malformed_parameters_in_s3s_words() {
        let url = |overrides: &[(&str, &str)]| {
            let mut query: Vec<(String, String)> = [
                ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                ("X-Amz-Credential", "AK/20261204/us-east-1/s3/aws4_request"),
                ("X-Amz-Date", "20261204T101500Z"),
                ("X-Amz-Expires", "3600"),
                ("X-Amz-SignedHeaders", "host"),
                ("X-Amz-Signature", "abc"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
            for (name, value) in overrides {
                query.retain(|(k, _)| k != name);
                if !value.is_empty() {
                    query.push(((*name).to_owned(), (*value).to_owned()));
                }
            }
            query_auth(&query)
        };
        let auth = url(&[]).expect("query auth").expect("well-formed");
        assert_eq!(auth.expires_at().to_rfc3339(), "2026-12-04T11:15:00+00:00");
        assert_eq!(query_auth(&[("list-type".to_owned(), "2".to_owned())]), None);
        let refused = |overrides: &[(&str, &str)]| url(overrides).expect("query auth").expect_err("malformed");
        assert!(refused(&[("X-Amz-Date", "")]).starts_with("Query-string authentication version 4 requires"));
        assert!(refused(&[("X-Amz-Algorithm", "AWS4-HMAC-SHA1")]).contains("only supports"));
        assert!(refused(&[("X-Amz-Credential", "AK/x")]).contains("Credential is mal-formed"));
        assert!(refused(&[("X-Amz-Date", "2026-12-04")]).contains("ISO8601 Long Format"));
        assert_eq!(refused(&[("X-Amz-Expires", "-1")]), "X-Amz-Expires must be non-negative");
        assert!(refused(&[("X-Amz-Expires", "604801")]).contains("604800 seconds"));
    }

    #[test]
    fn reads_the_scope_of_a_presigned_url_and_rejects_garbage() {
        let query = vec![("X-Amz-Credential".to_owned(), "AK/20261124/us-east-1/s3/aws4_request".to_owned())];
        assert_eq!(credential_scope(&HeaderMap::new(), &query).map(|s| s.service), Some("s3".to_owned()));
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, "AWS4-HMAC-SHA256 Credential=onlykey".parse().expect("valid"));
        assert_eq!(credential_scope(&headers, &[]), None);
    }
}
