//! One function per IAM action. Each links its API reference; responses are awsQuery XML.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::policy::PolicyDocument;
use super::{Account, Iam, ManagedPolicy, Role, XMLNS, managed, tags};
use crate::identity::random_upper_alnum;
use crate::protocol::query::{self, QueryInput};
use crate::protocol::xml::XmlWriter;
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response};
use crate::services::{Call, pagination};

/// IAM returns policy documents URL-encoded (RFC 3986 unreserved characters stay as they are).
const DOCUMENT_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn encode_document(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT_ENCODE).to_string()
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// IAM's side of every action: the account's resources and the awsQuery response around the action's result.
impl Call<'_, Iam> {
    pub(super) fn role_arn(&self, name: &str) -> String {
        format!("arn:aws:iam::{}:role/{name}", self.account_id())
    }

    pub(super) fn respond(&self, result: impl FnOnce(&mut XmlWriter)) -> Response {
        query::respond(self.operation, XMLNS, self.request_id(), result)
    }

    pub(super) fn respond_empty(&self) -> Response {
        query::respond_empty(self.operation, XMLNS, self.request_id())
    }

    pub(super) fn with_account<T>(&self, f: impl FnOnce(&mut Account) -> T) -> T {
        self.service.with_account(self.account_id(), f)
    }
}

/// One `match` from the action to its handler; each handler takes the call and the action's parameters.
pub(super) fn dispatch(iam: &Iam, req: &AwsRequest, input: &QueryInput) -> AwsResult<Response> {
    let Some(action) = input.action() else {
        return Err(AwsError::bad_request("MissingAction", "Missing Action"));
    };
    let call = Call { service: iam, req, iam, operation: action };
    match action {
        "CreateRole" => create_role(&call, input),
        "GetRole" => get_role(&call, input),
        "DeleteRole" => delete_role(&call, input),
        "ListRoles" => list_roles(&call, input),
        "CreatePolicy" => create_policy(&call, input),
        "GetPolicy" => get_policy(&call, input),
        "GetPolicyVersion" => get_policy_version(&call, input),
        "DeletePolicy" => delete_policy(&call, input),
        "ListPolicies" => list_policies(&call, input),
        "AttachRolePolicy" => attach_role_policy(&call, input),
        "DetachRolePolicy" => detach_role_policy(&call, input),
        "ListAttachedRolePolicies" => list_attached_role_policies(&call, input),
        "PutRolePolicy" => put_role_policy(&call, input),
        "GetRolePolicy" => get_role_policy(&call, input),
        "DeleteRolePolicy" => delete_role_policy(&call, input),
        "ListRolePolicies" => list_role_policies(&call, input),
        "TagRole" => tags::tag_role(&call, input),
        "UntagRole" => tags::untag_role(&call, input),
        "ListRoleTags" => tags::list_role_tags(&call, input),
        "TagPolicy" => tags::tag_policy(&call, input),
        "UntagPolicy" => tags::untag_policy(&call, input),
        "ListPolicyTags" => tags::list_policy_tags(&call, input),
        other => Err(AwsError::bad_request(
            "InvalidAction",
            format!("Could not find operation {other} for version 2010-05-08"),
        )),
    }
}

pub(super) fn no_such_role(name: &str) -> AwsError {
    AwsError::not_found("NoSuchEntity", format!("The role with name {name} cannot be found."))
}

fn no_such_policy(arn: &str) -> AwsError {
    AwsError::not_found("NoSuchEntity", format!("Policy {arn} does not exist or is not attachable."))
}

fn malformed(message: String) -> AwsError {
    AwsError::bad_request("MalformedPolicyDocument", message)
}

/// Validates a path: `/` or `/segments/`.
fn path_param(input: &QueryInput) -> AwsResult<String> {
    let path = input.get("Path").unwrap_or("/");
    if path.starts_with('/') && path.ends_with('/') && path.len() <= 512 {
        Ok(path.to_owned())
    } else {
        Err(AwsError::validation(format!(
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters: {path}"
        )))
    }
}

