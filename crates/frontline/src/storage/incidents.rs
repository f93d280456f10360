//! Incidents: the record, its response team, its internal timeline, and the
//! public updates with their approvals. Every change is one transaction with
//! its audit entry.

use std::collections::BTreeMap;

use serde::Serialize;

use super::response::describe_minutes;
pub use super::response::UpdateVariant;
use super::users::rfc3339;
use super::{now_ms, AuditRecord, Result, Row, Store, StoreError, Tx};
use crate::args;
use crate::domain::incident::{
    ComponentStatus, Impact, IncidentChange, IncidentStatus, NewIncident, Severity, TeamRole,
    APPROVING_ROLES,
};
use crate::domain::response::Cadence;
use crate::domain::{id::Kind, DataClass, Id};

/// A moment, stored as milliseconds since the epoch, shown as RFC 3339 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub i64);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(self.0))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeamMember {
    pub role: TeamRole,
    pub user_id: String,
    /// The staff member's display name.
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub impact: Impact,
    pub status: IncidentStatus,
    /// Status page component ids.
    pub components: Vec<String>,
    pub segments: Vec<String>,
    pub team: Vec<TeamMember>,
    pub created_by: String,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = String)]
    pub updated_at: Time,
    #[schema(value_type = Option<String>)]
    pub monitoring_at: Option<Time>,
    #[schema(value_type = Option<String>)]
    pub resolved_at: Option<Time>,
    /// The playbook it was declared with (`pbk_...`).
    pub playbook_id: Option<String>,
    /// Its own minutes between public updates; null: its severity's default.
    pub update_every_minutes: Option<i64>,
    /// When the next public update is due (open incidents).
    #[schema(value_type = Option<String>)]
    pub next_update_due: Option<Time>,
    /// The next update is late.
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub id: String,
    /// declared, note, status, severity, impact, team, change, update_drafted,
    /// update_approved, update_published.
    pub kind: String,
    pub body: String,
    pub actor: String,
    #[schema(value_type = String)]
    pub at: Time,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Approval {
    /// communications or legal.
    pub role: String,
    pub approved_by: String,
    #[schema(value_type = String)]
    pub approved_at: Time,
}

/// A component's change made by a published update (Statuspage's shape).
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AffectedComponent {
    pub code: String,
    pub name: String,
    pub old_status: String,
    pub new_status: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentUpdate {
    pub id: String,
    pub incident_id: String,
    pub status: IncidentStatus,
    pub body: String,
    /// draft or published.
    pub state: &'static str,
    /// Component statuses set when the update is published.
    #[schema(value_type = BTreeMap<String, String>)]
    pub component_status: BTreeMap<String, ComponentStatus>,
    pub affected_components: Option<Vec<AffectedComponent>>,
    pub drafted_by: String,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = Option<String>)]
    pub published_at: Option<Time>,
    pub published_by: Option<String>,
    pub approvals: Vec<Approval>,
    /// Approving roles still missing before it may be published.
    pub approvals_missing: Vec<&'static str>,
}

/// A public update to write: its status and text, the component statuses
/// it sets, its language variants, and whether to publish it at once.
#[derive(Debug, Clone, Copy)]
pub struct NewUpdate<'a> {
    pub status: IncidentStatus,
    pub body: &'a str,
    pub component_status: &'a BTreeMap<String, ComponentStatus>,
    pub variants: &'a [UpdateVariant],
    pub publish: bool,
}

