//! A real browser for the checks: headless Chromium (Debian's `chromium`) driven over the Chrome DevTools
//! Protocol, on the pipe Chromium reads with `--remote-debugging-pipe` (commands on its descriptor 3, answers and
//! events on its descriptor 4, each message ended by a NUL byte). Chromium ends when that pipe closes, so it never
//! outlives this process, however this process ends (a second Ctrl-C, a kill).
//!
//! The checks need five of the protocol's commands (open a page, wait for its document, run a script in it and
//! wait for its promise, take a screenshot, close), so they are spoken here rather than through a WebDriver server
//! (chromedriver: a second program to install, and half a second of CPU a session on a two-core machine) or a
//! client crate generated from the whole protocol (minutes of build for those five).
//!
//! `CRTS_CHROMIUM` names the binary when it is not on PATH as `chromium` (or `chromium-browser`,
//! `google-chrome`). Chromium resolves `*.localhost` to loopback by itself, so the emulator's website and
//! execute-api host forms work without DNS.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt as _, FdMapping};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::unix::pipe;
use tokio::process::{Child, Command};
use tokio::sync::{broadcast, oneshot};

/// Why there is no browser session: not installed here (checks are then skipped, never passed), or installed
/// but failing (checks fail).
#[derive(Debug, Clone)]
pub enum Unavailable {
    NotInstalled(String),
    Failed(String),
}

/// Chromium as the swagger_browser check finds it, or why it is not installed.
pub fn installed() -> Result<PathBuf, String> {
    find_binary("CRTS_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]).map_err(|e| match e {
        Unavailable::NotInstalled(reason) | Unavailable::Failed(reason) => reason,
    })
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
    // The DevTools Protocol on descriptors 3 and 4.
    "--remote-debugging-pipe",
    "about:blank",
];

/// How long Chromium may take to answer its first command (a busy machine included).
const START_WAIT: Duration = Duration::from_secs(30);
/// How long a protocol command may take: a script waits in the page for a response (a Lambda cold start
/// included), and says itself when something never appeared.
const COMMAND_WAIT: Duration = Duration::from_secs(120);
/// How long a page's document may take to be parsed after the navigation.
const DOCUMENT_WAIT: Duration = Duration::from_secs(30);

