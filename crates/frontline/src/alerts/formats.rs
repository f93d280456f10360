//! Each tool's payload into raw alerts. A payload that does not fit is
//! refused whole, with the path of the field at fault (never its value,
//! which may be anything).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{AlertSeverity, AlertStatus, FieldMap, RawAlert, SourceKind};

/// Alerts in one request at most.
pub const MAX_ALERTS: usize = 1000;
const MAX_LABELS: usize = 100;

/// Which field of a payload is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for PayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.field, self.reason)
        }
    }
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> PayloadError {
    PayloadError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Parses a payload of `kind`.
pub fn parse(
    kind: SourceKind,
    body: &Value,
    map: &FieldMap,
) -> Result<Vec<RawAlert>, PayloadError> {
    let now = crate::storage::now_ms();
    match kind {
        SourceKind::Alertmanager => alertmanager(body, false, now),
        SourceKind::Grafana => alertmanager(body, true, now),
        SourceKind::Wazuh => wazuh(body, now).map(|a| vec![a]),
        SourceKind::Generic => generic(body, map, now),
    }
}

/// A fingerprint from the title and labels, for tools that send none.
pub fn label_fingerprint(title: &str, labels: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    for (k, v) in labels {
        h.update([0]);
        h.update(k.as_bytes());
        h.update([1]);
        h.update(v.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

fn object<'a>(v: &'a Value, field: &str) -> Result<&'a Map<String, Value>, PayloadError> {
    v.as_object()
        .ok_or_else(|| bad(field, "must be a JSON object"))
}

fn string_map(
    v: Option<&Value>,
    field: &str,
    required: bool,
) -> Result<BTreeMap<String, String>, PayloadError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return if required {
            Err(bad(field, "is required"))
        } else {
            Ok(BTreeMap::new())
        };
    };
    let o = object(v, field)?;
    if o.len() > MAX_LABELS {
        return Err(bad(field, format!("at most {MAX_LABELS} entries")));
    }
    o.iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(bad(format!("{field}.{k}"), "must be a string")),
            };
            if k.len() > 200 || s.chars().count() > 1000 {
                return Err(bad(format!("{field}.{k}"), "is too long"));
            }
            Ok((k.clone(), s))
        })
        .collect()
}

/// RFC 3339; Go's zero time (`0001-01-01T00:00:00Z`) means none.
fn rfc3339(v: Option<&Value>, field: &str) -> Result<Option<i64>, PayloadError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() || s.starts_with("0001-01-01") => Ok(None),
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(t.timestamp_millis()))
            .map_err(|_| bad(field, "must be an RFC 3339 time")),
        Some(_) => Err(bad(field, "must be an RFC 3339 time")),
    }
}