/// Why an update cannot be approved or published.
#[derive(Debug, thiserror::Error)]
pub enum UpdateRefusal {
    #[error("only a user with the communications or legal role can approve an update")]
    NotAnApprover,
    #[error("this update is already published; publish a new update to correct it")]
    AlreadyPublished,
    #[error("the {0} role has already approved this update")]
    RoleAlreadyApproved(String),
    #[error(
        "you have already approved this update; the other approval must come from someone else"
    )]
    SameApprover,
    #[error("a SEV1 or SEV2 update needs approval by {0} before it is published")]
    NeedsApproval(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(super) const INCIDENT_COLUMNS: &str =
    "id, title, severity, impact, status, components, segments, \
created_by, created_at, updated_at, monitoring_at, resolved_at, playbook_id, update_every_minutes";
pub(super) const UPDATE_COLUMNS: &str = "id, incident_id, status, body, component_status, \
affected_components, drafted_by, created_at, published_at, published_by";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("incident {what}"))
}

fn json_list(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("list: {e}")))
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Incident {
    pub(super) fn from_row(r: &Row, team: Vec<TeamMember>) -> Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            title: r.get("title")?,
            severity: Severity::from_db(&r.get::<String>("severity")?)
                .ok_or_else(|| corrupt("severity"))?,
            impact: Impact::from_db(&r.get::<String>("impact")?)
                .ok_or_else(|| corrupt("impact"))?,
            status: IncidentStatus::from_db(&r.get::<String>("status")?)
                .ok_or_else(|| corrupt("status"))?,
            components: json_list(&r.get::<String>("components")?)?,
            segments: json_list(&r.get::<String>("segments")?)?,
            team,
            created_by: r.get("created_by")?,
            created_at: Time(r.get("created_at")?),
            updated_at: Time(r.get("updated_at")?),
            monitoring_at: r.get::<Option<i64>>("monitoring_at")?.map(Time),
            resolved_at: r.get::<Option<i64>>("resolved_at")?.map(Time),
            playbook_id: r.get("playbook_id")?,
            update_every_minutes: r.get("update_every_minutes")?,
            next_update_due: None,
            overdue: false,
        })
    }
}

impl TimelineEntry {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            kind: r.get("kind")?,
            body: r.get("body")?,
            actor: r.get("actor")?,
            at: Time(r.get("at")?),
        })
    }
}

impl IncidentUpdate {
    pub(super) fn from_row(r: &Row, approvals: Vec<Approval>, severity: Severity) -> Result<Self> {
        let published_at = r.get::<Option<i64>>("published_at")?.map(Time);
        let component_status: BTreeMap<String, String> =
            serde_json::from_str(&r.get::<String>("component_status")?)
                .map_err(|e| StoreError::Corrupt(format!("component_status: {e}")))?;
        let affected = r
            .get::<Option<String>>("affected_components")?
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("affected_components: {e}")))?;
        let approvals_missing = if published_at.is_none() && severity.needs_approval() {
            APPROVING_ROLES
                .iter()
                .copied()
                .filter(|role| !approvals.iter().any(|a: &Approval| a.role == *role))
                .collect()
        } else {
            vec![]
        };
        Ok(Self {
            id: r.get("id")?,
            incident_id: r.get("incident_id")?,
            status: IncidentStatus::from_db(&r.get::<String>("status")?)
                .ok_or_else(|| corrupt("update status"))?,
            body: r.get("body")?,
            state: if published_at.is_some() {
                "published"
            } else {
                "draft"
            },
            component_status: component_status
                .into_iter()
                .map(|(k, v)| {
                    ComponentStatus::from_db(&v)
                        .map(|s| (k, s))
                        .ok_or_else(|| corrupt("component status"))
                })
                .collect::<Result<_>>()?,
            affected_components: affected,
            drafted_by: r.get("drafted_by")?,
            created_at: Time(r.get("created_at")?),
            published_at,
            published_by: r.get("published_by")?,
            approvals,
            approvals_missing,
        })
    }
}

