-- A subject is a person whose data we hold. Their data key is stored
-- wrapped by a key-encryption key; deleting the row makes everything sealed
-- under it unreadable.
CREATE TABLE subjects (
    id          TEXT PRIMARY KEY,
    key_version INTEGER NOT NULL,
    wrapped_key BLOB NOT NULL,
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
    score           INTEGER,
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
    contact_sealed  BLOB,
    raw_text_sealed BLOB,
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

-- Substring search in any script (Chinese has no spaces; Persian and
-- Gujarati words carry joiners and marks): trigrams of the normalised text.
CREATE VIRTUAL TABLE feedback_fts USING fts5(
    search_text, content='feedback', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER feedback_fts_insert AFTER INSERT ON feedback BEGIN
    INSERT INTO feedback_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER feedback_fts_delete AFTER DELETE ON feedback BEGIN
    INSERT INTO feedback_fts(feedback_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER feedback_fts_update AFTER UPDATE OF search_text ON feedback BEGIN
    INSERT INTO feedback_fts(feedback_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO feedback_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
END;
