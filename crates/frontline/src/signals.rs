//! The early-warning watcher: every analysed item is counted into series
//! (all complaints; by topic; by topic and component, region, channel) in
//! one-minute buckets; the streaming detector from `frontline-detect` raises
//! a signal when a series rises significantly.
//!
//! - Closed minutes go through the detector once each, zeros included.
//! - The minute in progress is probed on a copy of the detector 200 ms
//!   after new reports arrive (and every 2 s), so a signal opens within a
//!   second of the item that tips a series, not at the end of the minute.
//! - The detector's state is saved every minute and at shutdown; at start
//!   it is loaded and the minutes it missed are replayed from stored
//!   feedback (with no saved state, the last week is replayed).
//!
//! One watcher runs per database: across nodes the intake events would go
//! through NATS (see DESIGN.md); this process watches what it takes in.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use frontline_detect::cluster::ClusterId;
use frontline_detect::{
    Alarm, ClusterConfig, ClusterIndex, Detector, DetectorConfig, GrowthConfig, GrowthWatch,
    ReporterWindow,
};
use tokio::sync::{mpsc, watch};

use crate::domain::DataClass;
use crate::events::EventBus;
use crate::storage::signals::{BandPoint, Firing, SeriesKey};
use crate::storage::Store;

const STATE_NAME: &str = "complaints";
/// The detector's threshold accounts for this many series watched at once.
const EXPECTED_SERIES: usize = 500;
/// Items that occurred longer ago than this (imports, backfills) are not
/// counted live; they still count when the history is replayed.
const LIVE_WINDOW_MINUTES: i64 = 10;
const REPLAY_MINUTES: i64 = 7 * 24 * 60;
const TICK: Duration = Duration::from_secs(2);
/// How soon after new reports arrive the minute in progress is probed
/// (reports arriving meanwhile wait for the same probe).
const SOON: Duration = Duration::from_millis(200);

/// One analysed item, as the watcher counts it.
#[derive(Clone)]
pub struct Observation {
    pub feedback_id: String,
    pub occurred_at: i64,
    pub topic: String,
    pub component: Option<String>,
    pub region: Option<String>,
    pub channel: String,
    /// Who sent it, as an opaque hash that lives only in this process
    /// (see [`reporter_of`]); `None` for anonymous items.
    pub reporter: Option<u64>,
    /// The redacted text, for near-duplicate clustering.
    pub text: Option<String>,
    /// Indicators quoted: (counting key, defanged form).
    pub indicators: Vec<(String, String)>,
}

impl std::fmt::Debug for Observation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observation")
            .field("feedback_id", &self.feedback_id)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// The reporter of an item with a contact: a keyed hash of their email or
/// phone under a key made at start and never stored, so repeated reports
/// can be told apart without keeping anything that names the person.
pub fn reporter_of(c: &crate::domain::feedback::Contact) -> Option<u64> {
    use std::hash::BuildHasher;
    static KEY: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let who = c.email.as_deref().or(c.phone.as_deref())?;
    Some(KEY.get_or_init(Default::default).hash_one(who))
}

/// One report from one reporter counts once per this window, per topic
/// (and per indicator, per message).
const REPORTER_WINDOW_MINUTES: u32 = 60;
/// Near-duplicate texts are looked for among this many hours of reports.
const CLUSTER_HOURS: i64 = 6;
/// Reports of a cluster kept in memory, to remember as a signal's members.
const CLUSTER_MEMBERS: usize = 200;

