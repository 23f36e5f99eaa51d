//! Which Python runs a function, and making sure it has boto3 installed.
//!
//! Preference: the configured interpreter (`CRTS_PYTHON`), else one matching the runtime (`python3.8` for
//! `python3.8`, found on PATH or under pyenv), else `python3`. If it lacks boto3, a virtualenv is made in the
//! cache directory and boto3 pip-installed there, once per interpreter version (unless offline).
//! Creation happens in a temporary directory renamed into place, so concurrent emulators (tests, `serve`)
//! never see a half-made environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tokio::process::Command;
use tokio::sync::Mutex;

use crate::config::LambdaConfig;

/// An interpreter ready to run handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub python: PathBuf,
    /// One line for users: which interpreter, why, and where boto3 comes from.
    pub description: String,
}

/// Resolved interpreters per runtime, shared by every emulator in the process (provisioning is slow and the
/// result does not depend on the instance beyond its configuration).
type Cache = Mutex<HashMap<(String, LambdaConfigKey), Arc<Interpreter>>>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LambdaConfigKey {
    python: Option<PathBuf>,
    cache_dir: PathBuf,
    offline: bool,
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The interpreter for `runtime` (e.g. `python3.8`), provisioning boto3 if needed. Errors are messages for
/// users that say what to do.
pub async fn resolve(config: &LambdaConfig, runtime: &str) -> Result<Arc<Interpreter>, String> {
    let key =
        LambdaConfigKey { python: config.python.clone(), cache_dir: config.cache_dir.clone(), offline: config.offline };
    let mut resolved = cache().lock().await;
    if let Some(interpreter) = resolved.get(&(runtime.to_owned(), key.clone())) {
        return Ok(Arc::clone(interpreter));
    }
    // Failures are not remembered: the user may fix them (install boto3) while the emulator runs.
    match find_and_provision(config, runtime).await {
        Ok(interpreter) => {
            tracing::info!("Lambda runtime {runtime}: {}", interpreter.description);
            let interpreter = Arc::new(interpreter);
            resolved.insert((runtime.to_owned(), key), Arc::clone(&interpreter));
            Ok(interpreter)
        }
        Err(message) => {
            tracing::error!("Lambda runtime {runtime}: {message}");
            Err(message)
        }
    }
}

async fn find_and_provision(config: &LambdaConfig, runtime: &str) -> Result<Interpreter, String> {
    let (python, why) = find(config, runtime).await?;
    if has_boto3(&python).await {
        return Ok(Interpreter { description: format!("{} ({why}; boto3 installed)", python.display()), python });
    }
    let version = version_of(&python).await.unwrap_or_else(|| "unknown".to_owned());
    let venv = config.cache_dir.join(format!("venv-python{version}"));
    let venv_python = venv.join("bin").join("python");
    if has_boto3(&venv_python).await {
        return Ok(Interpreter {
            description: format!("{} ({why}; boto3 from the managed virtualenv {})", python.display(), venv.display()),
            python: venv_python,
        });
    }
    let fix =
        format!("run `{} -m pip install boto3`, or set CRTS_PYTHON to an interpreter that has boto3", python.display());
    if config.offline {
        return Err(format!(
            "boto3 is not importable by {} and CRTS_OFFLINE is set: {fix}, or unset CRTS_OFFLINE to let crts-emulator install it in {}",
            python.display(),
            config.cache_dir.display()
        ));
    }
    tracing::warn!(
        "boto3 is not importable by {}: installing it into {} (once; set CRTS_OFFLINE=1 to forbid)",
        python.display(),
        venv.display()
    );
    provision(&python, &venv)
        .await
        .map_err(|e| format!("installing boto3 for {} failed: {e}; {fix}", python.display()))?;
    Ok(Interpreter {
        description: format!(
            "{} ({why}; boto3 installed into the managed virtualenv {})",
            python.display(),
            venv.display()
        ),
        python: venv_python,
    })
}

/// The configured interpreter, one matching the runtime, or `python3`; with the reason it was chosen.
async fn find(config: &LambdaConfig, runtime: &str) -> Result<(PathBuf, String), String> {
    if let Some(python) = &config.python {
        return if runs(python).await {
            Ok((python.clone(), "configured by CRTS_PYTHON".to_owned()))
        } else {
            Err(format!("the configured interpreter {} does not run (check CRTS_PYTHON)", python.display()))
        };
    }
    let exact = PathBuf::from(runtime);
    if runs(&exact).await {
        return Ok((which(runtime).unwrap_or(exact), format!("matches the runtime {runtime}")));
    }
    for candidate in pyenv_candidates(runtime) {
        if runs(&candidate).await {
            return Ok((candidate, format!("matches the runtime {runtime} (pyenv)")));
        }
    }
    let fallback = PathBuf::from("python3");
    if runs(&fallback).await {
        let version = version_of(&fallback).await.unwrap_or_default();
        return Ok((
            which("python3").unwrap_or(fallback),
            format!("no {runtime} found, using python3 (Python {version}) instead"),
        ));
    }
    Err(format!("no Python interpreter found for {runtime}: install {runtime} or python3, or set CRTS_PYTHON"))
}

/// `$PYENV_ROOT/versions/3.8*/bin/python3.8` for `python3.8`, newest first.
fn pyenv_candidates(runtime: &str) -> Vec<PathBuf> {
    let Some(version) = runtime.strip_prefix("python") else { return Vec::new() };
    let root = std::env::var_os("PYENV_ROOT").map(PathBuf::from).or_else(|| dirs::home_dir().map(|h| h.join(".pyenv")));
    let Some(versions) = root.map(|r| r.join("versions")) else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(&versions) else { return Vec::new() };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("{version}.")))
        .map(|e| e.path().join("bin").join(runtime))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.reverse();
    found
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// Whether the interpreter starts at all (pyenv shims of unselected versions exist but fail).
async fn runs(python: &Path) -> bool {
    python_ok(python, "import sys").await
}