/// Alertmanager's webhook payload (version 4), which Grafana's unified
/// alerting webhook extends (orgId, state, title, message, values...).
fn alertmanager(body: &Value, grafana: bool, now: i64) -> Result<Vec<RawAlert>, PayloadError> {
    let o = object(body, "")?;
    if !grafana {
        match o.get("version") {
            None => {}
            Some(Value::String(v)) if v == "4" => {}
            Some(_) => {
                return Err(bad(
                    "version",
                    "only webhook payload version \"4\" is understood",
                ))
            }
        }
    }
    let alerts = o
        .get("alerts")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("alerts", "must be an array of alerts"))?;
    if alerts.is_empty() {
        return Err(bad("alerts", "is empty"));
    }
    if alerts.len() > MAX_ALERTS {
        return Err(bad(
            "alerts",
            format!("at most {MAX_ALERTS} alerts per request"),
        ));
    }
    let common = string_map(o.get("commonLabels"), "commonLabels", false)?;
    alerts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let p = format!("alerts[{i}]");
            let a = object(a, &p)?;
            let status = match a.get("status").and_then(Value::as_str) {
                Some("firing") => AlertStatus::Firing,
                Some("resolved") => AlertStatus::Resolved,
                _ => return Err(bad(format!("{p}.status"), "must be firing or resolved")),
            };
            let mut labels = string_map(a.get("labels"), &format!("{p}.labels"), true)?;
            for (k, v) in &common {
                labels.entry(k.clone()).or_insert_with(|| v.clone());
            }
            let annotations = string_map(a.get("annotations"), &format!("{p}.annotations"), false)?;
            let started_at = rfc3339(a.get("startsAt"), &format!("{p}.startsAt"))?
                .ok_or_else(|| bad(format!("{p}.startsAt"), "is required"))?;
            let ends = rfc3339(a.get("endsAt"), &format!("{p}.endsAt"))?;
            let ended_at = match status {
                AlertStatus::Firing => None,
                AlertStatus::Resolved => Some(ends.unwrap_or(now)),
            };
            let fingerprint = match a.get("fingerprint") {
                None | Some(Value::Null) => None,
                Some(Value::String(f)) if f.len() <= 200 => Some(f.clone()),
                Some(_) => {
                    return Err(bad(
                        format!("{p}.fingerprint"),
                        "must be a string of at most 200 characters",
                    ))
                }
            };
            let title = annotations
                .get("summary")
                .or_else(|| annotations.get("title"))
                .or_else(|| labels.get("alertname"))
                .cloned()
                .ok_or_else(|| {
                    bad(
                        format!("{p}.labels.alertname"),
                        "is required (or annotations.summary)",
                    )
                })?;
            let description = annotations
                .get("description")
                .or_else(|| annotations.get("message"))
                .cloned();
            let severity = labels
                .get("severity")
                .or_else(|| labels.get("priority"))
                .and_then(|s| AlertSeverity::from_word(s))
                .unwrap_or(AlertSeverity::Medium);
            Ok(RawAlert {
                fingerprint,
                status,
                severity,
                title,
                description,
                labels,
                started_at,
                ended_at,
            })
        })
        .collect()
}

/// One Wazuh alert, as its integrations send the alert JSON (the shape of
/// `alerts.json`). Wazuh alerts are events: they never resolve, and the
/// same rule on the same agent is one alert that repeats.
fn wazuh(body: &Value, now: i64) -> Result<RawAlert, PayloadError> {
    let o = object(body, "")?;
    let rule = object(o.get("rule").unwrap_or(&Value::Null), "rule")?;
    let level = rule
        .get("level")
        .and_then(Value::as_u64)
        .filter(|l| *l <= 16)
        .ok_or_else(|| bad("rule.level", "must be a whole number from 0 to 16"))?;
    let title = rule
        .get("description")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| bad("rule.description", "is required"))?
        .to_owned();
    let rule_id = match rule.get("id") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(bad("rule.id", "is required")),
    };
    let started_at = match o.get("timestamp") {
        None | Some(Value::Null) => now,
        Some(Value::String(s)) => wazuh_time(s).ok_or_else(|| {
            bad(
                "timestamp",
                "must be a time such as 2026-11-22T10:00:00.000+0000",
            )
        })?,
        Some(_) => return Err(bad("timestamp", "must be a string")),
    };
    let mut labels = BTreeMap::new();
    labels.insert("rule_id".to_owned(), rule_id.clone());
    labels.insert("rule_level".to_owned(), level.to_string());
    let mut text = |name: &str, v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str).filter(|s| !s.is_empty()) {
            labels.insert(name.to_owned(), s.chars().take(500).collect());
        }
    };
    let agent = o.get("agent");
    text("agent_id", agent.and_then(|a| a.get("id")));
    text("agent_name", agent.and_then(|a| a.get("name")));
    text("agent_ip", agent.and_then(|a| a.get("ip")));
    text("manager", o.get("manager").and_then(|m| m.get("name")));
    text("location", o.get("location"));
    text("decoder", o.get("decoder").and_then(|d| d.get("name")));
    text("srcip", o.get("data").and_then(|d| d.get("srcip")));
    let list = |v: Option<&Value>| -> Option<String> {
        let items: Vec<&str> = v?.as_array()?.iter().filter_map(Value::as_str).collect();
        (!items.is_empty()).then(|| items.join(","))
    };
    if let Some(g) = list(rule.get("groups")) {
        labels.insert("rule_groups".to_owned(), g);
    }
    if let Some(m) = list(rule.get("mitre").and_then(|m| m.get("id"))) {
        labels.insert("mitre".to_owned(), m);
    }
    let on = labels
        .get("agent_id")
        .or_else(|| labels.get("agent_name"))
        .or_else(|| labels.get("manager"))
        .cloned()
        .unwrap_or_default();
    Ok(RawAlert {
        fingerprint: Some(format!("wazuh:{rule_id}:{on}")),
        status: AlertStatus::Firing,
        severity: AlertSeverity::from_wazuh_level(level as u8),
        title,
        description: o.get("full_log").and_then(Value::as_str).map(str::to_owned),
        labels,
        started_at,
        ended_at: None,
    })
}

