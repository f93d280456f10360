-- Support tickets, their history, SLA policies and business calendars,
-- CSAT links, journey stages, and the daily rollups the scorecard reads.

-- Business-hour calendars: a time zone, periods per weekday (JSON array of
-- {day, start, end} in local "HH:MM"), holidays (JSON array of dates).
CREATE TABLE sla_calendars (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    timezone   TEXT NOT NULL,
    periods    TEXT NOT NULL,
    holidays   TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Targets by priority and segment (NULL: any). The most specific match wins.
CREATE TABLE sla_policies (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL UNIQUE,
    priority              TEXT,
    segment               TEXT,
    first_response_mins   BIGINT,
    next_response_mins    BIGINT,
    resolution_mins       BIGINT,
    calendar_id           TEXT REFERENCES sla_calendars(id),
    warn_before_mins      BIGINT NOT NULL,
    created_at            BIGINT NOT NULL
);

CREATE TABLE tickets (
    id                 TEXT PRIMARY KEY,
    title              TEXT NOT NULL,
    status             TEXT NOT NULL,
    priority           TEXT NOT NULL,
    channel            TEXT NOT NULL,
    segment            TEXT,
    component          TEXT,
    language           TEXT,
    journey_stage      TEXT,
    touchpoint         TEXT,
    topic              TEXT,
    group_name         TEXT,
    assignee_id        TEXT REFERENCES users(id),
    incident_id        TEXT REFERENCES incidents(id),
    feedback_id        TEXT,
    subject_id         TEXT REFERENCES subjects(id) ON DELETE SET NULL,
    contact_sealed     BLOB,
    -- Keyed hash of the customer's email (else phone): repeats are found
    -- without decrypting anything.
    contact_blind      TEXT,
    tracking_hash      TEXT NOT NULL UNIQUE,
    repeat_of          TEXT,
    sla_policy_id      TEXT REFERENCES sla_policies(id) ON DELETE SET NULL,
    -- The SLA clock: business ms counted so far, and since when it runs
    -- (NULL while paused or stopped).
    clock_bms          BIGINT NOT NULL,
    clock_since        BIGINT,
    frt_due_at         BIGINT,
    nrt_due_at         BIGINT,
    res_due_at         BIGINT,
    frt_breached       BOOLEAN NOT NULL,
    nrt_breached       BOOLEAN NOT NULL,
    res_breached       BOOLEAN NOT NULL,
    first_response_at  BIGINT,
    first_response_ms  BIGINT,
    first_response_bms BIGINT,
    solved_at          BIGINT,
    solve_ms           BIGINT,
    solve_bms          BIGINT,
    closed_at          BIGINT,
    agent_replies      BIGINT NOT NULL,
    reopen_count       BIGINT NOT NULL,
    csat_offered       BOOLEAN NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX tickets_status ON tickets(status, priority);
CREATE INDEX tickets_assignee ON tickets(assignee_id, status);
CREATE INDEX tickets_incident ON tickets(incident_id);
CREATE INDEX tickets_blind ON tickets(contact_blind, created_at);
CREATE INDEX tickets_subject ON tickets(subject_id);
CREATE INDEX tickets_frt_due ON tickets(frt_due_at);
CREATE INDEX tickets_nrt_due ON tickets(nrt_due_at);
CREATE INDEX tickets_res_due ON tickets(res_due_at);

-- A ticket's history: every change, public replies (agent or customer),
-- internal notes, SLA warnings and breaches.
CREATE TABLE ticket_events (
    id        TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    public    BOOLEAN NOT NULL,
    body      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, at);

-- One warning and one breach per ticket, target and due instant.
CREATE TABLE ticket_sla_alerts (
    ticket_id TEXT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    target    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    due_at    BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    delivered BOOLEAN NOT NULL,
    PRIMARY KEY (ticket_id, target, kind, due_at)
);

-- The CSAT answer given for a ticket (a csat feedback item).
CREATE TABLE ticket_csat (
    ticket_id   TEXT PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    feedback_id TEXT NOT NULL,
    at          BIGINT NOT NULL
);

-- Journey map: stages in order, touchpoints within them.
CREATE TABLE journey_stages (
    key        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    position   BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE journey_touchpoints (
    key       TEXT PRIMARY KEY,
    stage_key TEXT NOT NULL REFERENCES journey_stages(key) ON DELETE CASCADE,
    name      TEXT NOT NULL
);

-- Daily rollups, maintained in the transaction of the write they count.
-- dim: all, channel, segment, component, language, journey_stage (tickets);
-- all, channel, component, language, journey_stage, region, stage_topic,
-- stage_touchpoint (feedback). day: days since 1970-01-01 (UTC).
CREATE TABLE feedback_daily (
    dim           TEXT NOT NULL,
    value         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    day           BIGINT NOT NULL,
    n             BIGINT NOT NULL,
    score_n       BIGINT NOT NULL,
    score_sum     BIGINT NOT NULL,
    top           BIGINT NOT NULL,
    bottom        BIGINT NOT NULL,
    negative      BIGINT NOT NULL,
    sentiment_n   BIGINT NOT NULL,
    sentiment_sum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (dim, value, kind, day)
);

CREATE TABLE ticket_daily (
    dim           TEXT NOT NULL,
    value         TEXT NOT NULL,
    day           BIGINT NOT NULL,
    created       BIGINT NOT NULL,
    solved        BIGINT NOT NULL,
    fcr           BIGINT NOT NULL,
    reopened      BIGINT NOT NULL,
    frt_met       BIGINT NOT NULL,
    frt_missed    BIGINT NOT NULL,
    res_met       BIGINT NOT NULL,
    res_missed    BIGINT NOT NULL,
    backlog_delta BIGINT NOT NULL,
    PRIMARY KEY (dim, value, day)
);

-- Histograms of first-response and resolution times (metric: frt_cal,
-- frt_bus, res_cal, res_bus), log buckets of 10%, one row per day as
-- "bucket:count,..." so that a year by component is thousands of rows, not
-- a million: medians and p90s from any range without reading tickets.
CREATE TABLE ticket_hist (
    dim    TEXT NOT NULL,
    value  TEXT NOT NULL,
    day    BIGINT NOT NULL,
    metric TEXT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (dim, metric, value, day)
);
