//! Indicators customers quoted, counted, and exported for the security
//! team's tools: JSON, CSV, and a STIX 2.1 bundle.

use axum::extract::State;
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::feedback::time_param;
use crate::domain::{Action, DataClass, Grant};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::guard::{Auth, Need, Route};
use crate::http::AppState;
use crate::storage::indicators::{IndicatorCount, IndicatorFilter};

const VIEW: Need = Need::Grant(Grant::new(DataClass::Feedback, Action::View));

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/indicators", VIEW, list)
            .doc(
                "indicators",
                "Indicators quoted in reports, most reported first; ?since, until (RFC 3339), kind, min_reports, limit",
            )
            .response_list::<IndicatorCount>(),
        Route::new(Method::GET, "/api/v1/indicators/export.csv", VIEW, csv_export).doc(
            "indicators",
            "The same as CSV: kind, value, defanged, reports, first_seen, last_seen, topic",
        ),
        Route::new(Method::GET, "/api/v1/indicators/export.stix", VIEW, stix_export).doc(
            "indicators",
            "The same as a STIX 2.1 bundle: an indicator and a sighting (with its count) per value",
        ),
    ]
}

const KINDS: &[&str] = &["url", "domain", "ip", "email", "phone", "btc", "eth"];

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Query {
    since: Option<String>,
    until: Option<String>,
    kind: Option<String>,
    min_reports: Option<i64>,
    limit: Option<i64>,
}

fn filter(q: &Query, max: i64) -> Result<IndicatorFilter, ApiError> {
    if let Some(k) = q.kind.as_deref() {
        if !KINDS.contains(&k) {
            return Err(ApiError::BadRequest {
                code: "invalid_query",
                detail: format!("kind: one of {}", KINDS.join(", ")),
            });
        }
    }
    Ok(IndicatorFilter {
        since: time_param("since", q.since.as_deref())?,
        until: time_param("until", q.until.as_deref())?,
        kind: q.kind.clone(),
        min_reports: q.min_reports.unwrap_or(1).max(1),
        limit: q.limit.unwrap_or(max).clamp(1, max),
    })
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<Vec<IndicatorCount>>, ApiError> {
    Ok(Json(state.store.indicator_counts(&filter(&q, 100)?).await?))
}

/// The value itself, as tools match it: the key without its kind prefix.
fn value(i: &IndicatorCount) -> &str {
    i.key.split_once(':').map_or(i.key.as_str(), |(_, v)| v)
}

/// Spreadsheets run a cell that starts like a formula; a leading quote
/// keeps it text. A phone number's `+` followed by digits is not a formula.
fn cell(s: &str) -> String {
    let mut chars = s.chars();
    let risky = match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    if risky {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

async fn csv_export(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Response, ApiError> {
    let found = state.store.indicator_counts(&filter(&q, 100_000)?).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut write = || -> Result<Vec<u8>, csv::Error> {
        w.write_record([
            "kind",
            "value",
            "defanged",
            "reports",
            "first_seen",
            "last_seen",
            "topic",
        ])?;
        for i in &found {
            w.write_record([
                i.kind.clone(),
                cell(value(i)),
                cell(&i.defanged),
                i.reports.to_string(),
                i.first_seen.clone(),
                i.last_seen.clone(),
                i.topic.clone().unwrap_or_default(),
            ])?;
        }
        w.flush()?;
        Ok(w.get_ref().clone())
    };
    let body = write().map_err(|e| ApiError::Internal(e.into()))?;
    audit_export(&state, &p, "csv", found.len()).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"indicators.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

async fn audit_export(
    state: &AppState,
    p: &crate::auth::Principal,
    format: &str,
    n: usize,
) -> Result<(), ApiError> {
    let mut rec = p.audit("indicators.export", DataClass::Feedback, None);
    rec.detail = json!({ "format": format, "indicators": n });
    state.store.audit(rec).await?;
    Ok(())
}

/// Frontline's namespace for name-based (v5) STIX identifiers, so that one
/// indicator keeps its id across exports and tools can merge them.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1e_2a8c_41d7_4e0b_9b53_c2a1_7d4f_9e10);

fn stix_id(kind: &str, name: &str) -> String {
    format!("{kind}--{}", Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

/// A STIX patterning string literal: quotes and backslashes escaped.
fn literal(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The STIX pattern for an indicator. Phone numbers and wallets have no
/// STIX Cyber-observable type: they use custom ones (`x-phone-number`,
/// `x-cryptocurrency-wallet`), as the specification allows.
fn pattern(i: &IndicatorCount) -> String {
    let v = literal(value(i));
    match i.kind.as_str() {
        "url" => format!("[url:value = '{v}']"),
        "domain" => format!("[domain-name:value = '{v}']"),
        "ip" if v.contains(':') => format!("[ipv6-addr:value = '{v}']"),
        "ip" => format!("[ipv4-addr:value = '{v}']"),
        "email" => format!("[email-addr:value = '{v}']"),
        "phone" => format!("[x-phone-number:value = '{v}']"),
        _ => format!("[x-cryptocurrency-wallet:value = '{v}']"),
    }
}

fn indicator_types(topic: Option<&str>) -> Vec<&'static str> {
    match topic {
        Some("phishing_scam") => vec!["malicious-activity", "attribution"],
        Some("malware") => vec!["malicious-activity", "compromised"],
        Some("fraud") => vec!["malicious-activity"],
        _ => vec!["anomalous-activity"],
    }
}

pub(crate) fn stix_bundle(found: &[IndicatorCount], issuer: &str) -> serde_json::Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let identity = stix_id("identity", &format!("frontline:{issuer}"));
    let mut objects = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": format!("Frontline customer reports ({issuer})"),
        "identity_class": "system",
        "description": "Indicators quoted by customers in complaints and feedback",
    })];
    for i in found {
        let id = stix_id("indicator", &i.key);
        let what = match i.kind.as_str() {
            "url" => "link",
            "domain" => "domain",
            "ip" => "address",
            "email" => "sender address",
            "phone" => "sender's phone number",
            _ => "wallet address",
        };
        let about = i
            .topic
            .as_deref()
            .map(|t| format!(" about {}", t.replace('_', " ")))
            .unwrap_or_default();
        objects.push(json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": id,
            "created_by_ref": identity,
            "created": i.first_seen,
            "modified": now,
            "name": format!("{what} quoted by customers: {}", i.defanged),
            "description": format!("Quoted in {} customer report(s){about} between {} and {}.", i.reports, i.first_seen, i.last_seen),
            "indicator_types": indicator_types(i.topic.as_deref()),
            "pattern": pattern(i),
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": i.first_seen,
            "labels": i.topic.iter().collect::<Vec<_>>(),
        }));
        objects.push(json!({
            "type": "sighting",
            "spec_version": "2.1",
            "id": stix_id("sighting", &i.key),
            "created_by_ref": identity,
            "created": i.first_seen,
            "modified": now,
            "sighting_of_ref": id,
            "count": i.reports.clamp(0, 999_999_999),
            "first_seen": i.first_seen,
            "last_seen": i.last_seen,
            "where_sighted_refs": [identity],
        }));
    }
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", Uuid::new_v5(&NAMESPACE, format!("{issuer}:{now}").as_bytes())),
        "objects": objects,
    })
}

