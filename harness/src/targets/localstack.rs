//! `--target localstack`: LocalStack in a container started through testcontainers, on a random host port.
//!
//! The image is `--localstack-image` / `LOCALSTACK_IMAGE` (default the public `localstack/localstack:4.14.0`, the
//! newest tag that runs without a token; machines without a registry build one with
//! scripts/build-localstack-image). `LOCALSTACK_AUTH_TOKEN` is passed through; the Docker socket is mounted when
//! there is one (LocalStack runs Lambda functions in sibling containers); `ENFORCE_IAM=1` is set, which only a Pro
//! licence acts on.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use testcontainers::core::logs::LogFrame;
use testcontainers::core::{IntoContainerPort, Mount, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::capabilities::{Capabilities, LocalStackInfo};
use super::{BoxFuture, Kind, Running, Target, TargetError, TargetSpec, Up};

pub const DEFAULT_IMAGE: &str = "localstack/localstack:4.14.0";
const DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// The Lambda runtime image the runbook's python3.8 function needs on LocalStack.
const LAMBDA_RUNTIME_IMAGE: &str = "public.ecr.aws/lambda/python:3.8";

pub const KIND: Kind =
    Kind { usage: "localstack", parse: |s| (s == "localstack").then(|| Ok(TargetSpec::localstack(DEFAULT_IMAGE))) };

/// The target: LocalStack from `image`, started for the run and removed after it.
#[derive(Debug)]
pub struct LocalStackTarget {
    pub image: String,
}

impl Target for LocalStackTarget {
    fn kind(&self) -> &'static str {
        "localstack"
    }

    fn start<'a>(&'a self, _region: Option<&'a str>) -> BoxFuture<'a, Result<Up, TargetError>> {
        Box::pin(async move {
            let started = LocalStack::start(&self.image).await?;
            // Its capabilities and host names are asked of it, as for any endpoint.
            Ok(Up { endpoint: Some(started.endpoint.clone()), running: Some(Box::new(started)), known: None })
        })
    }

    fn with_image(&self, image: &str) -> Option<TargetSpec> {
        Some(TargetSpec::localstack(image))
    }
}

impl Running for LocalStack {
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move { LocalStack::stop(*self).await })
    }

    fn logs(&self) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move { Some(LocalStack::logs(self).await) })
    }
}

/// A running LocalStack container; stopped and removed when dropped or [`LocalStack::stop`]ped.
pub struct LocalStack {
    container: ContainerAsync<GenericImage>,
    pub endpoint: String,
    pub image: String,
}

impl std::fmt::Debug for LocalStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStack").field("endpoint", &self.endpoint).field("image", &self.image).finish()
    }
}

/// Whether a Docker engine answers, within a short time (fails in milliseconds without one).
pub async fn docker_reachable() -> bool {
    let ping = async {
        let docker = testcontainers::core::client::docker_client_instance().await.ok()?;
        docker.ping().await.ok()
    };
    matches!(tokio::time::timeout(Duration::from_secs(3), ping).await, Ok(Some(_)))
}

