//! Targets: where a scenario runs. Every target is reached only through the AWS SDK and HTTP.
//!
//! - `embedded` (default): the crts-emulator started in this process on a random loopback port;
//! - `endpoint=URL`: anything AWS-compatible already running (`crts-harness serve`, LocalStack, ...);
//! - `aws`: a real account through aws-config's default chain (profiles, environment, SSO);
//! - `localstack`: LocalStack started in a container through testcontainers ([`localstack`]).
//!
//! Each target declares its [`capabilities::Capabilities`]; an endpoint that turns out to be LocalStack gets
//! LocalStack's.

pub mod capabilities;
pub mod localstack;

use std::str::FromStr;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use capabilities::Capabilities;

/// Which target to run against, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TargetSpec {
    /// The default: our own emulator, in-process.
    #[default]
    Embedded,
    Endpoint(String),
    Aws,
    /// LocalStack in a container, from this image.
    LocalStack {
        image: String,
    },
}

impl FromStr for TargetSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "embedded" => Ok(Self::Embedded),
            "aws" => Ok(Self::Aws),
            "localstack" => Ok(Self::LocalStack { image: localstack::DEFAULT_IMAGE.to_owned() }),
            _ => match s.strip_prefix("endpoint=") {
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Ok(Self::Endpoint(url.trim_end_matches('/').to_owned()))
                }
                Some(url) => Err(format!("`{url}` is not an http(s) URL (example: endpoint=http://localhost:4566)")),
                None => Err(format!("unknown target `{s}`: use embedded, localstack, endpoint=URL or aws")),
            },
        }
    }
}

impl std::fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Embedded => f.write_str("embedded"),
            Self::Endpoint(url) => write!(f, "endpoint={url}"),
            Self::Aws => f.write_str("aws"),
            Self::LocalStack { .. } => f.write_str("localstack"),
        }
    }
}

/// A target that is up: how to reach it with the SDK and with plain HTTP.
#[derive(Debug, Clone)]
pub struct TargetSession {
    /// `embedded`, `endpoint` or `aws`: the kind, never the URL (reports must match across targets).
    pub kind: &'static str,
    /// The emulator or LocalStack URL; `None` for AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub account_id: String,
    pub sdk_config: SdkConfig,
    /// What this target cannot do, and why.
    pub capabilities: Capabilities,
    /// The domain under which the target serves host-style URLs: `localhost` for the emulator (browsers resolve
    /// it without DNS), `localhost.localstack.cloud` for LocalStack.
    pub local_domain: &'static str,
}

impl TargetSession {
    /// The invoke URL of `path` on an API stage, in the form the target serves.
    pub fn invoke_url(&self, api_id: &str, stage: &str, path: &str) -> String {
        let path = path.trim_start_matches('/');
        match &self.endpoint {
            Some(endpoint) => format!("{endpoint}/_aws/execute-api/{api_id}/{stage}/{path}"),
            None => format!("https://{api_id}.execute-api.{}.amazonaws.com/{stage}/{path}", self.region),
        }
    }
}

impl TargetSession {
    /// Where a browser reaches an API stage: `(scheme, host[:port], base path)`. Emulators serve the host-style
    /// form `{api}.execute-api.localhost:PORT`, which browsers resolve to loopback without DNS; AWS is
    /// `https://{api}.execute-api.{region}.amazonaws.com`.
    pub fn api_base(&self, api_id: &str, stage: &str) -> (String, String, String) {
        match self.endpoint_port() {
            Some(port) => {
                ("http".into(), format!("{api_id}.execute-api.{}:{port}", self.local_domain), format!("/{stage}"))
            }
            None => {
                ("https".into(), format!("{api_id}.execute-api.{}.amazonaws.com", self.region), format!("/{stage}"))
            }
        }
    }

    /// The registry host in the target's ECR repository URIs: AWS's `{account}.dkr.ecr.{region}.amazonaws.com`,
    /// which the embedded emulator keeps too, or LocalStack's `{account}.dkr.ecr.{region}.localhost.localstack.cloud:4566`.
    pub fn ecr_registry(&self) -> String {
        match self.local_domain {
            "localhost.localstack.cloud" => {
                format!("{}.dkr.ecr.{}.localhost.localstack.cloud:4566", self.account_id, self.region)
            }
            _ => format!("{}.dkr.ecr.{}.amazonaws.com", self.account_id, self.region),
        }
    }

    /// The bucket's static website endpoint (the runbook's "Bucket website endpoint").
    pub fn website_url(&self, bucket: &str) -> String {
        match self.endpoint_port() {
            Some(port) => format!("http://{bucket}.s3-website.{}:{port}", self.local_domain),
            None => format!("http://{bucket}.s3-website-{}.amazonaws.com", self.region),
        }
    }

    /// An object's URL on the S3 REST endpoint, as an anonymous client would use it.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("{endpoint}/{bucket}/{key}"),
            None => format!("https://{bucket}.s3.{}.amazonaws.com/{key}", self.region),
        }
    }

    /// `Some("unsupported on <kind>: <reason>")` when this target lacks any of `needed`.
    pub fn lacks(&self, needed: &[capabilities::Capability]) -> Option<String> {
        self.capabilities.check(needed).err().map(|reason| format!("unsupported on {}: {reason}", self.kind))
    }

    /// The address `*.localhost` names stand for on an emulator target (reqwest does not resolve them itself).
    pub fn loopback(&self) -> Option<std::net::SocketAddr> {
        let port = self.endpoint_port()?;
        Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
    }

    fn endpoint_port(&self) -> Option<u16> {
        let url = reqwest::Url::parse(self.endpoint.as_deref()?).ok()?;
        url.port_or_known_default()
    }
}