async fn stix_export(
    State(state): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Response, ApiError> {
    let found = state.store.indicator_counts(&filter(&q, 100_000)?).await?;
    let bundle = stix_bundle(&found, &state.config.http.public_url);
    audit_export(&state, &p, "stix", found.len()).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/stix+json;version=2.1"),
        )],
        Json(bundle),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(kind: &str, key: &str) -> IndicatorCount {
        IndicatorCount {
            kind: kind.into(),
            key: key.into(),
            defanged: key.into(),
            reports: 3,
            first_seen: "2026-11-30T10:00:00.000Z".into(),
            last_seen: "2026-11-30T11:00:00.000Z".into(),
            topic: Some("phishing_scam".into()),
        }
    }

    #[test]
    fn patterns_name_the_right_observable_and_escape_quotes() {
        assert_eq!(
            pattern(&ind("url", "url:http://x.example/a'b")),
            "[url:value = 'http://x.example/a\\'b']"
        );
        assert_eq!(
            pattern(&ind("ip", "ip:203.0.113.9")),
            "[ipv4-addr:value = '203.0.113.9']"
        );
        assert_eq!(
            pattern(&ind("phone", "phone:+447700900123")),
            "[x-phone-number:value = '+447700900123']"
        );
    }

    #[test]
    fn an_indicator_keeps_its_id_across_exports() {
        let a = stix_bundle(&[ind("domain", "domain:x.example")], "https://f.example");
        let b = stix_bundle(&[ind("domain", "domain:x.example")], "https://f.example");
        assert_eq!(a["objects"][1]["id"], b["objects"][1]["id"]);
        assert_eq!(a["objects"][2]["sighting_of_ref"], a["objects"][1]["id"]);
        assert_eq!(a["objects"][2]["count"], 3);
    }

    #[test]
    fn formula_like_cells_are_kept_as_text() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+cmd|x"), "'+cmd|x");
        assert_eq!(cell("+447700900123"), "+447700900123");
        assert_eq!(cell("hxxp://x[.]example"), "hxxp://x[.]example");
    }
}
