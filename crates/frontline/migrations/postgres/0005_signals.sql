-- Early-warning signals: a series of feedback rose significantly.
CREATE TABLE signals (
    id             TEXT PRIMARY KEY,
    series         TEXT NOT NULL,
    title          TEXT NOT NULL,
    topic          TEXT,
    component      TEXT,
    region         TEXT,
    channel        TEXT,
    status         TEXT NOT NULL,
    observed       DOUBLE PRECISION NOT NULL,
    expected       DOUBLE PRECISION NOT NULL,
    upper_bound    DOUBLE PRECISION NOT NULL,
    observed_total DOUBLE PRECISION NOT NULL,
    expected_total DOUBLE PRECISION NOT NULL,
    p_value        DOUBLE PRECISION NOT NULL,
    started_at     BIGINT NOT NULL,
    fired_at       BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    status_note    TEXT,
    incident_id    TEXT
);
CREATE INDEX signals_series ON signals(series, status);
CREATE INDEX signals_fired ON signals(fired_at);

-- The detector's learned baselines, so a restart does not forget them.
CREATE TABLE detector_state (
    name       TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    minute     BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
