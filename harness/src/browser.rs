//! A real browser for the checks: headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`, through the `fantoccini` client).
//!
//! `CRTS_CHROMIUM` and `CRTS_CHROMEDRIVER` name the binaries when they are not on PATH as `chromium` /
//! `chromedriver`. Chromium resolves `*.localhost` to loopback by itself, so the emulator's website and
//! execute-api host forms work without DNS.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use tokio::process::{Child, Command};

/// Why there is no browser session: not installed here (checks are then skipped, never passed), or installed
/// but failing (checks fail).
#[derive(Debug, Clone)]
pub enum Unavailable {
    NotInstalled(String),
    Failed(String),
}

/// A headless Chromium session; the driver process is killed when this is dropped.
pub struct Browser {
    pub client: Client,
    _driver: Child,
}

/// Chromium and chromedriver as the swagger_browser check finds them, or why they are not installed.
pub fn installed() -> Result<(PathBuf, PathBuf), String> {
    let not_installed = |e: Unavailable| match e {
        Unavailable::NotInstalled(reason) | Unavailable::Failed(reason) => reason,
    };
    let chromium =
        find_binary("CRTS_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]).map_err(not_installed)?;
    let chromedriver = find_binary("CRTS_CHROMEDRIVER", &["chromedriver"]).map_err(not_installed)?;
    Ok((chromium, chromedriver))
}

/// Chromium's switches: headless, and nothing started that a check does not use (first-run
/// UI, extensions, component updates, background network fetches, GPU process), which is most of its start time.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    // Root in a container has no user namespace sandbox.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1280,1400",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-component-extensions-with-background-pages",
    "--disable-component-update",
    "--disable-background-networking",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--mute-audio",
    "--password-store=basic",
    "--use-mock-keychain",
    "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
];

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session through it. chromedriver gives
    /// each session a fresh profile in a temporary directory and removes it when the session ends (a profile
    /// directory of our own makes Chromium's shutdown slower, for nothing).
    pub async fn start() -> Result<Self, Unavailable> {
        let chromium = find_binary("CRTS_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"])?;
        let chromedriver = find_binary("CRTS_CHROMEDRIVER", &["chromedriver"])?;
        let started = Instant::now();
        let port = free_port().map_err(|e| Unavailable::Failed(format!("no free port for chromedriver: {e}")))?;
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Unavailable::Failed(format!("cannot start {}: {e}", chromedriver.display())))?;
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&url).await?;
        tracing::debug!("chromedriver ready in {} ms", started.elapsed().as_millis());
        let capabilities = json!({
            "browserName": "chrome",
            // `goto` returns once the document is parsed; the checks then wait for what they need on the page.
            "pageLoadStrategy": "eager",
            // The checks' scripts wait in the page for a response (a Lambda cold start included): WebDriver's
            // default of 30 s for a script is shorter than that wait.
            "timeouts": { "script": 120000 },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": CHROMIUM_ARGS,
                // chromedriver's verbose browser log, written for every run otherwise.
                "excludeSwitches": ["enable-logging"],
            },
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector).capabilities(capabilities).connect(&url).await.map_err(|e| {
            Unavailable::Failed(format!("chromedriver could not start Chromium ({}): {e}", chromium.display()))
        })?;
        tracing::debug!("Chromium session open in {} ms", started.elapsed().as_millis());
        Ok(Self { client, _driver: driver })
    }

    /// Ends the browser session (the driver goes with `self`).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// A browser started ahead of the check that uses it, so that Chromium's start (a third of a second or more)
/// overlaps the run's steps instead of adding to the run. Whoever takes it owns the browser until it gives it back
/// ([`Prestart::give_back`]): a run's check closes it then; `up` keeps it open for the next round of checks.
/// [`Prestart::finish`] closes a browser nobody took (a step failed, or the check was not run).
#[derive(Clone, Default)]
pub struct Prestart {
    slot: Arc<Mutex<Option<Slot>>>,
    /// Keep the browser between checks (`up`): the next check takes it ready.
    keep: bool,
}

