//! swagger_browser: what the runbook's last figures show, done by a real browser. Headless Chromium opens the
//! Swagger page from the bucket website, authorises with the API key, and uses "Try it out" → "Execute" on the
//! job-trigger POST: the page must show 200 with a jobId; with a wrong key it must show 403. A screenshot of each
//! is saved in the report directory, when there is one.

use std::time::{Duration, Instant};

use super::settings::Section;
use super::{Check, CheckSettings, Observation, Skip};
use crate::browser::{Browser, Unavailable};
use crate::context::{RunContext, SideEffect};
use crate::targets::capabilities::Capability;

/// How long one page element may take to appear (Swagger UI renders after fetching the definition).
const ELEMENT_WAIT: Duration = Duration::from_secs(10);
/// How long "Execute" may take to show a response (a Lambda cold start included).
const RESPONSE_WAIT: Duration = Duration::from_secs(60);

pub struct SwaggerBrowser;

impl Check for SwaggerBrowser {
    const REQUIRES: &'static [Capability] = &[Capability::LambdaExecution];
    const NEEDS: &'static [Section] = &[Section::Api, Section::Swagger, Section::Trigger];
    const SIDE_EFFECT: Option<SideEffect> = Some(SideEffect::SubmitsAnotherJob);

    fn iam_actions(_trigger_job: bool) -> &'static [&'static str] {
        &[]
    }

    async fn run(ctx: &RunContext, settings: &CheckSettings) -> Result<Vec<Observation>, Skip> {
        observe(ctx, settings).await
    }
}

async fn observe(ctx: &RunContext, settings: &CheckSettings) -> Result<Vec<Observation>, Skip> {
    let (Some(api), Some(swagger), Some(trigger)) = (&settings.api, &settings.swagger, &settings.trigger) else {
        return Ok(vec![Observation::new("settings", "api, swagger and trigger settings", "missing", false)]);
    };
    let browser = match ctx.browser.take().await {
        Ok(browser) => browser,
        Err(Unavailable::NotInstalled(reason)) => return Err(Skip(reason)),
        Err(Unavailable::Failed(reason)) => {
            return Ok(vec![Observation::new("browser", "headless Chromium", reason, false)]);
        }
    };
    let started = Instant::now();
    let key = ctx.facts.api_keys.get(&api.api_key).map(|k| k.value.clone()).unwrap_or_default();
    let page = format!("{}/", ctx.target.website_url(&swagger.bucket));
    let body = serde_json::to_string_pretty(&trigger.body).unwrap_or_default();
    let mut out = Vec::new();
    // Whether the page shows the operation in "Try it out" with the body filled and a response: the next case
    // then only authorises again and executes again, on the same page.
    let mut opened = false;
    for (label, key, expect_ok) in [("API key", key.as_str(), true), ("wrong API key", "not-the-crts-key", false)] {
        let what = format!("Swagger UI Execute with the {label}");
        let expected = if expect_ok { "200 with a jobId" } else { "403 Forbidden" };
        let shown = if opened {
            execute_again(&browser, key).await
        } else {
            try_it_out(&browser, &page, &api.path, key, &body).await
        };
        opened = shown.is_ok();
        tracing::debug!("swagger_browser: Execute with the {label} shown at {} ms", started.elapsed().as_millis());
        match shown {
            Ok(shown) => {
                let ok = if expect_ok {
                    shown.status == "200" && shown.body.contains("\"jobId\"")
                } else {
                    shown.status == "403" && shown.body.contains("Forbidden")
                };
                let actual =
                    if ok { expected.to_owned() } else { shown.summary(&ctx.target.account_id, &ctx.target.region) };
                out.push(Observation::new(what, expected, actual, ok));
            }
            Err(e) => out.push(Observation::new(what, expected, e, false)),
        }
        save_screenshot(
            ctx,
            &browser,
            if expect_ok { "swagger-browser-api-key.png" } else { "swagger-browser-wrong-key.png" },
        )
        .await;
    }
    // A browser that failed to show the page may be broken: the next round starts a new one.
    if opened {
        ctx.browser.give_back(browser).await;
    } else {
        browser.close().await;
    }
    tracing::debug!("swagger_browser: done at {} ms", started.elapsed().as_millis());
    Ok(out)
}

