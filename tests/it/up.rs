//! `crts-harness up --watch` as a CRTS developer uses it: the Swagger page it serves answers "Execute" with a job
//! at once (no key typed), a saved edit of the Lambda code is what the next "Execute" runs, a broken edit is
//! reported while the stack keeps serving the last good code, and Ctrl-C ends it all (exit 0, no Lambda worker
//! left).
//!
//! `CRTS_UPDATE_DOCS=1` (see scripts/docs-screenshot) also writes the page's screenshot to docs/up-swagger.png.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crts_harness::browser::Browser;

use crate::prerequisites::{Prerequisite, require};
use crate::support::{children_of, harness_binary, repo_root, running};

/// `up` running, its standard output read line by line.
struct Up {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Everything it printed so far, for failure messages.
    seen: Vec<String>,
}

impl Up {
    /// The lines up to and including the first one `wanted` accepts (at most `limit` to wait).
    fn until(&mut self, limit: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        while let Some(left) = limit.checked_sub(started.elapsed()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("up did not print the line waited for within {limit:?}; it printed:\n{}", self.seen.join("\n"));
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Saves `text` as editors do: a new file renamed over the old one.
fn save(path: &std::path::Path, text: &str) {
    let new = path.with_extension("py.new");
    std::fs::write(&new, text).expect("write the new version");
    std::fs::rename(&new, path).expect("rename it over the old one");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// The Lambda's answer body, marked so that the page shows which code answered.
fn edited(source: &str, marker: &str) -> String {
    let anchor = r#""jobArn": submitted.get("jobArn")}"#;
    assert!(source.contains(anchor), "the fixture's response line changed: update this test");
    source.replace(anchor, &format!(r#""jobArn": submitted.get("jobArn"), "code": "{marker}"}}"#))
}

/// Waits until the page shows an element `css` selects (at most 60 s: a response may wait for a Lambda cold
/// start), then clicks it when `click` says so; returns its text.
async fn shown(browser: &Browser, css: &str, click: bool, what: &str) -> String {
    let script = format!(
        "new Promise((done, fail) => {{ const started = Date.now(); const look = () => {{
            const found = document.querySelector({css});
            if (found) {{ if ({click}) {{ found.click(); }} done(found.innerText); }}
            else if (Date.now() - started > 60000) {{ fail(new Error('not shown')); }}
            else {{ setTimeout(look, 20); }}
        }}; look(); }})",
        css = serde_json::to_string(css).expect("a selector")
    );
    match browser.evaluate(&script).await {
        Ok(text) => text.as_str().unwrap_or_default().to_owned(),
        Err(e) => panic!("the page never showed {what}: {e}"),
    }
}

/// Clears the response shown (if any), presses Execute, and returns what Swagger UI shows: status and body.
async fn execute(browser: &Browser) -> (String, String) {
    const CLEAR: &str = "new Promise((done) => { const clear = document.querySelector('button.btn-clear');
        if (clear) { clear.click(); }
        const gone = () => document.querySelector('.live-responses-table') ? setTimeout(gone, 20) : done(true);
        gone(); })";
    browser.evaluate(CLEAR).await.expect("Clear");
    shown(browser, "button.execute", true, "the Execute button").await;
    let status =
        shown(browser, ".live-responses-table tbody tr.response .response-col_status", false, "a response").await;
    let body = shown(
        browser,
        ".live-responses-table tbody tr.response .response-col_description pre.microlight",
        false,
        "the response body",
    )
    .await;
    (status.split_whitespace().next().unwrap_or_default().to_owned(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_a_swagger_page_that_executes_at_once_follows_edits_and_stops_on_ctrl_c() {
    require(&[Prerequisite::Browser]);
    let fixtures = tempfile::tempdir().expect("temporary directory");
    let code = fixtures.path().join("lambda_function.py");
    let source = std::fs::read_to_string(repo_root().join("fixtures/lambda/lambda_function.py")).expect("fixture");
    std::fs::write(&code, edited(&source, "first")).expect("copy of the Lambda code");
    // The developer's own scenario beside their code, as the README shows it.
    let scenario = fixtures.path().join("crts-local.yaml");
    let overlay = format!(
        "extends: {}\nname: crts-local\nvariables:\n  lambda_code: ./lambda_function.py\n",
        repo_root().join("scenarios/crts.yaml").display()
    );
    std::fs::write(&scenario, &overlay).expect("the developer's scenario");

    let port = free_port();
    let mut child = Command::new(harness_binary())
        .arg("up")
        .arg(&scenario)
        .args(["--port", &port.to_string(), "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start crts-harness up");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut up = Up { child, lines, seen: Vec::new() };

    // The first apply may install boto3 for the Lambda runtime (once per machine).
    up.until(Duration::from_secs(300), |l| l.starts_with("PASSED: 26/26 steps, 6/6 checks passed"));
    let site = up.until(Duration::from_secs(10), |l| l.trim_start().starts_with("Swagger site"));
    let site = site.split_whitespace().nth(2).expect("the site's URL").to_owned();
    assert_eq!(site, format!("http://cris-swagger-bucket.s3-website.localhost:{port}/"));
    let invoke = up.until(Duration::from_secs(5), |l| l.trim_start().starts_with("Invoke URL"));
    assert!(invoke.contains(&format!(".execute-api.localhost:{port}/default/crts")), "{invoke}");
    let exports = up.until(Duration::from_secs(5), |l| l.contains("export AWS_ENDPOINT_URL="));
    assert!(exports.contains(&format!("AWS_ENDPOINT_URL=http://127.0.0.1:{port}")), "{exports}");
    up.until(Duration::from_secs(5), |l| l.trim_start().starts_with("Stop") && l.contains("Ctrl-C"));

    // A developer's browser: open the page, the POST, "Try it out", "Execute". No key is typed.
    let browser = Browser::start().await.unwrap_or_else(|e| panic!("a headless Chromium: {e:?}"));
    browser.goto(&site).await.expect("open the Swagger site");
    shown(&browser, ".opblock-post .opblock-summary-control", true, "the POST operation").await;
    shown(&browser, "button.try-out__btn", true, "Try it out").await;
    // The Authorize button shows a closed lock once the page holds a key.
    shown(&browser, "button.authorize.locked", false, "the page authorised without a key typed").await;
    let (status, body) = execute(&browser).await;
    assert_eq!(status, "200", "{body}");
    assert!(body.contains("\"jobId\"") && body.contains("\"first\""), "{body}");
    if std::env::var_os("CRTS_UPDATE_DOCS").is_some_and(|v| v == "1") {
        // Execute and the response it got, in one picture.
        let scrolled = "document.querySelector('button.execute').scrollIntoView({ block: 'start' });";
        browser.evaluate(scrolled).await.expect("scroll to Execute");
        crts_harness::browser::hide_api_keys(&browser).await;
        let png = browser.screenshot().await.expect("a screenshot");
        std::fs::write(repo_root().join("docs/up-swagger.png"), png).expect("docs/up-swagger.png");
    }
    // The request log shows the click's request and the job it made.
    up.until(Duration::from_secs(10), |l| l.contains("POST") && l.contains("/default/crts") && l.contains(" 200 "));
    up.until(Duration::from_secs(30), |l| l.contains("job crts-smoke") && l.contains("→ SUCCEEDED"));

    // A saved edit: the steps that read the file are updated, the checks run again, the next Execute runs it.
    save(&code, &edited(&source, "second"));
    let updated = up.until(Duration::from_secs(30), |l| l.contains("lambda.function"));
    assert!(updated.contains("updated"), "{updated}");
    let checks = up.until(Duration::from_secs(60), |l| l.trim_start().starts_with("checks"));
    assert!(checks.contains("6/6 passed"), "{}", up.seen.join("\n"));
    let (status, body) = execute(&browser).await;
    assert_eq!(status, "200", "{body}");
    assert!(body.contains("\"second\""), "the new code answers: {body}");

    // A broken edit is reported, with the file and line; the stack keeps serving the last good code.
    save(&code, &format!("{}\ndef broken(:\n", edited(&source, "third")));
    let refused = up.until(Duration::from_secs(30), |l| l.contains("lambda.function"));
    assert!(refused.contains("NOT UPDATED") && refused.contains("SyntaxError"), "{refused}");
    let lines = source.lines().count() + 2;
    assert!(refused.contains(&format!("lambda_function.py, line {lines}")), "{refused}");
    let (status, body) = execute(&browser).await;
    assert_eq!(status, "200", "{body}");
    assert!(body.contains("\"second\""), "the last good code still answers: {body}");

    // A scenario that no longer loads is reported, naming the file; nothing changes.
    std::fs::write(&scenario, format!("{overlay}checks: [image\n")).expect("break the scenario");
    let refused = up.until(Duration::from_secs(30), |l| l.contains("NOT APPLIED"));
    assert!(refused.contains("crts-local.yaml"), "{refused}");
    let (status, body) = execute(&browser).await;
    assert_eq!(status, "200", "{body}");
    assert!(body.contains("\"second\""), "the stack still serves: {body}");

    // A change that cannot be made in place is refused, saying what to do, and stays refused while it is there
    // (a fixed handler waits for it); put back, the fixed handler is applied.
    std::fs::write(&scenario, format!("{overlay}  job_queue: crts-other-jq\n")).expect("rename the job queue");
    let refused = up.until(Duration::from_secs(30), |l| l.contains("NOT APPLIED"));
    assert!(
        refused.contains("batch.job-queue cannot be changed in place") && refused.contains("start it again"),
        "{refused}"
    );
    save(&code, &edited(&source, "fourth"));
    up.until(Duration::from_secs(30), |l| l.contains("NOT APPLIED") && l.contains("batch.job-queue"));
    std::fs::write(&scenario, &overlay).expect("put the scenario back");
    let updated = up.until(Duration::from_secs(30), |l| l.contains("lambda.function"));
    assert!(updated.contains("updated"), "{updated}");
    let checks = up.until(Duration::from_secs(60), |l| l.trim_start().starts_with("checks"));
    assert!(checks.contains("6/6 passed"), "{}", up.seen.join("\n"));
    let (status, body) = execute(&browser).await;
    assert_eq!(status, "200", "{body}");
    assert!(body.contains("\"fourth\""), "the fixed handler answers: {body}");
    browser.close().await;

    // Ctrl-C: exit 0, and every Lambda worker gone with it.
    let pid = up.child.id();
    let workers = children_of(pid);
    assert!(!workers.is_empty(), "up runs the handler in worker processes");
    let sent = Command::new("kill").args(["-INT", &pid.to_string()]).status().expect("kill -INT");
    assert!(sent.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = up.child.try_wait().expect("wait for up") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "up still runs 15 s after SIGINT");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "up exits 0 on Ctrl-C ({status:?})");
    assert_gone(workers);
}

/// Ctrl-C while the stack is still coming up: the step under way ends, no other starts, and everything the
/// steps started goes (exit 0, no Lambda worker left).
#[test]
fn up_stopped_while_it_starts_exits_0_and_leaves_no_worker() {
    let mut child = Command::new(harness_binary())
        .arg("up")
        .arg(repo_root().join("scenarios/crts.yaml"))
        .args(["--port", &free_port().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crts-harness up");
    let stderr = child.stderr.take().expect("piped stderr");
    let stdout = child.stdout.take().expect("piped stdout");
    let printed = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
    // By the function's step, a Python runtime for it runs: the spare up started with the emulator, which its first
    // invocation takes.
    let seen: Vec<String> = lines.by_ref().take_while(|l| !l.contains("step lambda.function: passed")).collect();
    let pid = child.id();
    let workers = children_of(pid);
    assert!(!workers.is_empty(), "the function's worker runs: {}", seen.join("\n"));
    let sent = Command::new("kill").args(["-INT", &pid.to_string()]).status().expect("kill -INT");
    assert!(sent.success());
    let rest: Vec<String> = lines.collect();
    let status = child.wait().expect("up exits");
    let report = printed.join().unwrap_or_default();
    assert!(status.success(), "up exits 0 on Ctrl-C ({status:?}): {}", rest.join("\n"));
    assert!(report.contains("not run   interrupted (Ctrl-C)"), "{report}");
    assert!(!report.contains("CRTS is up"), "{report}");
    assert_gone(workers);
}

/// Every process of `pids` is gone (killed processes take a moment to be), else which are left, by command line.
fn assert_gone(mut pids: Vec<u32>) {
    for _ in 0..60 {
        pids.retain(|pid| running(*pid));
        if pids.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<String> = pids
        .iter()
        .map(|pid| std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default().replace('\0', " "))
        .collect();
    panic!("still running 3 s after up exited: {left:?}");
}