/// A browser starting in the background, or one kept open.
enum Slot {
    Starting(tokio::task::JoinHandle<Result<Browser, Unavailable>>),
    Ready(Box<Browser>),
}

impl std::fmt::Debug for Prestart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prestart")
    }
}

impl Prestart {
    /// Starts a browser in the background; the check that takes it closes it.
    pub fn begin() -> Self {
        Self { slot: Arc::new(Mutex::new(Some(Slot::Starting(tokio::spawn(Browser::start()))))), keep: false }
    }

    /// Starts a browser in the background and keeps it open between checks, until [`Prestart::finish`].
    pub fn kept() -> Self {
        Self { keep: true, ..Self::begin() }
    }

    /// The browser started ahead (or kept), else one started now.
    pub async fn take(&self) -> Result<Browser, Unavailable> {
        let slot = self.slot.lock().ok().and_then(|mut slot| slot.take());
        match slot {
            Some(Slot::Ready(browser)) => Ok(*browser),
            Some(Slot::Starting(handle)) => handle
                .await
                .unwrap_or_else(|e| Err(Unavailable::Failed(format!("the browser start did not finish: {e}")))),
            None => Browser::start().await,
        }
    }

    /// A check is done with `browser`: kept for the next one, or closed.
    pub async fn give_back(&self, browser: Browser) {
        if self.keep
            && let Ok(mut slot) = self.slot.lock()
            && slot.is_none()
        {
            *slot = Some(Slot::Ready(Box::new(browser)));
            return;
        }
        browser.close().await;
    }

    /// Closes the browser started ahead or kept, if there is one.
    pub async fn finish(&self) {
        let slot = self.slot.lock().ok().and_then(|mut slot| slot.take());
        let browser = match slot {
            Some(Slot::Ready(browser)) => Some(*browser),
            Some(Slot::Starting(handle)) => handle.await.ok().and_then(Result::ok),
            None => None,
        };
        if let Some(browser) = browser {
            browser.close().await;
        }
    }
}

/// Swagger UI shows the API key it sends in its curl example, and in the Authorize dialog's field while it is
/// open: both are blanked on the page (its text only) before any screenshot is taken, so that no picture holds it.
pub async fn hide_api_keys(client: &Client) {
    const SCRIPT: &str = "for (const field of document.querySelectorAll('.modal-ux input')) { field.value = ''; }
        for (const block of document.querySelectorAll('.curl-command')) {
            const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                node.nodeValue = node.nodeValue.replace(/(x-api-key: *)[A-Za-z0-9]+/gi, '$1(the API key, not shown)');
            }
        }";
    if let Err(e) = client.execute(SCRIPT, Vec::new()).await {
        tracing::warn!("cannot hide the API key on the page: {e}");
    }
}

fn find_binary(variable: &str, names: &[&str]) -> Result<PathBuf, Unavailable> {
    if let Some(path) = std::env::var_os(variable).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Unavailable::NotInstalled(format!("no browser: {variable}={} does not exist", path.display())))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    Err(Unavailable::NotInstalled(format!(
        "no browser: {} not found on PATH (install Debian's chromium and chromium-driver, or set {variable})",
        names.join(" / ")
    )))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How long chromedriver may take to answer (a busy machine included), and how often it is asked: it answers
/// within a few milliseconds of starting, so the wait ends about then.
const DRIVER_READY: Duration = Duration::from_secs(20);
const DRIVER_POLL: Duration = Duration::from_millis(5);

async fn wait_until_ready(url: &str) -> Result<(), Unavailable> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < DRIVER_READY {
        if let Ok(response) = http.get(format!("{url}/status")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(DRIVER_POLL).await;
    }
    Err(Unavailable::Failed(format!("chromedriver did not answer on {url} within {} s", DRIVER_READY.as_secs())))
}
