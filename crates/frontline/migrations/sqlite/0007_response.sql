-- Incident response: playbooks and the checklists copied from them, links
-- from incidents to signals, alerts, tickets and surveys, notice templates
-- and the language variants of updates, the update cadence with its
-- deadlines and the incident lead's alerts, postmortems and remedies.
CREATE TABLE playbooks (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    -- JSON array of {title, seat}.
    items       TEXT NOT NULL,
    builtin     BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- The playbook an incident was declared with, and its own update cadence
-- (minutes; NULL: the default for its severity).
ALTER TABLE incidents ADD COLUMN playbook_id TEXT;
ALTER TABLE incidents ADD COLUMN update_every_minutes BIGINT;

-- An incident's checklist: copied from its playbook, then its own.
CREATE TABLE incident_checklist (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    title       TEXT NOT NULL,
    seat        TEXT,
    assignee    TEXT REFERENCES users(id),
    done_at     BIGINT,
    done_by     TEXT,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX incident_checklist_incident ON incident_checklist(incident_id, position);

-- What an incident is linked to: kind signal, alert, ticket or survey, and
-- the linked record's id. began_at: when the linked thing began (a
-- signal's rise), for the time-to-declare metric.
CREATE TABLE incident_links (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    ref_id      TEXT NOT NULL,
    title       TEXT NOT NULL,
    began_at    BIGINT,
    linked_by   TEXT NOT NULL,
    linked_at   BIGINT NOT NULL,
    PRIMARY KEY (incident_id, kind, ref_id)
);
CREATE INDEX incident_links_ref ON incident_links(kind, ref_id);

-- Notice templates: language -> {subject, body, sms}, each a minijinja
-- template rendered in a sandbox.
CREATE TABLE notice_templates (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,
    bodies     TEXT NOT NULL,
    builtin    BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- An update in each language it was written in.
CREATE TABLE incident_update_variants (
    update_id TEXT NOT NULL REFERENCES incident_updates(id) ON DELETE CASCADE,
    language  TEXT NOT NULL,
    subject   TEXT NOT NULL,
    body      TEXT NOT NULL,
    sms       TEXT NOT NULL,
    PRIMARY KEY (update_id, language)
);
CREATE INDEX incident_update_variants_language ON incident_update_variants(language);

CREATE TRIGGER incident_update_variants_added BEFORE INSERT ON incident_update_variants
WHEN (SELECT published_at FROM incident_updates WHERE id = NEW.update_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a published update is never edited'); END;
CREATE TRIGGER incident_update_variants_fixed BEFORE UPDATE ON incident_update_variants
WHEN (SELECT published_at FROM incident_updates WHERE id = OLD.update_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a published update is never edited'); END;
CREATE TRIGGER incident_update_variants_kept BEFORE DELETE ON incident_update_variants
WHEN (SELECT published_at FROM incident_updates WHERE id = OLD.update_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a published update is never deleted'); END;

-- When the next public update is due. One open deadline per open
-- incident; publishing closes it (kept: in time or not) and opens the next.
CREATE TABLE incident_deadlines (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    opened_at   BIGINT NOT NULL,
    due_at      BIGINT NOT NULL,
    overdue_at  BIGINT,
    closed_at   BIGINT,
    -- TRUE: an update came in time; FALSE: late; NULL: resolved with none due.
    kept        BOOLEAN
);
CREATE UNIQUE INDEX incident_deadlines_open ON incident_deadlines(incident_id) WHERE closed_at IS NULL;
CREATE INDEX incident_deadlines_due ON incident_deadlines(due_at) WHERE closed_at IS NULL;

-- Alerts for the incident lead (an overdue update), for delivery.
CREATE TABLE lead_alerts (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    user_id     TEXT REFERENCES users(id),
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX lead_alerts_incident ON lead_alerts(incident_id, created_at);

CREATE TABLE postmortems (
    incident_id  TEXT PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    summary      TEXT NOT NULL,
    root_cause   TEXT NOT NULL,
    impact       TEXT NOT NULL,
    went_well    TEXT NOT NULL,
    to_improve   TEXT NOT NULL,
    -- JSON array of {title, owner, due}.
    action_items TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    published_at BIGINT
);
CREATE TRIGGER postmortems_published_fixed BEFORE UPDATE ON postmortems
WHEN OLD.published_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a published postmortem is never edited'); END;

CREATE TABLE incident_remedies (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL,
    offered     BIGINT NOT NULL,
    taken       BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX incident_remedies_incident ON incident_remedies(incident_id);