impl Observation {
    /// The series an item counts in.
    fn series(&self) -> Vec<String> {
        series_of(&SeriesKey {
            topic: Some(self.topic.clone()),
            component: self.component.clone(),
            region: self.region.clone(),
            channel: Some(self.channel.clone()),
            ..Default::default()
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

/// The series whose band is stored minute by minute at all times: the
/// total and each topic's (`topic=...` with nothing else).
pub fn always_banded(key: &str) -> bool {
    key == "total" || (key.starts_with("topic=") && !key.contains('|'))
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
    reporters: ReporterWindow,
    /// Indicators: saved with the detector.
    indicators: GrowthWatch,
    /// Near-duplicate clusters of recent texts, and how fast each grows.
    clusters: ClusterIndex,
    cluster_growth: GrowthWatch,
    cluster_info: HashMap<ClusterId, ClusterInfo>,
    /// When the cluster index was started (minute); it is started afresh
    /// every `CLUSTER_HOURS`, from the texts of the last hours.
    clusters_since: i64,
    /// Growing indicators and clusters to record at the next tick.
    pending: HashMap<String, Firing>,
    /// The detector's expected level and upper bound, last minutes per series.
    bands: HashMap<String, std::collections::VecDeque<BandPoint>>,
    /// Series with a recent signal, whose band is kept: until which minute.
    charted: HashMap<String, i64>,
    /// Band points to store at the end of the tick.
    band_out: Vec<(String, BandPoint)>,
}

/// Minutes of band kept in memory per series (the chart's width).
const BAND_MINUTES: usize = 180;
/// A series' band is stored for this long after its last alarm.
const CHART_FOR_MINUTES: i64 = 12 * 60;

struct ClusterInfo {
    /// The first report's id: names the cluster's signal.
    first: String,
    topic: String,
    component: Option<String>,
    region: Option<String>,
    channel: String,
    /// A redacted quote of the first report.
    quote: String,
    members: std::collections::VecDeque<(String, i64)>,
}

/// Saved beside the detector.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    detector: Detector,
    #[serde(default = "indicator_watch")]
    indicators: GrowthWatch,
}

fn indicator_watch() -> GrowthWatch {
    GrowthWatch::new(GrowthConfig::default())
}

fn cluster_watch() -> GrowthWatch {
    GrowthWatch::new(GrowthConfig {
        // Texts are many; their keys need not be remembered for long.
        forget_after_minutes: CLUSTER_HOURS * 60,
        ..GrowthConfig::default()
    })
}

/// A chance bound for `n` reports where `expected` were: the Poisson tail
/// P(X >= n), with at least half a report expected (nothing is ever certain
/// never to happen).
fn poisson_tail(n: f64, expected: f64) -> f64 {
    let lambda = expected.max(0.5);
    let k_max = n.ceil() as u64;
    let mut term = (-lambda).exp();
    let mut below = 0.0;
    for k in 0..k_max {
        below += term;
        term *= lambda / (k + 1) as f64;
    }
    (1.0 - below).clamp(0.0, 1.0)
}

fn quote_of(text: &str) -> String {
    let t: String = text.chars().take(90).collect();
    if t.len() < text.len() {
        format!("{}…", t.trim_end())
    } else {
        t
    }
}

fn now_minute() -> i64 {
    chrono::Utc::now().timestamp_millis().div_euclid(60_000)
}

/// A reporter's report in one scope (a topic, an indicator, a message).
fn scoped(reporter: u64, scope: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    reporter.hash(&mut h);
    scope.hash(&mut h);
    h.finish()
}

impl State {
    fn new(detector: Detector, indicators: GrowthWatch, closed: i64) -> Self {
        Self {
            detector,
            known: BTreeSet::new(),
            counts: HashMap::new(),
            closed,
            reporters: ReporterWindow::new(REPORTER_WINDOW_MINUTES),
            indicators,
            clusters: ClusterIndex::new(ClusterConfig::default()),
            cluster_growth: cluster_watch(),
            cluster_info: HashMap::new(),
            clusters_since: now_minute(),
            pending: HashMap::new(),
            bands: HashMap::new(),
            charted: HashMap::new(),
            band_out: Vec::new(),
        }
    }

    /// After an alarm: the band so far is stored, and kept from now on.
    fn chart(&mut self, alarms: &[Alarm]) {
        for a in alarms {
            // Stored once; then minute by minute while charted.
            if !self.charted.contains_key(&a.series) {
                if let Some(b) = self.bands.get(&a.series) {
                    self.band_out
                        .extend(b.iter().map(|p| (a.series.clone(), *p)));
                }
            }
            self.charted
                .insert(a.series.clone(), a.at + CHART_FOR_MINUTES);
        }
    }

    /// Is this the reporter's first report in `scope` within the window?
    fn admit(&mut self, o: &Observation, scope: &str, minute: i64) -> bool {
        match o.reporter {
            Some(r) => self.reporters.admit(scoped(r, scope), minute),
            None => true,
        }
    }

    fn count(&mut self, minute: i64, series: Vec<String>) {
        for key in series {
            self.known.insert(key.clone());
            *self.counts.entry((minute, key)).or_default() += 1;
        }
    }

    /// Counts a live item into its series, its indicators and its cluster.
    fn take(&mut self, o: &Observation, minute: i64) {
        if self.admit(o, &o.topic, minute) {
            self.count(minute, o.series());
        }
        self.grow(o, minute, true);
    }

    /// Indicators and near-duplicates; `live`: growth is news.
    fn grow(&mut self, o: &Observation, minute: i64, live: bool) {
        for (key, defanged) in &o.indicators {
            if !self.admit(o, key, minute) {
                continue;
            }
            if let Some(g) = self.indicators.observe(key, minute) {
                if live {
                    let what = match key.split(':').next() {
                        Some("url") => "Scam link",
                        Some("domain") => "Domain",
                        Some("ip") => "Address",
                        Some("email") => "Sender address",
                        Some("phone") => "Sender's number",
                        _ => "Wallet address",
                    };
                    let title = format!(
                        "{what} {defanged} quoted in {} reports within {} minutes",
                        g.in_window,
                        self.indicators.config().window_minutes
                    );
                    let series = SeriesKey {
                        indicator: Some(key.clone()),
                        topic: Some(o.topic.clone()),
                        component: o.component.clone(),
                        region: o.region.clone(),
                        channel: Some(o.channel.clone()),
                        cluster: None,
                    };
                    self.pending
                        .insert(series.key(), growth_firing(series, &g, title, Vec::new()));
                }
            }
        }
        let Some(text) = o.text.as_deref().filter(|t| t.chars().count() >= 20) else {
            return;
        };
        if minute - self.clusters_since >= CLUSTER_HOURS * 60 {
            self.clusters = ClusterIndex::new(ClusterConfig::default());
            self.cluster_info.clear();
            self.clusters_since = minute;
        }
        let a = self.clusters.assign(text);
        let info = self
            .cluster_info
            .entry(a.cluster)
            .or_insert_with(|| ClusterInfo {
                first: o.feedback_id.clone(),
                topic: o.topic.clone(),
                component: o.component.clone(),
                region: o.region.clone(),
                channel: o.channel.clone(),
                quote: quote_of(text),
                members: Default::default(),
            });
        info.members
            .push_back((o.feedback_id.clone(), o.occurred_at));
        if info.members.len() > CLUSTER_MEMBERS {
            info.members.pop_front();
        }
        let name = format!("cluster={}", info.first);
        if !self.admit(o, &name, minute) {
            return;
        }
        let Some(g) = self.cluster_growth.observe(&name, minute) else {
            return;
        };
        if !live {
            return;
        }
        let Some(info) = self.cluster_info.get(&a.cluster) else {
            return;
        };
        let title = format!(
            "The same message reported {} times within {} minutes: \u{201c}{}\u{201d}",
            g.in_window,
            self.cluster_growth.config().window_minutes,
            info.quote
        );
        let series = SeriesKey {
            cluster: Some(info.first.clone()),
            topic: Some(info.topic.clone()),
            component: info.component.clone(),
            region: info.region.clone(),
            channel: Some(info.channel.clone()),
            indicator: None,
        };
        let members = info.members.iter().cloned().collect();
        self.pending
            .insert(series.key(), growth_firing(series, &g, title, members));
    }

    /// Runs every closed minute up to `until` (exclusive) through the detector.
    fn close_until(&mut self, until: i64) -> Vec<Alarm> {
        let mut alarms = Vec::new();
        let from = (self.closed + 1).max(until - REPLAY_MINUTES);
        for minute in from..until {
            for key in &self.known {
                let n = self.counts.remove(&(minute, key.clone())).unwrap_or(0);
                let step = self.detector.observe_value(key, minute, n as f64);
                let point = BandPoint {
                    minute,
                    expected: step.expected,
                    upper: step.upper,
                };
                let band = self.bands.entry(key.clone()).or_default();
                band.push_back(point);
                if band.len() > BAND_MINUTES {
                    band.pop_front();
                }
                // Bands of the totals and each topic are always kept (the
                // overview charts them); others while a signal is charted.
                if always_banded(key) || self.charted.get(key).is_some_and(|&until| minute <= until)
                {
                    self.band_out.push((key.clone(), point));
                }
                if let Some(a) = step.alarm {
                    alarms.push(a);
                }
            }
        }
        self.counts.retain(|(m, _), _| *m >= until);
        self.closed = self.closed.max(until - 1);
        self.charted.retain(|_, u| *u >= until);
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

fn growth_firing(
    series: SeriesKey,
    g: &frontline_detect::Growth,
    title: String,
    members: Vec<(String, i64)>,
) -> Firing {
    let n = g.in_window as f64;
    Firing {
        series,
        observed: n,
        expected: g.expected,
        upper: g.expected.max(1.0) * 4.0,
        observed_total: n,
        expected_total: g.expected,
        p_value: poisson_tail(n, g.expected),
        started_at: g.started_at * 60_000,
        title: Some(title),
        members,
    }
}

async fn warm_up(
    store: &Store,
    events: &EventBus,
    correlator: Option<&crate::alerts::Correlator>,
) -> State {
    let now = now_minute();
    let fresh = || {
        (
            Detector::new(DetectorConfig::for_series(EXPECTED_SERIES)),
            indicator_watch(),
            now - REPLAY_MINUTES - 1,
        )
    };
    let (detector, indicators, closed) = match store.load_detector_state(STATE_NAME).await {
        // The detector alone was saved before indicators were watched.
        Ok(Some((json, minute))) => match serde_json::from_str::<Saved>(&json) {
            Ok(s) => (s.detector, s.indicators, minute),
            Err(_) => match serde_json::from_str::<Detector>(&json) {
                Ok(d) => (d, indicator_watch(), minute),
                Err(e) => {
                    tracing::warn!(error = %e, "saved detector state unreadable; relearning");
                    fresh()
                }
            },
        },
        Ok(None) => fresh(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot load detector state");
            fresh()
        }
    };
    let mut state = State::new(detector, indicators, closed);
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
    // Indicators since the state was saved, and the last hours' texts for
    // near-duplicates; growth in the last hour is news.
    let texts_since = (now - CLUSTER_HOURS * 60) * 60_000;
    match store
        .recent_reports(since, texts_since, now * 60_000, 200_000)
        .await
    {
        Ok(reports) => {
            state.clusters_since = now - CLUSTER_HOURS * 60;
            for r in reports {
                let minute = r.occurred_at.div_euclid(60_000);
                let o = Observation {
                    feedback_id: r.id,
                    occurred_at: r.occurred_at,
                    topic: r.topic,
                    component: r.component,
                    region: r.region,
                    channel: r.channel,
                    reporter: None,
                    // Indicators before the saved minute were counted then.
                    indicators: if minute > closed {
                        r.indicators
                    } else {
                        Vec::new()
                    },
                    text: r.text,
                };
                state.grow(&o, minute, minute >= now - 60);
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot replay recent reports"),
    }
    // Alarms in the replayed history are news only if they are recent (the
    // server was down while a wave began); older ones are history.
    let replayed = state.close_until(now);
    // What was stored while replaying is stored again below, from the band.
    state.band_out.clear();
    let recent: Vec<Alarm> = replayed
        .iter()
        .filter(|a| a.at >= now - 60)
        .cloned()
        .collect();
    for a in &recent {
        fire(store, events, correlator, a).await;
    }
    state.chart(&recent);
    save_band(store, &mut state).await;
    tracing::info!(
        series = state.known.len(),
        replayed_alarms = replayed.len(),
        recent = recent.len(),
        "signal watcher ready"
    );
    flush(store, events, correlator, &mut state).await;
    state
}

async fn save_band(store: &Store, state: &mut State) {
    let points = std::mem::take(&mut state.band_out);
    if let Err(e) = store.save_band(&points).await {
        tracing::warn!(error = %e, "cannot store a signal's band");
    }
}

/// Records the indicators and clusters that grew since the last tick.
async fn flush(
    store: &Store,
    events: &EventBus,
    correlator: Option<&crate::alerts::Correlator>,
    state: &mut State,
) {
    for (_, f) in state.pending.drain() {
        record(store, events, correlator, &f).await;
    }
}

/// Closes finished minutes, probes the minute in progress, records what
/// fired, and saves the state once a minute has closed.
async fn check(
    store: &Store,
    events: &EventBus,
    correlator: Option<&crate::alerts::Correlator>,
    state: &mut State,
    saved_minute: &mut i64,
) {
    let now = now_minute();
    let mut alarms = state.close_until(now);
    alarms.extend(state.probe(now));
    for a in &alarms {
        fire(store, events, correlator, a).await;
    }
    let rising: Vec<Alarm> = alarms.into_iter().filter(|a| !a.falling).collect();
    state.chart(&rising);
    save_band(store, state).await;
    flush(store, events, correlator, state).await;
    if state.closed > *saved_minute {
        save(store, state).await;
        *saved_minute = state.closed;
    }
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
    // New reports are looked at soon after they arrive, not at the next
    // tick: the wave that tips a series pages someone within a second.
    let mut soon: Option<tokio::time::Instant> = None;
    loop {
        let probe_soon = async {
            match soon {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            o = rx.recv() => match o {
                Some(o) => {
                    let minute = o.occurred_at.div_euclid(60_000);
                    let now = now_minute();
                    if minute > state.closed && minute >= now - LIVE_WINDOW_MINUTES && minute <= now + 1 {
                        state.take(&o, minute);
                        soon.get_or_insert_with(|| tokio::time::Instant::now() + SOON);
                    }
                }
                None => break,
            },
            _ = tick.tick() => {
                soon = None;
                check(&store, &events, correlator.as_ref(), &mut state, &mut saved_minute).await;
            }
            _ = probe_soon => {
                soon = None;
                check(&store, &events, correlator.as_ref(), &mut state, &mut saved_minute).await;
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
    #[derive(serde::Serialize)]
    struct SavedRef<'a> {
        detector: &'a Detector,
        indicators: &'a GrowthWatch,
    }
    let saved = SavedRef {
        detector: &state.detector,
        indicators: &state.indicators,
    };
    match serde_json::to_string(&saved) {
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
        title: None,
        members: Vec::new(),
    };
    record(store, events, correlator, &firing).await;
}

async fn record(
    store: &Store,
    events: &EventBus,
    correlator: Option<&crate::alerts::Correlator>,
    firing: &Firing,
) {
    match store.record_firing(firing).await {
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
    fn the_chance_bound_is_the_poisson_tail() {
        // P(X >= 5 | 0.5) = 1 - e^-0.5 (1 + .5 + .125 + .0208 + .0026)
        assert!((poisson_tail(5.0, 0.0) - 1.72e-4).abs() < 1e-5);
        assert!((poisson_tail(0.0, 3.0) - 1.0).abs() < 1e-12);
        assert!(poisson_tail(20.0, 5.0) < poisson_tail(10.0, 5.0));
    }

    #[test]
    fn an_item_counts_in_its_topic_its_places_and_the_total() {
        let o = Observation {
            feedback_id: "fb_1".into(),
            occurred_at: 0,
            topic: "phishing_scam".into(),
            component: Some("sms".into()),
            region: None,
            channel: "app".into(),
            reporter: None,
            text: None,
            indicators: Vec::new(),
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
