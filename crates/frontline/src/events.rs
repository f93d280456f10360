//! The in-process event bus: what changed, for live dashboard parts.
//! (NATS JetStream can stand behind the same interface across nodes.)

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
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity).0,
        }
    }

    pub fn publish(&self, kind: &str, class: DataClass, data: serde_json::Value) {
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
