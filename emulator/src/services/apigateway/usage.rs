//! Usage plans at work: each request an API key makes on a stage its plan covers passes the plan's throttle (a
//! token bucket) and quota, and is counted per day for GetUsage.
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html>
//!
//! Order, as on AWS: the key check, then the throttle (a throttled request is not counted), then the quota (a
//! request past it is refused and not counted). A method's own throttle in the plan (`apiStages[].throttle`, keyed
//! `/path/METHOD`) replaces the plan's for that method. Deviations: counters and buckets live in this emulator
//! instance (AWS's are regional and eventually consistent, so a burst may pass a little over a limit there); quota
//! periods follow UTC calendar days, ISO weeks (from Monday) and calendar months, whereas AWS does not document when
//! a WEEK or MONTH period starts.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Datelike, Days, NaiveDate};
use serde_json::{Map, Value, json};

use super::model::{Quota, Store, Throttle, UsagePlan};
use super::{ApiGateway, bad_request, not_found, patch};
use crate::protocol::{AwsResult, Response, rest_json};
use crate::services::Call;

/// One API key's requests under one usage plan.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyUsage {
    /// Requests counted per UTC day.
    days: BTreeMap<NaiveDate, i64>,
    /// Quota granted (or taken back) by UpdateUsage, per period (by the period's first day).
    granted: BTreeMap<NaiveDate, i64>,
}

/// A token bucket: `tokens` as of `at`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Why a request that passed the key check is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 429 `Too Many Requests` (gateway response THROTTLED).
    Throttled,
    /// 429 `Limit Exceeded` (gateway response QUOTA_EXCEEDED).
    QuotaExceeded,
}

/// The first day of the quota period holding `day`.
fn period_start(period: &str, day: NaiveDate) -> NaiveDate {
    match period {
        "WEEK" => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
        "MONTH" => day.with_day(1).unwrap_or(day),
        _ => day,
    }
}

/// What is left of `quota` at the end of `day`.
fn remaining(quota: &Quota, plan_created: NaiveDate, usage: &KeyUsage, day: NaiveDate) -> i64 {
    let start = period_start(&quota.period, day);
    let used: i64 = usage.days.range(start..=day).map(|(_, n)| n).sum();
    let offset = if period_start(&quota.period, plan_created) == start { quota.offset } else { 0 };
    (quota.limit - offset + usage.granted.get(&start).copied().unwrap_or(0) - used).max(0)
}

/// Takes a token from the bucket `key` of `throttle` (created full), refilled at its rate since it was last used.
/// A throttle without a burst limit holds one second's worth of requests (at least one).
fn take_token(buckets: &mut BTreeMap<String, Bucket>, key: String, throttle: Throttle, now: Instant) -> bool {
    let rate = throttle.rate_limit.unwrap_or(0.0).max(0.0);
    let capacity = match throttle.burst_limit {
        Some(burst) => burst.max(0) as f64,
        None => rate.ceil().max(1.0),
    };
    let bucket = buckets.entry(key).or_insert(Bucket { tokens: capacity, at: now });
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
    bucket.at = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        true
    } else {
        false
    }
}

/// What the data plane knows of the request being admitted.
pub(crate) struct Admission<'a> {
    pub plan_id: &'a str,
    pub key_id: &'a str,
    pub api_id: &'a str,
    pub stage: &'a str,
    /// `/path/METHOD`, as usage plans key their method throttles.
    pub method: &'a str,
    pub now: Instant,
    pub today: NaiveDate,
}

/// Applies the plan's throttle and quota to one request of an API key and counts it.
pub(crate) fn admit(store: &mut Store, request: &Admission<'_>) -> Result<(), Refusal> {
    let Some(plan) = store.usage_plans.get(request.plan_id) else { return Ok(()) };
    let method_throttle = plan
        .api_stages
        .iter()
        .find(|s| s.api_id == request.api_id && s.stage == request.stage)
        .and_then(|s| s.throttle.get(request.method).or_else(|| s.throttle.get("/*/*")).copied());
    let (throttle, scope) = match method_throttle {
        Some(throttle) => (Some(throttle), request.method),
        None => (plan.throttle, "*"),
    };
    let quota = plan.quota.clone();
    let created = plan.created;
    if let Some(throttle) = throttle {
        let bucket =
            format!("plan/{}/{}/{}/{}/{scope}", request.plan_id, request.key_id, request.api_id, request.stage);
        if !take_token(&mut store.buckets, bucket, throttle, request.now) {
            return Err(Refusal::Throttled);
        }
    }
    let usage = store.usage.entry((request.plan_id.to_owned(), request.key_id.to_owned())).or_default();
    if let Some(quota) = &quota
        && remaining(quota, created, usage, request.today) <= 0
    {
        return Err(Refusal::QuotaExceeded);
    }
    *usage.days.entry(request.today).or_default() += 1;
    Ok(())
}

