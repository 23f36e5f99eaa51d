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
    query.iter().find(|(k, _)| k == "X-Amz-Credential").and_then(|(_, v)| parse_credential(v))
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
    fn reads_the_scope_of_a_presigned_url_and_rejects_garbage() {
        let query = vec![("X-Amz-Credential".to_owned(), "AK/20261124/us-east-1/s3/aws4_request".to_owned())];
        assert_eq!(credential_scope(&HeaderMap::new(), &query).map(|s| s.service), Some("s3".to_owned()));
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, "AWS4-HMAC-SHA256 Credential=onlykey".parse().expect("valid"));
        assert_eq!(credential_scope(&headers, &[]), None);
    }
}
