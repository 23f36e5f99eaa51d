//! IAM and STS driven through their entry points (`iam::handle`, `sts::handle`) with nothing else of the emulator:
//! roles and their tags, a role session held to its policies, AssumeRole by trust policy.

use http::Method;

use super::Iam;
use crate::identity::{Caller, Sessions};
use crate::protocol::{AwsRequest, test_request};
use crate::services::test_support::account;

const ACCOUNT: &str = "123456789012";

fn query(form: &str, caller: Caller) -> AwsRequest {
    test_request(Method::POST, "/", format!("{form}&Version=2010-05-08").as_bytes(), caller)
}

/// (status, body) of an IAM answer.
async fn iam(iam: &Iam, form: &str, caller: Caller) -> (u16, String) {
    let response = super::handle(iam, query(form, caller)).await;
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

const TRUST_ACCOUNT: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22123456789012%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
const ALLOW_GET_ROLE: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22iam%3AGetRole%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";

#[tokio::test]
async fn roles_carry_their_tags_and_a_role_session_is_held_to_its_policy() {
    let service = Iam::new();
    let created = iam(
        &service,
        &format!("Action=CreateRole&RoleName=reader&AssumeRolePolicyDocument={TRUST_ACCOUNT}&Tags.member.1.Key=team&Tags.member.1.Value=crts"),
        account(),
    )
    .await;
    assert_eq!(created.0, 200, "{}", created.1);
    assert!(created.1.contains("<Key>team</Key><Value>crts</Value>"), "{}", created.1);
    let listed = iam(&service, "Action=ListRoles", account()).await;
    assert!(listed.1.contains("<RoleName>reader</RoleName>") && !listed.1.contains("<Tags>"), "{}", listed.1);
    let policy = format!("Action=PutRolePolicy&RoleName=reader&PolicyName=get&PolicyDocument={ALLOW_GET_ROLE}");
    assert_eq!(iam(&service, &policy, account()).await.0, 200);

    let sessions = Sessions::default();
    let session = Caller::Role(sessions.issue(&format!("arn:aws:iam::{ACCOUNT}:role/reader"), "unit"));
    assert_eq!(iam(&service, "Action=GetRole&RoleName=reader", session.clone()).await.0, 200);
    let refused =
        iam(&service, &format!("Action=CreateRole&RoleName=x&AssumeRolePolicyDocument={TRUST_ACCOUNT}"), session).await;
    assert_eq!(refused.0, 403, "{}", refused.1);
    assert!(refused.1.contains("<Code>AccessDenied</Code>"), "{}", refused.1);
    assert!(refused.1.contains("is not authorized to perform: iam:CreateRole"), "{}", refused.1);
}

#[tokio::test]
async fn assume_role_follows_the_trust_policy() {
    let service = Iam::new();
    let sessions = Sessions::default();
    let form = format!("Action=CreateRole&RoleName=trusting&AssumeRolePolicyDocument={TRUST_ACCOUNT}");
    assert_eq!(iam(&service, &form, account()).await.0, 200);
    let assume = |role: &str, caller: Caller| {
        let form = format!(
            "Action=AssumeRole&RoleArn=arn:aws:iam::{ACCOUNT}:role/{role}&RoleSessionName=unit&Version=2011-06-15"
        );
        test_request(Method::POST, "/", form.as_bytes(), caller)
    };
    let answer = crate::services::sts::handle(&service, &sessions, assume("trusting", account())).await;
    assert_eq!(answer.status(), 200);
    let refused = crate::services::sts::handle(&service, &sessions, assume("missing", account())).await;
    assert_eq!(refused.status(), 403);
    let anonymous = crate::services::sts::handle(&service, &sessions, assume("trusting", Caller::Anonymous)).await;
    assert_eq!(anonymous.status(), 403);
}

/// The text of every `<element>` in `xml`, in order.
fn elements(xml: &str, element: &str) -> Vec<String> {
    let (open, close) = (format!("<{element}>"), format!("</{element}>"));
    xml.split(&open).skip(1).filter_map(|s| s.split_once(&close).map(|(text, _)| text.to_owned())).collect()
}

#[tokio::test]
async fn list_roles_pages_by_marker_and_refuses_a_foreign_one() {
    use crate::services::pagination::test_support::assert_each_once;
    let service = Iam::new();
    let create = |name: &str| format!("Action=CreateRole&RoleName={name}&AssumeRolePolicyDocument={TRUST_ACCOUNT}");
    for name in ["r1", "r2", "r3", "r4", "r5"] {
        assert_eq!(iam(&service, &create(name), account()).await.0, 200);
    }
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let form = match &marker {
            None => "Action=ListRoles&MaxItems=2".to_owned(),
            Some(m) => format!("Action=ListRoles&MaxItems=2&Marker={m}"),
        };
        let (status, body) = iam(&service, &form, account()).await;
        assert_eq!(status, 200, "{body}");
        pages.push(elements(&body, "RoleName"));
        if pages.len() == 1 {
            assert_eq!(iam(&service, &create("r0"), account()).await.0, 200);
            assert_eq!(iam(&service, &create("r9"), account()).await.0, 200);
        }
        let truncated = elements(&body, "IsTruncated");
        match elements(&body, "Marker").pop() {
            Some(next) => {
                assert_eq!(truncated, ["true"]);
                marker = Some(next);
            }
            None => {
                assert_eq!(truncated, ["false"]);
                break;
            }
        }
    }
    assert_each_once(&pages, &["r1", "r2", "r3", "r4", "r5", "r9"], 2);
    assert_eq!(pages.len(), 3, "{pages:?}");

    for form in ["Action=ListRoles&Marker=garbage", "Action=ListRoles&MaxItems=0", "Action=ListRoles&MaxItems=1001"] {
        let (status, body) = iam(&service, form, account()).await;
        assert_eq!(status, 400, "{form}: {body}");
        assert!(body.contains("<Code>ValidationError</Code>"), "{form}: {body}");
    }
    let policy = "Action=PutRolePolicy&RoleName=r1&PolicyDocument=".to_owned() + ALLOW_GET_ROLE;
    for name in ["a", "b", "c"] {
        assert_eq!(iam(&service, &format!("{policy}&PolicyName={name}"), account()).await.0, 200);
    }
    let (_, first) = iam(&service, "Action=ListRolePolicies&RoleName=r1&MaxItems=2", account()).await;
    assert_eq!(elements(&first, "member"), ["a", "b"]);
    let marker = elements(&first, "Marker").pop().expect("a marker");
    let (_, rest) = iam(&service, &format!("Action=ListRolePolicies&RoleName=r1&Marker={marker}"), account()).await;
    assert_eq!(
        (elements(&rest, "member"), elements(&rest, "IsTruncated")),
        (vec!["c".to_owned()], vec!["false".to_owned()])
    );
}
