//! Targets: where a scenario runs. Every target is reached only through the AWS SDK and HTTP.
//!
//! Each kind of target is one file with a type implementing [`Target`] (how the command line names it, how it
//! starts or is reached, what it is), registered by one line in [`KINDS`]:
//! - [`embedded`] (default): the crts-emulator started in this process on a random loopback port;
//! - [`endpoint`] (`endpoint=URL`): anything AWS-compatible already running (`crts-harness serve`, LocalStack, ...);
//! - [`aws`]: a real account through aws-config's default chain (profiles, environment, SSO);
//! - [`localstack`]: LocalStack started in a container through testcontainers.
//!
//! What a target can do ([`capabilities::Capabilities`]) and how its services are named ([`Hosts`]) are learned
//! when it is up: an endpoint that turns out to be LocalStack gets LocalStack's.

pub mod aws;
pub mod capabilities;
pub mod embedded;
pub mod endpoint;
pub mod localstack;

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use capabilities::Capabilities;

/// A future a target returns from a trait method (object-safe `async`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One kind of target.
pub trait Target: Send + Sync + std::fmt::Debug {
    /// The kind, as reports show it (`embedded`, `endpoint`): never a URL, so reports match across targets.
    fn kind(&self) -> &'static str;

    /// As the command line writes it (`endpoint=http://127.0.0.1:4566`).
    fn spec(&self) -> String {
        self.kind().to_owned()
    }

    /// Starts the target or finds it: where the SDK reaches it, and what to stop afterwards.
    fn start<'a>(&'a self, region: Option<&'a str>) -> BoxFuture<'a, Result<Up, TargetError>>;

    /// Its state goes when it stops (the embedded emulator): nothing can be left on it, nothing read back later.
    fn ephemeral(&self) -> bool {
        false
    }

    /// A real AWS account: creating needs `--provision`, and every command needs `--account-id`.
    fn real_account(&self) -> bool {
        false
    }

    /// The same target from another container image (`--localstack-image`), for the kinds that run one.
    fn with_image(&self, _image: &str) -> Option<TargetSpec> {
        None
    }

    /// The same target, told which Lambda runtimes the scenario's functions use, for the kinds that can get them
    /// ready while the first steps run (the embedded emulator).
    fn with_lambda_runtimes(&self, _runtimes: &[String]) -> Option<TargetSpec> {
        None
    }
}

/// How the command line names each kind of target: `parse` recognises its argument (or says it is not its own
/// with `None`), `usage` is how the help and errors show it.
pub struct Kind {
    pub usage: &'static str,
    pub parse: fn(&str) -> Option<Result<TargetSpec, String>>,
}

/// Every kind of target, in the order the help lists them.
pub const KINDS: &[Kind] = &[embedded::KIND, localstack::KIND, endpoint::KIND, aws::KIND];

/// A target that is starting: its endpoint (`None`: AWS's own, from aws-config), what this process must stop
/// afterwards, and, when the target knows it, what it can do and how it names hosts (else they are asked of
/// the endpoint).
pub struct Up {
    pub endpoint: Option<String>,
    pub running: Option<Box<dyn Running>>,
    pub known: Option<(Capabilities, Hosts)>,
}

/// Something this process started for a target (the emulator, a container).
pub trait Running: Send + Sync {
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;

    /// Its output, for the report directory when a run fails.
    fn logs(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async { None })
    }
}

/// Which target to run against, as given on the command line (`embedded`, `endpoint=URL`, ...).
#[derive(Clone)]
pub struct TargetSpec(Arc<dyn Target>);

impl TargetSpec {
    pub fn new(target: impl Target + 'static) -> Self {
        Self(Arc::new(target))
    }

    /// The default: our own emulator, in-process.
    pub fn embedded() -> Self {
        Self::new(embedded::Embedded::default())
    }

    /// Anything AWS-compatible already running at `url`.
    pub fn endpoint(url: impl Into<String>) -> Self {
        Self::new(endpoint::Endpoint { url: url.into() })
    }

    /// A real account, through aws-config's default chain.
    pub fn aws() -> Self {
        Self::new(aws::Aws)
    }