/// A headless Chromium with one page; the process is killed, and its profile removed, when this is dropped.
pub struct Browser {
    devtools: DevTools,
    /// The page's session on the browser's connection.
    page: String,
    chromium: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with a fresh profile in a temporary directory, speaks the DevTools Protocol with it on its
    /// pipe (descriptors 3 and 4) and attaches to its page.
    pub async fn start() -> Result<Self, Unavailable> {
        let chromium = find_binary("CRTS_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"])?;
        let started = Instant::now();
        let failed = |what: String| Unavailable::Failed(format!("{what} ({})", chromium.display()));
        let profile = tempfile::Builder::new()
            .prefix("crts-chromium-")
            .tempdir()
            .map_err(|e| failed(format!("no temporary profile directory: {e}")))?;
        let (commands, their_commands) = std::io::pipe().map_err(|e| failed(format!("no pipe: {e}")))?;
        let (their_answers, answers) = std::io::pipe().map_err(|e| failed(format!("no pipe: {e}")))?;
        let mut command = Command::new(&chromium);
        command
            .args(CHROMIUM_ARGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .fd_mappings(vec![
                FdMapping { parent_fd: commands.into(), child_fd: 3 },
                FdMapping { parent_fd: answers.into(), child_fd: 4 },
            ])
            .map_err(|e| failed(format!("cannot give Chromium its pipe: {e}")))?;
        let mut child = command.spawn().map_err(|e| failed(format!("cannot start Chromium: {e}")))?;
        // Chromium's ends of the pipes are its own now: closing ours here lets each side see the other end.
        drop(command);
        let said = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(keep_what_it_says(stderr, Arc::clone(&said)));
        }
        let connected = async {
            let devtools = DevTools::over(their_commands, their_answers)?;
            let page = devtools.attach_page().await?;
            Ok::<_, String>((devtools, page))
        };
        let connected = tokio::time::timeout(START_WAIT, connected)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {START_WAIT:?}")));
        match connected {
            Ok((devtools, page)) => {
                tracing::debug!("Chromium ready in {} ms", started.elapsed().as_millis());
                Ok(Self { devtools, page, chromium: child, _profile: profile })
            }
            Err(error) => {
                // Ended and waited for before its profile is removed (its processes may still be writing there).
                // A Chromium that closed its pipe is ending by itself: its exit status says how.
                let exited =
                    tokio::time::timeout(Duration::from_millis(500), child.wait()).await.ok().and_then(Result::ok);
                let _ = child.start_kill();
                let _ = child.wait().await;
                // What it printed arrives with its end.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let said = lock(&said).join(" | ");
                Err(failed(match exited {
                    Some(status) => format!("Chromium did not start: it exited ({status}): {said}"),
                    None => format!("Chromium did not start: {error}; it said: {said}"),
                }))
            }
        }
    }

    /// Opens `url` and waits until its document is parsed (its scripts run); an error when the page cannot be
    /// reached at all (connection refused, unknown host).
    pub async fn goto(&self, url: &str) -> Result<(), String> {
        let mut events = self.devtools.events.subscribe();
        let navigated = self.command("Page.navigate", json!({ "url": url })).await?;
        if let Some(error) = navigated["errorText"].as_str().filter(|e| !e.is_empty()) {
            return Err(format!("{url}: {error}"));
        }
        let parsed = async {
            loop {
                match events.recv().await {
                    Ok(event) if event["method"] == "Page.domContentEventFired" && event["sessionId"] == *self.page => {
                        return Ok(());
                    }
                    Ok(event) if event["method"] == CONNECTION_ENDED => {
                        return Err("the browser went away".to_owned());
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return Err("the browser went away".to_owned()),
                }
            }
        };
        tokio::time::timeout(DOCUMENT_WAIT, parsed)
            .await
            .map_err(|_| format!("{url}: the document was not parsed within {DOCUMENT_WAIT:?}"))?
    }

    /// Evaluates `expression` in the page; a promise is waited for. Its value (as JSON), or what it threw.
    pub async fn evaluate(&self, expression: &str) -> Result<Value, String> {
        let answer = self
            .command(
                "Runtime.evaluate",
                json!({ "expression": expression, "awaitPromise": true, "returnByValue": true, "userGesture": true }),
            )
            .await?;
        if let Some(thrown) = answer.get("exceptionDetails") {
            let what = thrown["exception"]["description"].as_str().or_else(|| thrown["text"].as_str());
            return Err(format!("the page's script failed: {}", what.unwrap_or("(no description)")));
        }
        Ok(answer["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    /// The page as a PNG.
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        let shot = self.command("Page.captureScreenshot", json!({ "format": "png" })).await?;
        let data = shot["data"].as_str().ok_or("the screenshot came without data")?;
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).map_err(|e| e.to_string())
    }

    /// Ends Chromium (asked to close, then killed if it does not) and removes its profile.
    pub async fn close(mut self) {
        let _ =
            tokio::time::timeout(Duration::from_secs(2), self.devtools.call("Browser.close", json!({}), None)).await;
        if tokio::time::timeout(Duration::from_secs(3), self.chromium.wait()).await.is_err() {
            let _ = self.chromium.start_kill();
            let _ = self.chromium.wait().await;
        }
    }

    async fn command(&self, method: &str, params: Value) -> Result<Value, String> {
        self.devtools.call(method, params, Some(&self.page)).await
    }
}

/// Keeps the last lines Chromium prints on its error output (for a start that fails), reading all of it, so that
/// Chromium never blocks on a full pipe.
async fn keep_what_it_says(stderr: tokio::process::ChildStderr, said: Arc<Mutex<Vec<String>>>) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).await.is_ok_and(|read| read > 0) {
        let mut kept = lock(&said);
        if kept.len() == 20 {
            kept.remove(0);
        }
        kept.push(String::from_utf8_lossy(&line).trim().to_owned());
        line.clear();
    }
}

