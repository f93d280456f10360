//! Correlation: a customers' signal and a security alert that touch the
//! same component (and the same region, when both name one) at times
//! within the window of each other are linked into a suggested incident.
//!
//! It runs from both sides: committed alerts look back for signals, and a
//! signal that opens or gains evidence looks back for alerts.

use std::collections::{HashMap, HashSet};

use tokio::sync::{mpsc, watch};

use super::AlertSeverity;
use crate::domain::incident::Severity;
use crate::domain::DataClass;
use crate::events::EventBus;
use crate::storage::alerts::{Pairing, Received, SecurityAlert, SignalSide};
use crate::storage::Store;

enum Msg {
    Alerts(Vec<Received>),
    Signal(String),
}

/// Where alerts and signals are sent to be correlated.
#[derive(Clone)]
pub struct Correlator {
    tx: mpsc::Sender<Msg>,
}

impl Correlator {
    /// Starts the correlator; the task ends when `closing` turns true.
    pub fn start(
        store: Store,
        events: EventBus,
        window_minutes: u32,
        closing: watch::Receiver<bool>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(16_384);
        let window = i64::from(window_minutes) * 60_000;
        let task = tokio::spawn(run(store, events, window, rx, closing));
        (Self { tx }, task)
    }

    /// Committed alerts that name a component. Never blocks the writer.
    pub fn alerts(&self, alerts: Vec<Received>) {
        if !alerts.is_empty() && self.tx.try_send(Msg::Alerts(alerts)).is_err() {
            tracing::warn!("correlator is behind; a batch of alerts was not correlated");
        }
    }

    /// A signal that opened or was updated.
    pub fn signal(&self, id: &str) {
        if self.tx.try_send(Msg::Signal(id.to_owned())).is_err() {
            tracing::warn!("correlator is behind; a signal was not correlated");
        }
    }
}

async fn run(
    store: Store,
    events: EventBus,
    window: i64,
    mut rx: mpsc::Receiver<Msg>,
    mut closing: watch::Receiver<bool>,
) {
    // Pairs already linked, so repeats of a firing alert cost nothing.
    let mut seen: HashSet<(String, String)> = HashSet::new();
    loop {
        tokio::select! {
            m = rx.recv() => match m {
                Some(Msg::Alerts(a)) => {
                    if let Err(e) = on_alerts(&store, &events, window, a, &mut seen).await {
                        tracing::warn!(error = %e, "correlating alerts failed");
                    }
                }
                Some(Msg::Signal(id)) => {
                    if let Err(e) = on_signal(&store, &events, window, &id, &mut seen).await {
                        tracing::warn!(error = %e, "correlating a signal failed");
                    }
                }
                None => break,
            },
            changed = closing.changed() => {
                if changed.is_err() || *closing.borrow() {
                    break;
                }
            }
        }
        if seen.len() > 100_000 {
            seen.clear();
        }
    }
}

/// Same region when both name one. A signal whose series names no region
/// (login complaints everywhere) fits an alert in one region only if most
/// of its complaints that name a region come from there: customers in the
/// EU complaining say nothing about an alert in the US.
async fn region_fits(
    store: &Store,
    s: &SignalSide,
    alert_region: Option<&str>,
) -> crate::storage::Result<bool> {
    Ok(match (s.region.as_deref(), alert_region) {
        (Some(a), Some(b)) => a == b,
        (None, Some(r)) => {
            let (inside, named) = store.signal_region_share(s, r).await?;
            named == 0 || inside * 2 > named
        }
        _ => true,
    })
}

fn overlaps(start: i64, end: Option<i64>, s: &SignalSide, window: i64, now: i64) -> bool {
    let end = end.unwrap_or(now);
    start <= s.updated_at + window && s.started_at <= end + window
}

async fn on_alerts(
    store: &Store,
    events: &EventBus,
    window: i64,
    alerts: Vec<Received>,
    seen: &mut HashSet<(String, String)>,
) -> crate::storage::Result<()> {
    let now = crate::storage::now_ms();
    let mut by_component: HashMap<String, Vec<Received>> = HashMap::new();
    for a in alerts {
        if let Some(c) = a.component.clone() {
            by_component.entry(c).or_default().push(a);
        }
    }
    for (component, list) in by_component {
        let from = list.iter().map(|a| a.started_at).min().unwrap_or(now) - window;
        let until = list
            .iter()
            .map(|a| a.ended_at.unwrap_or(now))
            .max()
            .unwrap_or(now)
            + window;
        let signals = store.signals_near(&component, from, until).await?;
        if signals.is_empty() {
            continue;
        }
        for a in &list {
            for s in &signals {
                if !overlaps(a.started_at, a.ended_at, s, window, now)
                    || seen.contains(&(s.id.clone(), a.id.clone()))
                    || !region_fits(store, s, a.region.as_deref()).await?
                {
                    continue;
                }
                if let Some(alert) = store.security_alert(&a.id).await? {
                    pair(store, events, s, &alert, seen).await?;
                }
            }
        }
    }
    Ok(())
}