/// Validates a role or policy name: 1-64 (roles) or 1-128 (policies) of `[\w+=,.@-]`.
fn name_param<'a>(input: &'a QueryInput, member: &str, max: usize) -> AwsResult<&'a str> {
    let name = input.required(member)?;
    let valid = !name.is_empty()
        && name.len() <= max
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if valid {
        Ok(name)
    } else {
        Err(AwsError::validation(format!(
            "1 validation error detected: Value '{name}' at '{}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
            lower_first(member)
        )))
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// IAM's paging ([`pagination`]): `MaxItems` 1-1000 (default 100) and `Marker`, refused as ValidationError.
pub(super) fn page<T>(input: &QueryInput, items: Vec<(String, T)>) -> AwsResult<pagination::Page<T>> {
    let size = pagination::PageSize { default: 100, max: 1000 };
    let refused = |e: pagination::PageError| match e {
        pagination::PageError::Token => AwsError::bad_request("ValidationError", "Invalid Marker."),
        limit => AwsError::bad_request("ValidationError", limit.validation_message("maxItems")),
    };
    let limit = pagination::limit_param(input.get("MaxItems"), size).map_err(refused)?;
    pagination::page(items, size, limit, input.get("Marker")).map_err(refused)
}

/// `<IsTruncated>`, and the `<Marker>` to go on with when it is true.
pub(super) fn write_truncation(w: &mut XmlWriter, next: Option<&str>) {
    match next {
        Some(marker) => {
            w.text("IsTruncated", "true").text("Marker", marker);
        }
        None => {
            w.text("IsTruncated", "false");
        }
    }
}

/// A role as GetRole and CreateRole return it; ListRoles leaves out its tags (`element` = `member`), as AWS does.
fn write_role(w: &mut XmlWriter, element: &str, role: &Role) {
    w.open(element, None)
        .text("Path", &role.path)
        .text("RoleName", &role.name)
        .text("RoleId", &role.id)
        .text("Arn", &role.arn)
        .text("CreateDate", &role.created)
        .text("AssumeRolePolicyDocument", &encode_document(&role.trust_policy))
        .opt_text("Description", role.description.as_deref())
        .text("MaxSessionDuration", &role.max_session_duration.to_string());
    if element != "member" && !role.tags.is_empty() {
        tags::write(w, &role.tags);
    }
    w.close(element);
}

/// A policy as GetPolicy and CreatePolicy return it; ListPolicies leaves out its tags (`element` = `member`).
fn write_policy(w: &mut XmlWriter, element: &str, policy: &ManagedPolicy, attachments: usize) {
    w.open(element, None)
        .text("PolicyName", &policy.name)
        .text("PolicyId", &policy.id)
        .text("Arn", &policy.arn)
        .text("Path", &policy.path)
        .text("DefaultVersionId", "v1")
        .text("AttachmentCount", &attachments.to_string())
        .text("PermissionsBoundaryUsageCount", "0")
        .text("IsAttachable", "true")
        .opt_text("Description", policy.description.as_deref())
        .text("CreateDate", &policy.created)
        .text("UpdateDate", &policy.created);
    if element != "member" && !policy.tags.is_empty() {
        tags::write(w, &policy.tags);
    }
    w.close(element);
}

/// An AWS-managed policy presented like a customer-managed one (for GetPolicy/GetPolicyVersion).
fn aws_managed(arn: &str) -> Option<ManagedPolicy> {
    let document = managed::document(arn)?;
    let name = arn.rsplit('/').next().unwrap_or(arn).to_owned();
    let path = arn.trim_start_matches("arn:aws:iam::aws:policy").trim_end_matches(name.as_str()).to_owned();
    Some(ManagedPolicy {
        name,
        path,
        id: "ANPAAWSMANAGED0000000".to_owned(),
        arn: arn.to_owned(),
        description: None,
        created: "2015-04-09T15:03:43Z".to_owned(),
        document: document.to_owned(),
        parsed: PolicyDocument::parse(document).ok()?,
        tags: Default::default(),
    })
}

fn attachment_count(account: &Account, arn: &str) -> usize {
    account.roles.values().filter(|r| r.attached.iter().any(|a| a == arn)).count()
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html>
/// Deviation: permissions boundaries are accepted but not stored.
fn create_role(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = name_param(input, "RoleName", 64)?;
    let trust_policy = input.required("AssumeRolePolicyDocument")?;
    let path = path_param(input)?;
    call.authorize(&[call.role_arn(name)])?;
    PolicyDocument::parse(trust_policy).map_err(malformed)?;
    let max_session_duration = match input.get("MaxSessionDuration") {
        Some(v) => v.parse::<u32>().ok().filter(|d| (3600..=43200).contains(d)).ok_or_else(|| {
            AwsError::validation("1 validation error detected: Value at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200")
        })?,
        None => 3600,
    };
    let role = Role {
        name: name.to_owned(),
        arn: format!("arn:aws:iam::{}:role{path}{name}", call.account_id()),
        path,
        id: format!("AROA{}", random_upper_alnum(17)),
        created: now(),
        trust_policy: trust_policy.to_owned(),
        description: input.get("Description").map(str::to_owned),
        max_session_duration,
        attached: Vec::new(),
        inline: Default::default(),
        tags: tags::on_create(call, input, "TagRole", &call.role_arn(name))?,
    };
    call.with_account(|account| {
        if account.roles.contains_key(name) {
            return Err(AwsError::conflict("EntityAlreadyExists", format!("Role with name {name} already exists.")));
        }
        account.roles.insert(name.to_owned(), role.clone());
        Ok(())
    })?;
    Ok(call.respond(|w| write_role(w, "Role", &role)))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html>
fn get_role(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = input.required("RoleName")?;
    call.authorize(&[call.role_arn(name)])?;
    let role = call.with_account(|account| account.roles.get(name).cloned()).ok_or_else(|| no_such_role(name))?;
    Ok(call.respond(|w| write_role(w, "Role", &role)))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html>
fn delete_role(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = input.required("RoleName")?;
    call.authorize(&[call.role_arn(name)])?;
    call.with_account(|account| {
        let role = account.roles.get(name).ok_or_else(|| no_such_role(name))?;
        if !role.attached.is_empty() {
            return Err(AwsError::conflict("DeleteConflict", "Cannot delete entity, must detach all policies first."));
        }
        if !role.inline.is_empty() {
            return Err(AwsError::conflict("DeleteConflict", "Cannot delete entity, must delete policies first."));
        }
        account.roles.remove(name);
        Ok(())
    })?;
    Ok(call.respond_empty())
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html> (by name, paged: [`page`])
fn list_roles(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    call.authorize(&["*".to_owned()])?;
    let prefix = input.get("PathPrefix").unwrap_or("/");
    let roles: Vec<(String, Role)> = call.with_account(|account| {
        account.roles.values().filter(|r| r.path.starts_with(prefix)).map(|r| (r.name.clone(), r.clone())).collect()
    });
    let page = page(input, roles)?;
    Ok(call.respond(|w| {
        w.open("Roles", None);
        for role in &page.items {
            write_role(w, "member", role);
        }
        w.close("Roles");
        write_truncation(w, page.next.as_deref());
    }))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html>
fn create_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = name_param(input, "PolicyName", 128)?;
    let document = input.required("PolicyDocument")?;
    let path = path_param(input)?;
    let arn = format!("arn:aws:iam::{}:policy{path}{name}", call.account_id());
    call.authorize(std::slice::from_ref(&arn))?;
    let parsed = PolicyDocument::parse(document).map_err(malformed)?;
    let policy = ManagedPolicy {
        name: name.to_owned(),
        path,
        id: format!("ANPA{}", random_upper_alnum(17)),
        arn: arn.clone(),
        description: input.get("Description").map(str::to_owned),
        created: now(),
        document: document.to_owned(),
        parsed,
        tags: tags::on_create(call, input, "TagPolicy", &arn)?,
    };
    call.with_account(|account| {
        if account.policies.values().any(|p| p.name == name) {
            return Err(AwsError::conflict(
                "EntityAlreadyExists",
                format!("A policy called {name} already exists. Duplicate names are not allowed."),
            ));
        }
        account.policies.insert(arn, policy.clone());
        Ok(())
    })?;
    Ok(call.respond(|w| write_policy(w, "Policy", &policy, 0)))
}

/// The customer-managed or AWS-managed policy with this ARN, and its attachment count.
fn find_policy(call: &Call<'_, Iam>, arn: &str) -> AwsResult<(ManagedPolicy, usize)> {
    let found =
        call.with_account(|account| account.policies.get(arn).cloned().map(|p| (p, attachment_count(account, arn))));
    match found {
        Some(found) => Ok(found),
        None => aws_managed(arn)
            .map(|p| (p, 0))
            .ok_or_else(|| AwsError::not_found("NoSuchEntity", format!("Policy {arn} was not found."))),
    }
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html>
fn get_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let arn = input.required("PolicyArn")?;
    call.authorize(&[arn.to_owned()])?;
    let (policy, attachments) = find_policy(call, arn)?;
    Ok(call.respond(|w| write_policy(w, "Policy", &policy, attachments)))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicyVersion.html>
/// Deviation: policies have exactly one version, `v1` (CreatePolicyVersion is not implemented).
fn get_policy_version(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let arn = input.required("PolicyArn")?;
    let version = input.required("VersionId")?;
    call.authorize(&[arn.to_owned()])?;
    let (policy, _) = find_policy(call, arn)?;
    if version != "v1" {
        return Err(AwsError::not_found("NoSuchEntity", format!("Policy {arn} version {version} does not exist.")));
    }
    Ok(call.respond(|w| {
        w.open("PolicyVersion", None)
            .text("Document", &encode_document(&policy.document))
            .text("VersionId", "v1")
            .text("IsDefaultVersion", "true")
            .text("CreateDate", &policy.created)
            .close("PolicyVersion");
    }))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html>
fn delete_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let arn = input.required("PolicyArn")?;
    call.authorize(&[arn.to_owned()])?;
    call.with_account(|account| {
        if !account.policies.contains_key(arn) {
            return Err(AwsError::not_found("NoSuchEntity", format!("Policy {arn} was not found.")));
        }
        if attachment_count(account, arn) > 0 {
            return Err(AwsError::conflict("DeleteConflict", "Cannot delete a policy attached to entities."));
        }
        account.policies.remove(arn);
        Ok(())
    })?;
    Ok(call.respond_empty())
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html>
/// By ARN (the account's own, then AWS-managed ones), paged ([`page`]). Deviation: `Scope=AWS` lists the
/// AWS-managed policies the emulator knows.
fn list_policies(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    call.authorize(&["*".to_owned()])?;
    let scope = input.get("Scope").unwrap_or("All");
    let mut policies: Vec<(ManagedPolicy, usize)> = if scope == "AWS" {
        Vec::new()
    } else {
        call.with_account(|account| {
            account.policies.values().map(|p| (p.clone(), attachment_count(account, &p.arn))).collect()
        })
    };
    if scope != "Local" {
        policies.extend(managed::AWS_MANAGED.iter().filter_map(|(arn, _)| aws_managed(arn)).map(|p| (p, 0)));
    }
    let only_attached = input.get("OnlyAttached") == Some("true");
    let listed = policies
        .into_iter()
        .filter(|(_, n)| !only_attached || *n > 0)
        .map(|(policy, attachments)| (policy.arn.clone(), (policy, attachments)))
        .collect();
    let page = page(input, listed)?;
    Ok(call.respond(|w| {
        w.open("Policies", None);
        for (policy, attachments) in &page.items {
            write_policy(w, "member", policy, *attachments);
        }
        w.close("Policies");
        write_truncation(w, page.next.as_deref());
    }))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html>
fn attach_role_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = input.required("RoleName")?;
    let arn = input.required("PolicyArn")?;
    call.authorize(&[call.role_arn(name)])?;
    call.with_account(|account| {
        if !account.policies.contains_key(arn) && managed::document(arn).is_none() {
            return Err(no_such_policy(arn));
        }
        let role = account.roles.get_mut(name).ok_or_else(|| no_such_role(name))?;
        if !role.attached.iter().any(|a| a == arn) {
            role.attached.push(arn.to_owned());
        }
        Ok(())
    })?;
    Ok(call.respond_empty())
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_DetachRolePolicy.html>
fn detach_role_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = input.required("RoleName")?;
    let arn = input.required("PolicyArn")?;
    call.authorize(&[call.role_arn(name)])?;
    call.with_account(|account| {
        let role = account.roles.get_mut(name).ok_or_else(|| no_such_role(name))?;
        let before = role.attached.len();
        role.attached.retain(|a| a != arn);
        if role.attached.len() == before {
            return Err(AwsError::not_found("NoSuchEntity", format!("Policy {arn} was not found.")));
        }
        Ok(())
    })?;
    Ok(call.respond_empty())
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedRolePolicies.html> (by ARN, paged: [`page`])
fn list_attached_role_policies(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = input.required("RoleName")?;
    call.authorize(&[call.role_arn(name)])?;
    let attached = call
        .with_account(|account| account.roles.get(name).map(|r| r.attached.clone()))
        .ok_or_else(|| no_such_role(name))?;
    let page = page(input, attached.into_iter().map(|arn| (arn.clone(), arn)).collect())?;
    Ok(call.respond(|w| {
        w.open("AttachedPolicies", None);
        for arn in &page.items {
            let policy_name = arn.rsplit('/').next().unwrap_or(arn);
            w.open("member", None).text("PolicyName", policy_name).text("PolicyArn", arn).close("member");
        }
        w.close("AttachedPolicies");
        write_truncation(w, page.next.as_deref());
    }))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html>
fn put_role_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = input.required("RoleName")?;
    let policy_name = name_param(input, "PolicyName", 128)?;
    let document = input.required("PolicyDocument")?;
    call.authorize(&[call.role_arn(name)])?;
    let parsed = PolicyDocument::parse(document).map_err(malformed)?;
    call.with_account(|account| {
        let role = account.roles.get_mut(name).ok_or_else(|| no_such_role(name))?;
        role.inline.insert(policy_name.to_owned(), (document.to_owned(), parsed));
        Ok(())
    })?;
    Ok(call.respond_empty())
}

fn no_such_role_policy(policy_name: &str) -> AwsError {
    AwsError::not_found("NoSuchEntity", format!("The role policy with name {policy_name} cannot be found."))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html>
fn get_role_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = input.required("RoleName")?;
    let policy_name = input.required("PolicyName")?;
    call.authorize(&[call.role_arn(name)])?;
    let document = call.with_account(|account| {
        let role = account.roles.get(name).ok_or_else(|| no_such_role(name))?;
        role.inline.get(policy_name).map(|(text, _)| text.clone()).ok_or_else(|| no_such_role_policy(policy_name))
    })?;
    Ok(call.respond(|w| {
        w.text("RoleName", name).text("PolicyName", policy_name).text("PolicyDocument", &encode_document(&document));
    }))
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePolicy.html>
fn delete_role_policy(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = input.required("RoleName")?;
    let policy_name = input.required("PolicyName")?;
    call.authorize(&[call.role_arn(name)])?;
    call.with_account(|account| {
        let role = account.roles.get_mut(name).ok_or_else(|| no_such_role(name))?;
        role.inline.remove(policy_name).map(|_| ()).ok_or_else(|| no_such_role_policy(policy_name))
    })?;
    Ok(call.respond_empty())
}

/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRolePolicies.html> (by name, paged: [`page`])
fn list_role_policies(call: &Call<'_, Iam>, input: &QueryInput) -> AwsResult<Response> {
    let name = input.required("RoleName")?;
    call.authorize(&[call.role_arn(name)])?;
    let names: Vec<String> = call
        .with_account(|account| account.roles.get(name).map(|r| r.inline.keys().cloned().collect()))
        .ok_or_else(|| no_such_role(name))?;
    let page = page(input, names.into_iter().map(|n| (n.clone(), n)).collect())?;
    Ok(call.respond(|w| {
        w.open("PolicyNames", None);
        for policy_name in &page.items {
            w.text("member", policy_name);
        }
        w.close("PolicyNames");
        write_truncation(w, page.next.as_deref());
    }))
}
