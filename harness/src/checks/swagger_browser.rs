//! swagger_browser: what the runbook's last figures show, done by a real browser. Headless Chromium opens the
//! Swagger page from the bucket website, authorises with the API key, and uses "Try it out" → "Execute" on the
//! job-trigger POST: the page must show 200 with a jobId; with a wrong key it must show 403. A screenshot of each
//! is saved (report directory, else the temporary directory).

use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};

use super::settings::Section;
use super::{Check, CheckSettings, Observation, Skip};
use crate::browser::Unavailable;
use crate::context::{RunContext, SideEffect};
use crate::targets::capabilities::Capability;

/// How long one page element may take to appear (Swagger UI renders after fetching the definition).
const ELEMENT_WAIT: Duration = Duration::from_secs(10);
/// How long "Execute" may take to show a response (a Lambda cold start included).
const RESPONSE_WAIT: Duration = Duration::from_secs(60);
/// How often a wait looks again. Each look is one WebDriver round trip, so a wait ends within this of the page
/// showing what it waits for, and a busy machine only makes the looks further apart.
const POLL: Duration = Duration::from_millis(20);

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
    let client = &browser.client;
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
            execute_again(client, key).await
        } else {
            try_it_out(client, &page, &api.path, key, &body).await
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
            client,
            if expect_ok { "swagger-browser-api-key.png" } else { "swagger-browser-wrong-key.png" },
        )
        .await;
    }
    ctx.browser.give_back(browser).await;
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

/// The first element `locator` finds, as soon as the page shows one (looked for every [`POLL`], for at most
/// `deadline`).
async fn wait_for(client: &Client, locator: Locator<'_>, deadline: Duration) -> Result<Element, CmdError> {
    client.wait().at_most(deadline).every(POLL).for_element(locator).await
}

/// Waits for the element `css` finds and clicks it; `what` names it in errors.
async fn click(client: &Client, css: &str, what: &str) -> Result<Element, String> {
    let element = wait_for(client, Locator::Css(css), ELEMENT_WAIT)
        .await
        .map_err(|e| format!("the page never showed `{css}`: {e}"))?;
    element.click().await.map_err(|e| format!("{what}: {e}"))?;
    Ok(element)
}

/// Loads the page, authorises with `key`, and executes the POST on `path` with `body`.
async fn try_it_out(client: &Client, page: &str, path: &str, key: &str, body: &str) -> Result<Shown, String> {
    client.goto(page).await.map_err(|e| format!("cannot open the Swagger page: {e}"))?;
    // `goto` returns once the document is parsed: an error page has no Swagger UI container at all.
    if client.find(Locator::Css("#swagger-ui")).await.is_err() {
        let title = client.title().await.unwrap_or_default();
        return Err(format!("the website did not serve the Swagger page (page title: {title:?})"));
    }
    authorize(client, key).await?;

    // The operation: expand, Try it out, body, Execute.
    let summary = format!(
        "//div[contains(@class,'opblock-post')][.//*[@data-path='{path}']]\
         //div[contains(concat(' ', normalize-space(@class), ' '), ' opblock-summary ')]"
    );
    wait_for(client, Locator::XPath(&summary), ELEMENT_WAIT)
        .await
        .map_err(|e| format!("the page shows no POST {path}: {e}"))?
        .click()
        .await
        .map_err(|e| format!("POST {path}: {e}"))?;
    click(client, "button.try-out__btn", "Try it out").await?;
    let textarea = wait_for(client, Locator::Css("textarea.body-param__text"), ELEMENT_WAIT)
        .await
        .map_err(|e| format!("the page never showed the request body: {e}"))?;
    fill(client, &textarea, body).await.map_err(|e| format!("request body: {e}"))?;
    execute(client).await
}

/// On the page `try_it_out` left (the operation open, its body filled, a response shown): authorises with `key`
/// instead, clears the response and executes again.
async fn execute_again(client: &Client, key: &str) -> Result<Shown, String> {
    authorize(client, key).await?;
    click(client, "button.btn-clear", "Clear").await?;
    // Gone once Swagger UI has dropped the response, so the one waited for next is the new one.
    let started = Instant::now();
    while client.find(Locator::Css(RESPONSE_TABLE)).await.is_ok() {
        if started.elapsed() > ELEMENT_WAIT {
            return Err("Clear left the previous response on the page".to_owned());
        }
        tokio::time::sleep(POLL).await;
    }
    execute(client).await
}