/// What Swagger UI shows under "Server response".
struct Shown {
    status: String,
    body: String,
}

impl Shown {
    /// `403 {"message":"Forbidden"}` or `Undocumented Failed to fetch.` (what a CORS refusal looks like). The
    /// account and region are replaced before the body is cut, so a cut never leaves part of them to compare.
    fn summary(&self, account_id: &str, region: &str) -> String {
        let body = crate::report::Normalizer::new(account_id, region).text(&self.body);
        let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let body = if body.len() > 120 {
            format!("{}...", &body[..body.char_indices().nth(117).map_or(body.len(), |(i, _)| i)])
        } else {
            body
        };
        format!("{} {body}", self.status).trim().to_owned()
    }
}

/// Runs `script` in the page with `args`, `until(what, find, then)` (looks for what `find` returns every 5 ms, in
/// the page itself, each wait for at most `ELEMENT_WAIT`, or `RESPONSE_WAIT` when waiting for a response) and
/// `done(value)` to answer. The page's own buttons are pressed with their click handlers: one round trip to the
/// browser for a whole sequence, where a round trip per button costs tens of milliseconds on a busy machine.
async fn in_page(browser: &Browser, script: &str, args: Vec<serde_json::Value>) -> Result<serde_json::Value, String> {
    const PRELUDE: &str = "const q = (css) => document.querySelector(css);
        // When each wait ended, in ms since the page started loading (debug log).
        const marks = [];
        const fail = (why) => done({ error: why, marks });
        const until = (what, find, then, limit) => {
            const started = Date.now();
            const look = () => {
                let found = null;
                try { found = find(); } catch (e) { fail(what + ': ' + e); return; }
                if (found) { marks.push(what + ' ' + Math.round(performance.now())); try { then(found); } catch (e) { fail(what + ': ' + e); } }
                else if (Date.now() - started > (limit || ELEMENT_WAIT)) { fail('the page never showed ' + what); }
                else { setTimeout(look, 5); }
            };
            look();
        };
        const fill = (field, text) => {
            const proto = field instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
            Object.getOwnPropertyDescriptor(proto, 'value').set.call(field, text);
            field.dispatchEvent(new Event('input', { bubbles: true }));
            if (field.value !== text) { throw new Error('the field holds something else after filling it'); }
        };
        const LOGOUT = '.modal-ux .auth-btn-wrapper button.auth:not(.authorize):not(.btn-done)';
        const authorize = (key, then) => {
            until('the Authorize button', () => q('button.authorize'), (open) => {
                open.click();
                until('the Authorize dialog', () => q('.modal-ux .auth-btn-wrapper button'), () => {
                    const logout = q(LOGOUT);
                    if (logout) { logout.click(); }
                    until('the API key field', () => q('.modal-ux input[type=text]'), (field) => {
                        fill(field, key);
                        q('.modal-ux .auth-btn-wrapper button.authorize').click();
                        until('Logout (the key taken)', () => q(LOGOUT), () => {
                            q('.modal-ux button.btn-done').click();
                            until('the Authorize dialog closed', () => !q('.modal-ux'), then);
                        });
                    });
                });
            });
        };
        const CELL = '.live-responses-table tbody tr.response';
        const execute = () => {
            q('button.execute').click();
            until('a server response', () => q(CELL + ' .response-col_status'), (status) => {
                q('.live-responses-table').scrollIntoView();
                const body = q(CELL + ' .response-col_description pre.microlight') || q(CELL + ' .response-col_description');
                done({ status: status.innerText.trim().split(' ')[0].split('\\n')[0], body: body ? body.innerText : '', marks });
            }, RESPONSE_WAIT);
        };
";
    // A promise the script settles with `done`, which the browser waits for.
    let expression = format!(
        "new Promise((done) => {{ const args = {}; const ELEMENT_WAIT = {}; const RESPONSE_WAIT = {};\n{PRELUDE}{script}\n}})",
        serde_json::Value::Array(args),
        ELEMENT_WAIT.as_millis(),
        RESPONSE_WAIT.as_millis()
    );
    let answer = browser.evaluate(&expression).await?;
    tracing::debug!("swagger_browser: in the page: {}", answer["marks"]);
    match answer.get("error").and_then(|e| e.as_str()) {
        Some(error) => Err(error.to_owned()),
        None => Ok(answer),
    }
}

