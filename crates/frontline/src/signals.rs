//! The early-warning watcher: every analysed item is counted into series
//! (all complaints; by topic; by topic and component, region, channel) in
//! one-minute buckets; the streaming detector from `frontline-detect` raises
//! a signal when a series rises significantly.
//!
//! - Closed minutes go through the detector once each, zeros included.
//! - The minute in progress is probed every couple of seconds on a copy of
//!   the detector, so a signal opens within seconds of the item that tips a
//!   series, not at the end of the minute.
//! - The detector's state is saved every minute and at shutdown; at start
//!   it is loaded and the minutes it missed are replayed from stored
//!   feedback (with no saved state, the last week is replayed).
//!
//! One watcher runs per database: across nodes the intake events would go
//! through NATS (see DESIGN.md); this process watches what it takes in.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use frontline_detect::{Alarm, Detector, DetectorConfig};
use tokio::sync::{mpsc, watch};

use crate::domain::DataClass;
use crate::events::EventBus;
use crate::storage::signals::{Firing, SeriesKey};
use crate::storage::Store;

const STATE_NAME: &str = "complaints";
/// The detector's threshold accounts for this many series watched at once.
const EXPECTED_SERIES: usize = 500;
/// Items that occurred longer ago than this (imports, backfills) are not
/// counted live; they still count when the history is replayed.
const LIVE_WINDOW_MINUTES: i64 = 10;
const REPLAY_MINUTES: i64 = 7 * 24 * 60;
const TICK: Duration = Duration::from_secs(2);

/// One analysed item, as the watcher counts it.
#[derive(Debug, Clone)]
pub struct Observation {
    pub occurred_at: i64,
    pub topic: String,
    pub component: Option<String>,
    pub region: Option<String>,
    pub channel: String,
}

impl Observation {
    /// The series an item counts in.
    fn series(&self) -> Vec<String> {
        series_of(&SeriesKey {
            topic: Some(self.topic.clone()),
            component: self.component.clone(),
            region: self.region.clone(),
            channel: Some(self.channel.clone()),
        })
    }
}

fn series_of(full: &SeriesKey) -> Vec<String> {
    let topic = full.topic.clone();
    let mut keys = vec![
        "total".to_owned(),
        SeriesKey {
            topic: topic.clone(),
            ..Default::default()
        }
        .key(),
    ];
    if full.component.is_some() {
        keys.push(
            SeriesKey {
                topic: topic.clone(),
                component: full.component.clone(),
                ..Default::default()
            }
            .key(),
        );
    }
    if full.region.is_some() {
        keys.push(
            SeriesKey {
                topic: topic.clone(),
                region: full.region.clone(),
                ..Default::default()
            }
            .key(),
        );
    }
    if full.channel.is_some() {
        keys.push(
            SeriesKey {
                topic: topic.clone(),
                channel: full.channel.clone(),
                ..Default::default()
            }
            .key(),
        );
    }
    keys.push(full.key());
    keys.sort();
    keys.dedup();
    keys
}

/// Where intake sends what it stored.
#[derive(Clone)]
pub struct Watcher {
    tx: mpsc::Sender<Observation>,
}

impl Watcher {
    /// Starts the watcher; the task ends after `closing` turns true and the
    /// detector's state is saved: await it before closing the database.
    /// Signals that open or gain evidence also go to `correlator`.
    pub fn start(
        store: Store,
        events: EventBus,
        correlator: Option<crate::alerts::Correlator>,
        closing: watch::Receiver<bool>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(65_536);
        let task = tokio::spawn(run(store, events, correlator, rx, closing));
        (Self { tx }, task)
    }

    /// Never blocks intake: if the watcher falls this far behind, the
    /// observation is dropped (and the drop logged).
    pub fn observe(&self, o: Observation) {
        if self.tx.try_send(o).is_err() {
            tracing::warn!("signal watcher is behind; an observation was dropped");
        }
    }
}

struct State {
    detector: Detector,
    known: BTreeSet<String>,
    /// (minute, series) -> items.
    counts: HashMap<(i64, String), u64>,
    /// The last minute the detector has seen.
    closed: i64,
}

fn now_minute() -> i64 {
    chrono::Utc::now().timestamp_millis().div_euclid(60_000)
}

impl State {
    fn count(&mut self, minute: i64, series: Vec<String>) {
        for key in series {
            self.known.insert(key.clone());
            *self.counts.entry((minute, key)).or_default() += 1;
        }
    }

    /// Runs every closed minute up to `until` (exclusive) through the detector.
    fn close_until(&mut self, until: i64) -> Vec<Alarm> {
        let mut alarms = Vec::new();
        let from = (self.closed + 1).max(until - REPLAY_MINUTES);
        for minute in from..until {
            for key in &self.known {
                let n = self.counts.remove(&(minute, key.clone())).unwrap_or(0);
                if let Some(a) = self.detector.observe(key, minute, n) {
                    alarms.push(a);
                }
            }
        }
        self.counts.retain(|(m, _), _| *m >= until);
        self.closed = self.closed.max(until - 1);
        alarms
    }

    /// Tries the minute in progress on a copy of the detector.
    fn probe(&self, minute: i64) -> Vec<Alarm> {
        let live: Vec<(&String, u64)> = self
            .counts
            .iter()
            .filter(|((m, _), _)| *m == minute)
            .map(|((_, k), n)| (k, *n))
            .collect();
        if live.is_empty() {
            return Vec::new();
        }
        let mut copy = self.detector.clone();
        live.into_iter()
            .filter_map(|(k, n)| copy.observe(k, minute, n))
            .collect()
    }
}

