-- Security alerts from the security team's tools, and the suggestions that
-- pair them with customers' signals.

-- A tool that sends alerts: its format, how it proves who it is, and how
-- its labels map to components. The secret is not stored: it is derived
-- from secret_nonce with the key ring's index key, so a copy of the
-- database alone cannot forge alerts.
CREATE TABLE alert_sources (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    auth             TEXT NOT NULL,
    signature_header TEXT NOT NULL,
    secret_nonce     TEXT NOT NULL,
    -- JSON array of {label, equals, component, region}.
    components       TEXT NOT NULL,
    -- JSON object: field -> JSON pointer (generic sources).
    field_map        TEXT NOT NULL,
    enabled          BOOLEAN NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    rotated_at       BIGINT NOT NULL
);

-- One row per (source, fingerprint): a resolved notification or a repeat
-- firing updates it.
CREATE TABLE security_alerts (
    id            TEXT PRIMARY KEY,
    source_id     TEXT NOT NULL REFERENCES alert_sources(id),
    fingerprint   TEXT NOT NULL,
    status        TEXT NOT NULL,
    severity      TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT,
    -- JSON object of label -> value.
    labels        TEXT NOT NULL,
    component     TEXT,
    region        TEXT,
    -- The label value the component was mapped from (e.g. auth-eu).
    origin        TEXT,
    started_at    BIGINT NOT NULL,
    ended_at      BIGINT,
    received_at   BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    notifications BIGINT NOT NULL,
    incident_id   TEXT,
    UNIQUE (source_id, fingerprint)
);
CREATE INDEX security_alerts_updated ON security_alerts(updated_at);
CREATE INDEX security_alerts_component ON security_alerts(component, started_at);

-- A signal and alerts on the same component (and region) at the same time.
CREATE TABLE suggestions (
    id          TEXT PRIMARY KEY,
    component   TEXT NOT NULL,
    -- Empty when neither side names a region.
    region      TEXT NOT NULL,
    title       TEXT NOT NULL,
    severity    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    status      TEXT NOT NULL,
    status_note TEXT,
    incident_id TEXT REFERENCES incidents(id),
    decided_by  TEXT,
    decided_at  BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX suggestions_one_open ON suggestions(component, region) WHERE status = 'open';
CREATE INDEX suggestions_updated ON suggestions(updated_at);

CREATE TABLE suggestion_links (
    suggestion_id TEXT NOT NULL REFERENCES suggestions(id) ON DELETE CASCADE,
    -- signal or alert
    kind          TEXT NOT NULL,
    ref_id        TEXT NOT NULL,
    linked_at     BIGINT NOT NULL,
    PRIMARY KEY (suggestion_id, kind, ref_id)
);
CREATE INDEX suggestion_links_ref ON suggestion_links(ref_id);
