//! One module per emulated AWS service. Each exposes `handle(service, dependencies, request) -> Response` for its
//! protocol, where the dependencies are the small interfaces below (or, for the services not yet moved to them,
//! the server's state; tests/it/architecture.rs lists those): everything asks IAM whether a role session may do
//! something ([`Authorize`]), Batch asks the registry whether an image is there ([`Images`]), the Resource Groups
//! Tagging API lists each service's tagged resources ([`TaggedResources`]).

pub mod apigateway;
pub mod batch;
pub mod ecr;
pub mod iam;
pub mod lambda;
pub mod s3;
pub mod sts;
pub mod tagging;

use crate::identity::Caller;

/// Whether `caller` may perform `action` (e.g. `batch:SubmitJob`) on every one of `resources` (ARNs or `*`):
/// IAM's verdict, or its refusal in AWS's words.
pub trait Authorize: Send + Sync {
    fn authorize(&self, caller: &Caller, action: &str, resources: &[String]) -> Result<(), iam::Denial>;
}

impl Authorize for iam::Iam {
    fn authorize(&self, caller: &Caller, action: &str, resources: &[String]) -> Result<(), iam::Denial> {
        iam::Iam::authorize(self, caller, action, resources)
    }
}

/// Why an image cannot be pulled, when it names a repository of this emulator's registry that lacks it.
pub trait Images: Send + Sync {
    fn pull_error(&self, image: &str) -> Option<String>;
}

impl Images for ecr::Ecr {
    fn pull_error(&self, image: &str) -> Option<String> {
        ecr::Ecr::pull_error(self, image)
    }
}

/// A service's resources in one account and region, with their tags.
pub trait TaggedResources: Send + Sync {
    fn tagged(&self, account: &str, region: &str) -> Vec<tagging::Tagged>;
}

macro_rules! tagged_resources {
    ($($service:ty),*) => {$(
        impl TaggedResources for $service {
            fn tagged(&self, account: &str, region: &str) -> Vec<tagging::Tagged> {
                <$service>::tagged(self, account, region)
            }
        }
    )*};
}

tagged_resources!(lambda::Lambda, batch::Batch, apigateway::ApiGateway, ecr::Ecr, s3::S3);
