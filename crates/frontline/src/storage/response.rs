//! Incident response: playbooks and checklists, links to signals (and later
//! alerts and tickets), notice templates and the language variants of
//! updates, update deadlines and the incident lead's alerts, postmortems,
//! remedies, the post-incident survey and the metrics. Every change commits
//! with its timeline entry and audit entry.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::incidents::{Incident, IncidentRefusal, Time};
use super::users::rfc3339;
use super::{now_ms, AuditRecord, Result, Row, Store, StoreError, Tx};
use crate::args;
use crate::domain::incident::{IncidentStatus, TeamRole};
use crate::domain::response::{ActionItem, PlaybookItem, PlaybookSpec, TemplateSpec, TemplateText};
use crate::domain::{id::Kind, DataClass, Id};

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// "30 minutes", "4 hours", "7 days".
pub fn describe_minutes(m: i64) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if m % 1440 == 0 {
        plural(m / 1440, "day")
    } else if m % 60 == 0 {
        plural(m / 60, "hour")
    } else {
        plural(m, "minute")
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Playbook {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub items: Vec<PlaybookItem>,
    /// Shipped with Frontline (editable, not deletable).
    pub builtin: bool,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = String)]
    pub updated_at: Time,
}

const PLAYBOOK_COLUMNS: &str =
    "id, slug, name, description, items, builtin, created_at, updated_at";

impl Playbook {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            slug: r.get("slug")?,
            name: r.get("name")?,
            description: r.get("description")?,
            items: from_json("playbook items", &r.get::<String>("items")?)?,
            builtin: r.get("builtin")?,
            created_at: Time(r.get("created_at")?),
            updated_at: Time(r.get("updated_at")?),
        })
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    pub id: String,
    pub position: i64,
    pub title: String,
    /// The team seat it is assigned to.
    pub seat: Option<TeamRole>,
    /// The staff user it is assigned to (`usr_...`).
    pub assignee: Option<String>,
    pub done: bool,
    #[schema(value_type = Option<String>)]
    pub done_at: Option<Time>,
    pub done_by: Option<String>,
    pub updated_by: String,
    #[schema(value_type = String)]
    pub updated_at: Time,
}

const CHECKLIST_COLUMNS: &str =
    "id, position, title, seat, assignee, done_at, done_by, updated_by, updated_at";

impl ChecklistItem {
    fn from_row(r: &Row) -> Result<Self> {
        let done_at = r.get::<Option<i64>>("done_at")?.map(Time);
        Ok(Self {
            id: r.get("id")?,
            position: r.get("position")?,
            title: r.get("title")?,
            seat: r
                .get::<Option<String>>("seat")?
                .map(|s| {
                    TeamRole::from_db(&s)
                        .ok_or_else(|| StoreError::Corrupt("checklist seat".into()))
                })
                .transpose()?,
            assignee: r.get("assignee")?,
            done: done_at.is_some(),
            done_at,
            done_by: r.get("done_by")?,
            updated_by: r.get("updated_by")?,
            updated_at: Time(r.get("updated_at")?),
        })
    }
}

/// A change to a checklist item; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct ChecklistChange {
    pub done: Option<bool>,
    /// `Some(None)` clears the seat.
    pub seat: Option<Option<TeamRole>>,
    /// `Some(None)` clears the assignee.
    pub assignee: Option<Option<String>>,
}

/// Something an incident is linked to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentLink {
    /// signal, alert, ticket or survey.
    pub kind: String,
    /// The linked record's id.
    pub ref_id: String,
    pub title: String,
    /// When the linked thing began (a signal's rise).
    #[schema(value_type = Option<String>)]
    pub began_at: Option<Time>,
    pub linked_by: String,
    #[schema(value_type = String)]
    pub linked_at: Time,
}

/// A link to write: for signals here; the alerts and tickets code calls
/// `Store::link_incident` with its own kind.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub kind: &'static str,
    pub ref_id: String,
    pub title: String,
    pub began_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeTemplate {
    pub id: String,
    pub slug: String,
    pub name: String,
    /// The incident status an update from it usually has.
    pub status: IncidentStatus,
    /// Language -> its subject, body and SMS templates.
    pub texts: BTreeMap<String, TemplateText>,
    pub builtin: bool,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = String)]
    pub updated_at: Time,
}

const TEMPLATE_COLUMNS: &str = "id, slug, name, status, bodies, builtin, created_at, updated_at";

impl NoticeTemplate {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            slug: r.get("slug")?,
            name: r.get("name")?,
            status: IncidentStatus::from_db(&r.get::<String>("status")?)
                .ok_or_else(|| StoreError::Corrupt("template status".into()))?,
            texts: from_json("template texts", &r.get::<String>("bodies")?)?,
            builtin: r.get("builtin")?,
            created_at: Time(r.get("created_at")?),
            updated_at: Time(r.get("updated_at")?),
        })
    }
}

/// An update in one language: what each channel renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UpdateVariant {
    pub language: String,
    /// The email subject.
    pub subject: String,
    /// The notice text: status page and email body.
    pub body: String,
    /// The text message, fitted to one SMS.
    pub sms: String,
}

/// An alert for an incident's lead, waiting for delivery.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeadAlert {
    pub id: String,
    pub incident_id: String,
    /// The lead it is for; null when the incident has no lead yet.
    pub user_id: Option<String>,
    /// update_overdue.
    pub kind: String,
    pub body: String,
    #[schema(value_type = String)]
    pub created_at: Time,
}

/// An incident just marked overdue.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub incident_id: String,
    pub due_at: i64,
    pub alerts: Vec<LeadAlert>,
}

