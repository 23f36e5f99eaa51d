//! `crts-harness load`: the CRTS stack under load, and proof that nothing was lost.
//!
//! Deploys the scenario on an emulator (a `serve` process this command starts, so that its memory, with its
//! Lambda workers, is measured apart from the load generator; or an endpoint given with `--target`), then:
//! - sends N authorised POSTs through API Gateway → Lambda → Batch with C in flight, and reconciles every 200's
//!   `jobId` with Batch's ListJobs on the scenario's queue (a job answered but not listed is lost);
//! - PUTs M objects of varied sizes to a bucket and GETs them back, comparing every byte;
//! - prints req/s, latency p50/p99, and the emulator's resident memory (its process and its workers) before the
//!   load, right after it, and once idle.
//!
//! The `serve` it starts simulates Batch jobs (`CRTS_BATCH_CONTAINERS=simulate`, unless that is set otherwise):
//! the load is the emulator's, not thousands of containers' on the machine's Docker engine.

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_batch::types::JobStatus;
use tokio::sync::Semaphore;

use crate::run::{RunOptions, run};
use crate::targets::TargetSpec;

/// How long the jobs answered may take to show in ListJobs.
const RECONCILE_PATIENCE: Duration = Duration::from_secs(30);

/// What to send, where.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub scenario: PathBuf,
    /// An emulator already running (`endpoint=URL`); `None` starts `serve` from `serve_binary`.
    pub target: Option<TargetSpec>,
    /// The `crts-harness` binary that serves (the CLI passes itself).
    pub serve_binary: PathBuf,
    pub requests: usize,
    pub concurrency: usize,
    pub objects: usize,
    /// How long the emulator is left without traffic before its idle memory is read.
    pub idle: Duration,
}

/// What the load found.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub requests: usize,
    pub concurrency: usize,
    pub answered_200: usize,
    /// Answers that were not 200, by status (0: no answer).
    pub not_200: std::collections::BTreeMap<u16, usize>,
    /// `jobId`s answered with 200 that ListJobs never showed.
    pub lost: Vec<String>,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub objects: usize,
    pub objects_failed: usize,
    pub objects_corrupted: usize,
    pub object_bytes: u64,
    pub object_elapsed: Duration,
    /// The emulator's resident memory with its workers (`None` when it was not started here).
    pub rss_before: Option<u64>,
    pub rss_after: Option<u64>,
    pub rss_idle: Option<u64>,
    /// Its worker processes at each of those moments.
    pub workers: [usize; 3],
}

impl LoadReport {
    /// Nothing lost, nothing corrupted, every request answered 200.
    pub fn passed(&self) -> bool {
        self.lost.is_empty() && self.not_200.is_empty() && self.objects_failed == 0 && self.objects_corrupted == 0
    }

    pub fn to_text(&self) -> String {
        let mib = |bytes: Option<u64>| {
            bytes.map_or("n/a (not started here)".to_owned(), |b| format!("{:.1} MiB", b as f64 / 1048576.0))
        };
        let not_200 = if self.not_200.is_empty() {
            "0".to_owned()
        } else {
            self.not_200.iter().map(|(status, n)| format!("{n}×{status}")).collect::<Vec<_>>().join(", ")
        };
        let seconds = self.elapsed.as_secs_f64().max(f64::EPSILON);
        let mut out = String::new();
        out.push_str(&format!(
            "job trigger POSTs      : {} at concurrency {}: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms\n",
            self.requests,
            self.concurrency,
            self.requests as f64 / seconds,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3
        ));
        out.push_str(&format!(
            "  answered 200          : {} (not 200: {not_200}); lost (200 but not in ListJobs): {}\n",
            self.answered_200,
            self.lost.len()
        ));
        for job in self.lost.iter().take(10) {
            out.push_str(&format!("    lost: {job}\n"));
        }
        out.push_str(&format!(
            "S3 PUT/GET round trips : {} objects, {:.1} MiB in {:.2} s: {} failed, {} corrupted\n",
            self.objects,
            self.object_bytes as f64 / 1048576.0,
            self.object_elapsed.as_secs_f64(),
            self.objects_failed,
            self.objects_corrupted
        ));
        out.push_str(&format!(
            "emulator RSS (with its Lambda workers): before {} ({} workers), after {} ({} workers), idle {} ({} workers)\n",
            mib(self.rss_before),
            self.workers[0],
            mib(self.rss_after),
            self.workers[1],
            mib(self.rss_idle),
            self.workers[2]
        ));
        out.push_str(if self.passed() {
            "result                 : nothing lost\n"
        } else {
            "result                 : FAILED\n"
        });
        out
    }
}

/// A `serve` process this command started; stopped (SIGTERM, then SIGKILL) when dropped.
struct Served {
    child: std::process::Child,
    endpoint: String,
}

