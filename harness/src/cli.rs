//! Command-line interface: flags become plain data first, then the work is done by the library.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::report;
use crate::run::{self, RunOptions};
use crate::scenario::VarOverride;
use crate::targets::TargetSpec;

/// Exit codes: 0 everything passed; 1 a step or check failed against the target; 2 invalid input or an
/// unreachable target; 4 `run --provision` left something behind.
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_INVALID: u8 = 2;
/// `run --provision` could not remove everything it made (even if every check passed).
pub const EXIT_LEFT_OVER: u8 = 4;

#[derive(Debug, Parser)]
#[command(name = "crts-harness", version, about = "Run the CRTS runbook against a target and check it")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply a scenario's steps to a target, run its checks, and print the report.
    Run {
        /// The scenario file.
        #[arg(default_value = "scenarios/crts.yaml")]
        scenario: PathBuf,
        /// embedded (the in-process emulator), localstack (LocalStack in a container), endpoint=URL (anything
        /// AWS-compatible), or aws (a real account).
        #[arg(long, default_value = "embedded", value_parser = parse_target)]
        target: TargetSpec,
        /// Report format on standard output.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// AWS region (default: AWS_REGION / profile for aws, us-east-1 for emulators).
        #[arg(long, env = "AWS_REGION")]
        region: Option<String>,
        /// Also write report.json, report.xml (JUnit), report.txt, screenshots and (when a run fails) the
        /// target container's logs into this directory.
        #[arg(long)]
        report_dir: Option<PathBuf>,
        /// The LocalStack image for `--target localstack` (default: the public tag that runs without a token).
        #[arg(long, env = "LOCALSTACK_IMAGE")]
        localstack_image: Option<String>,
        /// Set a scenario variable, e.g. `--var lambda_code=./lambda.zip` (repeatable). A path starting with ./
        /// or ../ is relative to the working directory; other relative paths to the repository root.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        variables: Vec<VarOverride>,
        /// A throwaway stack: every name gets a run-unique suffix, a journal records what is made, and everything
        /// is torn down after the checks (exit 4 if something could not be). The only way to run on `aws`.
        #[arg(long)]
        provision: bool,
        /// With --provision: leave the stack up (a loud warning says how to find it).
        #[arg(long, requires = "provision")]
        keep: bool,
        /// With --provision: the run id in the suffix (`-crts-ID`), instead of a random one.
        #[arg(long, requires = "provision")]
        run_id: Option<String>,
        /// The account the credentials must belong to; checked first (GetCallerIdentity). Required on `aws`.
        #[arg(long, env = "CRTS_AWS_ACCOUNT_ID")]
        account_id: Option<String>,
    },
    /// Measure emulator start, full run wall time and warm POST latency/throughput, and print the figures.
    Bench {
        #[arg(long, default_value = "scenarios/crts.yaml")]
        scenario: PathBuf,
        /// Emulator starts to time.
        #[arg(long, default_value_t = 50)]
        starts: usize,
        /// Full runs to time (the first includes the Lambda's cold start).
        #[arg(long, default_value_t = 6)]
        runs: usize,
        /// POSTs to send through the deployed API.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// POSTs in flight at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Also time LocalStack's start and a run on it, with this image (needs a Docker engine).
        #[arg(long, env = "LOCALSTACK_IMAGE")]
        localstack_image: Option<String>,
    },
    /// Put the deployed stack under load and prove nothing was lost: N authorised POSTs through API Gateway →
    /// Lambda → Batch reconciled with ListJobs, S3 PUT/GET round trips compared byte for byte, req/s, p50/p99,
    /// and the emulator's memory with its Lambda workers. Exit 0 nothing lost, 1 something lost or failed.
    Load {
        #[arg(default_value = "scenarios/crts.yaml")]
        scenario: PathBuf,
        /// An emulator already running (endpoint=URL; its memory is not measured); by default this command starts
        /// `crts-harness serve` on a free port and stops it afterwards.
        #[arg(long, value_parser = parse_target)]
        target: Option<TargetSpec>,
        /// POSTs to send.
        #[arg(long, default_value_t = 5000)]
        requests: usize,
        /// POSTs (and S3 round trips) in flight at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// S3 objects to PUT and GET back (1 KiB to 1 MiB each).
        #[arg(long, default_value_t = 2000)]
        objects: usize,
        /// Seconds without traffic before the idle memory is read.
        #[arg(long, default_value_t = 5)]
        idle_seconds: u64,
    },
    /// Read a stack that exists (set up by hand, or by `run`), compare each step with the scenario, and run the
    /// checks that change nothing. Never creates, changes or deletes anything. Exit 0 in sync, 1 drift or a failed
    /// check, 2 invalid input, unreachable target or the wrong account.
    Verify {
        #[arg(default_value = "scenarios/crts.yaml")]
        scenario: PathBuf,
        /// embedded, localstack, endpoint=URL or aws (a real account: needs --account-id).
        #[arg(long, default_value = "embedded", value_parser = parse_target)]
        target: TargetSpec,
        /// Set a scenario variable to the names used in the account, e.g. `--var function=crts-prod` (repeatable).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        variables: Vec<VarOverride>,
        /// Known deviations to accept: one `STEP_ID.PATH` pattern per line (`*` wildcards), listed as ignored.
        #[arg(long)]
        ignore: Option<PathBuf>,
        /// Report format on standard output.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also write drift.txt, drift.json and drift.xml (JUnit) into this directory.
        #[arg(long)]
        report_dir: Option<PathBuf>,
        /// The account the credentials must belong to; checked first (GetCallerIdentity), before any other call.
        #[arg(long, env = "CRTS_AWS_ACCOUNT_ID")]
        account_id: Option<String>,
        /// Also run what submits one real Batch job (the job_trigger check), creates a temporary API key, or
        /// probes an anonymous write. Without it these are reported `not checked`.
        #[arg(long)]
        trigger_job: bool,
        #[arg(long, env = "AWS_REGION")]
        region: Option<String>,
        #[arg(long, env = "LOCALSTACK_IMAGE")]
        localstack_image: Option<String>,
    },
    /// List what provisioned runs left behind (their journals, and on the target their crts-harness:run-id tag), or
    /// remove it with --yes. Exit 0 nothing left (or all removed), 4 something could not be removed, 2 invalid input.
    Cleanup {
        /// A run's journal (repeatable); without it, every journal in the user's cache.
        #[arg(long)]
        journal: Vec<PathBuf>,
        /// Only this run.
        #[arg(long)]
        run_id: Option<String>,
        /// Only runs that started at least this long ago (e.g. 30m, 12h, 7d).
        #[arg(long, value_parser = crate::cleanup::parse_duration)]
        older_than: Option<Duration>,
        /// Remove; without it nothing is changed.
        #[arg(long)]
        yes: bool,
        /// Instead of the target the journal names; also where to search by tag.
        #[arg(long, value_parser = parse_target)]
        target: Option<TargetSpec>,
        #[arg(long, env = "AWS_REGION")]
        region: Option<String>,
        #[arg(long, env = "CRTS_AWS_ACCOUNT_ID")]
        account_id: Option<String>,
    },
    /// Print the IAM policy a command needs.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Check a scenario file without running it.
    Validate {
        #[arg(default_value = "scenarios/crts.yaml")]
        scenario: PathBuf,
        /// Set a scenario variable, as for `run`.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        variables: Vec<VarOverride>,
    },
    /// Print the JSON Schema of scenario files (committed as schema/scenario.schema.json, for editors).
    Schema,
    /// Bring the whole CRTS stack up on this machine and keep it up until Ctrl-C: the emulator on --port, the
    /// scenario applied and checked once, the Swagger site ready to click (authorised with the local API key), and
    /// a log of each execute-api request and Batch job state change. With --watch, saving a file the scenario
    /// uses updates the steps that read it and runs the checks again.
    Up {
        #[arg(default_value = "scenarios/crts.yaml")]
        scenario: PathBuf,
        /// Port to listen on (0: a free one).
        #[arg(long, default_value_t = 4566)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        bind: IpAddr,
        /// Set a scenario variable, as for `run` (e.g. `--var lambda_code=./my-lambda/`).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        variables: Vec<VarOverride>,
        /// Follow the files the scenario uses (and the scenario itself) and apply each saved change.
        #[arg(long)]
        watch: bool,
        #[arg(long, env = "AWS_REGION")]
        region: Option<String>,
        /// Where the browser check saves its screenshots, from the first round of checks (none without it).
        #[arg(long)]
        report_dir: Option<PathBuf>,
    },
    /// Run the embedded AWS emulator in the foreground until Ctrl-C or SIGTERM.
    Serve {
        /// Port to listen on.
        #[arg(long, default_value_t = 4566)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        bind: IpAddr,
        /// How long a simulated Batch job stays in each state (SUBMITTED, RUNNABLE, STARTING, RUNNING).
        #[arg(long, env = "CRTS_BATCH_STATE_MS", default_value_t = 10)]
        batch_state_ms: u64,
        /// On Ctrl-C or SIGTERM, how long requests in flight may take to finish before the Lambda handlers still
        /// running are ended (their callers get the error of a sandbox that died).
        #[arg(long, env = "CRTS_SHUTDOWN_GRACE_MS", default_value_t = 2000)]
        shutdown_grace_ms: u64,
    },
}