/// The hook through which an overdue incident's lead is told. It runs in
/// the transaction that marks the incident overdue, so an alert is
/// recorded (and, once delivery is wired in, queued in the outbox) exactly
/// once with the mark. The notify outbox plugs in here.
pub(crate) async fn enqueue_lead_alert(tx: &mut Tx, alert: &LeadAlert) -> Result<()> {
    tx.execute(
        "INSERT INTO lead_alerts (id, incident_id, user_id, kind, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        args![&alert.id, &alert.incident_id, alert.user_id.clone(), &alert.kind, &alert.body, alert.created_at.0],
    )
    .await?;
    // The lead is told by email through the outbox, with the mark or not at all.
    if let Some(user) = &alert.user_id {
        let title: String = tx
            .fetch_optional(
                "SELECT title FROM incidents WHERE id = $1",
                args![&alert.incident_id],
            )
            .await?
            .map(|r| r.get("title"))
            .transpose()?
            .unwrap_or_default();
        tx.enqueue_staff_email(
            &format!("{}.email", alert.id),
            user,
            &crate::notify::outbox::StaffEmail {
                subject: format!("Update overdue: {title}"),
                text: format!(
                    "{}\n\nIncident {}: customers are waiting for the next public update.",
                    alert.body, alert.incident_id
                ),
                html: None,
                attachments: Vec::new(),
            },
        )
        .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Postmortem {
    pub incident_id: String,
    /// draft or published.
    pub status: String,
    /// What happened when, from the timeline.
    pub summary: String,
    pub root_cause: String,
    pub impact: String,
    pub went_well: String,
    pub to_improve: String,
    pub action_items: Vec<ActionItem>,
    pub created_by: String,
    #[schema(value_type = String)]
    pub created_at: Time,
    pub updated_by: String,
    #[schema(value_type = String)]
    pub updated_at: Time,
    #[schema(value_type = Option<String>)]
    pub published_at: Option<Time>,
}

const POSTMORTEM_COLUMNS: &str =
    "incident_id, status, summary, root_cause, impact, went_well, to_improve, \
action_items, created_by, created_at, updated_by, updated_at, published_at";

impl Postmortem {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            incident_id: r.get("incident_id")?,
            status: r.get("status")?,
            summary: r.get("summary")?,
            root_cause: r.get("root_cause")?,
            impact: r.get("impact")?,
            went_well: r.get("went_well")?,
            to_improve: r.get("to_improve")?,
            action_items: from_json("action items", &r.get::<String>("action_items")?)?,
            created_by: r.get("created_by")?,
            created_at: Time(r.get("created_at")?),
            updated_by: r.get("updated_by")?,
            updated_at: Time(r.get("updated_at")?),
            published_at: r.get::<Option<i64>>("published_at")?.map(Time),
        })
    }
}

/// The editable text of a postmortem.
#[derive(Debug, Clone, Default)]
pub struct PostmortemText {
    pub summary: Option<String>,
    pub root_cause: Option<String>,
    pub impact: Option<String>,
    pub went_well: Option<String>,
    pub to_improve: Option<String>,
    pub action_items: Option<Vec<ActionItem>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Remedy {
    pub id: String,
    pub incident_id: String,
    /// e.g. account_monitoring, credit, password_reset.
    pub kind: String,
    pub description: String,
    /// Customers it was offered to.
    pub offered: i64,
    /// Customers who took it up.
    pub taken: i64,
    /// taken / offered, 0 to 1.
    pub take_up: Option<f64>,
    pub created_by: String,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = String)]
    pub updated_at: Time,
}

impl Remedy {
    fn from_row(r: &Row) -> Result<Self> {
        let offered: i64 = r.get("offered")?;
        let taken: i64 = r.get("taken")?;
        Ok(Self {
            id: r.get("id")?,
            incident_id: r.get("incident_id")?,
            kind: r.get("kind")?,
            description: r.get("description")?,
            offered,
            taken,
            take_up: (offered > 0).then(|| taken as f64 / offered as f64),
            created_by: r.get("created_by")?,
            created_at: Time(r.get("created_at")?),
            updated_at: Time(r.get("updated_at")?),
        })
    }
}

/// How the response to one incident went, in numbers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentMetrics {
    pub incident_id: String,
    #[schema(value_type = String)]
    pub declared_at: Time,
    /// When the earliest linked signal's rise began.
    #[schema(value_type = Option<String>)]
    pub first_signal_at: Option<Time>,
    #[schema(value_type = Option<String>)]
    pub first_notice_at: Option<Time>,
    /// From the first signal to the declaration, seconds.
    pub signal_to_declared_secs: Option<i64>,
    /// From the declaration to the first public update, seconds.
    pub declared_to_first_notice_secs: Option<i64>,
    /// Public updates that fell due.
    pub updates_due: i64,
    /// Of those, published in time.
    pub updates_kept: i64,
    /// Of those, late or still missing.
    pub updates_missed: i64,
}

/// The same over many incidents.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MetricsSummary {
    pub incidents: i64,
    pub median_signal_to_declared_secs: Option<i64>,
    pub median_declared_to_first_notice_secs: Option<i64>,
    pub updates_due: i64,
    pub updates_kept: i64,
    pub updates_missed: i64,
    /// updates_kept / updates_due, 0 to 1.
    pub cadence_kept: Option<f64>,
    pub per_incident: Vec<IncidentMetrics>,
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

impl Tx {
    async fn playbook_row(&mut self, slug_or_id: &str) -> Result<Option<Playbook>> {
        self.fetch_optional(
            &format!("SELECT {PLAYBOOK_COLUMNS} FROM playbooks WHERE slug = $1 OR id = $1"),
            args![slug_or_id],
        )
        .await?
        .as_ref()
        .map(Playbook::from_row)
        .transpose()
    }

    /// Copies a playbook's steps onto an incident's checklist.
    pub(super) async fn apply_playbook(
        &mut self,
        incident: &str,
        playbook: &str,
        actor: &str,
    ) -> Result<(), IncidentRefusal> {
        let pb = self
            .playbook_row(playbook)
            .await?
            .ok_or(IncidentRefusal::UnknownPlaybook)?;
        let now = now_ms();
        for (i, item) in pb.items.iter().enumerate() {
            self.execute(
                &format!("INSERT INTO incident_checklist ({CHECKLIST_COLUMNS}, incident_id) VALUES ($1, $2, $3, $4, NULL, NULL, NULL, $5, $6, $7)"),
                args![
                    Id::new(Kind::ChecklistItem).to_string(),
                    i as i64,
                    &item.title,
                    item.seat.map(|s| s.as_str()),
                    actor,
                    now,
                    incident
                ],
            )
            .await?;
        }
        self.execute(
            "UPDATE incidents SET playbook_id = $1 WHERE id = $2",
            args![&pb.id, incident],
        )
        .await?;
        self.timeline(
            incident,
            "checklist",
            &format!(
                "Checklist from the playbook \"{}\": {} steps",
                pb.name,
                pb.items.len()
            ),
            actor,
        )
        .await?;
        Ok(())
    }

