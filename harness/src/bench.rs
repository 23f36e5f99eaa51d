//! `crts-harness bench`: the figures the project promises, measured and printed.
//!
//! - emulator start time (bind + ready), over many starts;
//! - full `run` wall time of scenarios/crts.yaml on the embedded target (first run, then warm runs);
//! - the swagger_browser check's wall time (headless Chromium; skipped figures when there is no browser);
//! - warm POST latency and throughput through API Gateway → Lambda (Python) → Batch SubmitJob;
//! - S3 PUT and GET throughput for small objects through the AWS SDK, and a 1,000-key listing paged by 100;
//! - CloudWatch Logs events written (PutLogEvents) and read (GetLogEvents, FilterLogEvents) per second;
//! - ECR registry push throughput for a 50 MB image (five 10 MB layers) and the memory that holds it;
//! - with `--localstack-image`: LocalStack's start time and a full run on it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::checks::Outcome;
use crate::run::{RunOptions, run};
use crate::targets::TargetSpec;

/// What to measure and how much.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub scenario: PathBuf,
    pub starts: usize,
    pub runs: usize,
    pub requests: usize,
    pub concurrency: usize,
    /// Also time LocalStack's start and a run on it, with this image.
    pub localstack_image: Option<String>,
}

pub async fn bench(options: &BenchOptions) -> Result<(), String> {
    println!(
        "crts-harness bench ({} build, {} cores)",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let mut starts = Vec::with_capacity(options.starts);
    for _ in 0..options.starts {
        let started = Instant::now();
        let emulator = crts_emulator::Emulator::start(crts_emulator::Config::default())
            .await
            .map_err(|e| format!("emulator start: {e}"))?;
        starts.push(started.elapsed());
        emulator.shutdown().await;
    }
    print_stats("emulator start", &mut starts, "target <= 20 ms");

    // The image steps run Docker's own CLI when an engine answers: their share is shown on its own.
    let image_steps: Vec<String> = crate::run::validate(&options.scenario, &[])
        .map_err(|e| e.to_string())?
        .steps
        .into_iter()
        .filter(|s| matches!(s.action, crate::steps::StepAction::ImageBuildAndPush(_)))
        .map(|s| s.id)
        .collect();
    // The same scenario without the browser check, for the run's figure without it (the checks run at once, so
    // the browser's share of a run is not its own duration).
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let scenario = std::path::absolute(&options.scenario).map_err(|e| e.to_string())?;
    let checks = crate::run::validate(&options.scenario, &[]).map_err(|e| e.to_string())?.checks;
    let without: Vec<&str> =
        checks.iter().filter(|&&c| c != crate::scenario::CheckName::SwaggerBrowser).map(|c| c.as_str()).collect();
    let no_browser = dir.path().join("without-browser.yaml");
    std::fs::write(
        &no_browser,
        format!("extends: {}\nname: without-browser\nchecks: [{}]\n", scenario.display(), without.join(", ")),
    )
    .map_err(|e| format!("{}: {e}", no_browser.display()))?;
    let mut runs = Vec::with_capacity(options.runs);
    let mut without_browser = Vec::with_capacity(options.runs);
    // Where a run without the browser goes: its steps, then its checks (at once) and the slowest, job_trigger.
    let (mut no_browser_steps, mut no_browser_checks, mut job_trigger) = (Vec::new(), Vec::new(), Vec::new());
    let mut image_builds = Vec::with_capacity(options.runs);
    let mut browser = Vec::with_capacity(options.runs);
    for i in 0..options.runs {
        let report = run(&RunOptions {
            scenario: options.scenario.clone(),
            target: TargetSpec::embedded(),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
        if !report.passed() {
            return Err(format!("run {i} did not pass:\n{}", crate::report::to_text(&report)));
        }
        if i == 0 {
            println!("full run, first (Lambda cold start) : {:>8.1} ms", report.wall_time.as_secs_f64() * 1e3);
            continue;
        }
        runs.push(report.wall_time);
        let browser_time: Duration = report
            .checks
            .iter()
            .filter(|c| c.name == crate::scenario::CheckName::SwaggerBrowser && c.outcome == Outcome::Passed)
            .map(|c| c.duration)
            .sum();
        if !browser_time.is_zero() {
            browser.push(browser_time);
        }
        image_builds.push(report.steps.iter().filter(|s| image_steps.contains(&s.id)).map(|s| s.duration).sum());
        let report =
            run(&RunOptions { scenario: no_browser.clone(), target: TargetSpec::embedded(), ..Default::default() })
                .await
                .map_err(|e| e.to_string())?;
        if !report.passed() {
            return Err(format!("run {i} without the browser did not pass:\n{}", crate::report::to_text(&report)));
        }
        without_browser.push(report.wall_time);
        let steps: Duration = report.steps.iter().map(|s| s.duration).sum();
        no_browser_steps.push(steps);
        no_browser_checks.push(report.checks.iter().map(|c| c.duration).max().unwrap_or_default());
        job_trigger.extend(
            report.checks.iter().filter(|c| c.name == crate::scenario::CheckName::JobTrigger).map(|c| c.duration),
        );
    }
    if !runs.is_empty() {
        print_stats("full run, warm interpreter", &mut runs, "target <= 2500 ms with the browser check");
        print_stats(
            "  without the browser check",
            &mut without_browser,
            "target <= 400 ms (a run of the scenario without it)",
        );
        print_stats("    of which the steps", &mut no_browser_steps, "");
        print_stats("    of which the checks (at once)", &mut no_browser_checks, "");
        print_stats("      job_trigger", &mut job_trigger, "the POST, the Lambda's start, the job's container");
        print_stats("  image build and push, full run", &mut image_builds, "Docker's CLI when an engine answers");
    }
    if browser.is_empty() {
        println!("swagger_browser check                : skipped (no browser: install chromium)");
    } else {
        print_stats(
            "swagger_browser check",
            &mut browser,
            "target <= 1500 ms warm (page load, two Execute round trips; Chromium starts during the steps)",
        );
    }

    watch_reapply(options).await?;
    warm_posts(options).await?;
    s3_small_objects(options).await?;
    registry_push().await?;
    localstack(options).await
}

/// `up --watch` after a Lambda edit: from the file written to every check green again (the watcher's settle time,
/// UpdateFunctionCode once the handler compiles, and all checks, the browser's included, on a browser kept open).
async fn watch_reapply(options: &BenchOptions) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let code = dir.path().join("lambda_function.py");
    let scenario = crate::run::validate(&options.scenario, &[]).map_err(|e| e.to_string())?;
    let original = scenario
        .variables
        .iter()
        .find(|v| v.name == "lambda_code")
        .map(|v| scenario.base_dir.join(&v.value))
        .ok_or("the scenario has no lambda_code variable")?;
    let source = std::fs::read_to_string(&original).map_err(|e| format!("{}: {e}", original.display()))?;
    std::fs::write(&code, &source).map_err(|e| format!("{}: {e}", code.display()))?;
    let options = crate::up::UpOptions {
        scenario: options.scenario.clone(),
        variables: vec![crate::scenario::VarOverride { name: "lambda_code".into(), value: code.display().to_string() }],
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        region: None,
        report_dir: None,
    };
    let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (mut stack, report) = crate::up::Stack::start(options, stopping).await.map_err(|e| e.to_string())?;
    let measured = measure_edits(&mut stack, &code, &source, &report, dir.path()).await;
    stack.stop().await;
    let (mut green, mut updates, mut checks, slowest) = measured?;
    print_stats("watch: Lambda edit to green checks", &mut green, "target <= 1000 ms");
    print_stats("  of which UpdateFunctionCode", &mut updates, "once the handler compiled");
    print_stats("  of which the checks (all at once)", &mut checks, "");
    for (name, mut times) in slowest {
        print_stats(&format!("    {name}"), &mut times, "");
    }
    Ok(())
}

/// What [`watch_reapply`] measures: each edit's time to green, its updates, its checks, and each check's time.
type EditFigures = (Vec<Duration>, Vec<Duration>, Vec<Duration>, BTreeMap<&'static str, Vec<Duration>>);

/// Edits the Lambda code a few times on a stack that is up, each time waiting for the checks to be green again.
async fn measure_edits(
    stack: &mut crate::up::Stack,
    code: &std::path::Path,
    source: &str,
    report: &crate::report::Report,
    root: &std::path::Path,
) -> Result<EditFigures, String> {
    const ROUNDS: usize = 5;
    if !report.passed() {
        return Err(format!("up did not pass:\n{}", crate::report::to_text(report)));
    }
    let mut watcher = crate::up::Watcher::new(&stack.watched())?;
    let (mut green, mut updates, mut checks) = (Vec::new(), Vec::new(), Vec::new());
    let mut slowest: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for round in 0..ROUNDS {
        let started = Instant::now();
        std::fs::write(code, format!("{source}\n# edit {round}\n")).map_err(|e| format!("{}: {e}", code.display()))?;
        let Some(changed) = watcher.next().await else { break };
        let cycle = stack.apply_change(&changed).await;
        if !cycle.green() {
            return Err(format!("the checks were not green after edit {round}:\n{}", cycle.to_text(root)));
        }
        green.push(started.elapsed());
        updates.extend(cycle.steps.iter().filter_map(|(_, r)| r.as_ref().ok().copied()));
        checks.push(cycle.checks_time);
        for (check, _) in &cycle.checks {
            slowest.entry(check.name.as_str()).or_default().push(check.duration);
        }
    }
    Ok((green, updates, checks, slowest))
}

/// LocalStack's start (container start to "Ready.", then the same readiness calls as any target) and a full run
/// on it, next to the embedded figures above. Needs a Docker engine and the image.
async fn localstack(options: &BenchOptions) -> Result<(), String> {
    let Some(image) = &options.localstack_image else {
        println!("LocalStack                           : skipped (pass --localstack-image or set LOCALSTACK_IMAGE)");
        return Ok(());
    };
    if !crate::targets::localstack::docker_reachable().await {
        println!("LocalStack                           : skipped (no Docker engine answers)");
        return Ok(());
    }
    // Measured as `run` measures targets: started, SDK configured, GetCallerIdentity answered.
    let mut embedded = Vec::new();
    for _ in 0..10 {
        let target = crate::targets::start(&TargetSpec::embedded(), None).await.map_err(|e| e.to_string())?;
        embedded.push(target.start_time);
        target.stop().await;
    }
    print_stats("embedded target ready (same measure)", &mut embedded, "");
    let spec = TargetSpec::localstack(image.clone());
    let mut starts = Vec::new();
    for _ in 0..3 {
        let target = crate::targets::start(&spec, None).await.map_err(|e| e.to_string())?;
        starts.push(target.start_time);
        target.stop().await;
    }
    print_stats("LocalStack target ready", &mut starts, image);
    let report = run(&RunOptions { scenario: options.scenario.clone(), target: spec, ..Default::default() })
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "full run on LocalStack               : {:>8.1} ms ({} steps and checks unsupported there){}",
        report.wall_time.as_secs_f64() * 1e3,
        report
            .steps
            .iter()
            .map(|s| &s.outcome)
            .chain(report.checks.iter().map(|c| &c.outcome))
            .filter(|o| matches!(o, Outcome::Unsupported(_)))
            .count(),
        if report.passed() { "" } else { "; FAILED" }
    );
    Ok(())
}

/// Resident memory of this process, from /proc (Linux), in bytes.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// Pushes a 50 MB image (five 10 MB random layers) through the registry API with oci-client.
async fn registry_push() -> Result<(), String> {
    use rand::RngCore as _;
    let emulator = crts_emulator::Emulator::start(crts_emulator::Config::default())
        .await
        .map_err(|e| format!("emulator start: {e}"))?;
    let target = crate::targets::start(&TargetSpec::endpoint(emulator.endpoint().to_owned()), None)
        .await
        .map_err(|e| e.to_string())?;
    let ctx = crate::context::RunContext::new(target.session.clone());
    ctx.ecr.create_repository().repository_name("bench").send().await.map_err(|e| format!("CreateRepository: {e}"))?;
    let login = crate::steps::registry_login(&ctx).await.map_err(|e| e.message)?;

    let digest = |b: &[u8]| format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b)));
    // Measured from before the client makes its copy of the image to after it dropped it (10 MB buffers are
    // mapped and unmapped whole), so what remains is what the registry holds.
    let before = rss_bytes();
    let mut layers = Vec::new();
    for _ in 0..5 {
        let mut data = vec![0u8; 10 << 20];
        rand::rng().fill_bytes(&mut data);
        let data = bytes::Bytes::from(data);
        layers.push(crate::image::Layer { digest: digest(&data), data });
    }
    let config = bytes::Bytes::from_static(
        br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#,
    );
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": crate::image::MANIFEST_TYPE,
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len() },
        "layers": layers.iter().map(|l| serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l.digest, "size": l.data.len()
        })).collect::<Vec<_>>(),
    });
    let image = crate::image::OciImage {
        config,
        manifest: bytes::Bytes::from(serde_json::to_vec(&manifest).map_err(|e| e.to_string())?),
        layers,
        not_applied: Vec::new(),
    };
    let size: usize = image.layers.iter().map(|l| l.data.len()).sum();
    let started = Instant::now();
    crate::image::push_oci(&image, &login, "bench", "latest").await?;
    let elapsed = started.elapsed();
    drop(image);
    let after = rss_bytes();
    println!(
        "registry push, 50 MB image (5 layers)  : {:>8.1} MB/s ({:.0} ms for {:.1} MB)",
        size as f64 / 1e6 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3,
        size as f64 / 1e6
    );
    // What the registry holds, as ECR reports it (DescribeImages' imageSizeInBytes), through the SDK like
    // everything else the harness reads.
    let described = ctx.ecr.describe_images().repository_name("bench").send().await;
    let described = described.map_err(|e| format!("DescribeImages: {e}"))?;
    let stored: i64 = described.image_details().iter().filter_map(|d| d.image_size_in_bytes()).sum();
    let stored = usize::try_from(stored).unwrap_or_default();
    match (before, after) {
        (Some(before), Some(after)) => println!(
            "registry memory holding it             : {:.1} MB stored; process RSS +{:.1} MB ({:.1} MB -> {:.1} MB)",
            stored as f64 / 1e6,
            after.saturating_sub(before) as f64 / 1e6,
            before as f64 / 1e6,
            after as f64 / 1e6
        ),
        _ => println!("registry memory holding it             : {:.1} MB stored", stored as f64 / 1e6),
    }
    target.stop().await;
    emulator.shutdown().await;
    Ok(())
}

