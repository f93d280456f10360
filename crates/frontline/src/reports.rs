//! The weekly scorecard email: once a week (Monday from `reports.weekly_hour`
//! in `reports.weekly_timezone`), the week just ended goes to every staff
//! user who opted in and may see reports, through the notification outbox:
//! the key figures against the week before, in text and HTML, with the
//! week's scorecard as CSV attached. A `weekly_reports` row keyed on the
//! week is written in the transaction that queues the emails, so several
//! nodes or a restart send a week once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

use crate::config::Config;
use crate::domain::{Action, DataClass, DomainError, Grant};
use crate::notify::outbox::{Attachment, StaffEmail};
use crate::scorecard::{self, Grain, Row, Scorecard};
use crate::storage::{now_ms, AuditRecord, Store, StoreError};

/// An ISO week (Monday to Sunday), written `2026-W48`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Week {
    monday: NaiveDate,
}

impl Week {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid("week", "an ISO week such as 2026-W48");
        let (y, w) = s.trim().split_once("-W").ok_or_else(bad)?;
        let (y, w) = (
            y.parse::<i32>().map_err(|_| bad())?,
            w.parse::<u32>().map_err(|_| bad())?,
        );
        NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon)
            .map(|monday| Self { monday })
            .ok_or_else(bad)
    }

    pub fn containing(d: NaiveDate) -> Self {
        Self {
            monday: d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday())),
        }
    }

    pub fn monday(&self) -> NaiveDate {
        self.monday
    }

    pub fn sunday(&self) -> NaiveDate {
        self.monday + chrono::Duration::days(6)
    }

    pub fn previous(&self) -> Self {
        Self {
            monday: self.monday - chrono::Duration::days(7),
        }
    }

    pub fn label(&self) -> String {
        let w = self.monday.iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    }

    /// The latest week whose report is due at `now`: the week that ended
    /// before the last Monday at `hour` in `tz` that has passed.
    pub fn due(now: DateTime<Utc>, tz: chrono_tz::Tz, hour: u32) -> Self {
        let local = now.with_timezone(&tz);
        let this = Self::containing(local.date_naive());
        let at = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
        if local.weekday() == chrono::Weekday::Mon && local.time() < at {
            this.previous().previous()
        } else {
            this.previous()
        }
    }
}

/// One line of the report: a figure this week, the week before, the change.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub name: &'static str,
    pub this_week: String,
    pub week_before: String,
    pub change: String,
}

fn figure(name: &'static str, this: Option<f64>, before: Option<f64>, decimals: usize) -> Figure {
    let show = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.decimals$}"));
    Figure {
        name,
        this_week: show(this),
        week_before: show(before),
        change: match (this, before) {
            (Some(a), Some(b)) => format!("{:+.decimals$}", a - b),
            _ => "n/a".into(),
        },
    }
}

fn count(v: i64) -> Option<f64> {
    Some(v as f64)
}

/// The key figures of a week against the week before, as the scorecard
/// (dimension `all`) states them for each week; `backlogs` at the end of
/// each.
pub fn figures(this: &Scorecard, before: &Scorecard, backlogs: (i64, i64)) -> Vec<Figure> {
    let all = |s: &Scorecard| {
        s.totals
            .iter()
            .find(|r| r.value == "all")
            .cloned()
            .unwrap_or_default()
    };
    let (a, b) = (all(this), all(before));
    let f = |name, get: fn(&Row) -> Option<f64>, decimals| figure(name, get(&a), get(&b), decimals);
    vec![
        f("NPS", |r| r.nps, 1),
        f("NPS answers", |r| count(r.nps_responses), 0),
        f("CSAT (% 4-5)", |r| r.csat, 1),
        f("CSAT answers", |r| count(r.csat_responses), 0),
        f("CES mean (1-7)", |r| r.ces_mean, 2),
        f("CES easy (% 5-7)", |r| r.ces_easy_share, 1),
        f("Tickets opened", |r| count(r.tickets_created), 0),
        f("Tickets solved", |r| count(r.tickets_solved), 0),
        f(
            "First response median (h)",
            |r| r.first_response.median_hours,
            2,
        ),
        f("Resolution median (h)", |r| r.resolution.median_hours, 2),
        f("SLA first response met (%)", |r| r.sla_first_response, 1),
        f("SLA resolution met (%)", |r| r.sla_resolution, 1),
        figure(
            "Backlog at week end",
            count(backlogs.0),
            count(backlogs.1),
            0,
        ),
        figure(
            "Incidents declared",
            count(this.incidents.incidents as i64),
            count(before.incidents.incidents as i64),
            0,
        ),
        figure(
            "First customer notice median (min)",
            this.incidents.median_first_notice_mins,
            before.incidents.median_first_notice_mins,
            1,
        ),
    ]
}

/// The email of one week, the same for every stakeholder.
pub struct Report {
    pub week: Week,
    pub email: StaffEmail,
}

const HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif">
<h1>Weekly CX report {{ week }}</h1>
<p>{{ from }} to {{ to }} (UTC days), against the week before.</p>
<table style="border-collapse: collapse" cellpadding="4">
<thead><tr><th align="left">Figure</th><th align="right">This week</th><th align="right">Week before</th><th align="right">Change</th></tr></thead>
<tbody>
{% for f in figures %}<tr><td>{{ f.name }}</td><td align="right">{{ f.this_week }}</td><td align="right">{{ f.week_before }}</td><td align="right">{{ f.change }}</td></tr>
{% endfor %}</tbody>
</table>
<p>The week's scorecard, day by day, is attached as CSV. <a href="{{ link }}">Open the scorecard</a>.</p>
<p style="color: #666">You get this email because you asked for it; stop it on the Scorecard page.</p>
</body></html>
"#;

/// Builds the week's report from the scorecard.
pub async fn build(store: &Store, base_url: &str, week: Week) -> anyhow::Result<Report> {
    let this = scorecard::build(store, week.monday(), week.sunday(), Grain::Day, "all").await?;
    let prev = week.previous();
    let before = scorecard::build(store, prev.monday(), prev.sunday(), Grain::Week, "all").await?;
    let day = |d: NaiveDate| scorecard::date_to_day(d);
    let backlogs = (
        store.backlog_at(day(week.sunday())).await?,
        store.backlog_at(day(prev.sunday())).await?,
    );
    let figures = figures(&this, &before, backlogs);
    let label = week.label();
    let subject = format!("Weekly CX report {label}");
    let link = format!(
        "{}/scorecard?from={}&to={}&by=day",
        base_url.trim_end_matches('/'),
        week.monday(),
        week.sunday()
    );
    let mut text = format!(
        "Weekly CX report {label}: {} to {} (UTC days), against the week before.\n\n",
        week.monday(),
        week.sunday()
    );
    for f in &figures {
        text.push_str(&format!(
            "{}: {} (week before {}, change {})\n",
            f.name, f.this_week, f.week_before, f.change
        ));
    }
    text.push_str(&format!(
        "\nThe week's scorecard, day by day, is attached as CSV.\nOpen the scorecard: {link}\n\n\
         You get this email because you asked for it; stop it on the Scorecard page.\n"
    ));
    let mut env = minijinja::Environment::new();
    env.add_template("weekly.html", HTML)?;
    let html = env
        .get_template("weekly.html")?
        .render(minijinja::context! {
            subject, week => label, from => week.monday().to_string(),
            to => week.sunday().to_string(), figures, link,
        })?;
    let csv = scorecard::to_csv(&this)?;
    Ok(Report {
        week,
        email: StaffEmail {
            subject,
            text,
            html: Some(html),
            attachments: vec![Attachment {
                filename: format!("scorecard-{label}.csv"),
                content_type: "text/csv; charset=utf-8".into(),
                content: csv,
            }],
        },
    })
}

/// Staff users who get the report: opted in, not disabled, and holding
/// `reports:view` now.
pub async fn stakeholders(store: &Store) -> Result<Vec<crate::storage::User>, StoreError> {
    let mut out = Vec::new();
    for u in store.list_users().await? {
        if !u.weekly_report || u.disabled {
            continue;
        }
        if let Some(role) = store.role(&u.role).await? {
            if role
                .grants
                .contains(&Grant::new(DataClass::Reports, Action::View))
            {
                out.push(u);
            }
        }
    }
    Ok(out)
}

/// What queueing a week's report did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub week: String,
    /// Emails queued (one per stakeholder).
    pub recipients: usize,
    /// The scheduled report of this week had already been queued: nothing
    /// was queued again.
    pub already_sent: bool,
}

/// Queues a week's report for every stakeholder in one transaction with its
/// audit entry. `scheduled`: once per week (a `weekly_reports` row, nothing
/// when there is no stakeholder); otherwise a send on request, every time.
pub async fn queue(
    store: &Store,
    config: &Config,
    week: Week,
    scheduled: bool,
    by: AuditRecord,
) -> anyhow::Result<Queued> {
    let label = week.label();
    let people = stakeholders(store).await?;
    let nothing = |already_sent| Queued {
        week: label.clone(),
        recipients: 0,
        already_sent,
    };
    if scheduled && people.is_empty() {
        return Ok(nothing(false));
    }
    let report = build(store, &config.http.public_url, week).await?;
    let now = now_ms();
    let mut tx = store.begin().await?;
    if scheduled {
        let n = tx
            .execute(
                "INSERT INTO weekly_reports (week, queued_at, recipients) VALUES ($1, $2, $3)
                 ON CONFLICT (week) DO NOTHING",
                crate::args![&label, now, people.len() as i64],
            )
            .await?;
        if n == 0 {
            return Ok(nothing(true));
        }
    }
    for u in &people {
        let id = if scheduled {
            format!("report.{label}.{}", u.id)
        } else {
            format!("report.{label}.{now}.{}", u.id)
        };
        tx.enqueue_staff_email(&id, u.id.as_str(), &report.email)
            .await?;
    }
    tx.audit(AuditRecord {
        action: if scheduled {
            "report.weekly.queue"
        } else {
            "report.weekly.send"
        }
        .into(),
        class: DataClass::Reports,
        record: Some(label.clone()),
        detail: serde_json::json!({
            "week": &label,
            "scheduled": scheduled,
            "recipients": people.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        }),
        ..by
    })
    .await?;
    tx.commit().await?;
    Ok(Queued {
        week: label,
        recipients: people.len(),
        already_sent: false,
    })
}