pub fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the Tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Serve { port, bind, batch_state_ms, shutdown_grace_ms } => {
                let (batch_state, grace) =
                    (Duration::from_millis(batch_state_ms), Duration::from_millis(shutdown_grace_ms));
                serve(SocketAddr::new(bind, port), batch_state, grace).await
            }
            Command::Up { scenario, port, bind, variables, watch, region, report_dir } => {
                let options =
                    crate::up::UpOptions { scenario, variables, bind: SocketAddr::new(bind, port), region, report_dir };
                crate::up::up(options, watch).await
            }
            Command::Run {
                scenario,
                target,
                format,
                region,
                report_dir,
                localstack_image,
                variables,
                provision,
                keep,
                run_id,
                account_id,
            } => {
                let target = match localstack_image {
                    Some(image) => target.with_image(&image),
                    None => target,
                };
                let provision = provision.then_some(crate::provision::ProvisionOptions { keep, run_id });
                let options = RunOptions {
                    scenario,
                    target,
                    variables,
                    region,
                    report_dir: report_dir.clone(),
                    provision,
                    account_id,
                };
                run_scenario(options, format, report_dir).await
            }
            Command::Load { scenario, target, requests, concurrency, objects, idle_seconds } => {
                if let Some(spec) = target.as_ref().filter(|spec| spec.kind() != "endpoint") {
                    eprintln!(
                        "error: load runs against an emulator: --target endpoint=URL, or none to start one (not {spec})"
                    );
                    return ExitCode::from(2);
                }
                let serve_binary = match std::env::current_exe() {
                    Ok(path) => path,
                    Err(e) => {
                        eprintln!("error: cannot find this program to start `serve`: {e}");
                        return ExitCode::from(2);
                    }
                };
                let options = crate::load::LoadOptions {
                    scenario,
                    target,
                    serve_binary,
                    requests: requests.max(1),
                    concurrency: concurrency.max(1),
                    objects,
                    idle: Duration::from_secs(idle_seconds),
                };
                match crate::load::load(&options).await {
                    Ok(report) => {
                        print!("{}", report.to_text());
                        if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILED) }
                    }
                    Err(e) => {
                        eprintln!("error: load failed: {e}");
                        ExitCode::from(2)
                    }
                }
            }
            Command::Bench { scenario, starts, runs, requests, concurrency, localstack_image } => {
                let options = crate::bench::BenchOptions {
                    scenario,
                    starts: starts.max(1),
                    runs: runs.max(1),
                    requests: requests.max(1),
                    concurrency: concurrency.max(1),
                    localstack_image,
                };
                match crate::bench::bench(&options).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("error: bench failed: {e}");
                        ExitCode::from(EXIT_FAILED)
                    }
                }
            }
            Command::Verify {
                scenario,
                target,
                variables,
                ignore,
                format,
                report_dir,
                account_id,
                trigger_job,
                region,
                localstack_image,
            } => {
                let target = match localstack_image {
                    Some(image) => target.with_image(&image),
                    None => target,
                };
                let options = crate::verify::VerifyOptions {
                    scenario,
                    target,
                    variables,
                    region,
                    report_dir,
                    ignore,
                    trigger_job,
                    account_id,
                };
                verify_scenario(options, format).await
            }
            Command::Cleanup { journal, run_id, older_than, yes, target, region, account_id } => {
                let options = crate::cleanup::CleanupOptions {
                    journals: journal,
                    run_id,
                    older_than,
                    yes,
                    target,
                    region,
                    account_id,
                };
                cleanup(&options).await
            }
            Command::Policy { command } => {
                let (scenario, variables) = match &command {
                    PolicyCommand::Verify { scenario, variables, .. }
                    | PolicyCommand::Provision { scenario, variables } => (scenario, variables),
                };
                match run::validate(scenario, variables) {
                    Ok(s) => {
                        let policy = match command {
                            PolicyCommand::Verify { trigger_job, .. } => {
                                crate::verify::policy::verify_policy(&s, trigger_job)
                            }
                            PolicyCommand::Provision { .. } => crate::verify::policy::provision_policy(&s),
                        };
                        println!("{}", serde_json::to_string_pretty(&policy).unwrap_or_default());
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::from(EXIT_INVALID)
                    }
                }
            }
            Command::Schema => {
                print!("{}", crate::scenario::schema::schema_json());
                ExitCode::SUCCESS
            }
            Command::Validate { scenario, variables } => match run::validate(&scenario, &variables) {
                Ok(s) => {
                    println!(
                        "{}: {} steps, checks: {}",
                        scenario.display(),
                        s.steps.len(),
                        s.checks.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                    );
                    for var in &s.variables {
                        let mark = if var.from_command_line { " (--var)" } else { "" };
                        println!("  {} = {}{mark}", var.name, var.value);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_INVALID)
                }
            },
        }
    })
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// The least-privilege policy (JSON) for `verify` of a scenario: read-only actions only.
    Verify {
        #[arg(default_value = "scenarios/crts.yaml")]
        scenario: PathBuf,
        #[arg(long = "var", value_name = "NAME=VALUE")]
        variables: Vec<VarOverride>,
        /// Include what `verify --trigger-job` reads too.
        #[arg(long)]
        trigger_job: bool,
    },
    /// The policy (JSON) for `run --provision` of a scenario: what it creates, reads back, runs and deletes.
    Provision {
        #[arg(default_value = "scenarios/crts.yaml")]
        scenario: PathBuf,
        #[arg(long = "var", value_name = "NAME=VALUE")]
        variables: Vec<VarOverride>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
}

