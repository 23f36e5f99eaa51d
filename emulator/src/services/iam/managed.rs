//! The AWS-managed policies the runbook's roles use, so that attaching them works and evaluates as on AWS.
//! (AWS has about a thousand; an unknown `arn:aws:iam::aws:policy/...` is refused with NoSuchEntity.)

/// (ARN, document) of the AWS-managed policies the emulator knows.
pub const AWS_MANAGED: &[(&str, &str)] = &[
    (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/AWSBatchFullAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["batch:*","ec2:Describe*","ecs:Describe*","ecs:List*","logs:Describe*","logs:Get*"],"Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/AWSLambda_FullAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*","logs:*"],"Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
];

/// The document of an AWS-managed policy, if the emulator knows it.
pub fn document(arn: &str) -> Option<&'static str> {
    AWS_MANAGED.iter().find(|(a, _)| *a == arn).map(|(_, d)| *d)
}

/// The parsed AWS-managed policy (parsed once per process: authorization runs on every request).
pub fn parsed(arn: &str) -> Option<&'static super::policy::PolicyDocument> {
    static PARSED: std::sync::OnceLock<Vec<(&'static str, super::policy::PolicyDocument)>> = std::sync::OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        AWS_MANAGED
            .iter()
            .filter_map(|(arn, document)| super::policy::PolicyDocument::parse(document).ok().map(|p| (*arn, p)))
            .collect()
    });
    parsed.iter().find(|(a, _)| *a == arn).map(|(_, p)| p)
}