/// Weeks sent on schedule, newest first: (week, queued at ms, recipients).
pub async fn history(store: &Store, limit: i64) -> Result<Vec<(String, i64, i64)>, StoreError> {
    store
        .fetch_all(
            "SELECT week, queued_at, recipients FROM weekly_reports ORDER BY week DESC LIMIT $1",
            crate::args![limit],
        )
        .await?
        .iter()
        .map(|r| Ok((r.get("week")?, r.get("queued_at")?, r.get("recipients")?)))
        .collect()
}

/// Every `reports.weekly_check_secs`, queues the due week's report unless
/// it went out already. Every node may run it: the week's key decides.
pub fn spawn_weekly(
    store: Store,
    config: Arc<Config>,
    mut closing: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let tz: chrono_tz::Tz = config
            .reports
            .weekly_timezone
            .parse()
            .unwrap_or(chrono_tz::UTC);
        let mut tick =
            tokio::time::interval(Duration::from_secs(config.reports.weekly_check_secs.max(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = closing.wait_for(|c| *c) => break,
            }
            let week = Week::due(Utc::now(), tz, config.reports.weekly_hour);
            match sent(&store, &week).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "weekly report check failed; will retry");
                    continue;
                }
            }
            let by = AuditRecord {
                actor: "system".into(),
                address: None,
                action: String::new(),
                class: DataClass::Reports,
                record: None,
                detail: serde_json::json!({}),
            };
            match queue(&store, &config, week, true, by).await {
                Ok(q) if q.recipients > 0 => {
                    tracing::info!(week = %q.week, recipients = q.recipients, "weekly report queued")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "weekly report failed; will retry"),
            }
        }
    })
}

async fn sent(store: &Store, week: &Week) -> Result<bool, StoreError> {
    Ok(store
        .fetch_optional(
            "SELECT week FROM weekly_reports WHERE week = $1",
            crate::args![week.label()],
        )
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weeks_parse_and_print_as_iso_weeks() {
        let w = Week::parse("2026-W48").unwrap();
        assert_eq!(w.monday().to_string(), "2026-11-23");
        assert_eq!(w.sunday().to_string(), "2026-11-29");
        assert_eq!(w.label(), "2026-W48");
        assert_eq!(w.previous().label(), "2026-W47");
        // 2027-01-01 is a Friday of 2026's last ISO week.
        let d = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(Week::containing(d).label(), "2026-W53");
        for bad in ["2026-48", "2026-W54", "x-W1", ""] {
            assert!(Week::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_due_week_turns_on_monday_at_the_hour_in_the_zone() {
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        // Monday 2026-11-30 06:59 in Berlin (05:59 UTC): W47 is still the latest.
        assert_eq!(
            Week::due(at("2026-11-30T05:59:00Z"), berlin, 7).label(),
            "2026-W47"
        );
        // 07:00 in Berlin: W48, the week just ended.
        assert_eq!(
            Week::due(at("2026-11-30T06:00:00Z"), berlin, 7).label(),
            "2026-W48"
        );
        // Later in the week it stays W48.
        assert_eq!(
            Week::due(at("2026-12-06T22:00:00Z"), berlin, 7).label(),
            "2026-W48"
        );
        // Sunday 23:30 UTC is already Monday 00:30 in Berlin, but before 07:00.
        assert_eq!(
            Week::due(at("2026-12-06T23:30:00Z"), berlin, 7).label(),
            "2026-W48"
        );
        assert_eq!(
            Week::due(at("2026-12-07T00:00:00Z"), chrono_tz::UTC, 0).label(),
            "2026-W49"
        );
    }

    #[test]
    fn changes_are_signed_and_missing_figures_say_so() {
        let f = figure("NPS", Some(40.0), Some(52.5), 1);
        assert_eq!(
            (
                f.this_week.as_str(),
                f.week_before.as_str(),
                f.change.as_str()
            ),
            ("40.0", "52.5", "-12.5")
        );
        let f = figure("CSAT", Some(80.0), None, 1);
        assert_eq!(f.change, "n/a");
        assert_eq!(f.week_before, "n/a");
        assert_eq!(figure("n", Some(3.0), Some(1.0), 0).change, "+2");
    }
}