/// Applies a stage's own throttle (its `*/*` method settings, or the method's) to every request it serves.
pub(crate) fn admit_stage(store: &mut Store, bucket: String, throttle: Throttle, now: Instant) -> Result<(), Refusal> {
    if take_token(&mut store.buckets, bucket, throttle, now) { Ok(()) } else { Err(Refusal::Throttled) }
}

/// A plan's throttle, checked as CreateUsagePlan and UpdateUsagePlan check it.
pub(crate) fn check_throttle(throttle: &Throttle) -> AwsResult<()> {
    if throttle.burst_limit.is_some_and(|b| b < 0) || throttle.rate_limit.is_some_and(|r| r.is_nan() || r < 0.0) {
        return Err(bad_request("Invalid throttle settings: burstLimit and rateLimit must not be negative"));
    }
    Ok(())
}

/// A plan's quota, checked as CreateUsagePlan and UpdateUsagePlan check it.
pub(crate) fn check_quota(quota: &Quota) -> AwsResult<()> {
    if !matches!(quota.period.as_str(), "DAY" | "WEEK" | "MONTH") {
        return Err(bad_request(format!(
            "Invalid quota period specified: {}. Valid values are DAY, WEEK or MONTH",
            quota.period
        )));
    }
    if quota.limit <= 0 || quota.offset < 0 || quota.offset >= quota.limit {
        return Err(bad_request("Invalid quota settings: limit must be positive and offset between 0 and limit - 1"));
    }
    Ok(())
}

fn date_param(call: &Call<'_, ApiGateway>, name: &str) -> AwsResult<NaiveDate> {
    let text = call.req.query_param(name).ok_or_else(|| bad_request(format!("{name} is required")))?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| bad_request(format!("Invalid {name} specified: {text}. Use the format yyyy-MM-dd")))
}

/// The longest span GetUsage answers, in days (AWS's own bound is unrecorded).
const MAX_USAGE_DAYS: u64 = 366;

/// `[used, remaining]` for each day from `start` to `end`; a plan without a quota reports 0 remaining.
fn daily(plan: &UsagePlan, usage: Option<&KeyUsage>, start: NaiveDate, end: NaiveDate) -> Vec<Value> {
    let empty = KeyUsage::default();
    let usage = usage.unwrap_or(&empty);
    start
        .iter_days()
        .take_while(|day| *day <= end)
        .map(|day| {
            let used = usage.days.get(&day).copied().unwrap_or(0);
            let left = plan.quota.as_ref().map_or(0, |q| remaining(q, plan.created, usage, day));
            json!([used, left])
        })
        .collect()
}

fn invalid_plan() -> crate::protocol::AwsError {
    not_found("Invalid Usage Plan ID specified")
}

