//! The status page: components (grouped, ordered, each with a status and a
//! history), scheduled maintenances, and the public view of incidents.

use std::collections::BTreeMap;

use serde::Serialize;

use super::incidents::{Incident, IncidentUpdate, Time, INCIDENT_COLUMNS, UPDATE_COLUMNS};
use super::{now_ms, AuditRecord, Result, Row, Store, StoreError, Tx};
use crate::args;
use crate::domain::incident::{ComponentStatus, MaintenanceStatus};
use crate::domain::{id::Kind, DataClass, Id};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// True for a group row; its members name it in `group_id`.
    pub is_group: bool,
    /// The group's name, for members of a group.
    pub group: Option<String>,
    pub group_id: Option<String>,
    pub position: i64,
    pub status: ComponentStatus,
    /// Not shown on the public status page.
    pub private: bool,
    pub only_show_if_degraded: bool,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = String)]
    pub updated_at: Time,
}

/// A new component, checked.
#[derive(Debug, Clone)]
pub struct NewComponent {
    pub name: String,
    pub description: Option<String>,
    pub group: Option<String>,
    pub position: Option<i64>,
    pub status: ComponentStatus,
    pub private: bool,
    pub only_show_if_degraded: bool,
}

/// A change to a component, checked; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ComponentChange {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub group: Option<Option<String>>,
    pub position: Option<i64>,
    pub status: Option<ComponentStatus>,
    pub private: Option<bool>,
    pub only_show_if_degraded: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaintenanceUpdate {
    pub id: String,
    pub status: MaintenanceStatus,
    pub body: String,
    #[schema(value_type = String)]
    pub created_at: Time,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Maintenance {
    pub id: String,
    pub title: String,
    pub status: MaintenanceStatus,
    pub components: Vec<String>,
    #[schema(value_type = String)]
    pub scheduled_for: Time,
    #[schema(value_type = String)]
    pub scheduled_until: Time,
    #[schema(value_type = String)]
    pub created_at: Time,
    #[schema(value_type = String)]
    pub updated_at: Time,
    /// Oldest first.
    pub updates: Vec<MaintenanceUpdate>,
}

/// A new maintenance, checked.
#[derive(Debug, Clone)]
pub struct NewMaintenance {
    pub title: String,
    pub body: String,
    pub components: Vec<String>,
    pub scheduled_for: i64,
    pub scheduled_until: i64,
}

/// A change to a maintenance; a status or body adds an update.
#[derive(Debug, Clone, Default)]
pub struct MaintenanceChange {
    pub title: Option<String>,
    pub status: Option<MaintenanceStatus>,
    pub body: Option<String>,
    pub scheduled_for: Option<i64>,
    pub scheduled_until: Option<i64>,
}

/// An incident as the public sees it: only its published updates.
#[derive(Debug, Clone)]
pub struct PublicIncident {
    pub incident: Incident,
    /// Published updates, newest first.
    pub updates: Vec<IncidentUpdate>,
}

const COMPONENT_COLUMNS: &str = "c.id, c.name, c.description, c.is_group, c.group_id, \
g.name AS group_name, c.position, c.status, c.private, c.only_show_if_degraded, c.created_at, c.updated_at";
const COMPONENT_FROM: &str = "components c LEFT JOIN components g ON g.id = c.group_id";

impl Component {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            name: r.get("name")?,
            description: r.get("description")?,
            is_group: r.get("is_group")?,
            group: r.get("group_name")?,
            group_id: r.get("group_id")?,
            position: r.get("position")?,
            status: ComponentStatus::from_db(&r.get::<String>("status")?)
                .ok_or_else(|| StoreError::Corrupt("component status".into()))?,
            private: r.get("private")?,
            only_show_if_degraded: r.get("only_show_if_degraded")?,
            created_at: Time(r.get("created_at")?),
            updated_at: Time(r.get("updated_at")?),
        })
    }
}