impl Tx {
    pub(crate) async fn timeline(
        &mut self,
        incident: &str,
        kind: &str,
        body: &str,
        actor: &str,
    ) -> Result<TimelineEntry> {
        // Strictly increasing per incident, so the order of entries written
        // within one millisecond is kept.
        let last = self
            .fetch_optional(
                "SELECT MAX(at) AS last FROM incident_timeline WHERE incident_id = $1",
                args![incident],
            )
            .await?
            .map(|r| r.get::<Option<i64>>("last"))
            .transpose()?
            .flatten();
        let at = last.map_or(now_ms(), |l| now_ms().max(l + 1));
        let entry = TimelineEntry {
            id: Id::new(Kind::TimelineEntry).to_string(),
            kind: kind.to_owned(),
            body: body.to_owned(),
            actor: actor.to_owned(),
            at: Time(at),
        };
        self.execute(
            "INSERT INTO incident_timeline (id, incident_id, kind, body, actor, at) VALUES ($1, $2, $3, $4, $5, $6)",
            args![&entry.id, incident, kind, body, actor, entry.at.0],
        )
        .await?;
        Ok(entry)
    }

    /// Refuses component ids that are not components (groups included).
    async fn check_components(&mut self, ids: &[String]) -> Result<(), StoreError> {
        for id in ids {
            let found = self
                .fetch_optional(
                    "SELECT id FROM components WHERE id = $1 AND is_group = FALSE",
                    args![id],
                )
                .await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        Ok(())
    }

    async fn set_team(&mut self, incident: &str, team: &[(TeamRole, String)]) -> Result<()> {
        self.execute(
            "DELETE FROM incident_team WHERE incident_id = $1",
            args![incident],
        )
        .await?;
        let now = now_ms();
        for (role, user) in team {
            let exists = self
                .fetch_optional(
                    "SELECT id FROM users WHERE id = $1 AND disabled = FALSE",
                    args![user],
                )
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            self.execute(
                "INSERT INTO incident_team (incident_id, role, user_id, assigned_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                args![incident, role.as_str(), user, now],
            )
            .await?;
        }
        Ok(())
    }
}

impl Tx {
    /// Declares an incident inside a larger transaction (with its timeline,
    /// playbook, promoted signal, first deadline and audit entry); returns
    /// its id.
    pub(crate) async fn create_incident(
        &mut self,
        new: &NewIncident,
        cadence: &Cadence,
        by: AuditRecord,
    ) -> Result<String, IncidentRefusal> {
        let id = Id::new(Kind::Incident).to_string();
        let now = now_ms();
        self.check_components(&new.components)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => IncidentRefusal::UnknownComponent,
                e => e.into(),
            })?;
        self.execute(
            &format!(
                "INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, NULL, $12)"
            ),
            args![
                &id,
                &new.title,
                new.severity.as_str(),
                new.impact.as_str(),
                new.status.as_str(),
                to_json(&new.components)?,
                to_json(&new.segments)?,
                &by.actor,
                now,
                (new.status == IncidentStatus::Monitoring).then_some(now),
                new.status.is_resolved().then_some(now),
                new.update_every_minutes.filter(|m| *m > 0),
            ],
        )
        .await?;
        if !new.team.is_empty() {
            self.set_team(&id, &new.team).await.map_err(|e| match e {
                StoreError::NotFound => IncidentRefusal::UnknownUser,
                e => e.into(),
            })?;
        }
        self.timeline(
            &id,
            "declared",
            &format!(
                "Declared {} ({} impact), {}",
                new.severity, new.impact, new.status
            ),
            &by.actor,
        )
        .await?;
        if let Some(playbook) = &new.playbook {
            self.apply_playbook(&id, playbook, &by.actor).await?;
        }
        if let Some(signal) = &new.signal {
            self.promote_signal(&id, signal, &by).await?;
        }
        if !new.status.is_resolved() {
            let minutes = cadence.minutes(new.severity, new.update_every_minutes);
            self.open_deadline(&id, now, minutes).await?;
        }
        self.audit(AuditRecord {
            action: "incident.create".into(),
            class: DataClass::Incidents,
            record: Some(id.clone()),
            detail: serde_json::json!({ "severity": new.severity.as_str() }),
            ..by
        })
        .await?;
        Ok(id)
    }
}