fn invalid_key() -> crate::protocol::AwsError {
    not_found("Invalid API Key identifier specified")
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_GetUsage.html>: each of the plan's keys (or `keyId`)
/// with one `[used, remaining]` per day from `startDate` to `endDate`, under `values`; the keys are paged
/// ([`super::page`]). Deviation: spans over a year are refused.
pub(super) fn get_usage(call: &Call<'_, ApiGateway>, plan_id: &str) -> AwsResult<Response> {
    let start = date_param(call, "startDate")?;
    let end = date_param(call, "endDate")?;
    if end < start {
        return Err(bad_request("The end date must not be before the start date"));
    }
    if end.signed_duration_since(start).num_days() >= MAX_USAGE_DAYS as i64 {
        return Err(bad_request(format!("The usage data spans more than {MAX_USAGE_DAYS} days")));
    }
    let key_filter = call.req.query_param("keyId").map(str::to_owned);
    let items = call.store(|store| {
        let plan = store.usage_plans.get(plan_id).ok_or_else(invalid_plan)?;
        if let Some(key) = &key_filter
            && !plan.keys.contains(key)
        {
            return Err(invalid_key());
        }
        Ok(plan
            .keys
            .iter()
            .filter(|k| key_filter.as_ref().is_none_or(|f| f == *k))
            .map(|k| {
                let usage = store.usage.get(&(plan_id.to_owned(), k.clone()));
                (k.clone(), (k.clone(), Value::Array(daily(plan, usage, start, end))))
            })
            .collect::<Vec<_>>())
    })?;
    let page = super::page(call, items)?;
    Ok(rest_json::ok(&usage_json(plan_id, start, end, page.items, page.next)))
}

fn usage_json(
    plan_id: &str,
    start: NaiveDate,
    end: NaiveDate,
    items: Vec<(String, Value)>,
    position: Option<String>,
) -> Value {
    let values: Map<String, Value> = items.into_iter().collect();
    let mut out = json!({
        "usagePlanId": plan_id,
        "startDate": start.format("%Y-%m-%d").to_string(),
        "endDate": end.format("%Y-%m-%d").to_string(),
        "values": values,
    });
    if let Some(position) = position {
        out["position"] = json!(position);
    }
    out
}

/// <https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateUsage.html>: `replace /remaining` sets what is
/// left of the key's quota in the current period. The answer is the key's usage over the period so far.
pub(super) fn update_usage(call: &Call<'_, ApiGateway>, plan_id: &str, key_id: &str) -> AwsResult<Response> {
    let operations = patch::operations(call.req)?;
    let today = chrono::Utc::now().date_naive();
    call.store(|store| {
        let plan = store.usage_plans.get(plan_id).ok_or_else(invalid_plan)?;
        if !plan.keys.contains(key_id) {
            return Err(invalid_key());
        }
        let quota = plan.quota.clone().ok_or_else(|| bad_request("Usage plan does not have a quota"))?;
        let created = plan.created;
        let usage = store.usage.entry((plan_id.to_owned(), key_id.to_owned())).or_default();
        for op in &operations {
            match (op.op.as_str(), op.path.as_str()) {
                ("replace", "/remaining") => {
                    let wanted: i64 = op
                        .value()?
                        .parse()
                        .ok()
                        .filter(|n| *n >= 0)
                        .ok_or_else(|| bad_request("Invalid value for /remaining: a non-negative integer"))?;
                    let now = remaining(&quota, created, usage, today);
                    *usage.granted.entry(period_start(&quota.period, today)).or_default() += wanted - now;
                }
                _ => return Err(op.unsupported()),
            }
        }
        let start = period_start(&quota.period, today);
        let plan = store.usage_plans.get(plan_id).ok_or_else(invalid_plan)?;
        let entries = daily(plan, store.usage.get(&(plan_id.to_owned(), key_id.to_owned())), start, today);
        Ok(rest_json::ok(&usage_json(plan_id, start, today, vec![(key_id.to_owned(), Value::Array(entries))], None)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn quota_periods_and_the_first_periods_offset() {
        assert_eq!(period_start("DAY", day("2026-03-12")), day("2026-03-12"));
        assert_eq!(period_start("WEEK", day("2026-03-12")), day("2026-03-09"));
        assert_eq!(period_start("MONTH", day("2026-03-12")), day("2026-03-01"));
        let quota = Quota { limit: 10, offset: 3, period: "WEEK".into() };
        let mut usage = KeyUsage::default();
        usage.days.insert(day("2026-03-10"), 2);
        // First week: 10 - 3 offset - 2 used; the next week starts afresh without the offset.
        assert_eq!(remaining(&quota, day("2026-03-09"), &usage, day("2026-03-11")), 5);
        assert_eq!(remaining(&quota, day("2026-03-09"), &usage, day("2026-03-16")), 10);
        usage.granted.insert(day("2026-03-16"), 5);
        assert_eq!(remaining(&quota, day("2026-03-09"), &usage, day("2026-03-16")), 15);
    }

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        let mut buckets = BTreeMap::new();
        let start = Instant::now();
        let throttle = Throttle { burst_limit: Some(2), rate_limit: Some(1.0) };
        let take = |buckets: &mut BTreeMap<String, Bucket>, secs: f64| {
            take_token(buckets, "b".into(), throttle, start + std::time::Duration::from_secs_f64(secs))
        };
        assert!(take(&mut buckets, 0.0));
        assert!(take(&mut buckets, 0.0));
        assert!(!take(&mut buckets, 0.0));
        assert!(!take(&mut buckets, 0.5));
        assert!(take(&mut buckets, 1.0));
        // Ten idle seconds refill only up to the burst.
        assert!(take(&mut buckets, 11.0));
        assert!(take(&mut buckets, 11.0));
        assert!(!take(&mut buckets, 11.0));
    }
}
