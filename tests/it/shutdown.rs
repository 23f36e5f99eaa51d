//! Stopping the emulator (a developer's Ctrl-C on `serve`, the end of a run) never waits for a running Lambda
//! handler: busy workers are killed and their invocations answered as failed.

use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime, State};

use crate::support::{emulator, sdk_config};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn sleeping_handler() -> Vec<u8> {
    use std::io::Write as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file("lambda_function.py", zip::write::SimpleFileOptions::default()).expect("zip entry");
    writer
        .write_all(b"import time\n\ndef lambda_handler(event, context):\n    time.sleep(20)\n    return {}\n")
        .expect("zip write");
    writer.finish().expect("zip finish").into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_emulator_does_not_wait_for_a_sleeping_handler() {
    let emulator = emulator().await;
    let config = sdk_config(emulator.endpoint()).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let role = iam.create_role().role_name("sleeper").assume_role_policy_document(TRUST).send().await.expect("role");
    let lambda = aws_sdk_lambda::Client::new(&config);
    lambda
        .create_function()
        .function_name("sleeper")
        .runtime(Runtime::Python38)
        .handler("lambda_function.lambda_handler")
        .role(role.role().expect("role").arn())
        .timeout(30)
        .code(FunctionCode::builder().zip_file(Blob::new(sleeping_handler())).build())
        .send()
        .await
        .expect("CreateFunction");
    for _ in 0..600 {
        let state = lambda.get_function_configuration().function_name("sleeper").send().await.expect("config");
        if state.state() == Some(&State::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    assert!(took < Duration::from_secs(3), "stopping took {took:?}: it waited for the handler");
    let answered = tokio::time::timeout(Duration::from_secs(3), invoking).await;
    assert!(answered.is_ok(), "the invocation in flight ended with the emulator");
}