/// What went wrong with a reference in an incident change.
#[derive(Debug, thiserror::Error)]
pub enum IncidentRefusal {
    #[error("components: no such component")]
    UnknownComponent,
    #[error("team: no such active staff user")]
    UnknownUser,
    #[error("playbook: no such playbook")]
    UnknownPlaybook,
    #[error("signal: no such signal")]
    UnknownSignal,
    #[error("this signal was already promoted or dismissed")]
    SignalClosed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    pub async fn create_incident(
        &self,
        new: &NewIncident,
        cadence: &Cadence,
        by: AuditRecord,
    ) -> Result<Incident, IncidentRefusal> {
        let mut tx = self.begin().await?;
        let id = tx.create_incident(new, cadence, by).await?;
        tx.commit().await?;
        self.incident(&id)
            .await?
            .ok_or(IncidentRefusal::Store(StoreError::NotFound))
    }

    pub async fn update_incident(
        &self,
        id: &str,
        change: &IncidentChange,
        cadence: &Cadence,
        by: AuditRecord,
    ) -> Result<Incident, IncidentRefusal> {
        let mut tx = self.begin().await?;
        let row = tx
            .fetch_optional(
                &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"),
                args![id],
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        let old = Incident::from_row(&row, vec![])?;
        let now = now_ms();
        let mut fields = Vec::new();
        if let Some(components) = &change.components {
            tx.check_components(components).await.map_err(|e| match e {
                StoreError::NotFound => IncidentRefusal::UnknownComponent,
                e => e.into(),
            })?;
            fields.push("components");
        }
        if let Some(team) = &change.team {
            tx.set_team(id, team).await.map_err(|e| match e {
                StoreError::NotFound => IncidentRefusal::UnknownUser,
                e => e.into(),
            })?;
            let seats: Vec<String> = team.iter().map(|(r, u)| format!("{r}: {u}")).collect();
            tx.timeline(
                id,
                "team",
                &format!("Team set: {}", seats.join(", ")),
                &by.actor,
            )
            .await?;
            fields.push("team");
        }
        let title = change.title.clone().unwrap_or_else(|| old.title.clone());
        let severity = change.severity.unwrap_or(old.severity);
        let impact = change.impact.unwrap_or(old.impact);
        let status = change.status.unwrap_or(old.status);
        if title != old.title {
            fields.push("title");
            tx.timeline(id, "change", &format!("Title: {title}"), &by.actor)
                .await?;
        }
        if severity != old.severity {
            fields.push("severity");
            tx.timeline(
                id,
                "severity",
                &format!("Severity {} → {}", old.severity, severity),
                &by.actor,
            )
            .await?;
        }
        if impact != old.impact {
            fields.push("impact");
            tx.timeline(
                id,
                "impact",
                &format!("Impact {} → {}", old.impact, impact),
                &by.actor,
            )
            .await?;
        }
        if status != old.status {
            fields.push("status");
            tx.timeline(
                id,
                "status",
                &format!("Status {} → {}", old.status, status),
                &by.actor,
            )
            .await?;
        }
        if change.segments.is_some() {
            fields.push("segments");
        }
        let every = match change.update_every_minutes {
            Some(0) => None,
            Some(m) => Some(m),
            None => old.update_every_minutes,
        };
        if every != old.update_every_minutes {
            fields.push("update_every_minutes");
        }
        if status.is_resolved() && !old.status.is_resolved() {
            tx.close_deadline(id, now, false).await?;
        } else if !status.is_resolved() && old.status.is_resolved() {
            tx.open_deadline(id, now, cadence.minutes(severity, every))
                .await?;
        } else if !status.is_resolved()
            && (every != old.update_every_minutes || severity != old.severity)
        {
            let minutes = cadence.minutes(severity, every);
            let due = tx.reschedule_deadline(id, now, minutes).await?;
            // A new severity is on the timeline already; a cadence of the
            // incident's own gets its entry.
            if let Some(due) = due.filter(|_| every != old.update_every_minutes) {
                tx.timeline(
                    id,
                    "cadence",
                    &format!(
                        "Updates every {}; next due {}",
                        describe_minutes(minutes),
                        rfc3339(due)
                    ),
                    &by.actor,
                )
                .await?;
            }
        }
        let (monitoring_at, resolved_at) = status_times(&old, status, now);
        tx.execute(
            "UPDATE incidents SET title = $1, severity = $2, impact = $3, status = $4,
             components = $5, segments = $6, updated_at = $7, monitoring_at = $8, resolved_at = $9,
             update_every_minutes = $11
             WHERE id = $10",
            args![
                title,
                severity.as_str(),
                impact.as_str(),
                status.as_str(),
                to_json(change.components.as_ref().unwrap_or(&old.components))?,
                to_json(change.segments.as_ref().unwrap_or(&old.segments))?,
                now,
                monitoring_at,
                resolved_at,
                id,
                every,
            ],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "incident.update".into(),
            class: DataClass::Incidents,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "fields": fields }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.incident(id)
            .await?
            .ok_or(IncidentRefusal::Store(StoreError::NotFound))
    }

    pub async fn incident(&self, id: &str) -> Result<Option<Incident>> {
        let Some(row) = self
            .fetch_optional(
                &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"),
                args![id],
            )
            .await?
        else {
            return Ok(None);
        };
        let team = self.team(id).await?;
        let mut incident = Incident::from_row(&row, team)?;
        if let Some((due, overdue)) = self.open_deadlines(Some(id)).await?.remove(id) {
            incident.next_update_due = Some(Time(due));
            incident.overdue = overdue;
        }
        Ok(Some(incident))
    }

    async fn team(&self, id: &str) -> Result<Vec<TeamMember>> {
        self.fetch_all(
            "SELECT t.role, t.user_id, u.name FROM incident_team t JOIN users u ON u.id = t.user_id
             WHERE t.incident_id = $1 ORDER BY t.role, u.name",
            args![id],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(TeamMember {
                role: TeamRole::from_db(&r.get::<String>("role")?)
                    .ok_or_else(|| corrupt("team role"))?,
                user_id: r.get("user_id")?,
                name: r.get("name")?,
            })
        })
        .collect()
    }

