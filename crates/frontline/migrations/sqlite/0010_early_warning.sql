-- The reports behind a signal that is not a plain series: the members of a
-- near-duplicate cluster (many customers forwarding the same scam message).
-- Deleting a report (retention, erasure) removes it here too.
CREATE TABLE signal_members (
    series      TEXT NOT NULL,
    feedback_id TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    occurred_at BIGINT NOT NULL,
    PRIMARY KEY (series, feedback_id)
);
CREATE INDEX signal_members_feedback ON signal_members(feedback_id);

-- Admins' own lexicon terms, on top of the built-in lexicon: a row replaces
-- every built-in entry for its language and term; role 'removed' takes the
-- term out.
CREATE TABLE lexicon_terms (
    lang       TEXT NOT NULL,
    term       TEXT NOT NULL,
    role       TEXT NOT NULL,
    weight     REAL NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (lang, term)
);

-- The detector's expected level and usual upper bound per minute, kept for
-- series with a recent signal, so its chart can show the band over time.
CREATE TABLE signal_band (
    series   TEXT NOT NULL,
    minute   BIGINT NOT NULL,
    expected REAL NOT NULL,
    upper    REAL NOT NULL,
    PRIMARY KEY (series, minute)
);
