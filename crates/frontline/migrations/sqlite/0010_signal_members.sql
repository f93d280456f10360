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