    /// Incidents, newest first; `open` keeps only the unresolved ones.
    pub async fn list_incidents(&self, open: bool, limit: i64) -> Result<Vec<Incident>> {
        let filter = if open {
            "WHERE status NOT IN ('resolved', 'postmortem')"
        } else {
            ""
        };
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents {filter} ORDER BY created_at DESC, id DESC LIMIT $1"
                ),
                args![limit],
            )
            .await?;
        let deadlines = self.open_deadlines(None).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.get("id")?;
            let mut incident = Incident::from_row(r, self.team(&id).await?)?;
            if let Some((due, overdue)) = deadlines.get(&id) {
                incident.next_update_due = Some(Time(*due));
                incident.overdue = *overdue;
            }
            out.push(incident);
        }
        Ok(out)
    }

    pub async fn add_incident_note(
        &self,
        id: &str,
        body: &str,
        by: AuditRecord,
    ) -> Result<TimelineEntry> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE incidents SET updated_at = $1 WHERE id = $2",
                args![now_ms(), id],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let entry = tx.timeline(id, "note", body, &by.actor).await?;
        tx.audit(AuditRecord {
            action: "incident.note".into(),
            class: DataClass::Incidents,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "entry": entry.id }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// The internal timeline, oldest first.
    pub async fn incident_timeline(&self, id: &str) -> Result<Vec<TimelineEntry>> {
        self.fetch_all(
            "SELECT id, kind, body, actor, at FROM incident_timeline WHERE incident_id = $1 ORDER BY at, id",
            args![id],
        )
        .await?
        .iter()
        .map(TimelineEntry::from_row)
        .collect()
    }

    /// An incident's updates, oldest first, with their approvals.
    pub async fn incident_updates(&self, incident: &Incident) -> Result<Vec<IncidentUpdate>> {
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {UPDATE_COLUMNS} FROM incident_updates WHERE incident_id = $1 ORDER BY created_at, id"
                ),
                args![&incident.id],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.get("id")?;
            let approvals = self.approvals(&id).await?;
            out.push(IncidentUpdate::from_row(r, approvals, incident.severity)?);
        }
        Ok(out)
    }

    pub async fn incident_update(
        &self,
        incident: &Incident,
        update: &str,
    ) -> Result<Option<IncidentUpdate>> {
        let Some(r) = self
            .fetch_optional(
                &format!(
                    "SELECT {UPDATE_COLUMNS} FROM incident_updates WHERE id = $1 AND incident_id = $2"
                ),
                args![update, &incident.id],
            )
            .await?
        else {
            return Ok(None);
        };
        let approvals = self.approvals(update).await?;
        IncidentUpdate::from_row(&r, approvals, incident.severity).map(Some)
    }

    async fn approvals(&self, update: &str) -> Result<Vec<Approval>> {
        self.fetch_all(
            "SELECT role, approved_by, approved_at FROM incident_update_approvals WHERE update_id = $1 ORDER BY approved_at",
            args![update],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Approval {
                role: r.get("role")?,
                approved_by: r.get("approved_by")?,
                approved_at: Time(r.get("approved_at")?),
            })
        })
        .collect()
    }

    /// Writes an update as a draft, or publishes it at once when `publish`
    /// (the caller has checked that its severity allows that).
    pub async fn create_incident_update(
        &self,
        incident: &Incident,
        new: NewUpdate<'_>,
        cadence: &Cadence,
        by: AuditRecord,
    ) -> Result<IncidentUpdate, IncidentRefusal> {
        let NewUpdate {
            status,
            body,
            component_status,
            variants,
            publish,
        } = new;
        let id = Id::new(Kind::Notice).to_string();
        let statuses: BTreeMap<&str, &str> = component_status
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut tx = self.begin().await?;
        let ids: Vec<String> = component_status.keys().cloned().collect();
        tx.check_components(&ids).await.map_err(|e| match e {
            StoreError::NotFound => IncidentRefusal::UnknownComponent,
            e => e.into(),
        })?;
        tx.execute(
            &format!(
                "INSERT INTO incident_updates ({UPDATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, NULL, NULL)"
            ),
            args![&id, &incident.id, status.as_str(), body, to_json(&statuses)?, &by.actor, now_ms()],
        )
        .await?;
        for v in variants {
            tx.execute(
                "INSERT INTO incident_update_variants (update_id, language, subject, body, sms) VALUES ($1, $2, $3, $4, $5)",
                args![&id, &v.language, &v.subject, &v.body, &v.sms],
            )
            .await?;
        }
        tx.timeline(
            &incident.id,
            "update_drafted",
            &format!("Update {id} drafted ({status})"),
            &by.actor,
        )
        .await?;
        tx.audit(AuditRecord {
            action: "incident.update.draft".into(),
            class: DataClass::Notices,
            record: Some(id.clone()),
            detail: serde_json::json!({ "incident": incident.id }),
            ..by.clone()
        })
        .await?;
        if publish {
            match publish_in(&mut tx, &incident.id, &id, cadence, &by).await {
                // The severity was raised meanwhile: it stays a draft.
                Ok(()) | Err(UpdateRefusal::NeedsApproval(_)) => {}
                Err(UpdateRefusal::Store(e)) => return Err(e.into()),
                Err(e) => return Err(StoreError::Corrupt(e.to_string()).into()),
            }
        }
        tx.commit().await?;
        self.incident_update(incident, &id)
            .await?
            .ok_or(IncidentRefusal::Store(StoreError::NotFound))
    }

    /// Records one approval of a draft by a user in an approving role.
    pub async fn approve_incident_update(
        &self,
        incident: &Incident,
        update: &str,
        role: &str,
        by: AuditRecord,
    ) -> Result<IncidentUpdate, UpdateRefusal> {
        if !APPROVING_ROLES.contains(&role) {
            return Err(UpdateRefusal::NotAnApprover);
        }
        let current = self
            .incident_update(incident, update)
            .await?
            .ok_or(StoreError::NotFound)?;
        if current.published_at.is_some() {
            return Err(UpdateRefusal::AlreadyPublished);
        }
        if let Some(a) = current.approvals.iter().find(|a| a.role == role) {
            return Err(UpdateRefusal::RoleAlreadyApproved(a.role.clone()));
        }
        if current.approvals.iter().any(|a| a.approved_by == by.actor) {
            return Err(UpdateRefusal::SameApprover);
        }
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO incident_update_approvals (update_id, role, approved_by, approved_at) VALUES ($1, $2, $3, $4)",
            args![update, role, &by.actor, now_ms()],
        )
        .await
        .map_err(|e| match e {
            // Someone approved at the same moment.
            StoreError::Conflict(_) => UpdateRefusal::RoleAlreadyApproved(role.to_owned()),
            e => e.into(),
        })?;
        tx.timeline(
            &incident.id,
            "update_approved",
            &format!("Update {update} approved for {role}"),
            &by.actor,
        )
        .await?;
        tx.audit(AuditRecord {
            action: "incident.update.approve".into(),
            class: DataClass::Notices,
            record: Some(update.to_owned()),
            detail: serde_json::json!({ "incident": incident.id, "role": role }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(self
            .incident_update(incident, update)
            .await?
            .ok_or(StoreError::NotFound)?)
    }

    /// Publishes a draft: checks approvals for SEV1 and SEV2, sets the
    /// components' statuses and the incident's status, all at once.
    pub async fn publish_incident_update(
        &self,
        incident: &Incident,
        update: &str,
        cadence: &Cadence,
        by: AuditRecord,
    ) -> Result<IncidentUpdate, UpdateRefusal> {
        let current = self
            .incident_update(incident, update)
            .await?
            .ok_or(StoreError::NotFound)?;
        if current.published_at.is_some() {
            return Err(UpdateRefusal::AlreadyPublished);
        }
        let mut tx = self.begin().await?;
        publish_in(&mut tx, &incident.id, update, cadence, &by).await?;
        tx.commit().await?;
        Ok(self
            .incident_update(incident, update)
            .await?
            .ok_or(StoreError::NotFound)?)
    }
}

/// Monitoring and resolution times after a status change.
fn status_times(old: &Incident, status: IncidentStatus, now: i64) -> (Option<i64>, Option<i64>) {
    let monitoring = old
        .monitoring_at
        .map(|t| t.0)
        .or((status == IncidentStatus::Monitoring).then_some(now));
    let resolved = if status.is_resolved() {
        old.resolved_at.map(|t| t.0).or(Some(now))
    } else {
        None
    };
    (monitoring, resolved)
}

/// Publishes a draft inside `tx`. The incident and the approvals are read
/// in the same transaction, so a severity raised or an approval given
/// meanwhile counts. The draft is claimed (published_at set where it was
/// unset) before any component changes, so it is published once.
async fn publish_in(
    tx: &mut Tx,
    incident_id: &str,
    update: &str,
    cadence: &Cadence,
    by: &AuditRecord,
) -> Result<(), UpdateRefusal> {
    let now = now_ms();
    let row = tx
        .fetch_optional(
            &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"),
            args![incident_id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let incident = Incident::from_row(&row, vec![])?;
    if incident.severity.needs_approval() {
        let given: Vec<String> = tx
            .fetch_all(
                "SELECT role FROM incident_update_approvals WHERE update_id = $1",
                args![update],
            )
            .await?
            .iter()
            .map(|r| r.get::<String>("role"))
            .collect::<Result<_>>()?;
        let missing: Vec<&str> = APPROVING_ROLES
            .iter()
            .copied()
            .filter(|r| !given.iter().any(|g| g == r))
            .collect();
        if !missing.is_empty() {
            return Err(UpdateRefusal::NeedsApproval(missing.join(" and ")));
        }
    }
    let row = tx
        .fetch_optional(
            "SELECT status, component_status FROM incident_updates WHERE id = $1",
            args![update],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let status = IncidentStatus::from_db(&row.get::<String>("status")?)
        .ok_or_else(|| corrupt("update status"))?;
    let wanted: BTreeMap<String, String> =
        serde_json::from_str(&row.get::<String>("component_status")?)
            .map_err(|e| StoreError::Corrupt(format!("component_status: {e}")))?;
    let mut affected = Vec::new();
    for (component, new_status) in &wanted {
        let Some(c) = tx
            .fetch_optional(
                "SELECT name, status FROM components WHERE id = $1",
                args![component],
            )
            .await?
        else {
            continue;
        };
        affected.push(AffectedComponent {
            code: component.clone(),
            name: c.get("name")?,
            old_status: c.get("status")?,
            new_status: new_status.clone(),
        });
    }
    let claimed = tx
        .execute(
            "UPDATE incident_updates SET published_at = $1, published_by = $2, affected_components = $3
             WHERE id = $4 AND published_at IS NULL",
            args![
                now,
                &by.actor,
                (!affected.is_empty()).then(|| to_json(&affected)).transpose()?,
                update
            ],
        )
        .await?;
    if claimed == 0 {
        return Err(UpdateRefusal::AlreadyPublished);
    }
    for a in affected.iter().filter(|a| a.old_status != a.new_status) {
        tx.execute(
            "UPDATE components SET status = $1, updated_at = $2 WHERE id = $3",
            args![&a.new_status, now, &a.code],
        )
        .await?;
        tx.execute(
            "INSERT INTO component_status_log (component_id, status, at) VALUES ($1, $2, $3)",
            args![&a.code, &a.new_status, now],
        )
        .await?;
    }
    // The update due is given: the next one is due a cadence from now.
    tx.close_deadline(incident_id, now, true).await?;
    if !status.is_resolved() {
        let minutes = cadence.minutes(incident.severity, incident.update_every_minutes);
        tx.open_deadline(incident_id, now, minutes).await?;
    }
    // The messages to subscribers commit with the publication, or neither does.
    let mut touched = incident.components.clone();
    touched.extend(
        wanted
            .keys()
            .filter(|k| !touched.contains(k))
            .cloned()
            .collect::<Vec<_>>(),
    );
    let queued = tx.enqueue_update(incident_id, update, &touched).await?;
    let (monitoring_at, resolved_at) = status_times(&incident, status, now);
    tx.execute(
        "UPDATE incidents SET status = $1, updated_at = $2, monitoring_at = $3, resolved_at = $4 WHERE id = $5",
        args![status.as_str(), now, monitoring_at, resolved_at, incident_id],
    )
    .await?;
    if status != incident.status {
        tx.timeline(
            incident_id,
            "status",
            &format!("Status {} → {}", incident.status, status),
            &by.actor,
        )
        .await?;
    }
    tx.timeline(
        incident_id,
        "update_published",
        &format!("Update {update} published ({status})"),
        &by.actor,
    )
    .await?;
    tx.audit(AuditRecord {
        action: "incident.update.publish".into(),
        class: DataClass::Notices,
        record: Some(update.to_owned()),
        detail: serde_json::json!({ "incident": incident_id, "status": status.as_str(), "messages_queued": queued }),
        ..by.clone()
    })
    .await?;
    Ok(())
}
