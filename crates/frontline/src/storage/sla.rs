//! SLA policies and the business-hour calendars they count in.

use serde::Serialize;

use super::incidents::Time;
use super::{now_ms, AuditRecord, Result, Row, Store, StoreError, Tx};
use crate::args;
use crate::domain::calendar::{Calendar, Period, PeriodSpec};
use crate::domain::ticket::Priority;
use crate::domain::{id::Kind, DataClass, Id};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarView {
    pub id: String,
    pub name: String,
    pub timezone: String,
    pub periods: Vec<PeriodSpec>,
    pub holidays: Vec<String>,
    #[schema(value_type = String)]
    pub created_at: Time,
}

/// A calendar ready to store: already checked.
pub struct NewCalendar {
    pub name: String,
    pub calendar: Calendar,
    pub periods: Vec<Period>,
    pub holidays: Vec<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlaPolicy {
    pub id: String,
    pub name: String,
    /// The priority it applies to; absent: any.
    pub priority: Option<Priority>,
    /// The customer segment it applies to; absent: any.
    pub segment: Option<String>,
    pub first_response_mins: Option<i64>,
    pub next_response_mins: Option<i64>,
    pub resolution_mins: Option<i64>,
    /// Absent: every hour counts (24/7).
    pub calendar_id: Option<String>,
    /// How long before a breach the warning goes out.
    pub warn_before_mins: i64,
    #[schema(value_type = String)]
    pub created_at: Time,
}

/// A policy with its calendar, as the clock needs it.
#[derive(Debug, Clone)]
pub struct Sla {
    pub policy: SlaPolicy,
    pub calendar: Option<Calendar>,
}

impl Sla {
    pub fn target_ms(&self, target: Target) -> Option<i64> {
        match target {
            Target::FirstResponse => self.policy.first_response_mins,
            Target::NextResponse => self.policy.next_response_mins,
            Target::Resolution => self.policy.resolution_mins,
        }
        .map(|m| m * 60_000)
    }
}

/// The three SLA targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    FirstResponse,
    NextResponse,
    Resolution,
}

impl Target {
    pub const ALL: [Target; 3] = [
        Target::FirstResponse,
        Target::NextResponse,
        Target::Resolution,
    ];
    pub const fn as_str(self) -> &'static str {
        match self {
            Target::FirstResponse => "first_response",
            Target::NextResponse => "next_response",
            Target::Resolution => "resolution",
        }
    }
    pub const fn due_column(self) -> &'static str {
        match self {
            Target::FirstResponse => "frt_due_at",
            Target::NextResponse => "nrt_due_at",
            Target::Resolution => "res_due_at",
        }
    }
    pub const fn breached_column(self) -> &'static str {
        match self {
            Target::FirstResponse => "frt_breached",
            Target::NextResponse => "nrt_breached",
            Target::Resolution => "res_breached",
        }
    }
    pub fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("sla {what}"))
}

fn calendar_from_row(r: &Row) -> Result<(CalendarView, Calendar)> {
    let specs: Vec<PeriodSpec> =
        serde_json::from_str(&r.get::<String>("periods")?).map_err(|_| corrupt("periods"))?;
    let holidays: Vec<String> =
        serde_json::from_str(&r.get::<String>("holidays")?).map_err(|_| corrupt("holidays"))?;
    let periods = specs
        .iter()
        .map(Period::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| corrupt("periods"))?;
    let dates = Calendar::parse_holidays(&holidays).map_err(|_| corrupt("holidays"))?;
    let tz: String = r.get("timezone")?;
    let cal = Calendar::new(&tz, &periods, &dates).map_err(|_| corrupt("timezone"))?;
    Ok((
        CalendarView {
            id: r.get("id")?,
            name: r.get("name")?,
            timezone: tz,
            periods: specs,
            holidays,
            created_at: Time(r.get("created_at")?),
        },
        cal,
    ))
}

impl SlaPolicy {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            name: r.get("name")?,
            priority: r
                .get::<Option<String>>("priority")?
                .map(|p| Priority::from_db(&p).ok_or_else(|| corrupt("priority")))
                .transpose()?,
            segment: r.get("segment")?,
            first_response_mins: r.get("first_response_mins")?,
            next_response_mins: r.get("next_response_mins")?,
            resolution_mins: r.get("resolution_mins")?,
            calendar_id: r.get("calendar_id")?,
            warn_before_mins: r.get("warn_before_mins")?,
            created_at: Time(r.get("created_at")?),
        })
    }
}