async fn warm_up(
    store: &Store,
    events: &EventBus,
    correlator: Option<&crate::alerts::Correlator>,
) -> State {
    let now = now_minute();
    let (detector, closed) = match store.load_detector_state(STATE_NAME).await {
        Ok(Some((json, minute))) => match serde_json::from_str::<Detector>(&json) {
            Ok(d) => (d, minute),
            Err(e) => {
                tracing::warn!(error = %e, "saved detector state unreadable; relearning");
                (
                    Detector::new(DetectorConfig::for_series(EXPECTED_SERIES)),
                    now - REPLAY_MINUTES - 1,
                )
            }
        },
        Ok(None) => (
            Detector::new(DetectorConfig::for_series(EXPECTED_SERIES)),
            now - REPLAY_MINUTES - 1,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "cannot load detector state");
            (
                Detector::new(DetectorConfig::for_series(EXPECTED_SERIES)),
                now - REPLAY_MINUTES - 1,
            )
        }
    };
    let mut state = State {
        detector,
        known: BTreeSet::new(),
        counts: HashMap::new(),
        closed,
    };
    // The total and every topic are watched from the start, so that their
    // baselines (quiet, at first) are learned from the replayed week and a
    // first-ever phishing wave is news at once.
    state.known.insert("total".into());
    for topic in frontline_detect::Topic::ALL {
        state.known.insert(
            SeriesKey {
                topic: Some(topic.as_str().to_owned()),
                ..Default::default()
            }
            .key(),
        );
    }
    // Replay what happened since the state was saved (or the last week).
    let since = (closed + 1) * 60_000;
    match store.minute_counts(since, now * 60_000).await {
        Ok(rows) => {
            for (minute, key, n) in rows {
                for series in series_of(&key) {
                    state.known.insert(series.clone());
                    *state.counts.entry((minute, series)).or_default() += n as u64;
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot replay feedback history"),
    }
    // Alarms in the replayed history are news only if they are recent (the
    // server was down while a wave began); older ones are history.
    let replayed = state.close_until(now);
    let recent: Vec<_> = replayed.iter().filter(|a| a.at >= now - 60).collect();
    for a in &recent {
        fire(store, events, correlator, a).await;
    }
    tracing::info!(
        series = state.known.len(),
        replayed_alarms = replayed.len(),
        recent = recent.len(),
        "signal watcher ready"
    );
    state
}

async fn run(
    store: Store,
    events: EventBus,
    correlator: Option<crate::alerts::Correlator>,
    mut rx: mpsc::Receiver<Observation>,
    mut closing: watch::Receiver<bool>,
) {
    let mut state = warm_up(&store, &events, correlator.as_ref()).await;
    let mut tick = tokio::time::interval(TICK);
    let mut saved_minute = state.closed;
    loop {
        tokio::select! {
            o = rx.recv() => match o {
                Some(o) => {
                    let minute = o.occurred_at.div_euclid(60_000);
                    let now = now_minute();
                    if minute > state.closed && minute >= now - LIVE_WINDOW_MINUTES && minute <= now + 1 {
                        state.count(minute, o.series());
                    }
                }
                None => break,
            },
            _ = tick.tick() => {
                let now = now_minute();
                let mut alarms = state.close_until(now);
                alarms.extend(state.probe(now));
                for a in alarms {
                    fire(&store, &events, correlator.as_ref(), &a).await;
                }
                if state.closed > saved_minute {
                    save(&store, &state).await;
                    saved_minute = state.closed;
                }
            }
            changed = closing.changed() => {
                if changed.is_err() || *closing.borrow() {
                    break;
                }
            }
        }
    }
    save(&store, &state).await;
}

async fn save(store: &Store, state: &State) {
    match serde_json::to_string(&state.detector) {
        Ok(json) => {
            if let Err(e) = store
                .save_detector_state(STATE_NAME, &json, state.closed)
                .await
            {
                tracing::warn!(error = %e, "cannot save detector state");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot serialise detector state"),
    }
}

async fn fire(
    store: &Store,
    events: &EventBus,
    correlator: Option<&crate::alerts::Correlator>,
    a: &Alarm,
) {
    if a.falling {
        return;
    }
    let firing = Firing {
        series: SeriesKey::parse(&a.series),
        observed: a.observed,
        expected: a.expected,
        upper: a.upper,
        observed_total: a.observed_total,
        expected_total: a.expected_total,
        p_value: a.p_value,
        started_at: a.started_at * 60_000,
    };
    match store.record_firing(&firing).await {
        Ok((signal, new)) => {
            let kind = if new {
                "signal.opened"
            } else {
                "signal.updated"
            };
            if new {
                tracing::info!(signal = %signal.id, series = %signal.series, "signal opened");
            }
            events.publish(
                kind,
                DataClass::Feedback,
                serde_json::json!({ "id": signal.id, "title": signal.title, "series": signal.series }),
            );
            if let Some(c) = correlator {
                c.signal(&signal.id);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot record signal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_counts_in_its_topic_its_places_and_the_total() {
        let o = Observation {
            occurred_at: 0,
            topic: "phishing_scam".into(),
            component: Some("sms".into()),
            region: None,
            channel: "app".into(),
        };
        assert_eq!(
            o.series(),
            vec![
                "topic=phishing_scam",
                "topic=phishing_scam|channel=app",
                "topic=phishing_scam|component=sms",
                "topic=phishing_scam|component=sms|channel=app",
                "total",
            ]
        );
        assert_eq!(
            SeriesKey::parse("topic=fraud|region=eu").key(),
            "topic=fraud|region=eu"
        );
    }
}
