//! Every refusal the emulator makes, as a client sees it: status, error code, message.
//! The CRTS checks exist to catch exactly these, so each must look like AWS's.

use aws_sdk_batch::error::ProvideErrorMetadata;
use aws_sdk_batch::types::{
    ContainerProperties, JobDefinitionType, PlatformCapability, ResourceRequirement, ResourceType,
};
use crts_harness::run::{RunOptions, run};
use crts_harness::targets::TargetSpec;

use crate::support::{emulator, scenario, sdk_config, sdk_config_with_keys};

/// The CRTS stack deployed by the scenario on an emulator this test owns.
async fn deployed() -> (crts_emulator::Emulator, String, String) {
    let emulator = emulator().await;
    let options = RunOptions {
        scenario: scenario("crts.yaml"),
        target: TargetSpec::endpoint(emulator.endpoint().to_owned()),
        ..Default::default()
    };
    let report = run(&options).await.expect("valid scenario");
    assert!(report.passed(), "{}", crts_harness::report::to_text(&report));
    let apigateway = aws_sdk_apigateway::Client::new(&sdk_config(emulator.endpoint()).await);
    let api_id = apigateway.get_rest_apis().send().await.expect("GetRestApis").items()[0].id().expect("id").to_owned();
    let keys = apigateway.get_api_keys().include_values(true).send().await.expect("GetApiKeys");
    let key = keys.items()[0].value().expect("value").to_owned();
    (emulator, api_id, key)
}

