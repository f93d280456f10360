-- Audience pages: a status page for one customer segment, at a secret
-- link, showing only that segment's components (private ones included).
CREATE TABLE audience_pages (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    segment     TEXT,
    -- SHA-256 (hex) of the link's key; the key itself is shown once.
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE audience_page_components (
    page_id      TEXT NOT NULL REFERENCES audience_pages(id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    PRIMARY KEY (page_id, component_id)
);

-- The overview's delivery health: messages per state in the last day.
CREATE INDEX outbox_state_updated ON outbox(state, updated_at);
