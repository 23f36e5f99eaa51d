//! One module per emulated AWS service. Each exposes `handle(service, dependencies, request) -> Response` for its
//! protocol, where the dependencies are the small interfaces below: everything asks IAM whether a role session may
//! do something ([`Authorize`]), Batch asks the registry whether an image is there ([`Images`]), the Resource
//! Groups Tagging API lists each service's tagged resources ([`TaggedResources`]), Lambda gets `lambda::Env`.
//!
//! Every operation has one shape: `handle` decodes the request (through `protocol/`), one `match` per service
//! goes from the operation name or route to a handler, and the handler takes a [`Call`] (the service, the
//! request, IAM, the operation) and returns the one error type, `protocol::AwsError`, which `handle` writes in the
//! service's protocol. Service-specific helpers are `impl Call<'_, ThatService>` in the service's module.

pub mod apigateway;
pub mod batch;
pub mod ecr;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod pagination;
pub mod s3;
pub mod sts;
pub mod tagging;

use crate::identity::Caller;
use crate::protocol::{AwsRequest, AwsResult};

/// One operation in progress, the one shape every service's handlers take: the service, the request, IAM, and which
/// operation it is. Service-specific helpers live in the service's module (`impl Call<'_, Batch> { ... }`).
pub struct Call<'a, S: ?Sized> {
    pub service: &'a S,
    pub req: &'a AwsRequest,
    pub iam: &'a dyn Authorize,
    /// The operation's name as IAM knows it (`SubmitJob`, `CreateRole`, `InvokeFunction`). For API Gateway, whose
    /// IAM actions are `apigateway:<METHOD>`, and S3, which picks its action per resource, the HTTP method.
    pub operation: &'a str,
}

/// What every service tells [`Call`]: its IAM action prefix and the protocol its refusals are written in.
pub trait Service {
    /// `batch` in `batch:SubmitJob`.
    const IAM_PREFIX: &'static str;
    const PROTOCOL: iam::Protocol;
}

impl<S: Service + ?Sized> Call<'_, S> {
    pub fn caller(&self) -> &Caller {
        &self.req.ctx.caller
    }

    pub fn account_id(&self) -> &str {
        self.req.ctx.account_id()
    }

    pub fn region(&self) -> &str {
        &self.req.ctx.region
    }

    pub fn request_id(&self) -> &str {
        &self.req.ctx.request_id
    }

    /// May the caller perform this operation (`<prefix>:<operation>`) on every one of `resources`? IAM's refusal
    /// is written in the service's protocol ([`iam::Denial::into_error`]).
    pub fn authorize(&self, resources: &[String]) -> AwsResult<()> {
        self.authorize_action(self.operation, resources)
    }

    /// The same for another operation of the service (`TagResource` when a create carries tags, API Gateway's
    /// `GET`): `<prefix>:<operation>`.
    pub fn authorize_action(&self, operation: &str, resources: &[String]) -> AwsResult<()> {
        let action = format!("{}:{operation}", S::IAM_PREFIX);
        self.authorize_in(&action, resources, &self.context())
    }

    /// May the caller perform `action` (a full IAM action, `s3:ListBucket`) on every one of `resources` in
    /// `context`: [`Call::context`] plus the service's own keys (`s3:prefix`, `sts:ExternalId`).
    pub fn authorize_in(&self, action: &str, resources: &[String], context: &iam::Context) -> AwsResult<()> {
        self.iam.authorize(self.caller(), action, resources, context).map_err(|denial| self.refused(denial))
    }

    /// The request's condition keys, built here for every service: `aws:RequestedRegion` (the request's region),
    /// `aws:SecureTransport`, `aws:CurrentTime`, `aws:EpochTime`, and what IAM knows about the caller
    /// ([`Authorize::principal_keys`]: `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalTag/*`, ...).
    /// A service adds its own keys to it before [`Call::authorize_in`].
    ///
    /// `aws:SecureTransport` is `false`: the emulator listens on plain HTTP, so a request reached it over TLS only
    /// through a TLS-terminating proxy in front of it, which says so with `X-Forwarded-Proto: https` (or
    /// `Forwarded: proto=https`); that header makes it `true`. Clients could send the header themselves; the
    /// emulator has no other way to know, and a proxy is how anyone serves it over HTTPS.
    pub fn context(&self) -> iam::Context {
        let mut context = iam::Context::now()
            .with("aws:RequestedRegion", self.region())
            .with("aws:SecureTransport", secure_transport(self.req).to_string());
        self.iam.principal_keys(self.caller(), &mut context);
        context
    }

    /// An IAM refusal as this service's protocol writes it.
    pub fn refused(&self, denial: iam::Denial) -> crate::protocol::AwsError {
        denial.into_error(S::PROTOCOL)
    }
}