    /// Writes a link and its timeline entry; a link made twice is kept once.
    pub(crate) async fn link_in(
        &mut self,
        incident: &str,
        link: &NewLink,
        actor: &str,
    ) -> Result<bool> {
        let n = self
            .execute(
                "INSERT INTO incident_links (incident_id, kind, ref_id, title, began_at, linked_by, linked_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                args![incident, link.kind, &link.ref_id, &link.title, link.began_at, actor, now_ms()],
            )
            .await?;
        if n == 1 {
            self.timeline(
                incident,
                "linked",
                &format!("Linked {} {}: {}", link.kind, link.ref_id, link.title),
                actor,
            )
            .await?;
        }
        Ok(n == 1)
    }

    /// Marks an open or acknowledged signal promoted to `incident`, and
    /// links it, with the audit entry.
    pub(super) async fn promote_signal(
        &mut self,
        incident: &str,
        signal: &str,
        by: &AuditRecord,
    ) -> Result<(), IncidentRefusal> {
        let row = self
            .fetch_optional(
                "SELECT title, status, started_at FROM signals WHERE id = $1",
                args![signal],
            )
            .await?
            .ok_or(IncidentRefusal::UnknownSignal)?;
        let n = self
            .execute(
                "UPDATE signals SET status = 'promoted', incident_id = $1, updated_at = $2
                 WHERE id = $3 AND status IN ('open', 'acknowledged')",
                args![incident, now_ms(), signal],
            )
            .await?;
        if n == 0 {
            return Err(IncidentRefusal::SignalClosed);
        }
        self.route_follow_up(
            signal,
            "signal.promoted",
            crate::notify::routes::PageAction::Resolve,
        )
        .await?;
        let link = NewLink {
            kind: "signal",
            ref_id: signal.to_owned(),
            title: row.get("title")?,
            began_at: Some(row.get("started_at")?),
        };
        self.link_in(incident, &link, &by.actor).await?;
        self.audit(AuditRecord {
            action: "signal.promoted".into(),
            class: DataClass::Feedback,
            record: Some(signal.to_owned()),
            detail: serde_json::json!({ "incident": incident }),
            ..by.clone()
        })
        .await?;
        Ok(())
    }

    /// Opens the next deadline. Two updates published at the same moment
    /// (on PostgreSQL) both try; the first one's deadline stands.
    pub(super) async fn open_deadline(
        &mut self,
        incident: &str,
        now: i64,
        minutes: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO incident_deadlines (id, incident_id, opened_at, due_at, overdue_at, closed_at, kept)
             VALUES ($1, $2, $3, $4, NULL, NULL, NULL) ON CONFLICT DO NOTHING",
            args![Id::new(Kind::Deadline).to_string(), incident, now, now + minutes * 60_000],
        )
        .await?;
        Ok(())
    }

    /// Closes the open deadline: by a published update (kept when in
    /// time), or by resolving (missed only if it was already overdue).
    pub(super) async fn close_deadline(
        &mut self,
        incident: &str,
        now: i64,
        published: bool,
    ) -> Result<()> {
        // An overdue page is resolved by the update (or the end).
        self.route_deadline_closed(incident, published).await?;
        let sql = if published {
            "UPDATE incident_deadlines SET closed_at = $1, kept = (due_at >= $1)
             WHERE incident_id = $2 AND closed_at IS NULL"
        } else {
            "UPDATE incident_deadlines SET closed_at = $1,
                 kept = CASE WHEN overdue_at IS NULL THEN NULL ELSE FALSE END
             WHERE incident_id = $2 AND closed_at IS NULL"
        };
        self.execute(sql, args![now, incident]).await?;
        Ok(())
    }

    /// Moves the open deadline to `minutes` after it opened; an incident no
    /// longer late stops being overdue. Returns the new due time.
    pub(super) async fn reschedule_deadline(
        &mut self,
        incident: &str,
        now: i64,
        minutes: i64,
    ) -> Result<Option<i64>> {
        let Some(row) = self
            .fetch_optional(
                "SELECT id, opened_at FROM incident_deadlines WHERE incident_id = $1 AND closed_at IS NULL",
                args![incident],
            )
            .await?
        else {
            return Ok(None);
        };
        let id: String = row.get("id")?;
        let due = row.get::<i64>("opened_at")? + minutes * 60_000;
        self.execute(
            "UPDATE incident_deadlines SET due_at = $1,
                 overdue_at = CASE WHEN $1 > $2 THEN NULL ELSE overdue_at END
             WHERE id = $3",
            args![due, now, &id],
        )
        .await?;
        Ok(Some(due))
    }
}

