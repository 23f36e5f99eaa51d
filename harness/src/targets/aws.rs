//! `--target aws`: a real account, through aws-config's default chain (profiles, environment, SSO); with
//! `AWS_ENDPOINT_URL` (or a profile's `endpoint_url`) it is reached there, and HTTP checks follow the SDK.

use super::{BoxFuture, Kind, Target, TargetError, TargetSpec, Up};

pub const KIND: Kind = Kind { usage: "aws", parse: |s| (s == "aws").then(|| Ok(TargetSpec::aws())) };

#[derive(Debug)]
pub struct Aws;

impl Target for Aws {
    fn kind(&self) -> &'static str {
        "aws"
    }

    fn start<'a>(&'a self, _region: Option<&'a str>) -> BoxFuture<'a, Result<Up, TargetError>> {
        Box::pin(async { Ok(Up { endpoint: None, running: None, known: None }) })
    }

    fn real_account(&self) -> bool {
        true
    }
}