/// PUTs then GETs `requests` 1 KiB objects through the AWS SDK for Rust, `concurrency` in flight.
async fn s3_small_objects(options: &BenchOptions) -> Result<(), String> {
    let emulator = crts_emulator::Emulator::start(crts_emulator::Config::default())
        .await
        .map_err(|e| format!("emulator start: {e}"))?;
    let target = crate::targets::start(&TargetSpec::endpoint(emulator.endpoint().to_owned()), None)
        .await
        .map_err(|e| e.to_string())?;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&target.session.sdk_config).force_path_style(true).build(),
    );
    s3.create_bucket().bucket("bench").send().await.map_err(|e| format!("CreateBucket: {e}"))?;
    let body = bytes::Bytes::from(vec![b'x'; 1024]);
    for operation in ["PUT", "GET"] {
        let semaphore = Arc::new(Semaphore::new(options.concurrency));
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(options.requests);
        for i in 0..options.requests {
            let permit = Arc::clone(&semaphore).acquire_owned().await.map_err(|e| e.to_string())?;
            let (s3, body) = (s3.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let key = format!("objects/{i:06}");
                let ok = if operation == "PUT" {
                    s3.put_object().bucket("bench").key(key).body(body.into()).send().await.is_ok()
                } else {
                    match s3.get_object().bucket("bench").key(key).send().await {
                        Ok(out) => out.body.collect().await.is_ok_and(|b| b.into_bytes().len() == 1024),
                        Err(_) => false,
                    }
                };
                drop(permit);
                (sent.elapsed(), ok)
            }));
        }
        let mut latencies = Vec::with_capacity(options.requests);
        let mut failures = 0;
        for task in tasks {
            let (latency, ok) = task.await.map_err(|e| e.to_string())?;
            failures += usize::from(!ok);
            latencies.push(latency);
        }
        let elapsed = started.elapsed();
        println!(
            "S3 {operation} 1 KiB objects                : {:>8.0} req/s ({} objects, {} in flight, {failures} failed)",
            options.requests as f64 / elapsed.as_secs_f64(),
            options.requests,
            options.concurrency
        );
        print_stats(&format!("S3 {operation} latency"), &mut latencies, "");
        if failures > 0 {
            return Err(format!("{failures} S3 {operation}s failed"));
        }
    }
    list_objects_paged(&s3).await?;
    log_events(&aws_sdk_cloudwatchlogs::Client::new(&target.session.sdk_config)).await?;
    target.stop().await;
    emulator.shutdown().await;
    Ok(())
}