/// Whether the request reached a TLS endpoint: a proxy in front of the emulator said so (see [`Call::context`]).
fn secure_transport(req: &AwsRequest) -> bool {
    let forwarded_proto = req.header("x-forwarded-proto").and_then(|v| v.split(',').next());
    let forwarded = req.header("forwarded").and_then(|v| {
        v.split(',').next()?.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            name.eq_ignore_ascii_case("proto").then(|| value.trim_matches('"'))
        })
    });
    forwarded_proto.or(forwarded).is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// Whether `caller` may perform `action` (e.g. `batch:SubmitJob`) on every one of `resources` (ARNs or `*`) in the
/// request's `context` (its condition keys): IAM's verdict, or its refusal in AWS's words.
pub trait Authorize: Send + Sync {
    fn authorize(
        &self,
        caller: &Caller,
        action: &str,
        resources: &[String],
        context: &iam::Context,
    ) -> Result<(), iam::Denial>;

    /// Adds the condition keys IAM knows about `caller` (its ARN, account, tags) to `context`.
    fn principal_keys(&self, _caller: &Caller, _context: &mut iam::Context) {}
}

impl Authorize for iam::Iam {
    fn authorize(
        &self,
        caller: &Caller,
        action: &str,
        resources: &[String],
        context: &iam::Context,
    ) -> Result<(), iam::Denial> {
        iam::Iam::authorize(self, caller, action, resources, context)
    }

    fn principal_keys(&self, caller: &Caller, context: &mut iam::Context) {
        iam::Iam::principal_keys(self, caller, context);
    }
}

/// What Batch asks of the registry: why an image cannot be pulled (when it names a repository of this emulator's
/// registry that lacks it), and credentials to pull one that is there.
pub trait Images: Send + Sync {
    fn pull_error(&self, image: &str) -> Option<String>;
    /// Whether `image` names this emulator's registry (`<account>.dkr.ecr.<region>.amazonaws.com/...`).
    fn is_local(&self, image: &str) -> bool;
    /// The manifest digest `image` names in this emulator's registry, when it holds it.
    fn manifest_digest(&self, image: &str) -> Option<String>;
    /// A `docker login` user and password for the registry of (account, region).
    fn credentials(&self, account: &str, region: &str) -> (String, String);
}

impl Images for ecr::Ecr {
    fn pull_error(&self, image: &str) -> Option<String> {
        ecr::Ecr::pull_error(self, image)
    }

    fn is_local(&self, image: &str) -> bool {
        image.split_once('/').is_some_and(|(host, _)| ecr::registry::registry_of_host(host).is_some())
    }

    fn manifest_digest(&self, image: &str) -> Option<String> {
        ecr::Ecr::manifest_digest(self, image)
    }

    fn credentials(&self, account: &str, region: &str) -> (String, String) {
        ("AWS".to_owned(), self.issue_token(account, region).0)
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

tagged_resources!(lambda::Lambda, batch::Batch, apigateway::ApiGateway, ecr::Ecr, s3::S3, logs::Logs);

/// What the services' unit tests drive them with: IAM stand-ins and the account's own caller.
#[cfg(test)]
pub(crate) mod test_support {
    use super::Authorize;
    use crate::identity::Caller;
    use crate::services::iam::{Context, Denial};

    /// Allows everything.
    pub struct AllowAll;

    /// Refuses everything, in IAM's words.
    pub struct DenyAll;

    /// Refuses role sessions (what IAM does for a role without policies); the account's own keys may do anything.
    pub struct DenyRoles;

    fn denied(action: &str) -> Denial {
        Denial { message: format!("User: x is not authorized to perform: {action}") }
    }

    impl Authorize for AllowAll {
        fn authorize(&self, _: &Caller, _: &str, _: &[String], _: &Context) -> Result<(), Denial> {
            Ok(())
        }
    }

    impl Authorize for DenyAll {
        fn authorize(&self, _: &Caller, action: &str, _: &[String], _: &Context) -> Result<(), Denial> {
            Err(denied(action))
        }
    }

    impl Authorize for DenyRoles {
        fn authorize(&self, caller: &Caller, action: &str, _: &[String], _: &Context) -> Result<(), Denial> {
            match caller {
                Caller::Role(_) => Err(denied(action)),
                _ => Ok(()),
            }
        }
    }

    /// The account's own keys.
    pub fn account() -> Caller {
        Caller::Account { account_id: "123456789012".into(), access_key_id: "AKIDEXAMPLE".into() }
    }

    /// A session of role `r` of the account.
    pub fn role_session() -> Caller {
        Caller::Role(crate::identity::Sessions::default().issue("arn:aws:iam::123456789012:role/r", "unit"))
    }
}
