-- What analysis found in each item: its topic, its sentiment, and the
-- indicators (scam links, senders' numbers...) customers quoted.
ALTER TABLE feedback ADD COLUMN topic TEXT;
ALTER TABLE feedback ADD COLUMN sentiment DOUBLE PRECISION;
CREATE INDEX feedback_topic ON feedback(topic, occurred_at);

CREATE TABLE feedback_indicators (
    feedback_id TEXT NOT NULL REFERENCES feedback(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    defanged    TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    PRIMARY KEY (feedback_id, key)
);
CREATE INDEX feedback_indicators_key ON feedback_indicators(key, occurred_at);
