//! The in-process event bus: what changed, for live dashboard parts.
//! (NATS JetStream can stand behind the same interface across nodes.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::domain::DataClass;

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// e.g. `user.created`, `signal.opened`.
    pub kind: String,
    /// Who may see it: subscribers without `class:view` do not get it.
    pub class: DataClass,
    pub at: String,
    /// Never personal data: identifiers and counts.
    pub data: serde_json::Value,
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
    /// Bumped, before the event goes out, by every event that may change
    /// what the public status page shows: rendered public pages are kept
    /// only while it stays the same.
    public_generation: Arc<AtomicU64>,
}

/// Kinds of event that may change the public status page.
const PUBLIC_KINDS: [&str; 4] = ["component.", "maintenance.", "incident.", "audience."];

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
            public_generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Changes whenever something the public status page shows may have
    /// changed on this node.
    pub fn public_generation(&self) -> u64 {
        self.public_generation.load(Ordering::Acquire)
    }

    pub fn publish(&self, kind: &str, class: DataClass, data: serde_json::Value) {
        if PUBLIC_KINDS.iter().any(|p| kind.starts_with(p)) {
            self.public_generation.fetch_add(1, Ordering::AcqRel);
        }
        // No subscribers is fine: nobody is watching.
        let _ = self.tx.send(Event {
            kind: kind.to_owned(),
            class,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            data,
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