impl Served {
    fn start(binary: &std::path::Path) -> Result<Self, String> {
        let jobs = std::env::var("CRTS_BATCH_CONTAINERS").unwrap_or_else(|_| "simulate".to_owned());
        let mut child = std::process::Command::new(binary)
            .args(["serve", "--port", "0"])
            .env("CRTS_BATCH_CONTAINERS", jobs)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {} serve: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("serve has no stdout")?;
        let mut banner = String::new();
        std::io::BufReader::new(stdout).read_line(&mut banner).map_err(|e| format!("reading serve's banner: {e}"))?;
        let endpoint = banner.trim().rsplit(' ').next().unwrap_or_default().to_owned();
        if !endpoint.starts_with("http://") {
            let _ = child.kill();
            return Err(format!("serve did not start: {banner:?}"));
        }
        Ok(Self { child, endpoint })
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The resident memory of `pid` and every process below it (Linux /proc), and how many processes are below it.
pub(crate) fn tree_rss(pid: u32) -> Option<(u64, usize)> {
    let mut parents = HashMap::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        // `pid (comm) state ppid ...`: comm may hold spaces, so fields are counted after its closing parenthesis.
        if let Some(ppid) = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok()) {
            parents.insert(child, ppid);
        }
    }
    let below = |candidate: u32| {
        let mut at = candidate;
        for _ in 0..64 {
            match parents.get(&at) {
                Some(&parent) if parent == pid => return true,
                Some(&parent) if parent > 1 => at = parent,
                _ => return false,
            }
        }
        false
    };
    let tree: Vec<u32> = std::iter::once(pid).chain(parents.keys().copied().filter(|p| below(*p))).collect();
    let rss = |p: u32| {
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
    };
    Some((tree.iter().filter_map(|p| rss(*p)).sum(), tree.len() - 1))
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

pub async fn load(options: &LoadOptions) -> Result<LoadReport, String> {
    let served = match &options.target {
        Some(_) => None,
        None => Some(Served::start(&options.serve_binary)?),
    };
    let spec = match (&options.target, &served) {
        (Some(spec), _) => spec.clone(),
        (None, Some(served)) => TargetSpec::endpoint(served.endpoint.clone()),
        (None, None) => return Err("no target".to_owned()),
    };
    let memory = || served.as_ref().and_then(|s| tree_rss(s.child.id()));
    let scenario = crate::run::validate(&options.scenario, &[]).map_err(|e| e.to_string())?;
    let trigger = scenario.check_settings.trigger.clone().ok_or("the scenario has no `settings.trigger`")?;
    let api = scenario.check_settings.api.clone().ok_or("the scenario has no `settings.api`")?;

    crate::progress::detail(format!("deploying {} on {spec}", options.scenario.display()));
    let deployed = run(&RunOptions { scenario: options.scenario.clone(), target: spec.clone(), ..Default::default() })
        .await
        .map_err(|e| e.to_string())?;
    if !deployed.passed() {
        return Err(format!("the scenario did not pass:\n{}", crate::report::to_text(&deployed)));
    }
    let target = crate::targets::start(&spec, None).await.map_err(|e| e.to_string())?;
    let session = target.session.clone();
    let apigateway = aws_sdk_apigateway::Client::new(&session.sdk_config);
    let apis = apigateway.get_rest_apis().limit(500).send().await.map_err(|e| format!("GetRestApis: {e}"))?;
    let api_id = apis
        .items()
        .iter()
        .find(|a| a.name() == Some(api.name.as_str()))
        .and_then(|a| a.id())
        .ok_or_else(|| format!("no REST API named {}", api.name))?
        .to_owned();
    let keys = apigateway
        .get_api_keys()
        .name_query(&api.api_key)
        .include_values(true)
        .send()
        .await
        .map_err(|e| format!("GetApiKeys: {e}"))?;
    let key = keys
        .items()
        .iter()
        .find(|k| k.name() == Some(api.api_key.as_str()) && k.enabled())
        .and_then(|k| k.value())
        .ok_or_else(|| format!("no enabled API key named {}", api.api_key))?
        .to_owned();
    let url = session.invoke_url(&api_id, &api.stage, &api.path);

    let mut report = LoadReport { requests: options.requests, concurrency: options.concurrency, ..Default::default() };
    let before = memory();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| e.to_string())?;
    let body = trigger.body.to_string();
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(options.requests);
    for _ in 0..options.requests {
        let permit = Arc::clone(&semaphore).acquire_owned().await.map_err(|e| e.to_string())?;
        let (http, url, key, body) = (http.clone(), url.clone(), key.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let answer = match http.post(&url).header("x-api-key", key).body(body).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    (status, response.json::<serde_json::Value>().await.ok())
                }
                Err(_) => (0, None),
            };
            drop(permit);
            (sent.elapsed(), answer)
        }));
    }
    let mut latencies = Vec::with_capacity(options.requests);
    let mut answered = BTreeSet::new();
    for task in tasks {
        let (latency, (status, json)) = task.await.map_err(|e| e.to_string())?;
        latencies.push(latency);
        let job = json.as_ref().and_then(|j| j["jobId"].as_str()).map(str::to_owned);
        match (status, job) {
            (200, Some(job)) => {
                report.answered_200 += 1;
                answered.insert(job);
            }
            (status, _) => *report.not_200.entry(status).or_default() += 1,
        }
    }
    report.elapsed = started.elapsed();
    latencies.sort();
    report.p50 = percentile(&latencies, 0.5);
    report.p99 = percentile(&latencies, 0.99);
    let after = memory();

    report.lost =
        reconcile(&aws_sdk_batch::Client::new(&session.sdk_config), &trigger.job_queue, &answered, RECONCILE_PATIENCE)
            .await?;
    objects(&session, options, &mut report).await?;

    tokio::time::sleep(options.idle).await;
    let idle = memory();
    report.rss_before = before.map(|(rss, _)| rss);
    report.rss_after = after.map(|(rss, _)| rss);
    report.rss_idle = idle.map(|(rss, _)| rss);
    report.workers = [before, after, idle].map(|m| m.map_or(0, |(_, workers)| workers));
    target.stop().await;
    drop(served);
    Ok(report)
}