fn parse_target(s: &str) -> Result<TargetSpec, String> {
    s.parse()
}

async fn run_scenario(options: RunOptions, format: Format, report_dir: Option<PathBuf>) -> ExitCode {
    crate::progress::enable();
    let report = run::run(&options).await;
    crate::progress::finish();
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let rendered = Rendered {
        text: report::to_text(&report),
        json: serde_json::to_string_pretty(&report).unwrap_or_default(),
        junit: report::to_junit(&report),
    };
    let code = rendered.emit(format, report_dir.as_deref(), "report", report.passed());
    if report.left_over() {
        eprintln!("error: teardown left resources behind (listed under TEARDOWN in the report)");
        return ExitCode::from(EXIT_LEFT_OVER);
    }
    code
}

/// A report in the three formats: one printed, all three written to the report directory as `{name}.txt`,
/// `{name}.json` and `{name}.xml`.
struct Rendered {
    text: String,
    json: String,
    junit: String,
}

impl Rendered {
    /// Prints and writes the report; the exit code says whether it passed.
    fn emit(&self, format: Format, dir: Option<&std::path::Path>, name: &str, passed: bool) -> ExitCode {
        match format {
            Format::Text => print!("{}", self.text),
            Format::Json => println!("{}", self.json),
            Format::Junit => println!("{}", self.junit),
        }
        if let Some(dir) = dir {
            let written = std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(dir.join(format!("{name}.txt")), &self.text))
                .and_then(|()| std::fs::write(dir.join(format!("{name}.json")), &self.json))
                .and_then(|()| std::fs::write(dir.join(format!("{name}.xml")), &self.junit));
            if let Err(e) = written {
                eprintln!("error: failed to write the {name} files to {}: {e}", dir.display());
                return ExitCode::from(EXIT_INVALID);
            }
        }
        if passed { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILED) }
    }
}

