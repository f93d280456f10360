-- Subscribers to status page notices: email (double opt-in), webhooks
-- (Standard Webhooks), Slack, Microsoft Teams, SMS. The address (and a
-- webhook's signing secret) is personal data: sealed under the subject's
-- data key, found again through a keyed hash (blind), never stored plain.
-- Erasing the person (deleting their subject) removes the subscription.
CREATE TABLE subscribers (
    id             TEXT PRIMARY KEY,
    channel        TEXT NOT NULL,
    subject_id     TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    blind          TEXT NOT NULL,
    contact_sealed BLOB NOT NULL,
    language       TEXT NOT NULL,
    -- TRUE: every component; otherwise the rows of subscriber_components.
    all_components BOOLEAN NOT NULL,
    -- pending (awaiting confirmation), active, unsubscribed, disabled.
    state          TEXT NOT NULL,
    source         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    confirmed_at   BIGINT,
    updated_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX subscribers_address ON subscribers(channel, blind);
CREATE INDEX subscribers_state ON subscribers(state);
CREATE INDEX subscribers_subject ON subscribers(subject_id);

CREATE TABLE subscriber_components (
    subscriber_id TEXT NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    component_id  TEXT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    PRIMARY KEY (subscriber_id, component_id)
);
CREATE INDEX subscriber_components_component ON subscriber_components(component_id);

-- An incident's affected customers, imported by staff, told directly.
CREATE TABLE affected_customers (
    id             TEXT PRIMARY KEY,
    incident_id    TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    subject_id     TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    blind          TEXT NOT NULL,
    contact_sealed BLOB NOT NULL,
    -- email or sms: how they are told.
    channel        TEXT NOT NULL,
    language       TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX affected_customers_once ON affected_customers(incident_id, blind);

-- The transactional outbox: a message is written in the transaction that
-- causes it (a published update, a sign-up) and delivered by the worker.
-- id is stable (update.recipient), so it doubles as the idempotency key
-- receivers see (email Message-ID, webhook-id). No personal data here:
-- the recipient is a reference, last_error a category and status code.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    -- notice or confirm.
    purpose         TEXT NOT NULL,
    incident_id     TEXT,
    update_id       TEXT,
    -- subscriber or affected.
    recipient_kind  TEXT NOT NULL,
    recipient_id    TEXT NOT NULL,
    channel         TEXT NOT NULL,
    language        TEXT NOT NULL,
    payload         TEXT NOT NULL,
    -- queued, sending, sent, failed, bounced.
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_update ON outbox(update_id, state);
CREATE INDEX outbox_incident ON outbox(incident_id, state);