/// The event the connection publishes when it ends: whoever waits for an event learns that the browser is gone.
const CONNECTION_ENDED: &str = "crts.connectionEnded";

/// The commands sent and not yet answered, by id: where each answer goes.
type Pending = Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>;

/// One DevTools connection: commands answered by id, events broadcast to whoever waits for one.
struct DevTools {
    outgoing: tokio::sync::mpsc::UnboundedSender<String>,
    pending: Arc<Pending>,
    events: broadcast::Sender<Value>,
    next_id: AtomicU64,
    _connection: tokio::task::JoinHandle<()>,
}

impl DevTools {
    /// The connection on Chromium's pipe: `commands` is what it reads, `answers` what it writes.
    fn over(commands: std::io::PipeWriter, answers: std::io::PipeReader) -> Result<Self, String> {
        let mut sink = pipe::Sender::from_owned_fd(commands.into()).map_err(|e| e.to_string())?;
        let mut stream = BufReader::new(pipe::Receiver::from_owned_fd(answers.into()).map_err(|e| e.to_string())?);
        let (outgoing, mut queue) = tokio::sync::mpsc::unbounded_channel::<String>();
        let pending: Arc<Pending> = Arc::default();
        let (events, _) = broadcast::channel(256);
        let (waiting, published) = (Arc::clone(&pending), events.clone());
        let connection = tokio::spawn(async move {
            let mut message = Vec::new();
            loop {
                tokio::select! {
                    command = queue.recv() => match command {
                        Some(mut command) => {
                            command.push('\0');
                            if sink.write_all(command.as_bytes()).await.is_err() { break }
                        }
                        None => break,
                    },
                    read = stream.read_until(0, &mut message) => match read {
                        Ok(read) if read > 0 => {
                            dispatch(&String::from_utf8_lossy(message.strip_suffix(b"\0").unwrap_or(&message)), &waiting, &published);
                            message.clear();
                        }
                        _ => break,
                    },
                }
            }
            // Whoever still waits learns that the browser is gone; nothing more is sent.
            queue.close();
            let _ = published.send(json!({ "method": CONNECTION_ENDED }));
            for (_, waiting) in lock(&waiting).drain() {
                let _ = waiting.send(Err("the browser closed its DevTools connection".to_owned()));
            }
        });
        Ok(Self { outgoing, pending, events, next_id: AtomicU64::new(1), _connection: connection })
    }

    /// The page Chromium opened with (`about:blank`), attached in flat mode: its commands carry its session id.
    async fn attach_page(&self) -> Result<String, String> {
        let targets = self.call("Target.getTargets", json!({}), None).await?;
        let page = targets["targetInfos"].as_array().and_then(|all| all.iter().find(|t| t["type"] == "page"));
        let target = match page {
            Some(page) => page["targetId"].clone(),
            None => self.call("Target.createTarget", json!({ "url": "about:blank" }), None).await?["targetId"].clone(),
        };
        let attached = self.call("Target.attachToTarget", json!({ "targetId": target, "flatten": true }), None).await?;
        let session = attached["sessionId"].as_str().ok_or("Chromium gave no session for the page")?.to_owned();
        // Page events (a document parsed) are what `goto` waits for.
        self.call("Page.enable", json!({}), Some(&session)).await?;
        Ok(session)
    }

