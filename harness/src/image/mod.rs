//! The CRTS image: built and pushed the runbook's way (`docker build`, `docker tag`, `docker login`,
//! `docker push`) when a Docker engine answers, else built here from the same context as an OCI image
//! ([`dockerfile`] says what is applied) and pushed through the registry API with the `oci-client` crate.

pub mod dockerfile;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use bytes::Bytes;
use sha2::Digest as _;

use crate::progress;

/// The CRTS job binary (crate crts-job, `job/src/main.rs`), statically linked by `build.rs`, for build contexts
/// whose Dockerfile copies it (the fixture image's `COPY crts-job /crts/run`). It runs in a `FROM scratch` image.
pub fn job_binary() -> Result<&'static [u8], String> {
    #[cfg(crts_job_built)]
    {
        Ok(include_bytes!(env!("CRTS_JOB_BINARY")))
    }
    #[cfg(not(crts_job_built))]
    {
        Err(format!(
            "this crts-harness was built without the CRTS job binary: {} (give the image step a context that \
             does not need it, or build the harness on Linux)",
            env!("CRTS_JOB_BUILD_ERROR")
        ))
    }
}

/// A registry to push to: `host[:port]`, whether it speaks plain HTTP, and the login.
#[derive(Clone)]
pub struct RegistryLogin {
    pub host: String,
    pub http: bool,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for RegistryLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryLogin").field("host", &self.host).field("password", &"<redacted>").finish()
    }
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// `docker` or `built-in`.
    pub builder: &'static str,
    pub digest: String,
    /// Instructions the built-in builder did not apply.
    pub not_applied: Vec<String>,
}

/// An image built without Docker.
#[derive(Debug, Clone)]
pub struct OciImage {
    pub config: Bytes,
    pub layers: Vec<Layer>,
    pub manifest: Bytes,
    pub not_applied: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Layer {
    /// gzip-compressed tar.
    pub data: Bytes,
    pub digest: String,
}

pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// Builds the image described by `context/Dockerfile`: one layer with the files it copies (fixed timestamps and
/// owners, so the same context gives the same digest), and a config from its ENTRYPOINT/CMD/ENV/WORKDIR/LABEL/USER.
pub fn build(context: &Path) -> Result<OciImage, String> {
    let dockerfile = context.join("Dockerfile");
    let text =
        std::fs::read_to_string(&dockerfile).map_err(|e| format!("cannot read {}: {e}", dockerfile.display()))?;
    let plan = dockerfile::parse(&text).map_err(|e| format!("{}: {e}", dockerfile.display()))?;

    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    let mut directories = std::collections::BTreeSet::new();
    for (source, dest) in &plan.copies {
        let path = context.join(source);
        let metadata = std::fs::metadata(&path).map_err(|e| format!("COPY {source}: {} ({e})", path.display()))?;
        let files: Vec<(PathBuf, String)> = if metadata.is_dir() {
            walk(&path)?
                .into_iter()
                .map(|file| {
                    let relative = file.strip_prefix(&path).unwrap_or(&file).to_string_lossy().into_owned();
                    (file, format!("{}/{relative}", dest.trim_end_matches('/')))
                })
                .collect()
        } else if dest.ends_with('/') {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            vec![(path.clone(), format!("{dest}{name}"))]
        } else {
            vec![(path.clone(), dest.clone())]
        };
        for (file, target) in files {
            let target = target.trim_start_matches('/').to_owned();
            let mut parent = Path::new(&target).parent();
            let mut parents = Vec::new();
            while let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
                parents.push(dir.to_path_buf());
                parent = dir.parent();
            }
            for dir in parents.into_iter().rev() {
                if directories.insert(dir.clone()) {
                    let mut header = tar::Header::new_gnu();
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    tar.append_data(&mut header, &dir, std::io::empty()).map_err(|e| e.to_string())?;
                }
            }
            let data = std::fs::read(&file).map_err(|e| format!("COPY {source}: {} ({e})", file.display()))?;
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(file_mode(&file));
            tar.append_data(&mut header, &target, data.as_slice()).map_err(|e| e.to_string())?;
        }
    }
    let tar = tar.into_inner().map_err(|e| e.to_string())?;
    let diff_id = digest(&tar);
    // Compressed fast: the layer is made on every run and read back once, by the job that pulls it.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&tar).map_err(|e| e.to_string())?;
    let layer = Bytes::from(gzip.finish().map_err(|e| e.to_string())?);
    let layer = Layer { digest: digest(&layer), data: layer };