/// Wazuh writes `2026-11-22T10:00:00.000+0000` (no colon in the offset).
fn wazuh_time(s: &str) -> Option<i64> {
    let s = s.trim();
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Any JSON, read through the source's field map.
fn generic(body: &Value, map: &FieldMap, now: i64) -> Result<Vec<RawAlert>, PayloadError> {
    let (items, base): (Vec<&Value>, String) = match map.alerts.as_deref() {
        Some(p) if !p.is_empty() => {
            let a = body
                .pointer(p)
                .and_then(Value::as_array)
                .ok_or_else(|| bad(p, "must be an array of alerts (field_map.alerts)"))?;
            (a.iter().collect(), p.to_owned())
        }
        _ => match body {
            Value::Array(a) => (a.iter().collect(), String::new()),
            other => (vec![other], String::new()),
        },
    };
    if items.is_empty() {
        return Err(bad(base, "holds no alerts"));
    }
    if items.len() > MAX_ALERTS {
        return Err(bad(
            base,
            format!("at most {MAX_ALERTS} alerts per request"),
        ));
    }
    let many = items.len() > 1 || map.alerts.is_some() || body.is_array();
    items
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let at = |ptr: &str| -> String {
                if many {
                    format!("{base}/{i}{ptr}")
                } else {
                    ptr.to_owned()
                }
            };
            let get = |ptr: &str| -> Option<&Value> {
                if ptr.is_empty() {
                    None
                } else {
                    a.pointer(ptr).filter(|v| !v.is_null())
                }
            };
            let scalar = |ptr: &str, what: &str| -> Result<Option<String>, PayloadError> {
                match get(ptr) {
                    None => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(Value::Number(n)) => Ok(Some(n.to_string())),
                    Some(Value::Bool(b)) => Ok(Some(b.to_string())),
                    Some(_) => Err(bad(at(ptr), format!("must be a string ({what})"))),
                }
            };
            let title = scalar(&map.title, "title")?
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| bad(at(&map.title), "is required (title)"))?;
            let description = scalar(&map.description, "description")?;
            let severity = match scalar(&map.severity, "severity")? {
                None => AlertSeverity::Medium,
                Some(s) => map
                    .severity_values
                    .get(&s)
                    .copied()
                    .or_else(|| AlertSeverity::from_word(&s))
                    .ok_or_else(|| {
                        bad(
                            at(&map.severity),
                            format!(
                                "is not one of {} (map the source's words with field_map.severity_values)",
                                AlertSeverity::names()
                            ),
                        )
                    })?,
            };
            let status = match scalar(&map.status, "status")? {
                Some(s) if map.resolved_values.iter().any(|r| r.eq_ignore_ascii_case(s.trim())) => {
                    AlertStatus::Resolved
                }
                _ => AlertStatus::Firing,
            };
            let time = |ptr: &str, what: &str| -> Result<Option<i64>, PayloadError> {
                match get(ptr) {
                    None => Ok(None),
                    Some(Value::Number(n)) => n
                        .as_i64()
                        .filter(|v| *v > 0)
                        .map(|v| Some(if v < 100_000_000_000 { v * 1000 } else { v }))
                        .ok_or_else(|| bad(at(ptr), format!("must be a time ({what})"))),
                    Some(v @ Value::String(_)) => rfc3339(Some(v), &at(ptr)),
                    Some(_) => Err(bad(at(ptr), format!("must be an RFC 3339 time or epoch seconds ({what})"))),
                }
            };
            let started_at = time(&map.started_at, "started_at")?.unwrap_or(now);
            let ended = time(&map.ended_at, "ended_at")?;
            let ended_at = match status {
                AlertStatus::Firing => None,
                AlertStatus::Resolved => Some(ended.unwrap_or(now)),
            };
            let labels = string_map(get(&map.labels), &at(&map.labels), false)?;
            let fingerprint = scalar(&map.fingerprint, "fingerprint")?;
            if fingerprint.as_ref().is_some_and(|f| f.len() > 200) {
                return Err(bad(at(&map.fingerprint), "at most 200 characters (fingerprint)"));
            }
            Ok(RawAlert {
                fingerprint,
                status,
                severity,
                title,
                description,
                labels,
                started_at,
                ended_at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alertmanager_payloads_name_the_field_at_fault() {
        let ok = json!({"version": "4", "status": "firing", "alerts": [
            {"status": "firing", "labels": {"alertname": "X", "severity": "critical"},
             "startsAt": "2026-11-22T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "abc"}]});
        let a = parse(SourceKind::Alertmanager, &ok, &FieldMap::default()).unwrap();
        assert_eq!(a[0].severity, AlertSeverity::Critical);
        assert_eq!(a[0].ended_at, None);
        let mut bad_time = ok.clone();
        bad_time["alerts"][0]["startsAt"] = json!("yesterday");
        let e = parse(SourceKind::Alertmanager, &bad_time, &FieldMap::default()).unwrap_err();
        assert_eq!(e.field, "alerts[0].startsAt");
        let mut v3 = ok.clone();
        v3["version"] = json!("3");
        assert_eq!(
            parse(SourceKind::Alertmanager, &v3, &FieldMap::default())
                .unwrap_err()
                .field,
            "version"
        );
    }

    #[test]
    fn wazuh_times_and_levels() {
        let w = json!({"timestamp": "2026-11-22T10:00:00.000+0000", "rule": {"level": 10, "description": "sshd: brute force", "id": "5763", "groups": ["sshd", "authentication_failures"]},
                       "agent": {"id": "001", "name": "auth-eu-1"}, "full_log": "Failed password"});
        let a = parse(SourceKind::Wazuh, &w, &FieldMap::default()).unwrap();
        assert_eq!(a[0].severity, AlertSeverity::High);
        assert_eq!(a[0].fingerprint.as_deref(), Some("wazuh:5763:001"));
        assert_eq!(a[0].labels["rule_groups"], "sshd,authentication_failures");
        assert_eq!(
            a[0].started_at,
            chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
                .unwrap()
                .timestamp_millis()
        );
        let e = parse(
            SourceKind::Wazuh,
            &json!({"rule": {"level": 99, "description": "x", "id": 1}}),
            &FieldMap::default(),
        )
        .unwrap_err();
        assert_eq!(e.field, "rule.level");
    }

    #[test]
    fn generic_reads_through_pointers() {
        let map: FieldMap = serde_json::from_value(json!({
            "alerts": "/events", "title": "/name", "severity": "/prio", "status": "/state",
            "severity_values": {"1": "critical"}, "labels": "/tags", "started_at": "/at"}))
        .unwrap();
        let body = json!({"events": [{"name": "A", "prio": 1, "state": "OK", "at": 1_700_000_000, "tags": {"service": "x"}}, {"name": "B"}]});
        let a = parse(SourceKind::Generic, &body, &map).unwrap();
        assert_eq!(a[0].severity, AlertSeverity::Critical);
        assert_eq!(a[0].status, AlertStatus::Resolved);
        assert_eq!(a[0].started_at, 1_700_000_000_000);
        assert_eq!(a[1].severity, AlertSeverity::Medium);
        let e = parse(SourceKind::Generic, &json!({"events": [{"prio": 1}]}), &map).unwrap_err();
        assert_eq!(e.field, "/events/0/name");
        let e = parse(
            SourceKind::Generic,
            &json!({"events": [{"name": "A", "prio": 7}]}),
            &map,
        )
        .unwrap_err();
        assert_eq!(e.field, "/events/0/prio");
    }
}