/// A started target; keeps the embedded emulator alive while the run needs it.
pub struct StartedTarget {
    pub session: TargetSession,
    /// How long the target took to become usable.
    pub start_time: Duration,
    emulator: Option<crts_emulator::Emulator>,
    localstack: Option<localstack::LocalStack>,
}

impl StartedTarget {
    /// Stops what this process started.
    pub async fn stop(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
        if let Some(localstack) = self.localstack {
            localstack.stop().await;
        }
    }

    /// The logs of a target this process started in a container (LocalStack), for failed runs.
    pub async fn logs(&self) -> Option<String> {
        match &self.localstack {
            Some(localstack) => Some(localstack.logs().await),
            None => None,
        }
    }
}

/// Why a target could not be used (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("failed to start the embedded emulator: {0}")]
    EmbeddedStart(std::io::Error),
    #[error("target {target} is unreachable: {detail} (is it running? for LocalStack: docker compose up -d)")]
    Unreachable { target: String, detail: String },
    #[error(
        "the credentials are for account {account} ({arn}), not {expected}: nothing else was called. Use the profile of account {expected} (AWS_PROFILE), or pass --account-id {account} if that account is the one to read"
    )]
    AccountMismatch { account: String, arn: String, expected: String },
    #[error("no AWS region: pass --region, or set AWS_REGION or the profile's region")]
    NoRegion,
}

/// Starts (embedded) or connects to (endpoint, aws) a target and learns its account id.
pub async fn start(spec: &TargetSpec, region: Option<&str>) -> Result<StartedTarget, TargetError> {
    start_for(spec, region, None).await
}

/// As [`start`]; with `account`, the caller's account (GetCallerIdentity, the first call) must be that one, or
/// nothing else is called.
pub async fn start_for(
    spec: &TargetSpec,
    region: Option<&str>,
    account: Option<&str>,
) -> Result<StartedTarget, TargetError> {
    let started = Instant::now();
    let mut localstack = None;
    let (endpoint, emulator, kind) = match spec {
        TargetSpec::Embedded => {
            let config = crts_emulator::Config {
                default_region: region.unwrap_or("us-east-1").to_owned(),
                lambda: crts_emulator::LambdaConfig::from_env(),
                ..Default::default()
            };
            let emulator = crts_emulator::Emulator::start(config).await.map_err(TargetError::EmbeddedStart)?;
            (Some(emulator.endpoint().to_owned()), Some(emulator), "embedded")
        }
        TargetSpec::Endpoint(url) => (Some(url.clone()), None, "endpoint"),
        TargetSpec::Aws => (None, None, "aws"),
        TargetSpec::LocalStack { image } => {
            let started = localstack::LocalStack::start(image).await?;
            let endpoint = started.endpoint.clone();
            localstack = Some(started);
            (Some(endpoint), None, "localstack")
        }
    };

    let sdk_config = match &endpoint {
        Some(url) => {
            // Emulators accept any credentials; "test" maps to account 000000000000 as on LocalStack.
            aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(region.unwrap_or("us-east-1").to_owned()))
                .endpoint_url(url)
                .credentials_provider(Credentials::new("test", "test", None, None, "crts-harness"))
                .load()
                .await
        }
        None => {
            let mut loader = aws_config::defaults(BehaviorVersion::latest());
            if let Some(region) = region {
                loader = loader.region(Region::new(region.to_owned()));
            }
            loader.load().await
        }
    };
    if sdk_config.region().is_none() {
        return Err(TargetError::NoRegion);
    }
    let region = sdk_config.region().map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());

    let sts = aws_sdk_sts::Client::new(&sdk_config);
    let identity = sts.get_caller_identity().send().await.map_err(|e| TargetError::Unreachable {
        target: spec.to_string(),
        detail: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
    })?;
    let account_id = identity.account().unwrap_or(crts_emulator::identity::DEFAULT_ACCOUNT).to_owned();
    if let Some(expected) = account
        && expected != account_id
    {
        if let Some(emulator) = emulator {
            emulator.shutdown().await;
        }
        if let Some(localstack) = localstack {
            localstack.stop().await;
        }
        return Err(TargetError::AccountMismatch {
            account: account_id,
            arn: identity.arn().unwrap_or("(no ARN)").to_owned(),
            expected: expected.to_owned(),
        });
    }
    // `aws` with AWS_ENDPOINT_URL (or a profile's endpoint_url) is reached there: HTTP checks follow the SDK.
    let endpoint = endpoint.or_else(|| sdk_config.endpoint_url().map(|url| url.trim_end_matches('/').to_owned()));

    let (capabilities, local_domain) = match (&endpoint, &emulator) {
        (Some(url), None) => match localstack::detect(url).await {
            Some((info, capabilities)) => {
                tracing::info!(version = %info.version, edition = %info.edition, pro = info.pro, "the target is LocalStack");
                (capabilities, "localhost.localstack.cloud")
            }
            None => (Capabilities::all(), "localhost"),
        },
        _ => (Capabilities::all(), "localhost"),
    };

    Ok(StartedTarget {
        session: TargetSession { kind, endpoint, region, account_id, sdk_config, capabilities, local_domain },
        start_time: started.elapsed(),
        emulator,
        localstack,
    })
}
