//! The group-commit writer for alerts: concurrent hook calls are written
//! together in one transaction, and each is answered only after that
//! transaction commits. Committed alerts go to the bus and the correlator.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Correlator, NewAlert, Source};
use crate::domain::DataClass;
use crate::events::EventBus;
use crate::storage::alerts::Received;
use crate::storage::{Store, StoreError};

struct Job {
    source: Arc<Source>,
    alerts: Vec<NewAlert>,
    reply: oneshot::Sender<Result<Vec<Received>, StoreError>>,
}

/// The handle to the writer; clones share it.
#[derive(Clone)]
pub struct AlertWriter {
    tx: mpsc::Sender<Job>,
}

impl AlertWriter {
    pub fn start(store: Store, events: EventBus, correlator: Correlator, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(writer(store, events, correlator, rx, max_batch.max(1)));
        Self { tx }
    }

    /// Stores a call's alerts; returns once they are committed.
    pub async fn submit(
        &self,
        source: Arc<Source>,
        alerts: Vec<NewAlert>,
    ) -> Result<Vec<Received>, StoreError> {
        let stopped = || StoreError::Corrupt("the alert writer has stopped".into());
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                source,
                alerts,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

async fn writer(
    store: Store,
    events: EventBus,
    correlator: Correlator,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
) {
    while let Some(first) = rx.recv().await {
        let mut n = first.alerts.len();
        let mut jobs = vec![first];
        while n < max_batch {
            match rx.try_recv() {
                Ok(job) => {
                    n += job.alerts.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let calls: Vec<(&Source, &[NewAlert])> = jobs
            .iter()
            .map(|j| (j.source.as_ref(), j.alerts.as_slice()))
            .collect();
        match store.store_alerts(&calls).await {
            Ok(results) => {
                for (job, r) in jobs.into_iter().zip(results) {
                    done(&events, &correlator, job, Ok(r));
                }
            }
            Err(e) if jobs.len() > 1 => {
                // One call's failure must not fail the others: retry alone.
                tracing::warn!(error = %e, calls = jobs.len(), "alert group commit failed; retrying one by one");
                for job in jobs {
                    let r = store
                        .store_alerts(&[(job.source.as_ref(), job.alerts.as_slice())])
                        .await
                        .map(|mut v| v.pop().unwrap_or_default());
                    done(&events, &correlator, job, r);
                }
            }
            Err(e) => {
                if let Some(job) = jobs.pop() {
                    done(&events, &correlator, job, Err(e));
                }
            }
        }
    }
}

fn done(
    events: &EventBus,
    correlator: &Correlator,
    job: Job,
    r: Result<Vec<Received>, StoreError>,
) {
    if let Ok(received) = &r {
        for a in received {
            events.publish(
                "alert.received",
                DataClass::SecurityAlerts,
                serde_json::json!({
                    "id": a.id, "source": job.source.id, "status": a.status,
                    "severity": a.severity, "component": a.component, "new": a.new,
                }),
            );
        }
        correlator.alerts(
            received
                .iter()
                .filter(|a| a.component.is_some())
                .cloned()
                .collect(),
        );
    }
    let _ = job.reply.send(r);
}