/// CloudWatch Logs through the SDK: 100,000 events written in batches of 1,000 (and 1,000 written one a call, as
/// a chatty writer would), then read back a stream at a time with GetLogEvents and across the group with
/// FilterLogEvents (a filter pattern matching a tenth of them), 10,000 a page.
async fn log_events(logs: &aws_sdk_cloudwatchlogs::Client) -> Result<(), String> {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    const STREAMS: usize = 10;
    const PER_STREAM: usize = 10_000;
    const BATCH: usize = 1_000;
    let group = "/crts/bench";
    logs.create_log_group().log_group_name(group).send().await.map_err(|e| format!("CreateLogGroup: {e}"))?;
    let now = chrono::Utc::now().timestamp_millis();
    let started = Instant::now();
    for stream in 0..STREAMS {
        let name = format!("stream-{stream}");
        logs.create_log_stream()
            .log_group_name(group)
            .log_stream_name(&name)
            .send()
            .await
            .map_err(|e| format!("CreateLogStream: {e}"))?;
        for batch in 0..PER_STREAM / BATCH {
            let events = (0..BATCH).map(|i| {
                let n = batch * BATCH + i;
                let level = if n.is_multiple_of(10) { "ERROR" } else { "INFO" };
                InputLogEvent::builder()
                    .timestamp(now - 60_000 + (n / 200) as i64)
                    .message(format!("{level} request {n} of stream {stream}: a line of an ordinary length"))
                    .build()
            });
            logs.put_log_events()
                .log_group_name(group)
                .log_stream_name(&name)
                .set_log_events(Some(events.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?))
                .send()
                .await
                .map_err(|e| format!("PutLogEvents: {e}"))?;
        }
    }
    let total = STREAMS * PER_STREAM;
    print_rate("log events written, 1,000 a call", total, started.elapsed());

    let started = Instant::now();
    for n in 0..BATCH {
        let event = InputLogEvent::builder().timestamp(now).message(format!("one at a time {n}")).build();
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name("stream-0")
            .log_events(event.map_err(|e| e.to_string())?)
            .send()
            .await
            .map_err(|e| format!("PutLogEvents: {e}"))?;
    }
    print_rate("log events written, 1 a call", BATCH, started.elapsed());

    let started = Instant::now();
    let mut read = 0;
    for stream in 0..STREAMS {
        let mut token: Option<String> = None;
        loop {
            let out = logs
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(format!("stream-{stream}"))
                .start_from_head(true)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| format!("GetLogEvents: {e}"))?;
            read += out.events().len();
            if out.next_forward_token() == token.as_deref() {
                break;
            }
            token = out.next_forward_token().map(str::to_owned);
        }
    }
    if read != total + BATCH {
        return Err(format!("GetLogEvents read {read} events, not {}", total + BATCH));
    }
    print_rate("log events read, GetLogEvents", read, started.elapsed());

    let started = Instant::now();
    let mut pages = logs.filter_log_events().log_group_name(group).filter_pattern("ERROR").into_paginator().send();
    let mut matched = 0;
    while let Some(page) = pages.next().await {
        matched += page.map_err(|e| format!("FilterLogEvents: {e}"))?.events().len();
    }
    if matched != total / 10 {
        return Err(format!("FilterLogEvents matched {matched} events, not {}", total / 10));
    }
    print_rate("log events scanned, FilterLogEvents", total + BATCH, started.elapsed());
    Ok(())
}