async fn verify_scenario(options: crate::verify::VerifyOptions, format: Format) -> ExitCode {
    crate::progress::enable();
    let report = crate::verify::verify(&options).await;
    crate::progress::finish();
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let rendered = Rendered {
        text: crate::verify::report::to_text(&report),
        json: serde_json::to_string_pretty(&report).unwrap_or_default(),
        junit: crate::verify::report::to_junit(&report),
    };
    rendered.emit(format, options.report_dir.as_deref(), "drift", report.passed())
}

async fn cleanup(options: &crate::cleanup::CleanupOptions) -> ExitCode {
    let runs = match crate::cleanup::find(options) {
        Ok(runs) => runs,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let mut code = ExitCode::SUCCESS;
    for run in &runs {
        let started = run.started.map(|t| t.to_rfc3339()).unwrap_or_else(|| "?".into());
        println!(
            "run {} (started {started}, target {}, journal {}): {} steps applied and not torn down",
            run.run_id,
            run.target,
            run.journal.display(),
            run.steps.len()
        );
        for step in run.steps.iter().rev() {
            println!("  {step}");
        }
        if !options.yes {
            continue;
        }
        match crate::cleanup::remove(run, options).await {
            Ok(teardown) => {
                for what in &teardown.removed {
                    println!("  removed   {what}");
                }
                for leftover in &teardown.leftovers {
                    println!("  LEFT OVER {}: {}", leftover.step, leftover.error);
                    code = ExitCode::from(EXIT_LEFT_OVER);
                }
            }
            Err(e) => {
                eprintln!("error: run {}: {e}", run.run_id);
                code = ExitCode::from(EXIT_INVALID);
            }
        }
    }
    // Then by tag, on the target named (else the one the journals name): what no journal covers, or what a
    // journal's teardown could not remove.
    let journal_targets: std::collections::BTreeSet<&str> = runs.iter().map(|r| r.target.as_str()).collect();
    let spec = match (&options.target, journal_targets.iter().next()) {
        (Some(spec), _) => Some(spec.clone()),
        (None, Some(target)) if journal_targets.len() == 1 => target.parse::<TargetSpec>().ok(),
        _ => None,
    };
    let journal_regions: std::collections::BTreeSet<&str> = runs.iter().filter_map(|r| r.region.as_deref()).collect();
    let journal_region =
        (journal_regions.len() == 1).then(|| journal_regions.iter().next().map(|r| (*r).to_owned())).flatten();
    let mut tagged_found = 0;
    match spec.filter(|spec| !spec.ephemeral()) {
        None => println!("(no tag search: pass --target to also find what runs left by their crts-harness:run-id tag)"),
        Some(spec) => match crate::cleanup::by_tag(&spec, options, &runs, journal_region.as_deref()).await {
            Ok(found) => {
                for (run_id, resources) in &found.found {
                    tagged_found += resources.len();
                    let journal = runs
                        .iter()
                        .find(|r| r.run_id == *run_id)
                        .map_or_else(|| "no journal".to_owned(), |r| format!("journal {}", r.journal.display()));
                    println!("run {run_id} on {spec}, found by its crts-harness:run-id tag ({journal}):");
                    for resource in resources {
                        let created = resource.created.as_deref().unwrap_or("?");
                        println!("  {} (created {created})", resource.arn);
                    }
                }
                for what in &found.removed {
                    println!("  removed   {what}");
                }
                for (arn, error) in &found.leftovers {
                    println!("  LEFT OVER {arn}: {error}");
                    code = ExitCode::from(EXIT_LEFT_OVER);
                }
                for run_id in &found.held {
                    println!(
                        "  not removed: run {run_id} has no journal here and may still be running elsewhere; remove it with --run-id {run_id} (or --older-than DURATION)"
                    );
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                code = ExitCode::from(EXIT_INVALID);
            }
        },
    }
    if runs.is_empty() && tagged_found == 0 {
        println!("nothing left behind by a provisioned run");
    } else if !options.yes {
        println!("(a dry run: nothing was changed; --yes removes what is listed, last step first)");
    }
    code
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CRTS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,aws_config=error,crts_emulator=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(crate::progress::LogWriter).try_init();
}

async fn serve(bind: SocketAddr, batch_state: Duration, shutdown_grace: Duration) -> ExitCode {
    let containers = match crts_emulator::JobRunner::from_env() {
        Ok(containers) => containers,
        Err(e) => {
            eprintln!("crts-harness serve: {e}");
            return ExitCode::from(2);
        }
    };
    let config = crts_emulator::Config {
        bind,
        lambda: crts_emulator::LambdaConfig::from_env(),
        batch: crts_emulator::BatchConfig { state_duration: batch_state, containers },
        shutdown_grace,
        ..Default::default()
    };
    let emulator = match crts_emulator::Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!(
                "error: failed to listen on {bind}: {e} (is another emulator or LocalStack using the port? try --port)"
            );
            return ExitCode::from(2);
        }
    };
    // Whoever started us may stop reading stdout (tests read the first line): never die of a closed pipe.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "crts-emulator listening on {}", emulator.endpoint());
    let _ = writeln!(out, "  {}", crate::targets::emulator_exports(emulator.endpoint(), "us-east-1"));
    let _ = out.flush();
    wait_for_stop_signal().await;
    tracing::info!("stopping");
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

pub(crate) async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
