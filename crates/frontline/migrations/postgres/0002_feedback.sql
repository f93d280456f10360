-- A subject is a person whose data we hold. Their data key is stored
-- wrapped by a key-encryption key; deleting the row makes everything sealed
-- under it unreadable.
CREATE TABLE subjects (
    id          TEXT PRIMARY KEY,
    key_version BIGINT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Keyed hashes of a subject's email address and phone number.
CREATE TABLE subject_index (
    blind      TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE
);
CREATE INDEX subject_index_subject ON subject_index(subject_id);

CREATE TABLE surveys (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    definition TEXT NOT NULL,
    active     BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Single-use survey links: the token is stored hashed.
CREATE TABLE survey_links (
    token_hash TEXT PRIMARY KEY,
    survey_id  TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE TABLE feedback (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    score           BIGINT,
    text            TEXT,
    search_text     TEXT,
    language        TEXT,
    channel         TEXT NOT NULL,
    component       TEXT,
    region          TEXT,
    journey_stage   TEXT,
    touchpoint      TEXT,
    survey_id       TEXT,
    question_id     TEXT,
    submission_id   TEXT,
    subject_id      TEXT REFERENCES subjects(id) ON DELETE SET NULL,
    contact_sealed  BYTEA,
    raw_text_sealed BYTEA,
    consent_text    TEXT,
    consent_at      BIGINT,
    pii             TEXT NOT NULL DEFAULT '',
    client_ip       TEXT,
    user_agent      TEXT,
    idempotency_key TEXT UNIQUE,
    occurred_at     BIGINT NOT NULL,
    received_at     BIGINT NOT NULL
);
CREATE INDEX feedback_occurred ON feedback(occurred_at);
CREATE INDEX feedback_received ON feedback(received_at);
CREATE INDEX feedback_subject ON feedback(subject_id);
CREATE INDEX feedback_survey ON feedback(survey_id, occurred_at);

-- Substring search in any script: trigram index over the normalised text.
-- The extension lives in public so that every schema can use it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX feedback_search ON feedback USING gin (search_text public.gin_trgm_ops);