fn print_rate(label: &str, events: usize, took: Duration) {
    println!(
        "{label:<36}: {:>10.0} events/s ({events} in {:.1} ms)",
        events as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1e3
    );
}

/// A 1,000-key listing read with ListObjectsV2 a hundred keys a page (the SDK's paginator), timed over a few walks.
async fn list_objects_paged(s3: &aws_sdk_s3::Client) -> Result<(), String> {
    const KEYS: usize = 1000;
    s3.create_bucket().bucket("bench-list").send().await.map_err(|e| format!("CreateBucket: {e}"))?;
    for i in 0..KEYS {
        let key = format!("listing/{i:04}");
        s3.put_object()
            .bucket("bench-list")
            .key(key)
            .body(bytes::Bytes::new().into())
            .send()
            .await
            .map_err(|e| format!("PutObject: {e}"))?;
    }
    let mut walks = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut pages = s3.list_objects_v2().bucket("bench-list").max_keys(100).into_paginator().send();
        let (mut keys, mut count) = (0, 0);
        while let Some(page) = pages.next().await {
            keys += page.map_err(|e| format!("ListObjectsV2: {e}"))?.contents().len();
            count += 1;
        }
        if (keys, count) != (KEYS, KEYS / 100) {
            return Err(format!("the paged listing read {keys} keys in {count} pages, not {KEYS} in {}", KEYS / 100));
        }
        walks.push(started.elapsed());
    }
    print_stats("ListObjectsV2, 1,000 keys by 100", &mut walks, "10 pages through the SDK's paginator");
    Ok(())
}

