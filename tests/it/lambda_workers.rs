//! The Lambda runtime's worker processes: stopping the emulator (a developer's Ctrl-C on `serve`, the end of a
//! run) never waits for a running handler, and idle workers are stopped after the idle timeout, as AWS reclaims
//! idle execution environments.

use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime, State};

use crate::support::{children_of, emulator, running, sdk_config};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A handler that is still running when the emulator stops.
const SLEEPING: &str = "import time\n\ndef lambda_handler(event, context):\n    time.sleep(20)\n    return {}\n";

/// A deployment package of `files` (path, source).
fn package(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, source) in files {
        writer.start_file(*path, zip::write::SimpleFileOptions::default()).expect("zip entry");
        writer.write_all(source.as_bytes()).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// Creates the function `name` from `source` on the emulator at `endpoint` and waits until it is Active.
async fn function(endpoint: &str, name: &str, source: &str) -> aws_sdk_lambda::Client {
    function_with(endpoint, name, &[("lambda_function.py", source)], &[]).await
}

/// As [`function`], from a package of `files` and with environment variables `env`.
async fn function_with(
    endpoint: &str,
    name: &str,
    files: &[(&str, &str)],
    env: &[(&str, &str)],
) -> aws_sdk_lambda::Client {
    let config = sdk_config(endpoint).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let role = iam.create_role().role_name(name).assume_role_policy_document(TRUST).send().await.expect("role");
    let lambda = aws_sdk_lambda::Client::new(&config);
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python38)
        .handler("lambda_function.lambda_handler")
        .role(role.role().expect("role").arn())
        .timeout(30)
        .code(FunctionCode::builder().zip_file(Blob::new(package(files))).build())
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .set_variables(Some(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");
    for _ in 0..600 {
        let state = lambda.get_function_configuration().function_name(name).send().await.expect("config");
        if state.state() == Some(&State::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    lambda
}

/// The answer's function error and `errorType`.
fn failure(answer: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> (Option<String>, serde_json::Value) {
    let payload: serde_json::Value =
        serde_json::from_slice(answer.payload().map(|p| p.as_ref()).unwrap_or(b"null")).unwrap_or_default();
    (answer.function_error().map(str::to_owned), payload["errorType"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_emulator_gives_requests_a_grace_then_ends_a_sleeping_handler() {
    let emulator = emulator().await;
    let lambda = function(emulator.endpoint(), "sleeper", SLEEPING).await;
    let invoking = tokio::spawn({
        let lambda = lambda.clone();
        async move { lambda.invoke().function_name("sleeper").send().await }
    });
    // Long enough for the invocation to reach the worker and the handler to be sleeping.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!invoking.is_finished(), "the handler sleeps for 20 s");

    let started = Instant::now();
    emulator.shutdown().await;
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "stopping gave the request in flight the 2 s grace ({took:?})");
    assert!(took < Duration::from_secs(4), "stopping took {took:?}: it waited for the handler");
    let answered = tokio::time::timeout(Duration::from_secs(3), invoking).await;
    let answer = answered.expect("answered when the emulator stopped").expect("joined").expect("an answer");
    assert_eq!(
        failure(&answer),
        (Some("Unhandled".to_owned()), serde_json::json!("Runtime.ExitError")),
        "the error of a sandbox that died"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_ends_within_the_grace_is_answered_normally() {
    let emulator = emulator().await;
    let source = "import time\n\ndef lambda_handler(event, context):\n    time.sleep(1)\n    return {'slept': 1}\n";
    let lambda = function(emulator.endpoint(), "brief-sleeper", source).await;
    // Warm, so the next invocation is the handler's second alone.
    lambda.invoke().function_name("brief-sleeper").send().await.expect("Invoke");
    let invoking = tokio::spawn({
        let lambda = lambda.clone();
        async move { lambda.invoke().function_name("brief-sleeper").send().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    emulator.shutdown().await;
    let answer = invoking.await.expect("joined").expect("an answer");
    assert_eq!(answer.function_error(), None, "{:?}", failure(&answer));
    assert_eq!(answer.payload().map(|p| p.as_ref().to_vec()), Some(br#"{"slept": 1}"#.to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_workers_are_stopped_after_the_idle_timeout_and_started_again_when_needed() {
    let config = crts_emulator::Config {
        lambda: crts_emulator::LambdaConfig { idle_timeout: Duration::from_secs(1), ..Default::default() },
        ..Default::default()
    };
    let emulator = crts_emulator::Emulator::start(config).await.expect("start");
    let lambda =
        function(emulator.endpoint(), "brief", "def lambda_handler(event, context):\n    return {'ok': True}\n").await;
    let invoke = || async { lambda.invoke().function_name("brief").send().await.expect("Invoke") };
    assert_eq!(invoke().await.function_error(), None);
    assert!(emulator.state().lambda.idle_workers().await >= 1, "a warm worker after the invocation");

    // Idle for longer than the timeout (plus the reaper's half-timeout tick): stopped.
    let mut idle = usize::MAX;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        idle = emulator.state().lambda.idle_workers().await;
        if idle == 0 {
            break;
        }
    }
    assert_eq!(idle, 0, "idle workers are stopped after 1 s (+ 0.5 s between reaper ticks)");
    let answer = invoke().await;
    assert_eq!(answer.function_error(), None, "a new worker serves the next invocation");
    emulator.shutdown().await;
}

/// The worker's process id, from the handler.
const PID: &str = "import os\n\ndef lambda_handler(event, context):\n    return {'pid': os.getpid()}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_workers_are_capped_across_functions_and_the_least_recently_used_idle_one_makes_room() {
    let config = crts_emulator::Config {
        lambda: crts_emulator::LambdaConfig { max_workers: 2, ..Default::default() },
        ..Default::default()
    };
    let emulator = crts_emulator::Emulator::start(config).await.expect("start");
    let mut clients = Vec::new();
    for name in ["first", "second", "third"] {
        clients.push((name, function(emulator.endpoint(), name, PID).await));
    }
    let pid = |index: usize| {
        let (name, lambda) = clients[index].clone();
        async move {
            let answer = lambda.invoke().function_name(name).send().await.expect("Invoke");
            assert_eq!(answer.function_error(), None, "{name}");
            let payload: serde_json::Value =
                serde_json::from_slice(answer.payload().expect("a payload").as_ref()).expect("JSON");
            payload["pid"].as_u64().expect("a pid")
        }
    };
    let first = pid(0).await;
    let second = pid(1).await;
    assert_eq!(emulator.state().lambda.live_workers(), 2);
    // A third function needs a worker: the first function's, idle longest, is stopped for it.
    let third = pid(2).await;
    assert_eq!(emulator.state().lambda.live_workers(), 2, "never more than the cap");
    assert!(!running(u32::try_from(first).expect("pid")), "the least recently used worker was stopped");
    assert_eq!(pid(1).await, second, "the second function kept its warm worker");
    let again = pid(0).await;
    assert_ne!(again, first, "the first function starts a new worker");
    assert_eq!(emulator.state().lambda.live_workers(), 2);
    assert!(!running(u32::try_from(third).expect("pid")), "the third one's worker, now least recently used, made room");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_worker_does_not_outlive_a_killed_serve() {
    let mut served = crate::support::serve();
    let lambda = function(&served.endpoint, "orphan", SLEEPING).await;
    let invoking = tokio::spawn(async move { lambda.invoke().function_name("orphan").send().await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let workers = children_of(served.pid());
    assert!(!workers.is_empty(), "serve runs the handler in a worker process");

    served.kill();
    let mut alive = workers.clone();
    for _ in 0..50 {
        alive.retain(|pid| running(*pid));
        if alive.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(alive, Vec::<u32>::new(), "workers still running 5 s after serve was SIGKILLed");
    let _ = invoking.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stopped_with_sigterm_or_ctrl_c_exits_0_within_its_grace_and_leaves_no_worker() {
    for signal in ["TERM", "INT"] {
        let mut served = crate::support::serve();
        let lambda = function(&served.endpoint, "sleeper", SLEEPING).await;
        let invoking = tokio::spawn(async move { lambda.invoke().function_name("sleeper").send().await });
        tokio::time::sleep(Duration::from_secs(2)).await;
        let workers = children_of(served.pid());
        assert!(!workers.is_empty(), "serve runs the handler in a worker process");

        let started = Instant::now();
        let status = served.stop_with(signal, Duration::from_secs(5));
        let took = started.elapsed();
        assert!(status.is_some_and(|s| s.success()), "SIG{signal}: serve exits 0 ({status:?} after {took:?})");
        assert!(took < Duration::from_secs(4), "SIG{signal}: the 2 s grace, then the handler is ended ({took:?})");
        assert_eq!(workers.iter().copied().filter(|pid| running(*pid)).collect::<Vec<_>>(), Vec::<u32>::new());
        let answer = invoking.await.expect("joined").expect("answered before serve exited");
        assert_eq!(failure(&answer).1, serde_json::json!("Runtime.ExitError"), "SIG{signal}");
    }
}

/// A burst of quick requests on a function just created (the worker its first request took still starting) is
/// served by that worker in turn, not by one Python start per request; requests that keep workers busy still get
/// workers of their own, so long handlers run side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_waits_for_the_starting_worker_and_long_handlers_still_run_side_by_side() {
    const NAPPING: &str = "import os, time\n\ndef lambda_handler(event, context):\n    time.sleep(event.get('nap', 0))\n    return {'pid': os.getpid()}\n";
    let emulator = emulator().await;
    let lambda = function(emulator.endpoint(), "burst", NAPPING).await;
    let invoke = |nap: f64| {
        let lambda = lambda.clone();
        async move {
            let answer = lambda
                .invoke()
                .function_name("burst")
                .payload(Blob::new(format!(r#"{{"nap": {nap}}}"#)))
                .send()
                .await
                .expect("Invoke");
            assert_eq!(answer.function_error(), None, "{:?}", failure(&answer));
            let payload: serde_json::Value =
                serde_json::from_slice(answer.payload().expect("a payload").as_ref()).expect("JSON");
            payload["pid"].as_u64().expect("a pid")
        }
    };
    let burst: Vec<_> = (0..8).map(|_| tokio::spawn(invoke(0.0))).collect();
    let mut pids = std::collections::BTreeSet::new();
    for answer in burst {
        pids.insert(answer.await.expect("joined"));
    }
    assert_eq!(pids.len(), 1, "eight quick requests, one worker: {pids:?}");
    assert_eq!(emulator.state().lambda.live_workers(), 1);

    // Three handlers of 3 s each at once: each gets a worker (after waiting for a busy one about as long as a
    // start takes), so together they take about 3 s and some starts, not 9 s.
    let started = Instant::now();
    let long: Vec<_> = (0..3).map(|_| tokio::spawn(invoke(3.0))).collect();
    let mut pids = std::collections::BTreeSet::new();
    for answer in long {
        pids.insert(answer.await.expect("joined"));
    }
    let took = started.elapsed();
    assert_eq!(pids.len(), 3, "three long handlers, three workers: {pids:?}");
    assert!(took < Duration::from_secs(7), "the long handlers ran side by side ({took:?})");
    emulator.shutdown().await;
}

/// What a handler saw of its runtime: whether boto3 was imported before its module was (a spare's), its environment,
/// working directory and first import path, and how Python started (hash randomisation, off with PYTHONHASHSEED=0).
const INTROSPECT: &str = r#"import os, sys
PRELOADED = "boto3" in sys.modules
import boto3

def lambda_handler(event, context):
    return {
        "preloaded": PRELOADED,
        "boto3": getattr(boto3, "ORIGIN", "installed"),
        "colour": os.environ.get("COLOUR"),
        "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "stream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
        "tz": os.environ.get("TZ"),
        "cwd_is_task_root": os.getcwd() == os.environ.get("LAMBDA_TASK_ROOT"),
        "path0_is_task_root": sys.path[0] == os.environ.get("LAMBDA_TASK_ROOT"),
        "hash_randomization": sys.flags.hash_randomization,
        "argv": sys.argv[1:],
        "pid": os.getpid(),
    }
"#;

/// Invokes `name` and gives its JSON answer and its log's REPORT line.
async fn introspect(lambda: &aws_sdk_lambda::Client, name: &str) -> (serde_json::Value, String) {
    let answer = lambda
        .invoke()
        .function_name(name)
        .log_type(aws_sdk_lambda::types::LogType::Tail)
        .send()
        .await
        .expect("Invoke");
    assert_eq!(answer.function_error(), None, "{:?}", failure(&answer));
    let log = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, answer.log_result().unwrap_or(""))
        .expect("base64 log");
    let report = String::from_utf8_lossy(&log).lines().find(|l| l.starts_with("REPORT")).unwrap_or("").to_owned();
    (serde_json::from_slice(answer.payload().expect("a payload").as_ref()).expect("JSON"), report)
}

/// Waits until the emulator has `n` spare runtimes ready.
async fn spares(emulator: &crts_emulator::Emulator, n: usize) {
    // Resolving the interpreter may first install boto3 into the managed virtualenv.
    for _ in 0..1200 {
        if emulator.state().lambda.spares() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} spares ready, not {n}", emulator.state().lambda.spares());
}

/// A runtime started ahead (`LambdaConfig::prestart`) becomes the function's worker: boto3 already imported, and the
/// function's own environment, working directory and import path, as if started for it; another is started for the
/// next. A function shipping its own boto3, or setting a variable Python reads as it starts, gets a start of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spare_runtime_becomes_a_worker_only_for_functions_it_cannot_behave_differently_for() {
    let config = crts_emulator::Config {
        lambda: crts_emulator::LambdaConfig { prestart: vec!["python3.8".into()], ..Default::default() },
        ..Default::default()
    };
    let emulator = crts_emulator::Emulator::start(config).await.expect("start");
    spares(&emulator, 1).await;
    // The spare waits: that time is not the function's init.
    let waited = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;

    let lambda =
        function_with(emulator.endpoint(), "spared", &[("lambda_function.py", INTROSPECT)], &[("COLOUR", "blue")])
            .await;
    let (seen, report) = introspect(&lambda, "spared").await;
    assert_eq!(seen["preloaded"], true, "served by the spare: {seen}");
    assert_eq!(seen["colour"], "blue", "{seen}");
    assert_eq!(seen["function"], "spared", "{seen}");
    assert!(seen["stream"].as_str().is_some_and(|s| s.contains("/[$LATEST]")), "its own log stream: {seen}");
    assert_eq!(seen["tz"], ":UTC", "{seen}");
    assert_eq!(seen["cwd_is_task_root"], true, "{seen}");
    assert_eq!(seen["path0_is_task_root"], true, "{seen}");
    assert_eq!(seen["argv"], serde_json::json!([]), "the argv of a runtime started for it: {seen}");
    let init_ms: f64 = report
        .split("Init Duration: ")
        .nth(1)
        .and_then(|rest| rest.split(" ms").next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("the first invocation reports its init: {report}"));
    let waited_ms = waited.elapsed().as_secs_f64() * 1e3;
    // Its own start and the handler's import; counting the wait would make it longer than `waited` itself.
    assert!(init_ms > 0.0 && init_ms < waited_ms, "Init Duration {init_ms} ms, the spare waited {waited_ms} ms");
    spares(&emulator, 1).await;

    // Its own boto3 in the package: a spare would have imported the installed one.
    let vendored = [("lambda_function.py", INTROSPECT), ("boto3/__init__.py", "ORIGIN = 'vendored'\n")];
    let lambda = function_with(emulator.endpoint(), "vendored", &vendored, &[]).await;
    let (seen, _) = introspect(&lambda, "vendored").await;
    assert_eq!((&seen["preloaded"], &seen["boto3"]), (&serde_json::json!(false), &serde_json::json!("vendored")));

    // PYTHONHASHSEED is read as Python starts: set afterwards, it would change nothing.
    let lambda =
        function_with(emulator.endpoint(), "seeded", &[("lambda_function.py", INTROSPECT)], &[("PYTHONHASHSEED", "0")])
            .await;
    let (seen, _) = introspect(&lambda, "seeded").await;
    assert_eq!((&seen["preloaded"], &seen["hash_randomization"]), (&serde_json::json!(false), &serde_json::json!(0)));
    assert_eq!(emulator.state().lambda.spares(), 1, "the spare waits for a function it suits");
    emulator.shutdown().await;
}

/// A spare is a process too: stopping serve stops it, and an idle one is stopped after the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spares_end_with_the_emulator_and_after_the_idle_timeout() {
    let mut served = crate::support::serve();
    // Creating a function gets a spare of its runtime ready for its first invocation.
    function(&served.endpoint, "waiting", PID).await;
    let runtimes = || -> Vec<u32> {
        let bootstrap = |pid: &u32| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("bootstrap.py"))
        };
        children_of(served.pid()).into_iter().filter(bootstrap).collect()
    };
    let mut spare = Vec::new();
    for _ in 0..100 {
        spare = runtimes();
        if !spare.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(runtimes(), spare, "one spare, and no worker before an invocation");
    assert_eq!(spare.len(), 1);
    let status = served.stop_with("TERM", Duration::from_secs(5));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert!(!running(spare[0]), "the spare ended with serve");

    let config = crts_emulator::Config {
        lambda: crts_emulator::LambdaConfig {
            prestart: vec!["python3.8".into()],
            idle_timeout: Duration::from_secs(1),
            ..Default::default()
        },
        ..Default::default()
    };
    let emulator = crts_emulator::Emulator::start(config).await.expect("start");
    spares(&emulator, 1).await;
    spares(&emulator, 0).await;
    emulator.shutdown().await;
}