/// Whether boto3 and botocore are installed for the interpreter (found on its import path). Importing them would
/// take a quarter of a second each time an emulator starts; the runtime imports them anyway (a spare does at once,
/// see [`super::spare`]), and a broken install fails there with the import's own error.
async fn has_boto3(python: &Path) -> bool {
    python_ok(
        python,
        "import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ('boto3', 'botocore')))",
    )
    .await
}

async fn python_ok(python: &Path, code: &str) -> bool {
    Command::new(python)
        .args(["-c", code])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// `3.8` for a Python 3.8.x interpreter.
async fn version_of(python: &Path) -> Option<String> {
    let out =
        Command::new(python).args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).output().await.ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Makes `venv` with boto3: built in a temporary sibling, then renamed into place (another process may win
/// the race; then its environment is used).
async fn provision(python: &Path, venv: &Path) -> Result<(), String> {
    let parent = venv.parent().ok_or("the cache directory has no parent")?;
    tokio::fs::create_dir_all(parent).await.map_err(|e| format!("creating {}: {e}", parent.display()))?;
    let temporary = parent.join(format!(
        "{}.tmp-{}-{}",
        venv.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id(),
        crate::identity::random_lower_alnum(6)
    ));
    let result = async {
        run(Command::new(python).arg("-m").arg("venv").arg(&temporary)).await?;
        let temporary_python = temporary.join("bin").join("python");
        run(Command::new(&temporary_python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "boto3",
        ]))
        .await?;
        Ok::<_, String>(())
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_dir_all(&temporary).await;
        return Err(e);
    }
    if tokio::fs::rename(&temporary, venv).await.is_err() {
        // Someone else finished first: theirs is as good as ours.
        let _ = tokio::fs::remove_dir_all(&temporary).await;
        if !has_boto3(&venv.join("bin").join("python")).await {
            return Err(format!(
                "{} exists but boto3 is not installed for its python; delete it to retry",
                venv.display()
            ));
        }
    }
    Ok(())
}

async fn run(command: &mut Command) -> Result<(), String> {
    let out = command.output().await.map_err(|e| format!("{command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: String =
            stderr.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        Err(format!("{command:?} exited with {}: {tail}", out.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_configured_interpreter_is_a_clear_error() {
        let config = LambdaConfig { python: Some(PathBuf::from("/nonexistent/python")), ..LambdaConfig::default() };
        let err = resolve(&config, "python3.8").await.expect_err("no such interpreter");
        assert!(err.contains("/nonexistent/python does not run (check CRTS_PYTHON)"), "{err}");
    }

    #[tokio::test]
    async fn offline_without_boto3_says_what_to_do() {
        // An interpreter that runs but can never import boto3: Python in isolated mode with no site-packages.
        let dir = tempfile_dir();
        let fake = dir.join("python-without-boto3");
        std::fs::write(&fake, "#!/bin/sh\nexec python3 -S -I \"$@\"\n").expect("write shim");
        make_executable(&fake);
        let config = LambdaConfig {
            python: Some(fake.clone()),
            offline: true,
            cache_dir: dir.join("cache"),
            ..LambdaConfig::default()
        };
        let err = resolve(&config, "python3.8").await.expect_err("offline, no boto3");
        assert!(err.contains("boto3 is not importable by"), "{err}");
        assert!(err.contains("CRTS_OFFLINE"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("crts-interp-{}", crate::identity::random_lower_alnum(8)));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn make_executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let mut permissions = std::fs::metadata(path).expect("metadata").permissions();
        permissions.set_mode(0o755);
        std::fs::set_permissions(path, permissions).expect("chmod");
    }
}