/// The "Authorize" dialog: logs out what the page was authorised with (an earlier case, or the key `up` gives the
/// page), then authorises with `key`.
async fn authorize(client: &Client, key: &str) -> Result<(), String> {
    click(client, "button.authorize", "Authorize").await?;
    // The dialog's buttons render at once with it; authorised, it shows "Logout" where "Authorize" was.
    wait_for(client, Locator::Css(".modal-ux .auth-btn-wrapper button"), ELEMENT_WAIT)
        .await
        .map_err(|e| format!("the page never showed the Authorize dialog: {e}"))?;
    const LOGOUT: &str = ".modal-ux .auth-btn-wrapper button.auth:not(.authorize):not(.btn-done)";
    if let Ok(logout) = client.find(Locator::Css(LOGOUT)).await {
        logout.click().await.map_err(|e| format!("Logout: {e}"))?;
    }
    let input = wait_for(client, Locator::Css(".modal-ux input[type=text]"), ELEMENT_WAIT)
        .await
        .map_err(|e| format!("the page never showed the API key field: {e}"))?;
    fill(client, &input, key).await.map_err(|e| format!("API key field: {e}"))?;
    click(client, ".modal-ux .auth-btn-wrapper button.authorize", "Authorize").await?;
    click(client, ".modal-ux button.btn-done", "Close").await?;
    Ok(())
}

/// How WebDriver represents an element in what a script returns.
const W3C_ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The response table Swagger UI shows after "Execute".
const RESPONSE_TABLE: &str = ".live-responses-table";

/// Presses "Execute" and reads the response Swagger UI shows.
async fn execute(client: &Client) -> Result<Shown, String> {
    click(client, "button.execute", "Execute").await?;
    let status =
        wait_for(client, Locator::Css(".live-responses-table tbody tr.response .response-col_status"), RESPONSE_WAIT)
            .await
            .map_err(|e| format!("no server response shown: {e}"))?;
    let status = status.text().await.map_err(|e| e.to_string())?;
    let status = status.split_whitespace().next().unwrap_or("").to_owned();
    // Brings the response into view for the screenshot, and finds the response body block when there is one,
    // otherwise the cell (its text is e.g. "Failed to fetch." for CORS).
    const SCROLL_AND_FIND: &str = "document.querySelector('.live-responses-table').scrollIntoView();
        const cell = '.live-responses-table tbody tr.response .response-col_description';
        return document.querySelector(cell + ' pre.microlight') || document.querySelector(cell);";
    let body = match client.execute(SCROLL_AND_FIND, Vec::new()).await {
        Ok(found) => match found.get(W3C_ELEMENT).and_then(|id| id.as_str()) {
            Some(id) => Element::from_element_id(client.clone(), id.to_owned().into()).text().await.unwrap_or_default(),
            None => String::new(),
        },
        Err(_) => String::new(),
    };
    Ok(Shown { status, body })
}

/// Puts `text` in a text field the way typing it would end, in one step: the field's value is set and an `input`
/// event raised, which is what React (Swagger UI) listens to. Typed key by key, Swagger UI renders the page again
/// for every key (most of a second for the request body).
async fn fill(client: &Client, field: &Element, text: &str) -> Result<(), String> {
    const SCRIPT: &str = "const [field, text] = arguments;
        const proto = field instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
        Object.getOwnPropertyDescriptor(proto, 'value').set.call(field, text);
        field.dispatchEvent(new Event('input', { bubbles: true }));
        return field.value;";
    let field = serde_json::to_value(field).map_err(|e| e.to_string())?;
    let value = client.execute(SCRIPT, vec![field, text.into()]).await.map_err(|e| e.to_string())?;
    if value.as_str() == Some(text) { Ok(()) } else { Err(format!("the field holds {value} after filling it")) }
}

async fn save_screenshot(ctx: &RunContext, client: &Client, name: &str) {
    crate::browser::hide_api_keys(client).await;
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