    let mut env = vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()];
    env.extend(plan.env.iter().map(|(k, v)| format!("{k}={v}")));
    let mut config = serde_json::json!({
        "architecture": architecture(),
        "os": "linux",
        "config": { "Env": env },
        "rootfs": { "type": "layers", "diff_ids": [diff_id] },
        "history": [{ "created_by": "crts-harness: COPY from the build context" }],
    });
    let settings = &mut config["config"];
    if let Some(entrypoint) = &plan.entrypoint {
        settings["Entrypoint"] = serde_json::json!(entrypoint);
    }
    if let Some(cmd) = &plan.cmd {
        settings["Cmd"] = serde_json::json!(cmd);
    }
    if let Some(workdir) = &plan.workdir {
        settings["WorkingDir"] = serde_json::json!(workdir);
    }
    if let Some(user) = &plan.user {
        settings["User"] = serde_json::json!(user);
    }
    if !plan.labels.is_empty() {
        settings["Labels"] = serde_json::json!(plan.labels);
    }
    let config = Bytes::from(serde_json::to_vec(&config).map_err(|e| e.to_string())?);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": { "mediaType": CONFIG_TYPE, "digest": digest(&config), "size": config.len() },
        "layers": [{ "mediaType": LAYER_TYPE, "digest": layer.digest, "size": layer.data.len() }],
    });
    let manifest = Bytes::from(serde_json::to_vec(&manifest).map_err(|e| e.to_string())?);
    Ok(OciImage { config, layers: vec![layer], manifest, not_applied: plan.not_applied })
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0o644);
    if mode & 0o111 != 0 { 0o755 } else { 0o644 }
}

fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Pushes a built image with the `oci-client` crate, one line of progress per blob on standard error.
pub async fn push_oci(image: &OciImage, login: &RegistryLogin, repository: &str, tag: &str) -> Result<String, String> {
    use oci_client::client::{ClientConfig, ClientProtocol};
    use oci_client::secrets::RegistryAuth;
    use oci_client::{Client, Reference, RegistryOperation};

    let client = Client::new(ClientConfig {
        protocol: if login.http { ClientProtocol::Http } else { ClientProtocol::Https },
        ..Default::default()
    });
    let reference = Reference::with_tag(login.host.clone(), repository.to_owned(), tag.to_owned());
    let auth = RegistryAuth::Basic(login.username.clone(), login.password.clone());
    client
        .auth(&reference, &auth, RegistryOperation::Push)
        .await
        .map_err(|e| format!("registry login to {} failed: {e}", login.host))?;
    let mut blobs: Vec<(&str, &Bytes, String)> =
        image.layers.iter().map(|l| ("layer", &l.data, l.digest.clone())).collect();
    blobs.push(("config", &image.config, digest(&image.config)));
    for (kind, data, blob_digest) in blobs {
        let exists = client.blob_exists(&reference, &blob_digest).await.unwrap_or(false);
        if exists {
            progress::output(format!("{kind} {}: already in the registry", short(&blob_digest)));
            continue;
        }
        let started = std::time::Instant::now();
        client
            .push_blob(&reference, data.clone(), &blob_digest)
            .await
            .map_err(|e| format!("pushing {kind} {blob_digest}: {e}"))?;
        progress::output(format!(
            "{kind} {}: {} pushed in {:.0} ms",
            short(&blob_digest),
            human_size(data.len()),
            started.elapsed().as_secs_f64() * 1e3
        ));
    }
    let content_type = http::HeaderValue::from_static(MANIFEST_TYPE);
    client
        .push_manifest_raw(&reference, image.manifest.clone(), content_type)
        .await
        .map_err(|e| format!("pushing the manifest: {e}"))?;
    Ok(digest(&image.manifest))
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// Whether a Docker engine answers (`docker version` reaches the daemon).
pub async fn docker_available() -> bool {
    tokio::process::Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// The runbook's commands: `docker build -t <local>`, `docker tag`, `docker login --password-stdin`,
/// `docker push`. The login goes to a throw-away DOCKER_CONFIG, so the token never lands in the user's config.
/// Returns the pushed manifest's digest, as the registry reports it.
pub async fn push_docker(
    context: &Path,
    local_tag: &str,
    login: &RegistryLogin,
    repository: &str,
    tag: &str,
) -> Result<String, String> {
    let config_dir = tempfile::tempdir().map_err(|e| format!("cannot create a DOCKER_CONFIG directory: {e}"))?;
    let remote = format!("{}/{repository}:{tag}", login.host);
    let run = |args: Vec<String>, stdin: Option<String>| {
        let config_dir = config_dir.path().to_path_buf();
        async move {
            progress::output(format!("$ docker {}", args.join(" ")));
            let mut command = tokio::process::Command::new("docker");
            command.args(&args).env("DOCKER_CONFIG", &config_dir).stdout(Stdio::piped()).stderr(Stdio::piped());
            if stdin.is_some() {
                command.stdin(Stdio::piped());
            }
            let mut child = command.spawn().map_err(|e| format!("cannot run docker: {e}"))?;
            if let Some(input) = stdin
                && let Some(mut pipe) = child.stdin.take()
            {
                use tokio::io::AsyncWriteExt as _;
                pipe.write_all(input.as_bytes()).await.map_err(|e| e.to_string())?;
            }
            // Docker's progress (build steps, layer pushes) is shown line by line as it comes, and kept.
            let (stdout_pipe, stderr_pipe) = (child.stdout.take(), child.stderr.take());
            let echo = async {
                use tokio::io::AsyncBufReadExt as _;
                let mut seen = String::new();
                if let Some(pipe) = stdout_pipe {
                    let mut lines = tokio::io::BufReader::new(pipe).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if !line.trim().is_empty() {
                            progress::output(&line);
                        }
                        seen.push_str(&line);
                        seen.push('\n');
                    }
                }
                seen
            };
            let errors = async {
                use tokio::io::AsyncReadExt as _;
                let mut errors = String::new();
                if let Some(mut pipe) = stderr_pipe {
                    let _ = pipe.read_to_string(&mut errors).await;
                }
                errors
            };
            let (stdout, stderr) = tokio::join!(echo, errors);
            let status = child.wait().await.map_err(|e| e.to_string())?;
            if status.success() {
                Ok(stdout)
            } else {
                Err(format!("docker {} failed: {}", args.first().map_or("", String::as_str), stderr.trim()))
            }
        }
    };
    run(vec!["build".into(), "-t".into(), local_tag.into(), context.display().to_string()], None).await?;
    run(vec!["tag".into(), format!("{local_tag}:latest"), remote.clone()], None).await?;
    run(
        vec![
            "login".into(),
            "--username".into(),
            login.username.clone(),
            "--password-stdin".into(),
            login.host.clone(),
        ],
        Some(login.password.clone()),
    )
    .await?;
    let pushed = run(vec!["push".into(), remote.clone()], None).await;
    // The registry-named tag is only for the push: remove it so runs do not pile up `localhost:PORT/...` tags.
    let _ = run(vec!["rmi".into(), remote.clone()], None).await;
    let pushed = pushed?;
    // `latest: digest: sha256:... size: N`
    pushed
        .split_whitespace()
        .skip_while(|w| *w != "digest:")
        .nth(1)
        .map(str::to_owned)
        .ok_or_else(|| format!("docker push did not report a digest:\n{pushed}"))
}