    async fn call(&self, method: &str, params: Value, session: Option<&str>) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let (answer, answered) = oneshot::channel();
        lock(&self.pending).insert(id, answer);
        if self.outgoing.send(message.to_string()).is_err() {
            lock(&self.pending).remove(&id);
            return Err("the browser is gone".to_owned());
        }
        match tokio::time::timeout(COMMAND_WAIT, answered).await {
            Ok(Ok(answer)) => answer.map_err(|e| format!("{method}: {e}")),
            Ok(Err(_)) => Err(format!("{method}: the browser is gone")),
            Err(_) => {
                lock(&self.pending).remove(&id);
                Err(format!("{method}: no answer within {COMMAND_WAIT:?}"))
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A message from Chromium: the answer to a command (by its id), or an event.
fn dispatch(text: &str, pending: &Pending, events: &broadcast::Sender<Value>) {
    let Ok(message) = serde_json::from_str::<Value>(text) else { return };
    match message["id"].as_u64() {
        Some(id) => {
            if let Some(waiting) = lock(pending).remove(&id) {
                let answer = match message.get("error") {
                    Some(error) => Err(error["message"].as_str().unwrap_or("an error").to_owned()),
                    None => Ok(message["result"].clone()),
                };
                let _ = waiting.send(answer);
            }
        }
        None => {
            let _ = events.send(message);
        }
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

/// A browser starting in the background, one kept open, or one closing in the background.
enum Slot {
    Starting(tokio::task::JoinHandle<Result<Browser, Unavailable>>),
    Ready(Box<Browser>),
    Closing(tokio::task::JoinHandle<()>),
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
            Some(Slot::Closing(handle)) => {
                let _ = handle.await;
                Browser::start().await
            }
            None => Browser::start().await,
        }
    }

    /// A check is done with `browser`: kept for the next one, or closed in the background (the run's other
    /// checks go on meanwhile; [`Prestart::finish`] waits for it).
    pub async fn give_back(&self, browser: Browser) {
        let unused = {
            let mut slot = lock(&self.slot);
            match &*slot {
                None if self.keep => {
                    *slot = Some(Slot::Ready(Box::new(browser)));
                    None
                }
                None => {
                    *slot = Some(Slot::Closing(tokio::spawn(browser.close())));
                    None
                }
                Some(_) => Some(browser),
            }
        };
        if let Some(browser) = unused {
            browser.close().await;
        }
    }

    /// Closes the browser started ahead or kept, if there is one.
    pub async fn finish(&self) {
        let slot = self.slot.lock().ok().and_then(|mut slot| slot.take());
        let browser = match slot {
            Some(Slot::Ready(browser)) => Some(*browser),
            Some(Slot::Starting(handle)) => handle.await.ok().and_then(Result::ok),
            Some(Slot::Closing(handle)) => {
                let _ = handle.await;
                None
            }
            None => None,
        };
        if let Some(browser) = browser {
            browser.close().await;
        }
    }
}

/// Swagger UI shows the API key it sends in its curl example, and in the Authorize dialog's field while it is
/// open: both are blanked on the page (its text only) before any screenshot is taken, so that no picture holds it.
pub async fn hide_api_keys(browser: &Browser) {
    const SCRIPT: &str = "for (const field of document.querySelectorAll('.modal-ux input')) { field.value = ''; }
        for (const block of document.querySelectorAll('.curl-command')) {
            const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                node.nodeValue = node.nodeValue.replace(/(x-api-key: *)[A-Za-z0-9]+/gi, '$1(the API key, not shown)');
            }
        }";
    if let Err(e) = browser.evaluate(SCRIPT).await {
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
        "no browser: {} not found on PATH (install Debian's chromium, or set {variable})",
        names.join(" / ")
    )))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_goes_to_its_command_and_an_event_to_everyone_waiting() {
        let pending = Pending::default();
        let (events, mut received) = broadcast::channel(4);
        let (answer, mut answered) = oneshot::channel();
        let (refusal, mut refused) = oneshot::channel();
        lock(&pending).insert(7, answer);
        lock(&pending).insert(8, refusal);
        dispatch(r#"{"method":"Page.domContentEventFired","params":{},"sessionId":"S"}"#, &pending, &events);
        dispatch(r#"{"id":7,"result":{"frameId":"F"}}"#, &pending, &events);
        dispatch(r#"{"id":8,"error":{"code":-32000,"message":"Cannot navigate to invalid URL"}}"#, &pending, &events);
        dispatch("not JSON", &pending, &events);
        assert_eq!(received.try_recv().expect("the event")["method"], "Page.domContentEventFired");
        assert!(received.try_recv().is_err(), "answers are not events");
        assert_eq!(answered.try_recv().expect("answered"), Ok(json!({"frameId": "F"})));
        assert_eq!(refused.try_recv().expect("answered"), Err("Cannot navigate to invalid URL".to_owned()));
        assert!(lock(&pending).is_empty());
    }
}
