//! The real Swagger UI, obtained as a package at run time: the PyPI wheel `swagger-ui-bundle` (Swagger UI's
//! `dist` files), downloaded once, checked against its published SHA-256, and cached. Nothing of Swagger UI is
//! kept in this repository; our own `index.html` and initializer (fixtures/swagger/) load `crts-swagger.json`.
//!
//! - `CRTS_SWAGGER_UI_WHEEL=path`: use this wheel instead (air-gapped machines);
//! - `CRTS_CACHE_DIR`: where the wheel is cached (default `~/.cache/crts-harness`);
//! - `CRTS_OFFLINE=1`: never download; fail with what to do when the wheel is not cached.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use sha2::Digest as _;

/// The pinned package: name, version, URL on PyPI's file host, and its SHA-256 as PyPI publishes it.
const WHEEL: &str = "swagger_ui_bundle-1.1.0-py3-none-any.whl";
const WHEEL_URL: &str = "https://files.pythonhosted.org/packages/a2/66/8fb11445940bde7ca328d6aa23dd36b6056197d862f4bd6bb51c820c50e5/swagger_ui_bundle-1.1.0-py3-none-any.whl";
const WHEEL_SHA256: &str = "f7526f7bb99923e10594c54247265839bec97e96b0438561ac86faf40d40dd57";

/// The files of Swagger UI's `dist` a site needs (source maps and ES bundles are left out).
const DIST_FILES: &[&str] = &[
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-ui.css",
    "index.css",
    "favicon-16x16.png",
    "favicon-32x32.png",
    "oauth2-redirect.html",
];

/// Swagger UI's files, ready to upload.
#[derive(Debug, Clone)]
pub struct SwaggerUi {
    /// e.g. `4.15.5`.
    pub version: String,
    /// `(file name, bytes)`.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Finds (or downloads and caches) the wheel and reads Swagger UI's files out of it.
pub async fn obtain(http: &reqwest::Client) -> Result<SwaggerUi, String> {
    let wheel = match std::env::var_os("CRTS_SWAGGER_UI_WHEEL").filter(|p| !p.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => cached_wheel(http).await?,
    };
    let bytes = std::fs::read(&wheel).map_err(|e| format!("cannot read {}: {e}", wheel.display()))?;
    read_wheel(&bytes).map_err(|e| format!("{}: {e}", wheel.display()))
}

fn cache_dir() -> PathBuf {
    match std::env::var_os("CRTS_CACHE_DIR").filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => dirs::cache_dir().unwrap_or_else(std::env::temp_dir).join("crts-harness"),
    }
}

async fn cached_wheel(http: &reqwest::Client) -> Result<PathBuf, String> {
    let path = cache_dir().join(WHEEL);
    if path.is_file() && sha256_file(&path).as_deref() == Some(WHEEL_SHA256) {
        return Ok(path);
    }
    if std::env::var("CRTS_OFFLINE").is_ok_and(|v| !v.is_empty() && v != "0") {
        return Err(format!(
            "Swagger UI ({WHEEL}) is not cached at {} and CRTS_OFFLINE is set: run once online, or download {WHEEL_URL} and set CRTS_SWAGGER_UI_WHEEL to its path",
            path.display()
        ));
    }
    crate::progress::detail(format!("downloading Swagger UI ({WHEEL}) from PyPI into {}", path.display()));
    let download = async {
        let response = http.get(WHEEL_URL).send().await.map_err(|e| e.to_string())?;
        let response = response.error_for_status().map_err(|e| e.to_string())?;
        response.bytes().await.map_err(|e| e.to_string())
    };
    let bytes = download.await.map_err(|e| {
        format!("cannot download Swagger UI from {WHEEL_URL}: {e} (offline? set CRTS_SWAGGER_UI_WHEEL to a local copy)")
    })?;
    let digest = hex::encode(sha2::Sha256::digest(&bytes));
    if digest != WHEEL_SHA256 {
        return Err(format!("{WHEEL_URL} has SHA-256 {digest}, expected {WHEEL_SHA256}: refusing to use it"));
    }
    write_atomically(&path, &bytes).map_err(|e| format!("cannot cache Swagger UI at {}: {e}", path.display()))?;
    Ok(path)
}

fn sha256_file(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|bytes| hex::encode(sha2::Sha256::digest(&bytes)))
}

/// Writes next to the destination and renames, so a concurrent run never reads half a wheel.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".{WHEEL}.{}", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}

/// Swagger UI's files from `swagger_ui_bundle/vendor/swagger-ui-<version>/` in the wheel.
fn read_wheel(bytes: &[u8]) -> Result<SwaggerUi, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not a wheel: {e}"))?;
    let prefix = archive
        .file_names()
        .find_map(|name| {
            let name = name.ok()?;
            let rest = name.strip_prefix("swagger_ui_bundle/vendor/swagger-ui-")?;
            let version = rest.split('/').next()?;
            Some(format!("swagger_ui_bundle/vendor/swagger-ui-{version}/"))
        })
        .ok_or("no swagger_ui_bundle/vendor/swagger-ui-*/ folder in the wheel")?;
    let version = prefix.trim_end_matches('/').rsplit("swagger-ui-").next().unwrap_or("").to_owned();
    let mut files = Vec::with_capacity(DIST_FILES.len());
    for name in DIST_FILES {
        let mut entry = archive.by_name(&format!("{prefix}{name}")).map_err(|e| format!("{prefix}{name}: {e}"))?;
        let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry.read_to_end(&mut data).map_err(|e| format!("{prefix}{name}: {e}"))?;
        files.push(((*name).to_owned(), data));
    }
    Ok(SwaggerUi { version, files })
}

/// The Content-Type S3 should serve a site file with.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html",
        "js" => "application/javascript",
        "css" => "text/css",
        "json" | "map" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain",
        "yaml" | "yml" => "application/yaml",
        _ => "application/octet-stream",
    }
}