/// What Swagger UI showed after Execute, from [`in_page`]'s answer.
fn shown(answer: &serde_json::Value) -> Shown {
    Shown {
        status: answer["status"].as_str().unwrap_or_default().to_owned(),
        body: answer["body"].as_str().unwrap_or_default().to_owned(),
    }
}

/// Loads the page, authorises with `key`, and executes the POST on `path` with `body`: "Authorize", the operation,
/// "Try it out", the body, "Execute".
async fn try_it_out(browser: &Browser, page: &str, path: &str, key: &str, body: &str) -> Result<Shown, String> {
    browser.goto(page).await.map_err(|e| format!("cannot open the Swagger page: {e}"))?;
    // `goto` returns once the document is parsed: an error page has no Swagger UI container at all.
    let missing = browser.evaluate("document.querySelector('#swagger-ui') ? null : document.title").await?;
    if let Some(title) = missing.as_str() {
        return Err(format!("the website did not serve the Swagger page (page title: {title:?})"));
    }
    const SCRIPT: &str = "const [key, path, body] = args;
        authorize(key, () => {
            const summary = () => Array.from(document.querySelectorAll('.opblock-post'))
                .filter((op) => op.querySelector('[data-path=\"' + path + '\"]'))
                // Swagger UI 4 opens an operation with the button in its summary; older ones with the summary itself.
                .map((op) => op.querySelector('.opblock-summary-control') || op.querySelector('.opblock-summary'))[0];
            until('POST ' + path, summary, (open) => {
                open.click();
                until('Try it out', () => q('button.try-out__btn'), (tryIt) => {
                    tryIt.click();
                    until('the request body', () => q('textarea.body-param__text'), (field) => {
                        fill(field, body);
                        execute();
                    });
                });
            });
        });";
    in_page(browser, SCRIPT, vec![key.into(), path.into(), body.into()]).await.map(|answer| shown(&answer))
}

/// On the page `try_it_out` left (the operation open, its body filled, a response shown): authorises with `key`
/// instead, clears the response and executes again.
async fn execute_again(browser: &Browser, key: &str) -> Result<Shown, String> {
    // The response table is gone once Swagger UI has dropped the response, so the one waited for is the new one.
    const SCRIPT: &str = "const [key] = args;
        authorize(key, () => {
            until('Clear', () => q('button.btn-clear'), (clear) => {
                clear.click();
                until('the previous response cleared', () => !q('.live-responses-table'), execute);
            });
        });";
    in_page(browser, SCRIPT, vec![key.into()]).await.map(|answer| shown(&answer))
}

async fn save_screenshot(ctx: &RunContext, browser: &Browser, name: &str) {
    if !ctx.screenshots {
        return;
    }
    crate::browser::hide_api_keys(browser).await;
    // Taken for the report directory only: a run without one keeps nothing (a screenshot costs a tenth of a second).
    let Some(dir) = ctx.artifacts.clone() else { return };
    let path = dir.join(name);
    match browser.screenshot().await {
        Ok(png) => match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, png)) {
            Ok(()) => tracing::info!("screenshot saved: {}", path.display()),
            Err(e) => tracing::warn!("cannot save the screenshot {}: {e}", path.display()),
        },
        Err(e) => tracing::warn!("cannot take a screenshot: {e}"),
    }
}