    /// LocalStack in a container, from `image`.
    pub fn localstack(image: impl Into<String>) -> Self {
        Self::new(localstack::LocalStackTarget { image: image.into() })
    }

    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// See [`Target::ephemeral`].
    pub fn ephemeral(&self) -> bool {
        self.0.ephemeral()
    }

    /// See [`Target::real_account`].
    pub fn real_account(&self) -> bool {
        self.0.real_account()
    }

    /// See [`Target::with_image`]: the same target for the kinds without an image.
    pub fn with_image(self, image: &str) -> Self {
        self.0.with_image(image).unwrap_or(self)
    }

    /// See [`Target::with_lambda_runtimes`]: the same target for the kinds that cannot use them.
    pub fn with_lambda_runtimes(&self, runtimes: &[String]) -> Self {
        self.0.with_lambda_runtimes(runtimes).unwrap_or_else(|| self.clone())
    }
}

impl Default for TargetSpec {
    fn default() -> Self {
        Self::embedded()
    }
}

/// Two specs are equal when they name the same target the same way (their kind and every setting, such as
/// LocalStack's image, which [`Target::spec`] does not print).
impl PartialEq for TargetSpec {
    fn eq(&self, other: &Self) -> bool {
        format!("{:?}", self.0) == format!("{:?}", other.0)
    }
}

impl Eq for TargetSpec {}

impl std::fmt::Debug for TargetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.spec())
    }
}

impl FromStr for TargetSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KINDS.iter().find_map(|kind| (kind.parse)(s)).unwrap_or_else(|| {
            let kinds: Vec<&str> = KINDS.iter().map(|kind| kind.usage).collect();
            let (last, others) = kinds.split_last().map_or(("", &[][..]), |(last, others)| (*last, others));
            Err(format!("unknown target `{s}`: use {} or {last}", others.join(", ")))
        })
    }
}

/// How a target's services are named in host-style URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hosts {
    /// AWS's own names (`{api}.execute-api.{region}.amazonaws.com`), or an endpoint that is not LocalStack for the
    /// names under it.
    Aws,
    /// `*.localhost:PORT` (the emulator): browsers resolve them to loopback without DNS.
    Localhost,
    /// `*.localhost.localstack.cloud:PORT`.
    LocalStack,
}