impl LocalStack {
    pub async fn start(image: &str) -> Result<Self, TargetError> {
        let unavailable = |detail: String| TargetError::Unreachable { target: "localstack".into(), detail };
        if !docker_reachable().await {
            return Err(unavailable("no Docker engine answers (LocalStack runs in a container)".into()));
        }
        let (name, tag) = match image.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
            Some((name, tag)) => (name.to_owned(), tag.to_owned()),
            None => (image.to_owned(), "latest".to_owned()),
        };
        crate::progress::detail(format!("starting LocalStack ({image}) in a container"));
        let started = Instant::now();
        let mut request = GenericImage::new(name, tag)
            .with_exposed_port(4566.tcp())
            .with_wait_for(WaitFor::message_on_stdout("Ready."))
            .with_env_var("GATEWAY_LISTEN", "0.0.0.0:4566")
            // With a Pro licence, IAM and bucket policies are evaluated only when asked for (the free edition
            // ignores the setting); the capabilities assume they are.
            .with_env_var("ENFORCE_IAM", "1")
            .with_startup_timeout(Duration::from_secs(180));
        if let Ok(token) = std::env::var("LOCALSTACK_AUTH_TOKEN")
            && !token.is_empty()
        {
            request = request.with_env_var("LOCALSTACK_AUTH_TOKEN", token);
        }
        if Path::new(DOCKER_SOCKET).exists() {
            request = request.with_mount(Mount::bind_mount(DOCKER_SOCKET, DOCKER_SOCKET));
        }
        // LocalStack's output while it starts, to say why when it does not (testcontainers removes a container
        // that failed to start, and its logs with it).
        let output = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&output);
        request = request.with_log_consumer(move |frame: &LogFrame| {
            let (LogFrame::StdOut(bytes) | LogFrame::StdErr(bytes)) = frame;
            sink.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
        });
        // Progress while the image is pulled (if it must be) and LocalStack boots.
        let start = request.start();
        tokio::pin!(start);
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(5), Duration::from_secs(5));
        let started_container = loop {
            tokio::select! {
                result = &mut start => break result,
                _ = ticks.tick() => crate::progress::detail(format!("waiting for LocalStack's \"Ready.\" ({:.0} s)", started.elapsed().as_secs_f64())),
            }
        };
        let container = started_container.map_err(|e| {
            let output = output.lock().unwrap_or_else(PoisonError::into_inner);
            let output = String::from_utf8_lossy(&output);
            let lines: Vec<&str> = output.lines().collect();
            let tail = lines[lines.len().saturating_sub(30)..].join("\n");
            let said = if tail.is_empty() { String::new() } else { format!("; its last output:\n{tail}") };
            unavailable(format!(
                "LocalStack ({image}) did not start: {e} (without a registry, build an image with scripts/build-localstack-image and pass --localstack-image){said}"
            ))
        })?;
        let port = container
            .get_host_port_ipv4(4566.tcp())
            .await
            .map_err(|e| unavailable(format!("LocalStack's port 4566 is not mapped: {e}")))?;
        crate::progress::detail(format!("LocalStack ready in {:.1} s on port {port}", started.elapsed().as_secs_f64()));
        Ok(Self { container, endpoint: format!("http://127.0.0.1:{port}"), image: image.to_owned() })
    }

    /// The container's output, for the report directory when a run fails.
    pub async fn logs(&self) -> String {
        let stdout = self.container.stdout_to_vec().await.unwrap_or_default();
        let stderr = self.container.stderr_to_vec().await.unwrap_or_default();
        format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr))
    }

    pub async fn stop(self) {
        let _ = self.container.rm().await;
    }
}

/// Asks an endpoint whether it is LocalStack (`/_localstack/info`) and derives its capabilities.
pub async fn detect(endpoint: &str) -> Option<(LocalStackInfo, Capabilities)> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().ok()?;
    let info: serde_json::Value =
        http.get(format!("{endpoint}/_localstack/info")).send().await.ok()?.json().await.ok()?;
    let info = LocalStackInfo::from_json(&info)?;
    let runtime = lambda_runtime().await;
    let capabilities = super::capabilities::localstack(&info, runtime);
    Some((info, capabilities))
}

/// Lambda functions run on LocalStack only with a Docker socket and the runtime image available locally.
async fn lambda_runtime() -> Result<(), String> {
    if !Path::new(DOCKER_SOCKET).exists() {
        return Err(format!("LocalStack runs Lambda functions in containers and {DOCKER_SOCKET} is not available"));
    }
    let present = tokio::process::Command::new("docker")
        .args(["image", "inspect", LAMBDA_RUNTIME_IMAGE])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success());
    if present {
        Ok(())
    } else {
        Err(format!(
            "LocalStack runs python3.8 functions in {LAMBDA_RUNTIME_IMAGE}, which is not on this machine (no registry to pull it from)"
        ))
    }
}
