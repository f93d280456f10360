-- The weekly scorecard email: who opted in, and which weeks went out.

-- A staff user who wants the weekly report (they also need reports:view
-- when it is sent).
ALTER TABLE users ADD COLUMN weekly_report BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per week sent on schedule (ISO week, e.g. 2026-W48): queued in
-- the transaction that queues the emails, so a week goes out once however
-- many nodes look.
CREATE TABLE weekly_reports (
    week       TEXT PRIMARY KEY,
    queued_at  BIGINT NOT NULL,
    recipients BIGINT NOT NULL
);

-- Monthly rollups beside the daily ones (same columns; day: the month's
-- first day, days since 1970-01-01), kept in the same transactions and by
-- scorecard-rebuild: a year by month reads 12 rows per value, not 365.
CREATE TABLE feedback_monthly (
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

CREATE TABLE ticket_monthly (
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

CREATE TABLE ticket_hist_monthly (
    dim    TEXT NOT NULL,
    value  TEXT NOT NULL,
    day    BIGINT NOT NULL,
    metric TEXT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (dim, metric, value, day)
);
