//! Scorecard query speed over a large database: feedback items and tickets
//! bulk-inserted with SQL (INSERT ... SELECT over a generated series, not
//! through the API), rollups counted with `rebuild_rollups`, then the
//! scorecard and the journey view queried repeatedly.
//!
//!   cargo run --release -p frontline --example bench_scorecard -- [feedback] [tickets] [iterations]
//!
//! Defaults: 10,000,000 feedback items, 1,000,000 tickets, 30 runs per
//! query. SQLite in a temporary directory by default; set
//! FRONTLINE_BENCH_DATABASE_URL=postgres://... to run on PostgreSQL (a
//! fresh schema is created and dropped). Prints p50/p95 per query.
//!
//! To load once and query many times (while changing the query code):
//! FRONTLINE_BENCH_KEEP=name keeps the database (SQLite: the directory
//! `name`; PostgreSQL: the schema `name`) and, when it already holds
//! feedback, skips loading and counting (migrations still run).

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Duration;
use frontline::scorecard::{build, Grain};
use frontline::storage::Store;

const DAY: i64 = 86_400_000;

fn pick(expr: &str, list: &[&str]) -> String {
    let mut s = format!("CASE ({expr}) % {}", list.len());
    for (i, v) in list.iter().enumerate() {
        s.push_str(&format!(" WHEN {i} THEN '{v}'"));
    }
    s.push_str(" END");
    s
}

/// The rows `x` from `from` to `to` (exclusive) of a generated series.
fn series(pg: bool, from: i64, to: i64) -> String {
    if pg {
        format!(
            "SELECT x FROM generate_series({from}::bigint, {}::bigint) AS g(x)",
            to - 1
        )
    } else {
        format!(
            "WITH RECURSIVE c(x) AS (SELECT {from} UNION ALL SELECT x + 1 FROM c WHERE x < {}) SELECT x FROM c",
            to - 1
        )
    }
}

async fn load_feedback(store: &Store, pg: bool, n: i64, now: i64) -> anyhow::Result<()> {
    // One literal: PostgreSQL multiplies two small literals as 32-bit integers.
    let span = 365 * DAY;
    let channel = pick(
        "x / 10",
        &["web", "email", "chat", "phone", "social", "app", "api"],
    );
    let component = pick(
        "x / 70",
        &[
            "login",
            "payments",
            "cards",
            "transfers",
            "app",
            "web",
            "statements",
            "support",
            "onboarding",
            "fraud",
            "notifications",
            "search",
        ],
    );
    let language = pick("x / 3", &["en", "zh", "fa", "gu", "de"]);
    let region = pick("x / 13", &["eu-west", "us-east", "ap-south", "me-central"]);
    let stage = pick(
        "x / 11",
        &["discover", "onboarding", "use", "pay", "support", "leave"],
    );
    let touchpoint = pick(
        "x / 17",
        &[
            "signup",
            "verify email",
            "app home",
            "checkout",
            "help centre",
            "chat",
        ],
    );
    let topic = pick(
        "x / 23",
        &[
            "account_access",
            "phishing_scam",
            "fraud",
            "outage",
            "performance",
            "billing",
            "other",
        ],
    );
    let chunk = 1_000_000;
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        let sql = format!(
            "INSERT INTO feedback (id, kind, score, text, language, channel, component, region, journey_stage, touchpoint, pii,
                                   occurred_at, received_at, topic, sentiment)
             SELECT 'fb_bench' || x,
                    CASE WHEN x % 10 < 4 THEN 'complaint' WHEN x % 10 < 7 THEN 'nps' WHEN x % 10 < 9 THEN 'csat' ELSE 'ces' END,
                    CASE WHEN x % 10 < 4 THEN NULL WHEN x % 10 < 7 THEN (x / 10) % 11 WHEN x % 10 < 9 THEN (x / 10) % 5 + 1 ELSE (x / 10) % 7 + 1 END,
                    NULL, {language}, {channel}, {component}, {region}, {stage}, {touchpoint}, '',
                    {now} - (x * 2654435761) % {span}, {now},
                    CASE WHEN x % 10 < 4 THEN {topic} ELSE NULL END,
                    CASE WHEN x % 10 < 4 THEN ((x % 21) - 10) / 10.0 ELSE NULL END
             FROM ({}) s",
            series(pg, start, end)
        );
        let t = Instant::now();
        let mut tx = store.begin().await?;
        big_cache(&mut tx, pg).await?;
        tx.execute(&sql, vec![]).await?;
        tx.commit().await?;
        eprintln!("  feedback {end}/{n} ({:.1} s)", t.elapsed().as_secs_f64());
        start = end;
    }
    Ok(())
}

