//! `--target endpoint=URL`: anything AWS-compatible already running (`crts-harness serve`, LocalStack, ...),
//! reached at URL; it is asked whether it is LocalStack, for LocalStack's capabilities and host names.

use super::{BoxFuture, Kind, Target, TargetError, TargetSpec, Up};

pub const KIND: Kind = Kind {
    usage: "endpoint=URL",
    parse: |s| {
        let url = s.strip_prefix("endpoint=")?;
        Some(if url.starts_with("http://") || url.starts_with("https://") {
            Ok(TargetSpec::endpoint(url.trim_end_matches('/')))
        } else {
            Err(format!("`{url}` is not an http(s) URL (example: endpoint=http://localhost:4566)"))
        })
    },
};

#[derive(Debug)]
pub struct Endpoint {
    pub url: String,
}

impl Target for Endpoint {
    fn kind(&self) -> &'static str {
        "endpoint"
    }

    fn spec(&self) -> String {
        format!("endpoint={}", self.url)
    }

    fn start<'a>(&'a self, _region: Option<&'a str>) -> BoxFuture<'a, Result<Up, TargetError>> {
        Box::pin(async move { Ok(Up { endpoint: Some(self.url.clone()), running: None, known: None }) })
    }
}