impl Tx {
    /// The id of the group with this name, created if new.
    async fn group_id(&mut self, name: &str, now: i64) -> Result<String> {
        if let Some(r) = self
            .fetch_optional(
                "SELECT id FROM components WHERE is_group = TRUE AND name = $1",
                args![name],
            )
            .await?
        {
            return r.get("id");
        }
        let id = Id::new(Kind::Component).to_string();
        let position = self.next_position(None).await?;
        self.execute(
            "INSERT INTO components (id, name, description, is_group, group_id, position, status, private,
             only_show_if_degraded, created_at, updated_at)
             VALUES ($1, $2, NULL, TRUE, NULL, $3, 'operational', FALSE, FALSE, $4, $4)",
            args![&id, name, position, now],
        )
        .await?;
        Ok(id)
    }

    async fn next_position(&mut self, group: Option<&str>) -> Result<i64> {
        let row = match group {
            Some(g) => {
                self.fetch_optional(
                    "SELECT MAX(position) AS p FROM components WHERE group_id = $1",
                    args![g],
                )
                .await?
            }
            None => {
                self.fetch_optional(
                    "SELECT MAX(position) AS p FROM components WHERE group_id IS NULL",
                    vec![],
                )
                .await?
            }
        };
        Ok(row
            .map(|r| r.get::<Option<i64>>("p"))
            .transpose()?
            .flatten()
            .map_or(1, |p| p + 1))
    }

    /// Sets a component's status and logs it for the history.
    pub(super) async fn set_component_status(
        &mut self,
        id: &str,
        status: ComponentStatus,
        now: i64,
    ) -> Result<()> {
        self.execute(
            "UPDATE components SET status = $1, updated_at = $2 WHERE id = $3",
            args![status.as_str(), now, id],
        )
        .await?;
        self.execute(
            "INSERT INTO component_status_log (component_id, status, at) VALUES ($1, $2, $3)",
            args![id, status.as_str(), now],
        )
        .await?;
        Ok(())
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    pub async fn create_component(&self, new: &NewComponent, by: AuditRecord) -> Result<Component> {
        let id = Id::new(Kind::Component).to_string();
        let now = now_ms();
        let mut tx = self.begin().await?;
        let group = match &new.group {
            Some(g) => Some(tx.group_id(g, now).await?),
            None => None,
        };
        let position = match new.position {
            Some(p) => p,
            None => tx.next_position(group.as_deref()).await?,
        };
        tx.execute(
            "INSERT INTO components (id, name, description, is_group, group_id, position, status, private,
             only_show_if_degraded, created_at, updated_at)
             VALUES ($1, $2, $3, FALSE, $4, $5, $6, $7, $8, $9, $9)",
            args![
                &id,
                &new.name,
                new.description.clone(),
                group,
                position,
                new.status.as_str(),
                new.private,
                new.only_show_if_degraded,
                now
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO component_status_log (component_id, status, at) VALUES ($1, $2, $3)",
            args![&id, new.status.as_str(), now],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "component.create".into(),
            class: DataClass::Notices,
            record: Some(id.clone()),
            detail: serde_json::json!({ "status": new.status.as_str(), "private": new.private }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.component(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn update_component(
        &self,
        id: &str,
        change: &ComponentChange,
        by: AuditRecord,
    ) -> Result<Component> {
        let old = self.component(id).await?.ok_or(StoreError::NotFound)?;
        if old.is_group {
            return Err(StoreError::NotFound);
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        let mut fields = Vec::new();
        let group_id = match &change.group {
            Some(Some(g)) => {
                fields.push("group");
                Some(tx.group_id(g, now).await?)
            }
            Some(None) => {
                fields.push("group");
                None
            }
            None => old.group_id.clone(),
        };
        for (name, set) in [
            ("name", change.name.is_some()),
            ("description", change.description.is_some()),
            ("position", change.position.is_some()),
            ("private", change.private.is_some()),
            (
                "only_show_if_degraded",
                change.only_show_if_degraded.is_some(),
            ),
        ] {
            if set {
                fields.push(name);
            }
        }
        tx.execute(
            "UPDATE components SET name = $1, description = $2, group_id = $3, position = $4, private = $5,
             only_show_if_degraded = $6, updated_at = $7 WHERE id = $8",
            args![
                change.name.clone().unwrap_or(old.name),
                change.description.clone().unwrap_or(old.description),
                group_id,
                change.position.unwrap_or(old.position),
                change.private.unwrap_or(old.private),
                change.only_show_if_degraded.unwrap_or(old.only_show_if_degraded),
                now,
                id
            ],
        )
        .await?;
        if let Some(status) = change.status.filter(|s| *s != old.status) {
            fields.push("status");
            tx.set_component_status(id, status, now).await?;
        }
        tx.audit(AuditRecord {
            action: "component.update".into(),
            class: DataClass::Notices,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "fields": fields, "status": change.status.map(|s| s.as_str()) }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.component(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn component(&self, id: &str) -> Result<Option<Component>> {
        self.fetch_optional(
            &format!("SELECT {COMPONENT_COLUMNS} FROM {COMPONENT_FROM} WHERE c.id = $1"),
            args![id],
        )
        .await?
        .as_ref()
        .map(Component::from_row)
        .transpose()
    }

    /// Every component and group, in page order: groups and ungrouped
    /// components by position, members by position within their group.
    pub async fn list_components(&self) -> Result<Vec<Component>> {
        let mut all: Vec<Component> = self
            .fetch_all(
                &format!("SELECT {COMPONENT_COLUMNS} FROM {COMPONENT_FROM}"),
                vec![],
            )
            .await?
            .iter()
            .map(Component::from_row)
            .collect::<Result<_>>()?;
        let top: BTreeMap<String, (i64, String)> = all
            .iter()
            .filter(|c| c.group_id.is_none())
            .map(|c| (c.id.clone(), (c.position, c.id.clone())))
            .collect();
        all.sort_by_key(|c| {
            let (gp, gid) = match &c.group_id {
                Some(g) => top.get(g).cloned().unwrap_or((i64::MAX, g.clone())),
                None => (c.position, c.id.clone()),
            };
            let within = if c.group_id.is_some() {
                c.position
            } else {
                i64::MIN
            };
            (gp, gid, within, c.id.clone())
        });
        Ok(all)
    }

    /// Each component's status changes since `since`, with the status it
    /// had at `since` (if it existed) first.
    pub async fn component_history(
        &self,
        since: i64,
    ) -> Result<BTreeMap<String, Vec<(i64, ComponentStatus)>>> {
        let mut out: BTreeMap<String, Vec<(i64, ComponentStatus)>> = BTreeMap::new();
        let parse = |r: &Row| -> Result<(String, i64, ComponentStatus)> {
            Ok((
                r.get("component_id")?,
                r.get("at")?,
                ComponentStatus::from_db(&r.get::<String>("status")?)
                    .ok_or_else(|| StoreError::Corrupt("logged status".into()))?,
            ))
        };
        let ids: Vec<String> = self
            .fetch_all("SELECT id FROM components WHERE is_group = FALSE", vec![])
            .await?
            .iter()
            .map(|r| r.get("id"))
            .collect::<Result<_>>()?;
        for id in ids {
            if let Some(r) = self
                .fetch_optional(
                    "SELECT component_id, status, at FROM component_status_log
                     WHERE component_id = $1 AND at < $2 ORDER BY at DESC LIMIT 1",
                    args![&id, since],
                )
                .await?
            {
                let (c, _, s) = parse(&r)?;
                out.entry(c).or_default().push((since, s));
            }
        }
        for r in self
            .fetch_all(
                "SELECT component_id, status, at FROM component_status_log WHERE at >= $1 ORDER BY at",
                args![since],
            )
            .await?
        {
            let (c, at, s) = parse(&r)?;
            out.entry(c).or_default().push((at, s));
        }
        Ok(out)
    }

    pub async fn create_maintenance(
        &self,
        new: &NewMaintenance,
        by: AuditRecord,
    ) -> Result<Maintenance> {
        let id = Id::new(Kind::Maintenance).to_string();
        let now = now_ms();
        let mut tx = self.begin().await?;
        for c in &new.components {
            if tx
                .fetch_optional(
                    "SELECT id FROM components WHERE id = $1 AND is_group = FALSE",
                    args![c],
                )
                .await?
                .is_none()
            {
                return Err(StoreError::NotFound);
            }
        }
        tx.execute(
            "INSERT INTO maintenances (id, title, status, components, scheduled_for, scheduled_until, created_at, updated_at)
             VALUES ($1, $2, 'scheduled', $3, $4, $5, $6, $6)",
            args![&id, &new.title, to_json(&new.components)?, new.scheduled_for, new.scheduled_until, now],
        )
        .await?;
        tx.execute(
            "INSERT INTO maintenance_updates (id, maintenance_id, status, body, created_at) VALUES ($1, $2, 'scheduled', $3, $4)",
            args![Id::new(Kind::Notice).to_string(), &id, &new.body, now],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "maintenance.create".into(),
            class: DataClass::Notices,
            record: Some(id.clone()),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.maintenance(&id).await?.ok_or(StoreError::NotFound)
    }

    /// Changes a maintenance. Starting it puts its operational components
    /// under maintenance; completing it makes them operational again.
    pub async fn update_maintenance(
        &self,
        id: &str,
        change: &MaintenanceChange,
        by: AuditRecord,
    ) -> Result<Maintenance> {
        let old = self.maintenance(id).await?.ok_or(StoreError::NotFound)?;
        let now = now_ms();
        let status = change.status.unwrap_or(old.status);
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE maintenances SET title = $1, status = $2, scheduled_for = $3, scheduled_until = $4, updated_at = $5
             WHERE id = $6",
            args![
                change.title.clone().unwrap_or(old.title),
                status.as_str(),
                change.scheduled_for.unwrap_or(old.scheduled_for.0),
                change.scheduled_until.unwrap_or(old.scheduled_until.0),
                now,
                id
            ],
        )
        .await?;
        if change.status.is_some() || change.body.is_some() {
            let body = change
                .body
                .clone()
                .unwrap_or_else(|| status.as_str().replace('_', " "));
            tx.execute(
                "INSERT INTO maintenance_updates (id, maintenance_id, status, body, created_at) VALUES ($1, $2, $3, $4, $5)",
                args![Id::new(Kind::Notice).to_string(), id, status.as_str(), body, now],
            )
            .await?;
        }
        if status != old.status {
            let (from, to) = match status {
                MaintenanceStatus::InProgress => (
                    ComponentStatus::Operational,
                    ComponentStatus::UnderMaintenance,
                ),
                MaintenanceStatus::Completed => (
                    ComponentStatus::UnderMaintenance,
                    ComponentStatus::Operational,
                ),
                _ => (ComponentStatus::Operational, ComponentStatus::Operational),
            };
            if from != to {
                for c in &old.components {
                    let n = tx
                        .fetch_optional(
                            "SELECT id FROM components WHERE id = $1 AND status = $2",
                            args![c, from.as_str()],
                        )
                        .await?;
                    if n.is_some() {
                        tx.set_component_status(c, to, now).await?;
                    }
                }
            }
        }
        tx.audit(AuditRecord {
            action: "maintenance.update".into(),
            class: DataClass::Notices,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "status": status.as_str() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.maintenance(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn maintenance(&self, id: &str) -> Result<Option<Maintenance>> {
        let Some(r) = self
            .fetch_optional(
                "SELECT id, title, status, components, scheduled_for, scheduled_until, created_at, updated_at
                 FROM maintenances WHERE id = $1",
                args![id],
            )
            .await?
        else {
            return Ok(None);
        };
        self.maintenance_from_row(&r).await.map(Some)
    }

    /// Maintenances by when they are scheduled, latest first.
    pub async fn list_maintenances(&self, limit: i64) -> Result<Vec<Maintenance>> {
        let rows = self
            .fetch_all(
                "SELECT id, title, status, components, scheduled_for, scheduled_until, created_at, updated_at
                 FROM maintenances ORDER BY scheduled_for DESC, id DESC LIMIT $1",
                args![limit],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.maintenance_from_row(r).await?);
        }
        Ok(out)
    }

    async fn maintenance_from_row(&self, r: &Row) -> Result<Maintenance> {
        let id: String = r.get("id")?;
        let updates = self
            .fetch_all(
                "SELECT id, status, body, created_at FROM maintenance_updates WHERE maintenance_id = $1
                 ORDER BY created_at, id",
                args![&id],
            )
            .await?
            .iter()
            .map(|u| {
                Ok(MaintenanceUpdate {
                    id: u.get("id")?,
                    status: MaintenanceStatus::from_db(&u.get::<String>("status")?)
                        .ok_or_else(|| StoreError::Corrupt("maintenance status".into()))?,
                    body: u.get("body")?,
                    created_at: Time(u.get("created_at")?),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Maintenance {
            id,
            title: r.get("title")?,
            status: MaintenanceStatus::from_db(&r.get::<String>("status")?)
                .ok_or_else(|| StoreError::Corrupt("maintenance status".into()))?,
            components: serde_json::from_str(&r.get::<String>("components")?)
                .map_err(|e| StoreError::Corrupt(format!("maintenance components: {e}")))?,
            scheduled_for: Time(r.get("scheduled_for")?),
            scheduled_until: Time(r.get("scheduled_until")?),
            created_at: Time(r.get("created_at")?),
            updated_at: Time(r.get("updated_at")?),
            updates,
        })
    }

    /// Incidents with at least one published update, newest first, each
    /// with its published updates only (newest first). Two queries, however
    /// many incidents: the public pages read this on every request.
    pub async fn public_incidents(&self, limit: i64) -> Result<Vec<PublicIncident>> {
        const ANNOUNCED: &str = "SELECT i.id FROM incidents i WHERE EXISTS
             (SELECT 1 FROM incident_updates u WHERE u.incident_id = i.id AND u.published_at IS NOT NULL)
             ORDER BY i.created_at DESC, i.id DESC LIMIT $1";
        let incidents = self
            .fetch_all(
                &format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id IN ({ANNOUNCED})
                     ORDER BY created_at DESC, id DESC"
                ),
                args![limit],
            )
            .await?;
        let updates = self
            .fetch_all(
                &format!(
                    "SELECT {UPDATE_COLUMNS} FROM incident_updates
                     WHERE published_at IS NOT NULL AND incident_id IN ({ANNOUNCED})
                     ORDER BY published_at DESC, id DESC"
                ),
                args![limit],
            )
            .await?;
        let mut out = Vec::with_capacity(incidents.len());
        for r in &incidents {
            let incident = Incident::from_row(r, vec![])?;
            let mut mine = Vec::new();
            for u in &updates {
                if u.get::<String>("incident_id")? == incident.id {
                    mine.push(IncidentUpdate::from_row(u, vec![], incident.severity)?);
                }
            }
            out.push(PublicIncident {
                incident,
                updates: mine,
            });
        }
        Ok(out)
    }
}