/// Deploys the scenario on an emulator we own, then POSTs to the job trigger with `concurrency` in flight.
async fn warm_posts(options: &BenchOptions) -> Result<(), String> {
    // The POSTs measure API Gateway → Lambda → SubmitJob: the jobs are simulated, not thousands of containers.
    let emulator = crts_emulator::Emulator::start(crts_emulator::Config {
        lambda: crts_emulator::LambdaConfig::from_env(),
        batch: crts_emulator::BatchConfig { containers: crts_emulator::JobRunner::Simulate, ..Default::default() },
        ..Default::default()
    })
    .await
    .map_err(|e| format!("emulator start: {e}"))?;
    let endpoint = emulator.endpoint().to_owned();
    let report = run(&RunOptions {
        scenario: options.scenario.clone(),
        target: TargetSpec::endpoint(endpoint.clone()),
        ..Default::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    if !report.passed() {
        return Err(format!("the scenario did not pass:\n{}", crate::report::to_text(&report)));
    }
    let target =
        crate::targets::start(&TargetSpec::endpoint(endpoint.clone()), None).await.map_err(|e| e.to_string())?;
    let apigateway = aws_sdk_apigateway::Client::new(&target.session.sdk_config);
    let apis = apigateway.get_rest_apis().send().await.map_err(|e| format!("GetRestApis: {e}"))?;
    let api_id = apis.items().first().and_then(|a| a.id()).ok_or("no API deployed")?.to_owned();
    let keys = apigateway.get_api_keys().include_values(true).send().await.map_err(|e| format!("GetApiKeys: {e}"))?;
    let key = keys.items().iter().find(|k| k.enabled()).and_then(|k| k.value()).ok_or("no enabled key")?.to_owned();
    let url = target.session.invoke_url(&api_id, "default", "/crts");

    let http =
        reqwest::Client::builder().pool_max_idle_per_host(options.concurrency).build().map_err(|e| e.to_string())?;
    let body = r#"{"jobName":"bench","parameters":{"suite":"bench"}}"#;
    // Warm every worker the pool may use.
    for _ in 0..options.concurrency * 2 {
        let _ = http.post(&url).header("x-api-key", &key).body(body).send().await;
    }
    let semaphore = Arc::new(Semaphore::new(options.concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(options.requests);
    for _ in 0..options.requests {
        let permit = Arc::clone(&semaphore).acquire_owned().await.map_err(|e| e.to_string())?;
        let (http, url, key) = (http.clone(), url.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let status = http.post(&url).header("x-api-key", key).body(body).send().await.map(|r| r.status().as_u16());
            drop(permit);
            (sent.elapsed(), status)
        }));
    }
    let mut latencies = Vec::with_capacity(options.requests);
    let mut failures = 0;
    for task in tasks {
        let (latency, status) = task.await.map_err(|e| e.to_string())?;
        if !matches!(status, Ok(200)) {
            failures += 1;
        }
        latencies.push(latency);
    }
    let elapsed = started.elapsed();
    println!(
        "warm POST throughput                : {:>8.0} req/s ({} requests, {} in flight, {failures} not 200; target >= 500 req/s)",
        options.requests as f64 / elapsed.as_secs_f64(),
        options.requests,
        options.concurrency
    );
    print_stats("warm POST latency", &mut latencies, "");
    if let Some((rss, workers)) = crate::load::tree_rss(std::process::id()) {
        println!(
            "memory after the POSTs               : {:.1} MiB RSS: this process (the emulator runs in it) with its {workers} Lambda workers",
            rss as f64 / 1048576.0
        );
    }
    target.stop().await;
    emulator.shutdown().await;
    if failures > 0 { Err(format!("{failures} POSTs did not answer 200")) } else { Ok(()) }
}

fn print_stats(label: &str, samples: &mut [Duration], target: &str) {
    if samples.is_empty() {
        println!("{label:<36}: no samples");
        return;
    }
    samples.sort();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{label:<36}: {:>8.2} ms median, p95 {:.2} ms, max {:.2} ms (n={}){}",
        pick(0.5),
        pick(0.95),
        pick(1.0),
        samples.len(),
        if target.is_empty() { String::new() } else { format!("; {target}") }
    );
}
