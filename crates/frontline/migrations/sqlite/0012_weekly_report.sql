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
