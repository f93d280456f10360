//! The response side of an incident: built-in playbooks and notice
//! templates, notices rendered from templates, and the cadence check that
//! marks incidents whose public update is overdue.

pub mod builtin;
pub mod notices;

use std::time::Duration;

use tokio::sync::watch;

use crate::domain::DataClass;
use crate::events::EventBus;
use crate::privacy::Leader;
use crate::storage::{now_ms, Store};

/// The PostgreSQL advisory lock whose holder runs the cadence check.
const PG_CADENCE_LOCK: i64 = 0x4652_4f4e_4341_4445;

/// Marks every incident whose update is past due, once each: the timeline
/// entry, the lead's alert and the audit entry commit together, then an
/// `incident.overdue` event goes to the dashboard. Returns how many.
pub async fn check_overdue(store: &Store, events: &EventBus) -> crate::storage::Result<usize> {
    let now = now_ms();
    let mut marked = 0;
    for deadline in store.deadlines_past_due(now).await? {
        if let Some(o) = store.mark_overdue(&deadline, now).await? {
            marked += 1;
            events.publish(
                "incident.overdue",
                DataClass::Incidents,
                serde_json::json!({ "id": o.incident_id, "due_at": crate::storage::users::rfc3339(o.due_at), "alerts": o.alerts.len() }),
            );
        }
    }
    Ok(marked)
}

/// Runs `check_overdue` every `every` until shutdown; on PostgreSQL only on
/// the node that holds the cadence lock.
pub fn spawn_cadence_worker(
    store: Store,
    events: EventBus,
    every: Duration,
    mut closing: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut leader = Leader::with_lock(&store, PG_CADENCE_LOCK, "the update cadence check");
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = closing.wait_for(|c| *c) => break,
            }
            if !leader.hold().await {
                continue;
            }
            match check_overdue(&store, &events).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(incidents = n, "public updates overdue"),
                Err(e) => tracing::warn!(error = %e, "the cadence check failed; will retry"),
            }
        }
        leader.release().await;
    })
}