const POLICY_COLUMNS: &str =
    "id, name, priority, segment, first_response_mins, next_response_mins, \
resolution_mins, calendar_id, warn_before_mins, created_at";

impl Tx {
    /// The policy for a ticket: the most specific one matching its priority
    /// and segment (both > priority > segment > neither), oldest first on a tie.
    pub(crate) async fn sla_for(
        &mut self,
        priority: Priority,
        segment: Option<&str>,
    ) -> Result<Option<Sla>> {
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {POLICY_COLUMNS} FROM sla_policies
                     WHERE (priority IS NULL OR priority = $1) AND (segment IS NULL OR segment = $2)
                     ORDER BY CASE WHEN priority IS NOT NULL THEN 2 ELSE 0 END
                            + CASE WHEN segment IS NOT NULL THEN 1 ELSE 0 END DESC, created_at, id
                     LIMIT 1"
                ),
                args![priority.as_str(), segment.unwrap_or("")],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let policy = SlaPolicy::from_row(row)?;
        self.sla_with(policy).await.map(Some)
    }

    pub(crate) async fn sla_by_id(&mut self, id: &str) -> Result<Option<Sla>> {
        let row = self
            .fetch_optional(
                &format!("SELECT {POLICY_COLUMNS} FROM sla_policies WHERE id = $1"),
                args![id],
            )
            .await?;
        match row {
            Some(r) => self.sla_with(SlaPolicy::from_row(&r)?).await.map(Some),
            None => Ok(None),
        }
    }

    async fn sla_with(&mut self, policy: SlaPolicy) -> Result<Sla> {
        let calendar = match &policy.calendar_id {
            Some(c) => {
                let row = self
                    .fetch_optional("SELECT * FROM sla_calendars WHERE id = $1", args![c])
                    .await?
                    .ok_or_else(|| corrupt("calendar missing"))?;
                Some(calendar_from_row(&row)?.1)
            }
            None => None,
        };
        Ok(Sla { policy, calendar })
    }
}

impl Store {
    pub async fn create_calendar(
        &self,
        new: &NewCalendar,
        by: AuditRecord,
    ) -> Result<CalendarView> {
        let id = Id::new(Kind::Calendar).to_string();
        let specs: Vec<PeriodSpec> = new.periods.iter().map(Period::spec).collect();
        let holidays: Vec<String> = new.holidays.iter().map(|d| d.to_string()).collect();
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO sla_calendars (id, name, timezone, periods, holidays, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            args![
                &id,
                &new.name,
                new.calendar.timezone(),
                serde_json::to_string(&specs).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                serde_json::to_string(&holidays).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                now_ms()
            ],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "sla.calendar.create".into(),
            class: DataClass::Settings,
            record: Some(id.clone()),
            detail: serde_json::json!({ "timezone": new.calendar.timezone() }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.calendars()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(StoreError::NotFound)
    }

    pub async fn calendars(&self) -> Result<Vec<CalendarView>> {
        self.fetch_all("SELECT * FROM sla_calendars ORDER BY name", vec![])
            .await?
            .iter()
            .map(|r| calendar_from_row(r).map(|c| c.0))
            .collect()
    }

    pub async fn create_policy(&self, p: &SlaPolicy, by: AuditRecord) -> Result<SlaPolicy> {
        let mut tx = self.begin().await?;
        if let Some(c) = &p.calendar_id {
            if tx
                .fetch_optional("SELECT id FROM sla_calendars WHERE id = $1", args![c])
                .await?
                .is_none()
            {
                return Err(StoreError::NotFound);
            }
        }
        tx.execute(
            &format!("INSERT INTO sla_policies ({POLICY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
            args![
                &p.id,
                &p.name,
                p.priority.map(|p| p.as_str()),
                p.segment.clone(),
                p.first_response_mins,
                p.next_response_mins,
                p.resolution_mins,
                p.calendar_id.clone(),
                p.warn_before_mins,
                p.created_at.0
            ],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "sla.policy.create".into(),
            class: DataClass::Settings,
            record: Some(p.id.clone()),
            detail: serde_json::json!({ "priority": p.priority.map(|p| p.as_str()), "segment": p.segment }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(p.clone())
    }

    pub async fn policies(&self) -> Result<Vec<SlaPolicy>> {
        self.fetch_all(
            &format!("SELECT {POLICY_COLUMNS} FROM sla_policies ORDER BY created_at, id"),
            vec![],
        )
        .await?
        .iter()
        .map(SlaPolicy::from_row)
        .collect()
    }
}
