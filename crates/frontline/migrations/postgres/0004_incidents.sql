-- Incidents: declared by staff, worked by a response team, told to
-- customers through public updates on the status page.
CREATE TABLE incidents (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    severity      TEXT NOT NULL,
    impact        TEXT NOT NULL,
    status        TEXT NOT NULL,
    -- JSON arrays: component ids, customer segment labels.
    components    TEXT NOT NULL,
    segments      TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    monitoring_at BIGINT,
    resolved_at   BIGINT
);
CREATE INDEX incidents_created ON incidents(created_at);

-- The response team: one row per (role, staff user).
CREATE TABLE incident_team (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, role, user_id)
);

-- The internal timeline: notes, status changes, published updates.
CREATE TABLE incident_timeline (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX incident_timeline_incident ON incident_timeline(incident_id, at);

-- Status page components. A group is a component row with is_group set;
-- its members point at it with group_id.
CREATE TABLE components (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    description           TEXT,
    is_group              BOOLEAN NOT NULL,
    group_id              TEXT REFERENCES components(id),
    position              BIGINT NOT NULL,
    status                TEXT NOT NULL,
    private               BOOLEAN NOT NULL,
    only_show_if_degraded BOOLEAN NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX components_group_name ON components(name) WHERE is_group;

-- Every status a component has had, for the 90-day history.
CREATE TABLE component_status_log (
    component_id TEXT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX component_status_log_at ON component_status_log(component_id, at);

-- Public incident updates. A draft may be approved and published; once
-- published it is never edited (corrections are new updates).
CREATE TABLE incident_updates (
    id                  TEXT PRIMARY KEY,
    incident_id         TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    status              TEXT NOT NULL,
    body                TEXT NOT NULL,
    -- JSON object: component id -> status to set when published.
    component_status    TEXT NOT NULL,
    -- JSON array of {code, name, old_status, new_status}, set on publishing.
    affected_components TEXT,
    drafted_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    published_at        BIGINT,
    published_by        TEXT
);
CREATE INDEX incident_updates_incident ON incident_updates(incident_id, created_at);
CREATE INDEX incident_updates_published ON incident_updates(published_at);

-- Approvals of a draft: one per approving role, by different people.
CREATE TABLE incident_update_approvals (
    update_id   TEXT NOT NULL REFERENCES incident_updates(id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (update_id, role),
    UNIQUE (update_id, approved_by)
);

CREATE TABLE maintenances (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    status          TEXT NOT NULL,
    components      TEXT NOT NULL,
    scheduled_for   BIGINT NOT NULL,
    scheduled_until BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX maintenances_scheduled ON maintenances(scheduled_for);

CREATE TABLE maintenance_updates (
    id             TEXT PRIMARY KEY,
    maintenance_id TEXT NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
    status         TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX maintenance_updates_maintenance ON maintenance_updates(maintenance_id, created_at);

CREATE FUNCTION incident_updates_published_fixed() RETURNS trigger AS $$
BEGIN
    IF OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'a published update is never edited';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER incident_updates_published_fixed BEFORE UPDATE OR DELETE ON incident_updates
FOR EACH ROW EXECUTE FUNCTION incident_updates_published_fixed();
