//! One module per emulated AWS service. Each exposes `handle(state, request) -> Response` for its protocol;
//! services reach each other only through the small interfaces named in their docs (API Gateway invokes Lambda;
//! everything asks IAM whether a role session may do something).

pub mod apigateway;
pub mod batch;
pub mod ecr;
pub mod iam;
pub mod lambda;
pub mod s3;
pub mod sts;
pub mod tagging;