impl Store {
    /// Adds the built-in playbooks and notice templates that are missing;
    /// ones an admin edited are kept as they are.
    pub(super) async fn seed_response_builtins(&self) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        for p in crate::response::builtin::playbooks() {
            tx.execute(
                &format!("INSERT INTO playbooks ({PLAYBOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) ON CONFLICT (slug) DO NOTHING"),
                args![Id::new(Kind::Playbook).to_string(), &p.slug, &p.name, &p.description, to_json(&p.items)?, now],
            )
            .await?;
        }
        for t in crate::response::builtin::templates() {
            tx.execute(
                &format!("INSERT INTO notice_templates ({TEMPLATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) ON CONFLICT (slug) DO NOTHING"),
                args![Id::new(Kind::NoticeTemplate).to_string(), &t.slug, &t.name, t.status.as_str(), to_json(&t.texts)?, now],
            )
            .await?;
        }
        tx.commit().await
    }

    // ---- playbooks

    pub async fn list_playbooks(&self) -> Result<Vec<Playbook>> {
        self.fetch_all(
            &format!("SELECT {PLAYBOOK_COLUMNS} FROM playbooks ORDER BY builtin DESC, name"),
            vec![],
        )
        .await?
        .iter()
        .map(Playbook::from_row)
        .collect()
    }

    pub async fn playbook(&self, slug_or_id: &str) -> Result<Option<Playbook>> {
        self.fetch_optional(
            &format!("SELECT {PLAYBOOK_COLUMNS} FROM playbooks WHERE slug = $1 OR id = $1"),
            args![slug_or_id],
        )
        .await?
        .as_ref()
        .map(Playbook::from_row)
        .transpose()
    }

    pub async fn create_playbook(&self, spec: &PlaybookSpec, by: AuditRecord) -> Result<Playbook> {
        let id = Id::new(Kind::Playbook).to_string();
        let now = now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            &format!("INSERT INTO playbooks ({PLAYBOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6)"),
            args![&id, &spec.slug, &spec.name, &spec.description, to_json(&spec.items)?, now],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("a playbook with this slug"),
            e => e,
        })?;
        tx.audit(AuditRecord {
            action: "playbook.create".into(),
            class: DataClass::Settings,
            record: Some(id.clone()),
            detail: serde_json::json!({ "slug": spec.slug }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.playbook(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Replaces a playbook's name, description and steps (its slug stays).
    pub async fn update_playbook(
        &self,
        slug: &str,
        spec: &PlaybookSpec,
        by: AuditRecord,
    ) -> Result<Playbook> {
        let mut tx = self.begin().await?;
        let current = tx.playbook_row(slug).await?.ok_or(StoreError::NotFound)?;
        tx.execute(
            "UPDATE playbooks SET name = $1, description = $2, items = $3, updated_at = $4 WHERE id = $5",
            args![&spec.name, &spec.description, to_json(&spec.items)?, now_ms(), &current.id],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "playbook.update".into(),
            class: DataClass::Settings,
            record: Some(current.id.clone()),
            detail: serde_json::json!({ "slug": current.slug, "items": spec.items.len() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.playbook(&current.id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Deletes a playbook of one's own; incidents keep their checklists.
    pub async fn delete_playbook(&self, slug: &str, by: AuditRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        let current = tx.playbook_row(slug).await?.ok_or(StoreError::NotFound)?;
        if current.builtin {
            return Err(StoreError::InUse("a built-in playbook"));
        }
        tx.execute("DELETE FROM playbooks WHERE id = $1", args![&current.id])
            .await?;
        tx.audit(AuditRecord {
            action: "playbook.delete".into(),
            class: DataClass::Settings,
            record: Some(current.id.clone()),
            detail: serde_json::json!({ "slug": current.slug }),
            ..by
        })
        .await?;
        tx.commit().await
    }

    // ---- checklists

    pub async fn incident_checklist(&self, incident: &str) -> Result<Vec<ChecklistItem>> {
        self.fetch_all(
            &format!("SELECT {CHECKLIST_COLUMNS} FROM incident_checklist WHERE incident_id = $1 ORDER BY position, id"),
            args![incident],
        )
        .await?
        .iter()
        .map(ChecklistItem::from_row)
        .collect()
    }

    /// Adds a step to an incident's checklist, at the end.
    pub async fn add_checklist_item(
        &self,
        incident: &str,
        title: &str,
        seat: Option<TeamRole>,
        by: AuditRecord,
    ) -> Result<ChecklistItem> {
        let id = Id::new(Kind::ChecklistItem).to_string();
        let now = now_ms();
        let mut tx = self.begin().await?;
        let exists = tx
            .execute(
                "UPDATE incidents SET updated_at = $1 WHERE id = $2",
                args![now, incident],
            )
            .await?;
        if exists == 0 {
            return Err(StoreError::NotFound);
        }
        let next: i64 = tx
            .fetch_optional(
                "SELECT COALESCE(MAX(position), -1) + 1 AS next FROM incident_checklist WHERE incident_id = $1",
                args![incident],
            )
            .await?
            .map(|r| r.get("next"))
            .transpose()?
            .unwrap_or(0);
        tx.execute(
            &format!("INSERT INTO incident_checklist ({CHECKLIST_COLUMNS}, incident_id) VALUES ($1, $2, $3, $4, NULL, NULL, NULL, $5, $6, $7)"),
            args![&id, next, title, seat.map(|s| s.as_str()), &by.actor, now, incident],
        )
        .await?;
        tx.timeline(
            incident,
            "checklist",
            &format!("Step added: {title}"),
            &by.actor,
        )
        .await?;
        tx.audit(AuditRecord {
            action: "incident.checklist.add".into(),
            class: DataClass::Incidents,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({ "item": id }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.checklist_item(incident, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn checklist_item(
        &self,
        incident: &str,
        item: &str,
    ) -> Result<Option<ChecklistItem>> {
        self.fetch_optional(
            &format!("SELECT {CHECKLIST_COLUMNS} FROM incident_checklist WHERE incident_id = $1 AND id = $2"),
            args![incident, item],
        )
        .await?
        .as_ref()
        .map(ChecklistItem::from_row)
        .transpose()
    }

    /// Checks, unchecks or assigns a step; each change is on the timeline
    /// with who made it.
    pub async fn change_checklist_item(
        &self,
        incident: &str,
        item: &str,
        change: &ChecklistChange,
        by: AuditRecord,
    ) -> Result<ChecklistItem, IncidentRefusal> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = tx
            .fetch_optional(
                &format!("SELECT {CHECKLIST_COLUMNS} FROM incident_checklist WHERE incident_id = $1 AND id = $2"),
                args![incident, item],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let old = ChecklistItem::from_row(&row)?;
        let mut said = Vec::new();
        let (done_at, done_by) = match change.done {
            Some(true) if !old.done => {
                said.push(format!("Checked: {}", old.title));
                (Some(now), Some(by.actor.clone()))
            }
            Some(false) if old.done => {
                said.push(format!("Unchecked: {}", old.title));
                (None, None)
            }
            _ => (old.done_at.map(|t| t.0), old.done_by.clone()),
        };
        let seat = change.seat.unwrap_or(old.seat);
        if seat != old.seat {
            said.push(match seat {
                Some(s) => format!(
                    "Assigned to the {} seat: {}",
                    s.as_str().replace('_', " "),
                    old.title
                ),
                None => format!("Seat cleared: {}", old.title),
            });
        }
        let assignee = change.assignee.clone().unwrap_or(old.assignee.clone());
        if assignee != old.assignee {
            if let Some(user) = &assignee {
                let found = tx
                    .fetch_optional(
                        "SELECT name FROM users WHERE id = $1 AND disabled = FALSE",
                        args![user],
                    )
                    .await?
                    .ok_or(IncidentRefusal::UnknownUser)?;
                said.push(format!(
                    "Assigned to {}: {}",
                    found.get::<String>("name")?,
                    old.title
                ));
            } else {
                said.push(format!("Assignee cleared: {}", old.title));
            }
        }
        if said.is_empty() {
            return Ok(old);
        }
        tx.execute(
            "UPDATE incident_checklist SET done_at = $1, done_by = $2, seat = $3, assignee = $4, updated_by = $5, updated_at = $6
             WHERE id = $7",
            args![done_at, done_by, seat.map(|s| s.as_str()), assignee.clone(), &by.actor, now, item],
        )
        .await?;
        tx.execute(
            "UPDATE incidents SET updated_at = $1 WHERE id = $2",
            args![now, incident],
        )
        .await?;
        for line in &said {
            tx.timeline(incident, "checklist", line, &by.actor).await?;
        }
        tx.audit(AuditRecord {
            action: "incident.checklist.change".into(),
            class: DataClass::Incidents,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({ "item": item, "done": done_at.is_some() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(self
            .checklist_item(incident, item)
            .await?
            .ok_or(StoreError::NotFound)?)
    }

    // ---- links

    pub async fn incident_links(&self, incident: &str) -> Result<Vec<IncidentLink>> {
        self.fetch_all(
            "SELECT kind, ref_id, title, began_at, linked_by, linked_at FROM incident_links
             WHERE incident_id = $1 ORDER BY linked_at, kind, ref_id",
            args![incident],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(IncidentLink {
                kind: r.get("kind")?,
                ref_id: r.get("ref_id")?,
                title: r.get("title")?,
                began_at: r.get::<Option<i64>>("began_at")?.map(Time),
                linked_by: r.get("linked_by")?,
                linked_at: Time(r.get("linked_at")?),
            })
        })
        .collect()
    }

    /// Links a record (an alert, a ticket...) to an incident, on its
    /// timeline, audited. Returns false when it was linked already.
    pub async fn link_incident(
        &self,
        incident: &str,
        link: &NewLink,
        by: AuditRecord,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE incidents SET updated_at = $1 WHERE id = $2",
                args![now_ms(), incident],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let new = tx.link_in(incident, link, &by.actor).await?;
        if new {
            tx.audit(AuditRecord {
                action: "incident.link".into(),
                class: DataClass::Incidents,
                record: Some(incident.to_owned()),
                detail: serde_json::json!({ "kind": link.kind, "ref": link.ref_id }),
                ..by
            })
            .await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Promotes a signal into an incident that already exists.
    pub async fn promote_signal_into(
        &self,
        incident: &str,
        signal: &str,
        by: AuditRecord,
    ) -> Result<(), IncidentRefusal> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE incidents SET updated_at = $1 WHERE id = $2",
                args![now_ms(), incident],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound.into());
        }
        tx.promote_signal(incident, signal, &by).await?;
        tx.audit(AuditRecord {
            action: "incident.link".into(),
            class: DataClass::Incidents,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({ "kind": "signal", "ref": signal }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- notice templates and variants

    pub async fn list_templates(&self) -> Result<Vec<NoticeTemplate>> {
        self.fetch_all(
            &format!("SELECT {TEMPLATE_COLUMNS} FROM notice_templates ORDER BY builtin DESC, slug"),
            vec![],
        )
        .await?
        .iter()
        .map(NoticeTemplate::from_row)
        .collect()
    }

    pub async fn template(&self, slug_or_id: &str) -> Result<Option<NoticeTemplate>> {
        self.fetch_optional(
            &format!("SELECT {TEMPLATE_COLUMNS} FROM notice_templates WHERE slug = $1 OR id = $1"),
            args![slug_or_id],
        )
        .await?
        .as_ref()
        .map(NoticeTemplate::from_row)
        .transpose()
    }

    /// Creates a template, or replaces the one with this slug.
    pub async fn save_template(
        &self,
        spec: &TemplateSpec,
        by: AuditRecord,
    ) -> Result<NoticeTemplate> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let existing = tx
            .fetch_optional(
                "SELECT id FROM notice_templates WHERE slug = $1",
                args![&spec.slug],
            )
            .await?;
        let (id, action) = match existing {
            Some(r) => {
                let id: String = r.get("id")?;
                tx.execute(
                    "UPDATE notice_templates SET name = $1, status = $2, bodies = $3, updated_at = $4 WHERE id = $5",
                    args![&spec.name, spec.status.as_str(), to_json(&spec.texts)?, now, &id],
                )
                .await?;
                (id, "notice_template.update")
            }
            None => {
                let id = Id::new(Kind::NoticeTemplate).to_string();
                tx.execute(
                    &format!("INSERT INTO notice_templates ({TEMPLATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6)"),
                    args![&id, &spec.slug, &spec.name, spec.status.as_str(), to_json(&spec.texts)?, now],
                )
                .await?;
                (id, "notice_template.create")
            }
        };
        tx.audit(AuditRecord {
            action: action.into(),
            class: DataClass::Notices,
            record: Some(id.clone()),
            detail: serde_json::json!({ "slug": spec.slug }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.template(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn delete_template(&self, slug: &str, by: AuditRecord) -> Result<()> {
        let mut tx = self.begin().await?;
        let row = tx
            .fetch_optional(
                "SELECT id, builtin FROM notice_templates WHERE slug = $1",
                args![slug],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        if row.get::<bool>("builtin")? {
            return Err(StoreError::InUse("a built-in template"));
        }
        let id: String = row.get("id")?;
        tx.execute("DELETE FROM notice_templates WHERE id = $1", args![&id])
            .await?;
        tx.audit(AuditRecord {
            action: "notice_template.delete".into(),
            class: DataClass::Notices,
            record: Some(id),
            detail: serde_json::json!({ "slug": slug }),
            ..by
        })
        .await?;
        tx.commit().await
    }

    /// An update's language variants, in the order of `NOTICE_LANGUAGES`.
    /// This is what delivery renders a message from, per recipient language.
    pub async fn update_variants(&self, update: &str) -> Result<Vec<UpdateVariant>> {
        let mut out: Vec<UpdateVariant> = self
            .fetch_all(
                "SELECT language, subject, body, sms FROM incident_update_variants WHERE update_id = $1",
                args![update],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(UpdateVariant {
                    language: r.get("language")?,
                    subject: r.get("subject")?,
                    body: r.get("body")?,
                    sms: r.get("sms")?,
                })
            })
            .collect::<Result<_>>()?;
        let rank = |l: &str| {
            crate::domain::response::NOTICE_LANGUAGES
                .iter()
                .position(|(x, _)| *x == l)
                .unwrap_or(usize::MAX)
        };
        out.sort_by_key(|v| rank(&v.language));
        Ok(out)
    }

    /// Bodies in one language of the given published updates: update id ->
    /// body. One query, bounded by the updates a page shows.
    pub async fn published_variant_bodies(
        &self,
        language: &str,
        updates: &[String],
    ) -> Result<HashMap<String, String>> {
        if updates.is_empty() {
            return Ok(HashMap::new());
        }
        let marks: Vec<String> = (0..updates.len()).map(|i| format!("${}", i + 2)).collect();
        let mut args = args![language];
        args.extend(updates.iter().map(super::Value::from));
        self.fetch_all(
            &format!(
                "SELECT v.update_id, v.body FROM incident_update_variants v
                 JOIN incident_updates u ON u.id = v.update_id
                 WHERE v.language = $1 AND u.published_at IS NOT NULL AND v.update_id IN ({})",
                marks.join(", ")
            ),
            args,
        )
        .await?
        .iter()
        .map(|r| Ok((r.get("update_id")?, r.get("body")?)))
        .collect()
    }

    // ---- cadence

    /// Open deadlines: incident id -> (due at, overdue).
    pub async fn open_deadlines(
        &self,
        incident: Option<&str>,
    ) -> Result<HashMap<String, (i64, bool)>> {
        let rows = match incident {
            Some(id) => {
                self.fetch_all(
                    "SELECT incident_id, due_at, overdue_at FROM incident_deadlines WHERE closed_at IS NULL AND incident_id = $1",
                    args![id],
                )
                .await?
            }
            None => {
                self.fetch_all(
                    "SELECT incident_id, due_at, overdue_at FROM incident_deadlines WHERE closed_at IS NULL",
                    vec![],
                )
                .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok((
                    r.get("incident_id")?,
                    (
                        r.get("due_at")?,
                        r.get::<Option<i64>>("overdue_at")?.is_some(),
                    ),
                ))
            })
            .collect()
    }

    /// Deadlines past due and not yet marked: (deadline id, incident id).
    pub async fn deadlines_past_due(&self, now: i64) -> Result<Vec<String>> {
        self.fetch_all(
            "SELECT id FROM incident_deadlines WHERE closed_at IS NULL AND overdue_at IS NULL AND due_at < $1
             ORDER BY due_at LIMIT 100",
            args![now],
        )
        .await?
        .iter()
        .map(|r| r.get("id"))
        .collect()
    }

    /// Marks one deadline overdue, once: on the timeline, an alert for each
    /// incident lead (or one for nobody yet), audited. None if someone else
    /// marked it or an update came first.
    pub async fn mark_overdue(&self, deadline: &str, now: i64) -> Result<Option<Overdue>> {
        let mut tx = self.begin().await?;
        let claimed = tx
            .execute(
                "UPDATE incident_deadlines SET overdue_at = $1
                 WHERE id = $2 AND closed_at IS NULL AND overdue_at IS NULL AND due_at < $1",
                args![now, deadline],
            )
            .await?;
        if claimed == 0 {
            return Ok(None);
        }
        let row = tx
            .fetch_optional(
                "SELECT d.incident_id, d.due_at, i.title, i.severity FROM incident_deadlines d
                 JOIN incidents i ON i.id = d.incident_id WHERE d.id = $1",
                args![deadline],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let incident: String = row.get("incident_id")?;
        let due_at: i64 = row.get("due_at")?;
        let title: String = row.get("title")?;
        let severity: String = row.get("severity")?;
        let leads: Vec<Option<String>> = tx
            .fetch_all(
                "SELECT user_id FROM incident_team WHERE incident_id = $1 AND role = 'incident_lead' ORDER BY user_id",
                args![&incident],
            )
            .await?
            .iter()
            .map(|r| r.get::<String>("user_id").map(Some))
            .collect::<Result<_>>()?;
        let leads = if leads.is_empty() { vec![None] } else { leads };
        let body = format!(
            "{severity} \"{title}\": a public update was due at {} and none has been published.",
            rfc3339(due_at)
        );
        let mut alerts = Vec::new();
        for user in leads {
            let alert = LeadAlert {
                id: Id::new(Kind::LeadAlert).to_string(),
                incident_id: incident.clone(),
                user_id: user,
                kind: "update_overdue".into(),
                body: body.clone(),
                created_at: Time(now),
            };
            enqueue_lead_alert(&mut tx, &alert).await?;
            alerts.push(alert);
        }
        tx.route_incident_overdue(deadline, &incident, due_at)
            .await?;
        tx.timeline(
            &incident,
            "overdue",
            &format!("Public update overdue (was due {})", rfc3339(due_at)),
            "cadence",
        )
        .await?;
        tx.audit(AuditRecord {
            actor: "cadence".into(),
            address: None,
            action: "incident.overdue".into(),
            class: DataClass::Incidents,
            record: Some(incident.clone()),
            detail: serde_json::json!({ "due_at": due_at, "alerts": alerts.len() }),
        })
        .await?;
        tx.commit().await?;
        Ok(Some(Overdue {
            incident_id: incident,
            due_at,
            alerts,
        }))
    }

    pub async fn lead_alerts(&self, incident: &str) -> Result<Vec<LeadAlert>> {
        self.fetch_all(
            "SELECT id, incident_id, user_id, kind, body, created_at FROM lead_alerts WHERE incident_id = $1 ORDER BY created_at, id",
            args![incident],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(LeadAlert {
                id: r.get("id")?,
                incident_id: r.get("incident_id")?,
                user_id: r.get("user_id")?,
                kind: r.get("kind")?,
                body: r.get("body")?,
                created_at: Time(r.get("created_at")?),
            })
        })
        .collect()
    }

    // ---- postmortems

    pub async fn postmortem(&self, incident: &str) -> Result<Option<Postmortem>> {
        self.fetch_optional(
            &format!("SELECT {POSTMORTEM_COLUMNS} FROM postmortems WHERE incident_id = $1"),
            args![incident],
        )
        .await?
        .as_ref()
        .map(Postmortem::from_row)
        .transpose()
    }

    /// Starts a postmortem as a draft with the text given (pre-filled by
    /// the caller); one per incident.
    pub async fn create_postmortem(
        &self,
        incident: &str,
        text: &PostmortemText,
        by: AuditRecord,
    ) -> Result<Postmortem> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            &format!("INSERT INTO postmortems ({POSTMORTEM_COLUMNS}) VALUES ($1, 'draft', $2, $3, $4, $5, $6, $7, $8, $9, $8, $9, NULL)"),
            args![
                incident,
                text.summary.clone().unwrap_or_default(),
                text.root_cause.clone().unwrap_or_default(),
                text.impact.clone().unwrap_or_default(),
                text.went_well.clone().unwrap_or_default(),
                text.to_improve.clone().unwrap_or_default(),
                to_json(&text.action_items.clone().unwrap_or_default())?,
                &by.actor,
                now
            ],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("a postmortem for this incident"),
            StoreError::InUse(_) => StoreError::NotFound,
            e => e,
        })?;
        tx.timeline(incident, "postmortem", "Postmortem started", &by.actor)
            .await?;
        tx.audit(AuditRecord {
            action: "incident.postmortem.create".into(),
            class: DataClass::Incidents,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.postmortem(incident).await?.ok_or(StoreError::NotFound)
    }

    /// Edits a draft postmortem, and publishes it when `publish`. A
    /// published postmortem is never edited (the database refuses it too).
    pub async fn update_postmortem(
        &self,
        incident: &str,
        text: &PostmortemText,
        publish: bool,
        by: AuditRecord,
    ) -> Result<Postmortem> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let row = tx
            .fetch_optional(
                &format!("SELECT {POSTMORTEM_COLUMNS} FROM postmortems WHERE incident_id = $1"),
                args![incident],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let old = Postmortem::from_row(&row)?;
        if old.published_at.is_some() {
            return Err(StoreError::InUse("a published postmortem"));
        }
        let pick = |new: &Option<String>, old: &str| new.clone().unwrap_or_else(|| old.to_owned());
        tx.execute(
            "UPDATE postmortems SET summary = $1, root_cause = $2, impact = $3, went_well = $4, to_improve = $5,
                 action_items = $6, updated_by = $7, updated_at = $8, status = $9, published_at = $10
             WHERE incident_id = $11",
            args![
                pick(&text.summary, &old.summary),
                pick(&text.root_cause, &old.root_cause),
                pick(&text.impact, &old.impact),
                pick(&text.went_well, &old.went_well),
                pick(&text.to_improve, &old.to_improve),
                to_json(text.action_items.as_ref().unwrap_or(&old.action_items))?,
                &by.actor,
                now,
                if publish { "published" } else { "draft" },
                publish.then_some(now),
                incident
            ],
        )
        .await?;
        if publish {
            tx.timeline(incident, "postmortem", "Postmortem published", &by.actor)
                .await?;
        }
        tx.audit(AuditRecord {
            action: if publish {
                "incident.postmortem.publish".into()
            } else {
                "incident.postmortem.update".into()
            },
            class: DataClass::Incidents,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({}),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.postmortem(incident).await?.ok_or(StoreError::NotFound)
    }

    /// Published postmortems and drafts, newest first, with their titles.
    pub async fn list_postmortems(&self) -> Result<Vec<(Postmortem, String)>> {
        self.fetch_all(
            &format!(
                "SELECT {}, i.title FROM postmortems p JOIN incidents i ON i.id = p.incident_id ORDER BY p.updated_at DESC LIMIT 200",
                POSTMORTEM_COLUMNS
                    .split(", ")
                    .map(|c| format!("p.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            vec![],
        )
        .await?
        .iter()
        .map(|r| Ok((Postmortem::from_row(r)?, r.get("title")?)))
        .collect()
    }

    // ---- remedies

    pub async fn remedies(&self, incident: &str) -> Result<Vec<Remedy>> {
        self.fetch_all(
            "SELECT id, incident_id, kind, description, offered, taken, created_by, created_at, updated_at
             FROM incident_remedies WHERE incident_id = $1 ORDER BY created_at, id",
            args![incident],
        )
        .await?
        .iter()
        .map(Remedy::from_row)
        .collect()
    }

    pub async fn add_remedy(
        &self,
        incident: &str,
        kind: &str,
        description: &str,
        counts: (i64, i64),
        by: AuditRecord,
    ) -> Result<Remedy> {
        let id = Id::new(Kind::Remedy).to_string();
        let now = now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO incident_remedies (id, incident_id, kind, description, offered, taken, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            args![&id, incident, kind, description, counts.0, counts.1, &by.actor, now],
        )
        .await
        .map_err(|e| match e {
            StoreError::InUse(_) => StoreError::NotFound,
            e => e,
        })?;
        tx.timeline(
            incident,
            "remedy",
            &format!("Remedy offered ({kind}) to {} customers", counts.0),
            &by.actor,
        )
        .await?;
        tx.audit(AuditRecord {
            action: "incident.remedy.add".into(),
            class: DataClass::Incidents,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({ "remedy": id, "offered": counts.0, "taken": counts.1 }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.remedies(incident)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(StoreError::NotFound)
    }

    pub async fn update_remedy(
        &self,
        incident: &str,
        remedy: &str,
        counts: (i64, i64),
        by: AuditRecord,
    ) -> Result<Remedy> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE incident_remedies SET offered = $1, taken = $2, updated_at = $3 WHERE id = $4 AND incident_id = $5",
                args![counts.0, counts.1, now_ms(), remedy, incident],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.timeline(
            incident,
            "remedy",
            &format!(
                "Remedy {remedy}: offered to {}, taken up by {}",
                counts.0, counts.1
            ),
            &by.actor,
        )
        .await?;
        tx.audit(AuditRecord {
            action: "incident.remedy.update".into(),
            class: DataClass::Incidents,
            record: Some(incident.to_owned()),
            detail: serde_json::json!({ "remedy": remedy, "offered": counts.0, "taken": counts.1 }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.remedies(incident)
            .await?
            .into_iter()
            .find(|r| r.id == remedy)
            .ok_or(StoreError::NotFound)
    }

    // ---- the post-incident survey

    /// Creates the incident's survey and links it, in one transaction.
    /// Returns the survey id; a second survey for one incident is refused.
    pub async fn create_incident_survey(
        &self,
        incident: &str,
        slug: &str,
        definition: &crate::domain::survey::SurveyDefinition,
        by: AuditRecord,
    ) -> Result<String> {
        let id = Id::new(Kind::Survey).to_string();
        let now = now_ms();
        let lang = definition.languages.first().cloned().unwrap_or_default();
        let title = definition.title.get(&lang).cloned().unwrap_or_default();
        let mut tx = self.begin().await?;
        let existing = tx
            .fetch_optional(
                "SELECT ref_id FROM incident_links WHERE incident_id = $1 AND kind = 'survey'",
                args![incident],
            )
            .await?;
        if existing.is_some() {
            return Err(StoreError::Conflict("a survey for this incident"));
        }
        tx.execute(
            "INSERT INTO surveys (id, slug, title, definition, active, created_at, updated_at) VALUES ($1, $2, $3, $4, TRUE, $5, $5)",
            args![&id, slug, title, to_json(definition)?, now],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("a survey with this slug"),
            e => e,
        })?;
        let link = NewLink {
            kind: "survey",
            ref_id: id.clone(),
            title: format!("Post-incident survey /f/{slug}"),
            began_at: None,
        };
        tx.link_in(incident, &link, &by.actor).await?;
        tx.audit(AuditRecord {
            action: "survey.create".into(),
            class: DataClass::Feedback,
            record: Some(id.clone()),
            detail: serde_json::json!({ "slug": slug, "incident": incident }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    // ---- metrics

    pub async fn incident_metrics(&self, incident: &Incident) -> Result<IncidentMetrics> {
        let mut all = self.metrics_for(Some(&incident.id), 0).await?;
        all.pop().ok_or(StoreError::NotFound)
    }

    /// Metrics of the incidents declared since `since` (ms), newest first.
    pub async fn metrics_summary(&self, since: i64) -> Result<MetricsSummary> {
        let per = self.metrics_for(None, since).await?;
        let due: i64 = per.iter().map(|m| m.updates_due).sum();
        let kept: i64 = per.iter().map(|m| m.updates_kept).sum();
        Ok(MetricsSummary {
            incidents: per.len() as i64,
            median_signal_to_declared_secs: median(
                per.iter()
                    .filter_map(|m| m.signal_to_declared_secs)
                    .collect(),
            ),
            median_declared_to_first_notice_secs: median(
                per.iter()
                    .filter_map(|m| m.declared_to_first_notice_secs)
                    .collect(),
            ),
            updates_due: due,
            updates_kept: kept,
            updates_missed: per.iter().map(|m| m.updates_missed).sum(),
            cadence_kept: (due > 0).then(|| kept as f64 / due as f64),
            per_incident: per,
        })
    }

    async fn metrics_for(
        &self,
        incident: Option<&str>,
        since: i64,
    ) -> Result<Vec<IncidentMetrics>> {
        // One query: each incident with its first signal, first public
        // update and its deadlines counted.
        let filter = if incident.is_some() {
            "i.id = $1"
        } else {
            "i.created_at >= $1"
        };
        let arg: super::Value = match incident {
            Some(id) => id.into(),
            None => since.into(),
        };
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT i.id, i.created_at,
                       (SELECT MIN(l.began_at) FROM incident_links l WHERE l.incident_id = i.id AND l.kind = 'signal') AS first_signal,
                       (SELECT MIN(u.published_at) FROM incident_updates u WHERE u.incident_id = i.id) AS first_notice,
                       (SELECT COUNT(*) FROM incident_deadlines d WHERE d.incident_id = i.id
                          AND (d.kept IS NOT NULL OR (d.closed_at IS NULL AND d.overdue_at IS NOT NULL))) AS due,
                       (SELECT COUNT(*) FROM incident_deadlines d WHERE d.incident_id = i.id AND d.kept = TRUE) AS kept
                     FROM incidents i WHERE {filter} ORDER BY i.created_at DESC, i.id DESC LIMIT 1000"
                ),
                vec![arg],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let declared: i64 = r.get("created_at")?;
                let first_signal: Option<i64> = r.get("first_signal")?;
                let first_notice: Option<i64> = r.get("first_notice")?;
                let due: i64 = r.get("due")?;
                let kept: i64 = r.get("kept")?;
                Ok(IncidentMetrics {
                    incident_id: r.get("id")?,
                    declared_at: Time(declared),
                    first_signal_at: first_signal.map(Time),
                    first_notice_at: first_notice.map(Time),
                    signal_to_declared_secs: first_signal.map(|s| (declared - s).max(0) / 1000),
                    declared_to_first_notice_secs: first_notice
                        .map(|n| (n - declared).max(0) / 1000),
                    updates_due: due,
                    updates_kept: kept,
                    updates_missed: due - kept,
                })
            })
            .collect()
    }
}