async fn load_tickets(store: &Store, pg: bool, n: i64, now: i64) -> anyhow::Result<()> {
    let span = 365 * DAY;
    let mut tx = store.begin().await?;
    tx.execute(
        "INSERT INTO sla_policies (id, name, priority, segment, first_response_mins, next_response_mins, resolution_mins, calendar_id, warn_before_mins, created_at)
         VALUES ('sla_bench', 'bench', NULL, NULL, 240, NULL, 2880, NULL, 30, 0)",
        vec![],
    )
    .await?;
    tx.commit().await?;
    let channel = pick("x / 3", &["web", "email", "chat", "phone", "app"]);
    let segment = pick("x / 7", &["consumer", "business", "enterprise"]);
    let component = pick(
        "x / 5",
        &[
            "login",
            "payments",
            "cards",
            "transfers",
            "app",
            "web",
            "statements",
            "support",
            "onboarding",
            "fraud",
            "notifications",
            "search",
        ],
    );
    let language = pick("x / 11", &["en", "zh", "fa", "gu", "de"]);
    let stage = pick(
        "x / 13",
        &["discover", "onboarding", "use", "pay", "support", "leave"],
    );
    let status = pick(
        "x",
        &[
            "solved", "closed", "closed", "solved", "open", "pending", "closed", "solved", "new",
            "closed",
        ],
    );
    let chunk = 250_000;
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        // First response 1 min to ~2 days, solve 10 min to ~20 days, skewed.
        let sql = format!(
            "INSERT INTO tickets (id, title, status, priority, channel, segment, component, language, journey_stage, touchpoint,
                 topic, group_name, assignee_id, incident_id, feedback_id, subject_id, contact_sealed, contact_blind, tracking_hash,
                 repeat_of, sla_policy_id, clock_bms, clock_since, frt_due_at, nrt_due_at, res_due_at, frt_breached, nrt_breached,
                 res_breached, first_response_at, first_response_ms, first_response_bms, solved_at, solve_ms, solve_bms, closed_at,
                 agent_replies, reopen_count, csat_offered, created_by, created_at, updated_at)
             SELECT 'tkt_bench' || x, 'bench', st, 'normal', {channel}, {segment}, {component}, {language}, {stage}, NULL,
                 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'h' || x,
                 NULL, CASE WHEN x % 2 = 0 THEN 'sla_bench' ELSE NULL END, 0, NULL, NULL, NULL, NULL, FALSE, FALSE,
                 FALSE, created + frt, frt, frt / 3, CASE WHEN st IN ('solved', 'closed') THEN created + res ELSE NULL END,
                 CASE WHEN st IN ('solved', 'closed') THEN res ELSE NULL END, CASE WHEN st IN ('solved', 'closed') THEN res / 3 ELSE NULL END,
                 NULL, 1 + x % 3, CASE WHEN x % 17 = 0 THEN 1 ELSE 0 END, FALSE, 'bench', created, created
             FROM (SELECT x, {status} AS st, {now} - (x * 2654435761) % {span} AS created,
                          60000 * (1 + (x * 7) % 2880 * ((x % 5) + 1) / 5) AS frt,
                          600000 * (1 + (x * 13) % 2880 * ((x % 7) + 1) / 7) AS res
                   FROM ({}) s) g",
            series(pg, start, end)
        );
        let t = Instant::now();
        let mut tx = store.begin().await?;
        big_cache(&mut tx, pg).await?;
        tx.execute(&sql, vec![]).await?;
        tx.commit().await?;
        eprintln!("  tickets {end}/{n} ({:.1} s)", t.elapsed().as_secs_f64());
        start = end;
    }
    Ok(())
}

/// SQLite: a 4 GB page cache on the loading connection, so that the
/// primary-key index of 10M rows stays in memory.
async fn big_cache(tx: &mut frontline::storage::Tx, pg: bool) -> anyhow::Result<()> {
    if !pg {
        tx.execute("PRAGMA cache_size = -4000000", vec![]).await?;
    }
    Ok(())
}