async fn http(method: reqwest::Method, url: &str, key: Option<&str>) -> (u16, Option<String>, String) {
    let mut request = reqwest::Client::new().request(method, url).header("Content-Type", "application/json").body("{}");
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.expect("the emulator answers");
    let status = response.status().as_u16();
    let error_type = response.headers().get("x-amzn-ErrorType").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, error_type, response.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_api_refusals_look_like_api_gateway() {
    let (emulator, api_id, key) = deployed().await;
    let base = format!("{}/_aws/execute-api/{api_id}/default", emulator.endpoint());
    let missing_token = (
        403,
        Some("MissingAuthenticationTokenException".to_owned()),
        r#"{"message":"Missing Authentication Token"}"#.to_owned(),
    );
    let forbidden = (403, Some("ForbiddenException".to_owned()), r#"{"message":"Forbidden"}"#.to_owned());

    assert_eq!(http(reqwest::Method::POST, &format!("{base}/nothing-here"), Some(&key)).await, missing_token);
    assert_eq!(http(reqwest::Method::GET, &format!("{base}/crts"), Some(&key)).await, missing_token, "no GET method");
    assert_eq!(http(reqwest::Method::POST, &format!("{base}/crts"), None).await, forbidden);
    assert_eq!(http(reqwest::Method::POST, &format!("{base}/crts"), Some("not-a-key-not-a-key-0000")).await, forbidden);
    let other_stage = format!("{}/_aws/execute-api/{api_id}/prod/crts", emulator.endpoint());
    assert_eq!(http(reqwest::Method::POST, &other_stage, Some(&key)).await, missing_token, "unknown stage");
    let other_api = format!("{}/_aws/execute-api/nope123456/default/crts", emulator.endpoint());
    assert_eq!(http(reqwest::Method::POST, &other_api, Some(&key)).await, missing_token, "unknown API");

    // The fixture Lambda answers a body nested deeper than Python's JSON parser recurses with 400, not a 502.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let response = reqwest::Client::new()
        .post(format!("{base}/crts"))
        .header("x-api-key", &key)
        .body(nested)
        .send()
        .await
        .expect("POST a deeply nested body");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(response.text().await.expect("body"), r#"{"message": "The request body is nested too deeply"}"#);

    // A function whose answer the proxy integration cannot map: 502, with AWS's spacing.
    let lambda = aws_sdk_lambda::Client::new(&sdk_config(emulator.endpoint()).await);
    let zip = {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        writer.start_file("lambda_function.py", zip::write::SimpleFileOptions::default()).expect("zip entry");
        writer.write_all(b"def lambda_handler(event, context):\n    return 'just a string'\n").expect("zip write");
        writer.finish().expect("zip finish").into_inner()
    };
    lambda
        .update_function_code()
        .function_name("crts")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
        .send()
        .await
        .expect("UpdateFunctionCode");
    let bad_gateway =
        (502, Some("InternalServerErrorException".to_owned()), r#"{"message": "Internal server error"}"#.to_owned());
    let mut answer = http(reqwest::Method::POST, &format!("{base}/crts"), Some(&key)).await;
    for _ in 0..100 {
        if answer.0 == 502 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        answer = http(reqwest::Method::POST, &format!("{base}/crts"), Some(&key)).await;
    }
    assert_eq!(answer, bad_gateway);

    // Without the resource-policy statement that lets API Gateway invoke the function: 500, as AWS's
    // "Execution failed due to configuration error: Invalid permissions on Lambda function".
    let policy = lambda.get_policy().function_name("crts").send().await.expect("GetPolicy");
    let document: serde_json::Value = serde_json::from_str(policy.policy().expect("a policy")).expect("JSON policy");
    for statement in document["Statement"].as_array().expect("statements") {
        let sid = statement["Sid"].as_str().expect("a Sid");
        lambda.remove_permission().function_name("crts").statement_id(sid).send().await.expect("RemovePermission");
    }
    let configuration_error =
        (500, Some("InternalServerErrorException".to_owned()), r#"{"message": "Internal server error"}"#.to_owned());
    assert_eq!(http(reqwest::Method::POST, &format!("{base}/crts"), Some(&key)).await, configuration_error);

    // A permission whose SourceArn or SourceAccount does not match the invoking API is no permission: 500 again.
    // With a matching one the function runs (and answers the string the proxy cannot map: 502).
    let api_arn = |api: &str| format!("arn:aws:execute-api:us-east-1:000000000000:{api}/*/POST/crts");
    for (sid, source_arn, source_account, expected) in [
        ("other-api", api_arn("otherapi12"), None, &configuration_error),
        (
            "other-method",
            format!("arn:aws:execute-api:us-east-1:000000000000:{api_id}/*/GET/crts"),
            None,
            &configuration_error,
        ),
        ("other-account", api_arn(&api_id), Some("111111111111"), &configuration_error),
        ("this-api", api_arn(&api_id), Some("000000000000"), &bad_gateway),
    ] {
        lambda
            .add_permission()
            .function_name("crts")
            .statement_id(sid)
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(source_arn)
            .set_source_account(source_account.map(str::to_owned))
            .send()
            .await
            .expect("AddPermission");
        assert_eq!(&http(reqwest::Method::POST, &format!("{base}/crts"), Some(&key)).await, expected, "{sid}");
        lambda.remove_permission().function_name("crts").statement_id(sid).send().await.expect("RemovePermission");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_sessions_are_held_to_their_policies() {
    let (emulator, _api_id, _key) = deployed().await;
    let admin = sdk_config(emulator.endpoint()).await;
    let iam = aws_sdk_iam::Client::new(&admin);
    let role_arn =
        iam.get_role().role_name("crts-role").send().await.expect("GetRole").role().expect("role").arn().to_owned();
    let session = emulator.state().sessions.issue(&role_arn, "refusal-test");
    let as_role = sdk_config_with_keys(
        emulator.endpoint(),
        &session.access_key_id,
        &session.secret_access_key,
        Some(session.session_token.clone()),
    )
    .await;
    let batch = aws_sdk_batch::Client::new(&as_role);
    let submit =
        || batch.submit_job().job_name("as-role").job_queue("crts-aws-jq").job_definition("CrtsAwsJD:2").send();

    submit().await.expect("the runbook's policy allows batch:SubmitJob");

    // Without the policy: implicit deny.
    let policy_arn = "arn:aws:iam::000000000000:policy/crts-batch-submit-job";
    iam.detach_role_policy().role_name("crts-role").policy_arn(policy_arn).send().await.expect("DetachRolePolicy");
    let err = submit().await.expect_err("denied without the policy");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    let message = err.message().expect("a message");
    assert!(
        message.starts_with("User: arn:aws:sts::000000000000:assumed-role/crts-role/refusal-test is not authorized to perform: batch:SubmitJob on resource: arn:aws:batch:us-east-1:000000000000:"),
        "{message}"
    );
    assert!(message.ends_with("because no identity-based policy allows the batch:SubmitJob action"), "{message}");

    // Allowed again, then an explicit Deny wins over the Allow.
    iam.attach_role_policy().role_name("crts-role").policy_arn(policy_arn).send().await.expect("AttachRolePolicy");
    submit().await.expect("allowed again");
    iam.put_role_policy()
        .role_name("crts-role")
        .policy_name("deny-submit")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"batch:Submit*","Resource":"arn:aws:batch:*:*:job-queue/crts-*"}]}"#)
        .send()
        .await
        .expect("PutRolePolicy");
    let err = submit().await.expect_err("explicit deny");
    assert!(
        err.message().unwrap_or_default().ends_with("with an explicit deny in an identity-based policy"),
        "{:?}",
        err.message()
    );

    // awsQuery's AccessDenied: the role may not manage IAM.
    let iam_as_role = aws_sdk_iam::Client::new(&as_role);
    let err = iam_as_role
        .create_role()
        .role_name("escalate")
        .assume_role_policy_document("{}")
        .send()
        .await
        .expect_err("denied");
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    emulator.shutdown().await;
}

/// STS AssumeRole: the trust policy decides who may assume a role, the session is held to the role's policies,
/// and AWS's refusals (AccessDenied, ValidationError) look like AWS's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_follows_the_trust_policy_and_the_session_is_held_to_the_roles_policies() {
    let emulator = emulator().await;
    let admin = sdk_config(emulator.endpoint()).await;
    let iam = aws_sdk_iam::Client::new(&admin);
    let sts = aws_sdk_sts::Client::new(&admin);
    let trust = |principal: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    let create = |name: &'static str, trust: String| {
        let iam = iam.clone();
        async move { iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.expect("CreateRole") }
    };
    let reader = create("reader", trust(r#"{"AWS":"arn:aws:iam::000000000000:root"}"#)).await;
    let reader_arn = reader.role().expect("role").arn().to_owned();
    let lambda_only = create("lambda-only", trust(r#"{"Service":"lambda.amazonaws.com"}"#)).await;
    let lambda_arn = lambda_only.role().expect("role").arn().to_owned();

    let assumed = sts
        .assume_role()
        .role_arn(&reader_arn)
        .role_session_name("verify")
        .send()
        .await
        .expect("the role trusts the account");
    let user = assumed.assumed_role_user().expect("AssumedRoleUser");
    assert_eq!(user.arn(), "arn:aws:sts::000000000000:assumed-role/reader/verify");
    let credentials = assumed.credentials().expect("Credentials");
    let as_reader = sdk_config_with_keys(
        emulator.endpoint(),
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_owned()),
    )
    .await;
    let identity = aws_sdk_sts::Client::new(&as_reader).get_caller_identity().send().await.expect("whoami");
    assert_eq!(identity.arn(), Some("arn:aws:sts::000000000000:assumed-role/reader/verify"));

    // The session has no policy yet: Batch refuses; with a read policy, the read passes.
    let batch = aws_sdk_batch::Client::new(&as_reader);
    let err = batch.describe_job_queues().send().await.expect_err("no policy");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    iam.put_role_policy()
        .role_name("reader")
        .policy_name("read")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"batch:Describe*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .expect("PutRolePolicy");
    batch.describe_job_queues().send().await.expect("allowed by the read policy");

    // Refusals: a role that does not trust the account, a role that does not exist (same words), chaining without
    // sts:AssumeRole in the session's policies, and bad parameters.
    let refused = |arn: String, caller: aws_sdk_sts::Client| async move {
        let err = caller.assume_role().role_arn(&arn).role_session_name("x1").send().await.expect_err("refused");
        assert_eq!(err.code(), Some("AccessDenied"), "{err:?}");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
        err.message().unwrap_or_default().to_owned()
    };
    assert_eq!(
        refused(lambda_arn.clone(), sts.clone()).await,
        format!(
            "User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: {lambda_arn}"
        )
    );
    let missing = "arn:aws:iam::000000000000:role/nope".to_owned();
    assert!(refused(missing, sts.clone()).await.ends_with("on resource: arn:aws:iam::000000000000:role/nope"));
    let chained = refused(reader_arn.clone(), aws_sdk_sts::Client::new(&as_reader)).await;
    assert!(
        chained.starts_with(
            "User: arn:aws:sts::000000000000:assumed-role/reader/verify is not authorized to perform: sts:AssumeRole"
        ),
        "{chained}"
    );

    for (duration, name, expected) in [
        (Some(899), "ok-name", "Member must have value greater than or equal to 900"),
        (Some(7200), "ok-name", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."),
        (None, "a", "at 'roleSessionName' failed to satisfy constraint"),
        (None, "bad name!", "at 'roleSessionName' failed to satisfy constraint"),
    ] {
        let err = sts
            .assume_role()
            .role_arn(&reader_arn)
            .role_session_name(name)
            .set_duration_seconds(duration)
            .send()
            .await
            .expect_err("invalid");
        assert_eq!(err.code(), Some("ValidationError"), "{err:?}");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
        assert!(err.message().unwrap_or_default().contains(expected), "{:?}", err.message());
    }
    let err = sts
        .assume_role()
        .role_arn(&reader_arn)
        .role_session_name("with-policy")
        .policy(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .expect_err("session policies are refused, not ignored");
    assert_eq!(err.code(), Some("ValidationError"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn batch_refuses_with_client_exceptions() {
    let emulator = emulator().await;
    let batch = aws_sdk_batch::Client::new(&sdk_config(emulator.endpoint()).await);

    let err = batch
        .submit_job()
        .job_name("j")
        .job_queue("nope")
        .job_definition("nope")
        .send()
        .await
        .expect_err("unknown queue");
    assert_eq!(err.code(), Some("ClientException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));

    let requirement = |kind, value: &str| ResourceRequirement::builder().r#type(kind).value(value).build();
    let fargate = |execution_role: Option<&str>, vcpu: &str, memory: &str| {
        batch
            .register_job_definition()
            .job_definition_name("jd")
            .r#type(JobDefinitionType::Container)
            .platform_capabilities(PlatformCapability::Fargate)
            .container_properties(
                ContainerProperties::builder()
                    .image("busybox")
                    .set_execution_role_arn(execution_role.map(str::to_owned))
                    .resource_requirements(requirement(ResourceType::Vcpu, vcpu))
                    .resource_requirements(requirement(ResourceType::Memory, memory))
                    .build(),
            )
            .send()
    };
    let role = Some("arn:aws:iam::000000000000:role/ecsTaskExecutionRole");
    let err = fargate(None, "1", "2048").await.expect_err("Fargate needs an execution role");
    assert_eq!(err.code(), Some("ClientException"));
    let err = fargate(role, "1", "512").await.expect_err("1 vCPU needs 2048-8192 MiB");
    assert_eq!(err.code(), Some("ClientException"));
    let err = fargate(role, "3", "8192").await.expect_err("3 vCPU is not a Fargate size");
    assert_eq!(err.code(), Some("ClientException"));
    let ok = fargate(role, "0.25", "512").await.expect("a valid pair");
    assert_eq!(ok.revision(), Some(1));
    let err = batch
        .submit_job()
        .job_name("j")
        .job_queue("nope")
        .job_definition("jd")
        .send()
        .await
        .expect_err("unknown queue");
    assert_eq!(err.message(), Some("JobQueue nope not found."));
    emulator.shutdown().await;
}

/// Refusals a `Condition` decides, through the SDK: an identity-policy Deny on `aws:RequestedRegion`, an Allow on
/// `s3:ListBucket` whose `s3:prefix` condition fails, a bucket policy denying insecure transport (the emulator
/// speaks plain HTTP, so it denies even the owner; the owner may still remove the policy), and a trust policy
/// that requires `sts:ExternalId`. Each case: the call, whether AWS allows it, and the refusal's message ending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_refuse_as_aws_does() {
    use aws_config::Region;

    let emulator = emulator().await;
    let endpoint = emulator.endpoint().to_owned();
    let admin = sdk_config(&endpoint).await;
    let iam = aws_sdk_iam::Client::new(&admin);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},
        "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"crts-external"}}}]}"#;
    let role = iam.create_role().role_name("conditional").assume_role_policy_document(trust).send().await;
    let role_arn = role.expect("CreateRole").role().expect("role").arn().to_owned();
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["batch:Describe*","s3:GetObject"],"Resource":"*"},
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::conditions",
         "Condition":{"StringLike":{"s3:prefix":["home/${aws:PrincipalTag/team}/*"]}}},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#;
    iam.put_role_policy().role_name("conditional").policy_name("p").policy_document(policy).send().await.expect("put");
    iam.tag_role()
        .role_name("conditional")
        .tags(aws_sdk_iam::types::Tag::builder().key("team").value("crts").build().expect("tag"))
        .send()
        .await
        .expect("TagRole");

    // sts:ExternalId: refused without it and with another value, allowed with the trusted one.
    let sts = aws_sdk_sts::Client::new(&admin);
    let assume = |external_id: Option<&'static str>| {
        sts.assume_role()
            .role_arn(&role_arn)
            .role_session_name("cond")
            .set_external_id(external_id.map(str::to_owned))
            .send()
    };
    for external_id in [None, Some("guessed")] {
        let err = assume(external_id).await.expect_err("the trust policy's condition fails");
        assert_eq!(err.code(), Some("AccessDenied"), "{external_id:?}");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
        assert_eq!(
            err.message(),
            Some(
                format!("User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
                    .as_str()
            )
        );
    }
    let credentials = assume(Some("crts-external")).await.expect("trusted with the ExternalId");
    let credentials = credentials.credentials().expect("credentials");
    let as_role = sdk_config_with_keys(
        &endpoint,
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_owned()),
    )
    .await;

    // aws:RequestedRegion: the same call is allowed in us-east-1 and explicitly denied elsewhere.
    let batch_in = |region: &'static str| {
        aws_sdk_batch::Client::from_conf(
            aws_sdk_batch::config::Builder::from(&as_role).region(Region::new(region)).build(),
        )
    };
    batch_in("us-east-1").describe_job_queues().send().await.expect("allowed in us-east-1");
    let err = batch_in("eu-west-1").describe_job_queues().send().await.expect_err("denied in eu-west-1");
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(
        err.message().unwrap_or_default().ends_with("with an explicit deny in an identity-based policy"),
        "{err:?}"
    );

    // s3:prefix: the session lists only under home/<its team tag>/.
    let s3_with = |config: &aws_config::SdkConfig| {
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
    };
    let (owner, role_s3) = (s3_with(&admin), s3_with(&as_role));
    owner.create_bucket().bucket("conditions").send().await.expect("CreateBucket");
    owner.put_object().bucket("conditions").key("home/crts/a.txt").send().await.expect("PutObject");
    let listed = role_s3.list_objects_v2().bucket("conditions").prefix("home/crts/").send().await;
    assert_eq!(listed.expect("allowed under home/crts/").key_count(), Some(1));
    for prefix in [Some("home/other/"), Some("etc/"), None] {
        let err = role_s3
            .list_objects_v2()
            .bucket("conditions")
            .set_prefix(prefix.map(str::to_owned))
            .send()
            .await
            .expect_err("the Allow's condition fails");
        assert_eq!(err.code(), Some("AccessDenied"), "{prefix:?}");
        assert!(
            err.message()
                .unwrap_or_default()
                .ends_with("because no identity-based policy allows the s3:ListBucket action"),
            "{err:?}"
        );
    }

    // The classic "deny insecure transport" bucket policy: over plain HTTP it denies the owner and the session,
    // anonymous readers too; a TLS-terminating proxy's X-Forwarded-Proto: https makes the transport secure.
    let deny_insecure = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::conditions/*"},
        {"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",
         "Resource":["arn:aws:s3:::conditions","arn:aws:s3:::conditions/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
    owner
        .put_public_access_block()
        .bucket("conditions")
        .public_access_block_configuration(aws_sdk_s3::types::PublicAccessBlockConfiguration::builder().build())
        .send()
        .await
        .expect("PutPublicAccessBlock");
    owner.put_bucket_policy().bucket("conditions").policy(deny_insecure).send().await.expect("PutBucketPolicy");
    for (who, client) in [("owner", &owner), ("session", &role_s3)] {
        let err = client.get_object().bucket("conditions").key("home/crts/a.txt").send().await.expect_err(who);
        assert_eq!(err.code(), Some("AccessDenied"), "{who}");
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
        assert!(
            err.message().unwrap_or_default().ends_with(
                r#"s3:GetObject on resource: "arn:aws:s3:::conditions/home/crts/a.txt" with an explicit deny in a resource-based policy"#
            ),
            "{who}: {err:?}"
        );
    }
    let object_url = format!("{endpoint}/conditions/home/crts/a.txt");
    let anonymous = |proto: Option<&str>| {
        let mut request = reqwest::Client::new().get(&object_url);
        if let Some(proto) = proto {
            request = request.header("X-Forwarded-Proto", proto);
        }
        async move { request.send().await.expect("the emulator answers").status().as_u16() }
    };
    assert_eq!(anonymous(None).await, 403);
    assert_eq!(anonymous(Some("http")).await, 403);
    assert_eq!(anonymous(Some("https")).await, 200);
    owner.delete_bucket_policy().bucket("conditions").send().await.expect("the owner keeps the policy");
    owner.get_object().bucket("conditions").key("home/crts/a.txt").send().await.expect("allowed without the policy");
    emulator.shutdown().await;
}
