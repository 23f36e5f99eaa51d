//! swagger_browser: what the runbook's last figures show, done by a real browser. Headless Chromium opens the
//! Swagger page from the bucket website, authorises with the API key, and uses "Try it out" → "Execute" on the
//! job-trigger POST: the page must show 200 with a jobId; with a wrong key it must show 403. A screenshot of each
//! is saved (report directory, else the temporary directory).

use std::time::Duration;

use fantoccini::{Client, Locator};

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
    let browser = match Browser::start().await {
        Ok(browser) => browser,
        Err(Unavailable::NotInstalled(reason)) => return Err(Skip(reason)),
        Err(Unavailable::Failed(reason)) => {
            return Ok(vec![Observation::new("browser", "headless Chromium", reason, false)]);
        }
    };
    let key = ctx.facts.api_keys.get(&api.api_key).map(|k| k.value.clone()).unwrap_or_default();
    let page = format!("{}/", ctx.target.website_url(&swagger.bucket));
    let body = serde_json::to_string_pretty(&trigger.body).unwrap_or_default();
    let mut out = Vec::new();
    for (label, key, expect_ok) in [("API key", key.as_str(), true), ("wrong API key", "not-the-crts-key", false)] {
        let what = format!("Swagger UI Execute with the {label}");
        let expected = if expect_ok { "200 with a jobId" } else { "403 Forbidden" };
        match try_it_out(&browser.client, &page, &api.path, key, &body).await {
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
            &browser.client,
            if expect_ok { "swagger-browser-api-key.png" } else { "swagger-browser-wrong-key.png" },
        )
        .await;
    }
    browser.close().await;
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

/// Loads the page, authorises with `key`, and executes the POST on `path` with `body`.
async fn try_it_out(client: &Client, page: &str, path: &str, key: &str, body: &str) -> Result<Shown, String> {
    client.goto(page).await.map_err(|e| format!("cannot open the Swagger page: {e}"))?;
    // `goto` returns once the document has loaded: an error page has no Swagger UI container at all.
    if client.find(Locator::Css("#swagger-ui")).await.is_err() {
        let title = client.title().await.unwrap_or_default();
        return Err(format!("the website did not serve the Swagger page (page title: {title:?})"));
    }
    let wait = |css: &'static str| async move {
        client
            .wait()
            .at_most(ELEMENT_WAIT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("the page never showed `{css}`: {e}"))
    };
    // Authorize: the API key dialog.
    wait("button.authorize").await?.click().await.map_err(|e| format!("Authorize: {e}"))?;
    let input = wait(".modal-ux input[type=text]").await?;
    input.clear().await.map_err(|e| format!("API key field: {e}"))?;
    input.send_keys(key).await.map_err(|e| format!("API key field: {e}"))?;
    wait(".modal-ux .auth-btn-wrapper button.authorize").await?.click().await.map_err(|e| format!("Authorize: {e}"))?;
    wait(".modal-ux button.btn-done").await?.click().await.map_err(|e| format!("Close: {e}"))?;

    // The operation: expand, Try it out, body, Execute.
    let operation = format!("//div[contains(@class,'opblock-post')][.//*[@data-path='{path}']]");
    let block = client
        .wait()
        .at_most(ELEMENT_WAIT)
        .for_element(Locator::XPath(&operation))
        .await
        .map_err(|e| format!("the page shows no POST {path}: {e}"))?;
    block
        .find(Locator::Css(".opblock-summary"))
        .await
        .map_err(|e| format!("POST {path}: {e}"))?
        .click()
        .await
        .map_err(|e| format!("POST {path}: {e}"))?;
    wait("button.try-out__btn").await?.click().await.map_err(|e| format!("Try it out: {e}"))?;
    let textarea = wait("textarea.body-param__text").await?;
    textarea.clear().await.map_err(|e| format!("request body: {e}"))?;
    textarea.send_keys(body).await.map_err(|e| format!("request body: {e}"))?;
    wait("button.execute").await?.click().await.map_err(|e| format!("Execute: {e}"))?;

    let status = client
        .wait()
        .at_most(RESPONSE_WAIT)
        .for_element(Locator::Css(".live-responses-table tbody tr.response .response-col_status"))
        .await
        .map_err(|e| format!("no server response shown: {e}"))?;
    let status = status.text().await.map_err(|e| e.to_string())?;
    let status = status.split_whitespace().next().unwrap_or("").to_owned();
    // Bring the response into view for the screenshot.
    let _ = client.execute("document.querySelector('.live-responses-table').scrollIntoView()", Vec::new()).await;
    // The response body block when there is one; otherwise the cell's text (e.g. "Failed to fetch." for CORS).
    let cell = ".live-responses-table tbody tr.response .response-col_description";
    let body = match client.find(Locator::Css(&format!("{cell} pre.microlight"))).await {
        Ok(pre) => pre.text().await.unwrap_or_default(),
        Err(_) => match client.find(Locator::Css(cell)).await {
            Ok(cell) => cell.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        },
    };
    Ok(Shown { status, body })
}

async fn save_screenshot(ctx: &RunContext, client: &Client, name: &str) {
    let dir = ctx.artifacts.clone().unwrap_or_else(|| std::env::temp_dir().join("crts-harness"));
    let path = dir.join(name);
    match client.screenshot().await {
        Ok(png) => match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, png)) {
            Ok(()) => tracing::info!("screenshot saved: {}", path.display()),
            Err(e) => tracing::warn!("cannot save the screenshot {}: {e}", path.display()),
        },
        Err(e) => tracing::warn!("cannot take a screenshot: {e}"),
    }
}