async fn on_signal(
    store: &Store,
    events: &EventBus,
    window: i64,
    id: &str,
    seen: &mut HashSet<(String, String)>,
) -> crate::storage::Result<()> {
    let Some(s) = store.signal_side(id).await? else {
        return Ok(());
    };
    let alerts = store
        .alerts_near(&s.component, s.started_at - window, s.updated_at + window)
        .await?;
    for a in alerts {
        if !seen.contains(&(s.id.clone(), a.id.clone()))
            && region_fits(store, &s, a.region.as_deref()).await?
        {
            pair(store, events, &s, &a, seen).await?;
        }
    }
    Ok(())
}

async fn pair(
    store: &Store,
    events: &EventBus,
    s: &SignalSide,
    a: &SecurityAlert,
    seen: &mut HashSet<(String, String)>,
) -> crate::storage::Result<()> {
    let (severity, reason) = suggested_severity(a.severity, s.observed_total, s.expected_total);
    let region = a.region.clone().or_else(|| s.region.clone());
    let p = Pairing {
        signal_id: s.id.clone(),
        alert_id: a.id.clone(),
        component: s.component.clone(),
        region: region.clone().unwrap_or_default(),
        title: title(s, a, region.as_deref()),
        severity,
        reason,
    };
    if let Some((id, new, changed)) = store.link_pair(&p).await? {
        let data = serde_json::json!({
            "id": id, "severity": severity, "component": p.component, "region": region,
            "signal": s.id, "alert": a.id,
        });
        if new {
            events.publish("suggestion.opened", DataClass::SecurityAlerts, data);
        } else if changed {
            events.publish("suggestion.updated", DataClass::SecurityAlerts, data);
        }
    }
    seen.insert((s.id.clone(), a.id.clone()));
    Ok(())
}

/// The suggested severity. The alert's severity sets the base (critical
/// SEV1, high SEV2, medium SEV3, low and info SEV4); a strong signal (at
/// least 20 reports and ten times what was expected) makes it one step
/// worse, a weak one (under three times what was expected) one step milder.
pub fn suggested_severity(
    alert: AlertSeverity,
    observed: f64,
    expected: f64,
) -> (Severity, String) {
    let base = match alert {
        AlertSeverity::Critical => 1,
        AlertSeverity::High => 2,
        AlertSeverity::Medium => 3,
        AlertSeverity::Low | AlertSeverity::Info => 4,
    };
    let ratio = observed / expected.max(0.5);
    let (level, why) = if observed >= 20.0 && ratio >= 10.0 {
        (base - 1, "a strong signal makes it one step worse")
    } else if ratio < 3.0 {
        (base + 1, "a weak signal makes it one step milder")
    } else {
        (base, "the signal is moderate")
    };
    let sev = match level.clamp(1, 4) {
        1 => Severity::Sev1,
        2 => Severity::Sev2,
        3 => Severity::Sev3,
        _ => Severity::Sev4,
    };
    let reason = format!(
        "{alert} alert gives SEV{base}; customers sent {observed:.0} reports against {expected:.1} expected ({ratio:.1}x): {why}"
    );
    (sev, reason)
}

fn topic_words(topic: Option<&str>) -> &'static str {
    match topic {
        Some("account_access") => "account access trouble",
        Some("phishing_scam") => "phishing",
        Some("fraud") => "fraud",
        Some("data_exposure") => "exposed data",
        Some("malware") => "malware",
        Some("outage") => "an outage",
        Some("performance") => "slowness",
        Some("billing") => "billing trouble",
        _ => "problems",
    }
}

/// "Customers report account access trouble in login (EU) while Wazuh
/// reports "sshd: brute force" on auth-eu".
fn title(s: &SignalSide, a: &SecurityAlert, region: Option<&str>) -> String {
    let place = match region {
        Some(r) => format!("{} ({})", s.component, r.to_uppercase()),
        None => s.component.clone(),
    };
    let on = match a.origin.as_deref() {
        Some(o) if o != s.component => format!(" on {o}"),
        _ => String::new(),
    };
    let t = format!(
        "Customers report {} in {place} while {} reports \"{}\"{on}",
        topic_words(s.topic.as_deref()),
        a.source_name,
        a.title
    );
    t.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_follows_alert_and_signal_strength() {
        assert_eq!(
            suggested_severity(AlertSeverity::High, 40.0, 2.0).0,
            Severity::Sev1
        );
        assert_eq!(
            suggested_severity(AlertSeverity::High, 10.0, 2.0).0,
            Severity::Sev2
        );
        assert_eq!(
            suggested_severity(AlertSeverity::High, 5.0, 2.0).0,
            Severity::Sev3
        );
        assert_eq!(
            suggested_severity(AlertSeverity::Critical, 100.0, 1.0).0,
            Severity::Sev1
        );
        assert_eq!(
            suggested_severity(AlertSeverity::Info, 2.0, 1.0).0,
            Severity::Sev4
        );
    }
}
