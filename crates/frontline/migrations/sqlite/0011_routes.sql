-- Routes: where early warnings go out to the security team (Slack, Teams,
-- PagerDuty, email, Standard Webhooks), with their rules. The target (a
-- webhook URL with its token, a routing key, a signing secret, an email
-- address) is sealed under a subject of the route's own, like a
-- subscriber's address, and shown only masked.
CREATE TABLE routes (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    -- slack, teams, pagerduty, email, webhook.
    kind            TEXT NOT NULL,
    subject_id      TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    target_sealed   BLOB NOT NULL,
    -- JSON arrays: the events it takes; topics and components (empty: any).
    events          TEXT NOT NULL,
    min_severity    TEXT NOT NULL,
    topics          TEXT NOT NULL,
    components      TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    -- Why it was disabled (e.g. "410 gone"); NULL when enabled.
    disabled_reason TEXT,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Which routes a signal, suggestion or incident was sent to, with what was
-- said, so that its acknowledge and resolve follow the trigger there.
CREATE TABLE route_pages (
    ref_id    TEXT NOT NULL,
    route_id  TEXT NOT NULL REFERENCES routes(id) ON DELETE CASCADE,
    -- The trigger's message (JSON), the follow-ups' starting point.
    payload   TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    PRIMARY KEY (ref_id, route_id)
);

-- Every delivery attempt of a route's message: when, the answer's status
-- code, the error category, how long it took. No personal data.
CREATE TABLE route_attempts (
    message_id  TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    route_id    TEXT NOT NULL REFERENCES routes(id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    -- sent, retry, failed, cancelled.
    outcome     TEXT NOT NULL,
    status_code INTEGER,
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (message_id, attempt)
);
CREATE INDEX route_attempts_route ON route_attempts(route_id, at);
CREATE INDEX outbox_recipient ON outbox(recipient_id, created_at);