/// The `jobId`s of `answered` that ListJobs on `queue` never shows, looking again (jobs move between statuses
/// while they are listed) for up to `patience`.
pub async fn reconcile(
    batch: &aws_sdk_batch::Client,
    queue: &str,
    answered: &BTreeSet<String>,
    patience: Duration,
) -> Result<Vec<String>, String> {
    const STATUSES: [JobStatus; 7] = [
        JobStatus::Submitted,
        JobStatus::Pending,
        JobStatus::Runnable,
        JobStatus::Starting,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
    ];
    let mut listed = BTreeSet::new();
    let deadline = Instant::now() + patience;
    loop {
        for status in STATUSES {
            let mut token = None;
            loop {
                let page = batch
                    .list_jobs()
                    .job_queue(queue)
                    .job_status(status.clone())
                    .max_results(1000)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| format!("ListJobs: {}", aws_smithy_types::error::display::DisplayErrorContext(&e)))?;
                listed.extend(page.job_summary_list().iter().filter_map(|j| j.job_id()).map(str::to_owned));
                token = page.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
        }
        let missing: Vec<String> = answered.difference(&listed).cloned().collect();
        if missing.is_empty() || Instant::now() > deadline {
            return Ok(missing);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// PUTs `options.objects` objects of varied sizes (1 KiB to 1 MiB, each byte depending on the object and its
/// offset) and GETs each back, comparing every byte; then removes them and the bucket.
async fn objects(
    session: &crate::targets::TargetSession,
    options: &LoadOptions,
    report: &mut LoadReport,
) -> Result<(), String> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&session.sdk_config).force_path_style(true).build(),
    );
    let bucket = format!("crts-load-{}", rand::random::<u32>());
    s3.create_bucket().bucket(&bucket).send().await.map_err(|e| format!("CreateBucket: {e}"))?;
    let content = |i: usize| -> Vec<u8> {
        let size = 1024 + (i * 7919) % (1024 * 1024);
        (0..size).map(|at| ((at * 31 + i * 17) % 251) as u8).collect()
    };
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(options.objects);
    for i in 0..options.objects {
        let permit = Arc::clone(&semaphore).acquire_owned().await.map_err(|e| e.to_string())?;
        let (s3, bucket, expected) = (s3.clone(), bucket.clone(), content(i));
        tasks.push(tokio::spawn(async move {
            let key = format!("objects/{i:06}");
            let size = expected.len() as u64;
            let put = s3.put_object().bucket(&bucket).key(&key).body(expected.clone().into()).send().await;
            let result = match put {
                Err(_) => Err(false),
                Ok(_) => match s3.get_object().bucket(&bucket).key(&key).send().await {
                    Err(_) => Err(false),
                    Ok(object) => match object.body.collect().await.map(|b| b.into_bytes()) {
                        Ok(bytes) if bytes.as_ref() == expected.as_slice() => Ok(size),
                        Ok(_) => Err(true),
                        Err(_) => Err(false),
                    },
                },
            };
            let _ = s3.delete_object().bucket(&bucket).key(&key).send().await;
            drop(permit);
            result
        }));
    }
    report.objects = options.objects;
    for task in tasks {
        match task.await.map_err(|e| e.to_string())? {
            Ok(size) => report.object_bytes += size,
            Err(true) => report.objects_corrupted += 1,
            Err(false) => report.objects_failed += 1,
        }
    }
    report.object_elapsed = started.elapsed();
    let _ = s3.delete_bucket().bucket(&bucket).send().await;
    Ok(())
}