/// The secondary indexes of the loaded tables: dropped before loading and
/// built again after (one sort each instead of 10M random inserts).
async fn secondary_indexes(store: &Store, pg: bool) -> anyhow::Result<Vec<(String, String)>> {
    let sql = if pg {
        "SELECT indexname AS name, indexdef AS sql FROM pg_indexes
         WHERE schemaname = current_schema() AND tablename IN ('feedback', 'tickets')
           AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    } else {
        "SELECT name, sql FROM sqlite_master
         WHERE type = 'index' AND tbl_name IN ('feedback', 'tickets') AND sql IS NOT NULL"
    };
    let mut out = Vec::new();
    for r in store.fetch_all(sql, vec![]).await? {
        out.push((r.get("name")?, r.get("sql")?));
    }
    Ok(out)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<i64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let feedback = args.first().copied().unwrap_or(10_000_000);
    let tickets = args.get(1).copied().unwrap_or(1_000_000);
    let iterations = args.get(2).copied().unwrap_or(30).max(1) as usize;
    let keep = std::env::var("FRONTLINE_BENCH_KEEP")
        .ok()
        .filter(|k| !k.is_empty());
    let dir = tempfile::tempdir()?;
    let pg_base = std::env::var("FRONTLINE_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let schema = match (&keep, &pg_base) {
        (Some(k), Some(_)) => k.clone(),
        _ => format!("bench_{}", ulid::Ulid::new().to_string().to_lowercase()),
    };
    let mut env = BTreeMap::new();
    let data_dir = match (&keep, &pg_base) {
        (Some(k), None) => k.into(),
        _ => dir.path().to_path_buf(),
    };
    env.insert(
        "FRONTLINE_DATA_DIR".to_owned(),
        data_dir.display().to_string(),
    );
    if let Some(base) = &pg_base {
        let pool = sqlx::PgPool::connect(base).await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&pool)
            .await?;
        pool.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        env.insert(
            "FRONTLINE_DATABASE_URL".to_owned(),
            format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        );
    }
    let config = frontline::Config::load_from(None, &env)?;
    let store = Store::connect(&config).await?;
    store.migrate().await?;
    let pg = pg_base.is_some();
    let loaded = store
        .fetch_optional("SELECT id FROM feedback LIMIT 1", vec![])
        .await?
        .is_some();
    println!(
        "backend: {}, {feedback} feedback items, {tickets} tickets{}",
        store.backend(),
        if loaded { " (loaded before)" } else { "" }
    );
    if !loaded {
        load(&store, pg, feedback, tickets).await?;
    }
    if pg {
        store.execute("ANALYZE", vec![]).await?;
    }
    query(&store, iterations).await?;
    store.close().await;
    if let (Some(base), None) = (&pg_base, &keep) {
        let pool = sqlx::PgPool::connect(base).await?;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&pool)
            .await?;
        pool.close().await;
    }
    Ok(())
}

/// Loads the feedback and tickets and counts the rollups.
async fn load(store: &Store, pg: bool, feedback: i64, tickets: i64) -> anyhow::Result<()> {
    if !pg {
        // Loading only: the trigram index of text is not what is measured
        // (the generated items have no text).
        store
            .execute("DROP TRIGGER feedback_fts_insert", vec![])
            .await?;
    }
    let now = frontline::storage::now_ms();
    let t = Instant::now();
    let indexes = secondary_indexes(store, pg).await?;
    for (name, _) in &indexes {
        store.execute(&format!("DROP INDEX {name}"), vec![]).await?;
    }
    load_feedback(store, pg, feedback, now).await?;
    load_tickets(store, pg, tickets, now).await?;
    for (_, sql) in &indexes {
        let mut tx = store.begin().await?;
        big_cache(&mut tx, pg).await?;
        tx.execute(sql, vec![]).await?;
        tx.commit().await?;
    }
    println!(
        "loaded in {:.1} s ({} indexes built after)",
        t.elapsed().as_secs_f64(),
        indexes.len()
    );
    let t = Instant::now();
    store.rebuild_rollups().await?;
    println!("rollups counted in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// Runs each scorecard query `iterations` times (after two warm-ups) and
/// prints p50/p95/max.
async fn query(store: &Store, iterations: usize) -> anyhow::Result<()> {
    let today = chrono::Utc::now().date_naive();
    let scenarios: Vec<(&str, i64, Grain, &'static str)> = vec![
        ("30 days by day, all", 30, Grain::Day, "all"),
        ("90 days by week, by channel", 90, Grain::Week, "channel"),
        (
            "365 days by month, by component",
            365,
            Grain::Month,
            "component",
        ),
        (
            "365 days by day, by journey stage",
            365,
            Grain::Day,
            "journey_stage",
        ),
        ("90 days by day, by segment", 90, Grain::Day, "segment"),
    ];
    let mut all: Vec<f64> = Vec::new();
    println!(
        "{:<40} {:>9} {:>9} {:>9}",
        "query", "p50 ms", "p95 ms", "max ms"
    );
    for (name, days, grain, dim) in &scenarios {
        let from = today - Duration::days(days - 1);
        let mut times = Vec::with_capacity(iterations);
        let mut rows = 0;
        for i in 0..iterations + 2 {
            let t = Instant::now();
            let card = build(store, from, today, *grain, dim).await?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            rows = card.periods.len();
            if i >= 2 {
                times.push(ms);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        all.extend(&times);
        println!(
            "{:<40} {:>9.1} {:>9.1} {:>9.1}   ({rows} period rows)",
            name,
            quantile(&times, 0.5),
            quantile(&times, 0.95),
            times[times.len() - 1]
        );
    }
    let mut times = Vec::with_capacity(iterations);
    for i in 0..iterations + 2 {
        let t = Instant::now();
        frontline::journey::build(store, today - Duration::days(89), today).await?;
        if i >= 2 {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    all.extend(&times);
    println!(
        "{:<40} {:>9.1} {:>9.1} {:>9.1}",
        "journey view, 90 days",
        quantile(&times, 0.5),
        quantile(&times, 0.95),
        times[times.len() - 1]
    );
    all.sort_by(|a, b| a.total_cmp(b));
    println!(
        "all queries: p50 {:.1} ms, p95 {:.1} ms",
        quantile(&all, 0.5),
        quantile(&all, 0.95)
    );
    Ok(())
}
