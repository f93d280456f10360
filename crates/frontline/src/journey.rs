//! The journey map: stages in order with their touchpoints, defined by
//! admins; feedback and tickets carry a stage and a touchpoint as labels.
//! The view shows per stage its score, volume, top complaint topics and
//! worst pain points, from the scorecard's rollups.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::args;
use crate::scorecard::date_to_day;
use crate::storage::{now_ms, AuditRecord, Store, StoreError};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stage {
    pub key: String,
    pub name: String,
    pub position: i64,
    pub touchpoints: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Topic {
    pub topic: String,
    /// Complaints and comments on this topic in the stage.
    pub n: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PainPoint {
    pub touchpoint: String,
    pub n: i64,
    /// Share of items with negative sentiment, in percent.
    pub negative_share: f64,
    /// Mean score of the touchpoint's answers (any kind), if any.
    pub mean_score: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StageView {
    pub key: String,
    pub name: String,
    pub defined: bool,
    pub touchpoints: Vec<String>,
    /// Feedback items of any kind.
    pub feedback: i64,
    pub tickets: i64,
    pub nps: Option<f64>,
    pub nps_responses: i64,
    pub csat: Option<f64>,
    pub csat_responses: i64,
    pub top_topics: Vec<Topic>,
    /// Touchpoints with the largest share of negative feedback first.
    pub pain_points: Vec<PainPoint>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JourneyView {
    pub from: String,
    pub to: String,
    pub stages: Vec<StageView>,
}

pub async fn stages(store: &Store) -> Result<Vec<Stage>, StoreError> {
    let rows = store
        .fetch_all(
            "SELECT key, name, position FROM journey_stages ORDER BY position, key",
            vec![],
        )
        .await?;
    let tps = store
        .fetch_all(
            "SELECT key, stage_key FROM journey_touchpoints ORDER BY key",
            vec![],
        )
        .await?;
    let mut by_stage: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in tps {
        by_stage
            .entry(t.get("stage_key")?)
            .or_default()
            .push(t.get("key")?);
    }
    rows.iter()
        .map(|r| {
            let key: String = r.get("key")?;
            Ok(Stage {
                touchpoints: by_stage.remove(&key).unwrap_or_default(),
                name: r.get("name")?,
                position: r.get("position")?,
                key,
            })
        })
        .collect()
}

/// Adds or replaces a stage and its touchpoints, with its audit entry.
pub async fn put_stage(store: &Store, s: &Stage, by: AuditRecord) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.execute(
        "INSERT INTO journey_stages (key, name, position, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO UPDATE SET name = excluded.name, position = excluded.position",
        args![&s.key, &s.name, s.position, now_ms()],
    )
    .await?;
    tx.execute(
        "DELETE FROM journey_touchpoints WHERE stage_key = $1",
        args![&s.key],
    )
    .await?;
    for t in &s.touchpoints {
        tx.execute(
            "INSERT INTO journey_touchpoints (key, stage_key, name) VALUES ($1, $2, $1)",
            args![t, &s.key],
        )
        .await?;
    }
    tx.audit(AuditRecord {
        detail: serde_json::json!({ "touchpoints": s.touchpoints.len() }),
        ..by
    })
    .await?;
    tx.commit().await
}

pub async fn build(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<JourneyView, StoreError> {
    let (f, t) = (date_to_day(from), date_to_day(to));
    // The reads at once, each on its own connection.
    let (defined, scores, (topics, points, ticket_n)) = futures_util::future::try_join3(
        stages(store),
        store.stage_scores(f, t),
        futures_util::future::try_join3(
            store.stage_parts("stage_topic", f, t),
            store.stage_parts("stage_touchpoint", f, t),
            store.tickets_created("journey_stage", f, t),
        ),
    )
    .await?;
    // Defined stages in order, then any stage seen in data but not defined.
    let mut order: Vec<(String, String, bool, Vec<String>)> = defined
        .iter()
        .map(|s| (s.key.clone(), s.name.clone(), true, s.touchpoints.clone()))
        .collect();
    for (value, _, _) in &scores {
        if !value.is_empty() && !order.iter().any(|o| &o.0 == value) {
            order.push((value.clone(), value.clone(), false, Vec::new()));
        }
    }
    let pct = |a: i64, b: i64| (b > 0).then(|| ((1000.0 * a as f64 / b as f64).round()) / 10.0);
    let stages = order
        .into_iter()
        .map(|(key, name, defined, touchpoints)| {
            let mut feedback = 0;
            let (mut nps_n, mut nps_top, mut nps_bottom, mut csat_n, mut csat_top) =
                (0, 0, 0, 0, 0);
            for (value, kind, v) in &scores {
                if *value != key {
                    continue;
                }
                feedback += v[0];
                match kind.as_str() {
                    "nps" => {
                        nps_n += v[1];
                        nps_top += v[3];
                        nps_bottom += v[4];
                    }
                    "csat" => {
                        csat_n += v[1];
                        csat_top += v[3];
                    }
                    _ => {}
                }
            }
            let mut top_topics: Vec<Topic> = topics
                .iter()
                .filter(|p| p.stage == key && p.key != "other")
                .map(|p| Topic {
                    topic: p.key.clone(),
                    n: p.n,
                })
                .collect();
            top_topics.sort_by(|a, b| b.n.cmp(&a.n).then(a.topic.cmp(&b.topic)));
            top_topics.truncate(5);
            let mut pain_points: Vec<PainPoint> = points
                .iter()
                .filter(|p| p.stage == key && p.n > 0)
                .map(|p| PainPoint {
                    touchpoint: p.key.clone(),
                    n: p.n,
                    negative_share: pct(p.negative, p.n).unwrap_or(0.0),
                    mean_score: (p.score_n > 0)
                        .then(|| ((p.score_sum as f64 / p.score_n as f64) * 100.0).round() / 100.0),
                })
                .collect();
            pain_points.sort_by(|a, b| {
                b.negative_share
                    .total_cmp(&a.negative_share)
                    .then(b.n.cmp(&a.n))
            });
            pain_points.truncate(5);
            StageView {
                tickets: ticket_n.get(&key).copied().unwrap_or(0),
                nps: (nps_n > 0).then(|| {
                    ((1000.0 * (nps_top - nps_bottom) as f64 / nps_n as f64).round()) / 10.0
                }),
                nps_responses: nps_n,
                csat: pct(csat_top, csat_n),
                csat_responses: csat_n,
                key,
                name,
                defined,
                touchpoints,
                feedback,
                top_topics,
                pain_points,
            }
        })
        .collect();
    Ok(JourneyView {
        from: from.to_string(),
        to: to.to_string(),
        stages,
    })
}