impl Hosts {
    /// The domain under which an emulator serves host-style URLs.
    fn local_domain(self) -> &'static str {
        match self {
            Hosts::Aws | Hosts::Localhost => "localhost",
            Hosts::LocalStack => "localhost.localstack.cloud",
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
    /// How the target names its services' hosts.
    pub hosts: Hosts,
}

impl TargetSession {
    /// The longest pause between two polls of a wait (a job finishing, a function becoming Active): AWS is asked
    /// at most four times a second; an emulator (the embedded one, LocalStack, an endpoint), which answers in
    /// milliseconds, every 20 ms, so that a wait ends within 20 ms of what it waits for.
    pub fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(if self.endpoint.is_some() { 20 } else { 250 })
    }

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
            Some(port) => (
                "http".into(),
                format!("{api_id}.execute-api.{}:{port}", self.hosts.local_domain()),
                format!("/{stage}"),
            ),
            None => {
                ("https".into(), format!("{api_id}.execute-api.{}.amazonaws.com", self.region), format!("/{stage}"))
            }
        }
    }

    /// The registry host in the target's ECR repository URIs: AWS's `{account}.dkr.ecr.{region}.amazonaws.com`,
    /// which the embedded emulator keeps too, or LocalStack's `{account}.dkr.ecr.{region}.localhost.localstack.cloud:4566`.
    pub fn ecr_registry(&self) -> String {
        match self.hosts {
            Hosts::LocalStack => {
                format!("{}.dkr.ecr.{}.localhost.localstack.cloud:4566", self.account_id, self.region)
            }
            Hosts::Aws | Hosts::Localhost => format!("{}.dkr.ecr.{}.amazonaws.com", self.account_id, self.region),
        }
    }

    /// The bucket's static website endpoint (the runbook's "Bucket website endpoint").
    pub fn website_url(&self, bucket: &str) -> String {
        match self.endpoint_port() {
            Some(port) => format!("http://{bucket}.s3-website.{}:{port}", self.hosts.local_domain()),
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

/// A started target; keeps what this process started (the embedded emulator, a container) alive while the run
/// needs it.
pub struct StartedTarget {
    pub session: TargetSession,
    /// How long the target took to become usable.
    pub start_time: Duration,
    running: Option<Box<dyn Running>>,
}

impl StartedTarget {
    /// Stops what this process started.
    pub async fn stop(self) {
        if let Some(running) = self.running {
            running.stop().await;
        }
    }

    /// The logs of what this process started in a container (LocalStack), for failed runs.
    pub async fn logs(&self) -> Option<String> {
        match &self.running {
            Some(running) => running.logs().await,
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
    let Up { endpoint, running, known } = spec.0.start(region).await?;
    match connect(spec, region, account, endpoint, known).await {
        Ok(session) => Ok(StartedTarget { session, start_time: started.elapsed(), running }),
        Err(e) => {
            if let Some(running) = running {
                running.stop().await;
            }
            Err(e)
        }
    }
}

/// The shell line that points boto3 and the AWS CLI at an emulator (which takes any credentials; `test` is
/// account 000000000000, as `connect` uses it).
pub fn emulator_exports(endpoint: &str, region: &str) -> String {
    format!("export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION={region}")
}

/// Reaches a target that is up: the SDK's configuration, the caller's account (GetCallerIdentity, the first
/// call; it must be `account` when given), what the target can do and how it names hosts.
async fn connect(
    spec: &TargetSpec,
    region: Option<&str>,
    account: Option<&str>,
    endpoint: Option<String>,
    known: Option<(Capabilities, Hosts)>,
) -> Result<TargetSession, TargetError> {
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
        return Err(TargetError::AccountMismatch {
            account: account_id,
            arn: identity.arn().unwrap_or("(no ARN)").to_owned(),
            expected: expected.to_owned(),
        });
    }
    // `aws` with AWS_ENDPOINT_URL (or a profile's endpoint_url) is reached there: HTTP checks follow the SDK.
    let endpoint = endpoint.or_else(|| sdk_config.endpoint_url().map(|url| url.trim_end_matches('/').to_owned()));

    let (capabilities, hosts) = match (known, &endpoint) {
        (Some(known), _) => known,
        (None, Some(url)) => match localstack::detect(url).await {
            Some((info, capabilities)) => {
                tracing::info!(version = %info.version, edition = %info.edition, pro = info.pro, "the target is LocalStack");
                (capabilities, Hosts::LocalStack)
            }
            None => (Capabilities::all(), Hosts::Localhost),
        },
        (None, None) => (Capabilities::all(), Hosts::Aws),
    };

    Ok(TargetSession { kind: spec.kind(), endpoint, region, account_id, sdk_config, capabilities, hosts })
}

#[cfg(test)]
mod tests {
    use super::{KINDS, TargetSpec};

    /// Each kind parses what its usage says, prints it back the same way, and is named by the error for an
    /// unknown target.
    #[test]
    fn every_kind_parses_and_prints_its_own_spec() {
        for spec in ["embedded", "localstack", "endpoint=http://127.0.0.1:4566", "aws"] {
            let parsed: TargetSpec = spec.parse().expect(spec);
            assert_eq!(parsed.to_string(), spec);
        }
        assert_eq!(
            "nowhere".parse::<TargetSpec>().expect_err("unknown"),
            "unknown target `nowhere`: use embedded, localstack, endpoint=URL or aws"
        );
        assert_eq!(KINDS.len(), 4);
        let trailing: TargetSpec = "endpoint=http://h:1/".parse().expect("endpoint");
        assert_eq!(trailing, TargetSpec::endpoint("http://h:1"));
        assert!("endpoint=h:1".parse::<TargetSpec>().expect_err("not a URL").contains("is not an http(s) URL"));
        assert!(TargetSpec::embedded().ephemeral() && TargetSpec::aws().real_account());
        assert_eq!(TargetSpec::localstack("a").with_image("b"), TargetSpec::localstack("b"));
        assert_ne!(TargetSpec::localstack("a"), TargetSpec::localstack("b"));
        assert_eq!(TargetSpec::aws().with_image("b"), TargetSpec::aws());
    }
}
