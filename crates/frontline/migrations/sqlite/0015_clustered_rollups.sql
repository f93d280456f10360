-- The scorecard's rollup tables clustered on their keys (WITHOUT ROWID):
-- a query reads the rows of one dimension over a range of days, which
-- are then next to each other in the table itself instead of found one
-- by one through the primary-key index (a year by day by a dimension is
-- thousands of rows, the histograms among them a kilobyte each).

CREATE TABLE feedback_daily_new (
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
) WITHOUT ROWID;
INSERT INTO feedback_daily_new SELECT dim, value, kind, day, n, score_n, score_sum, top, bottom, negative, sentiment_n, sentiment_sum FROM feedback_daily;
DROP TABLE feedback_daily;
ALTER TABLE feedback_daily_new RENAME TO feedback_daily;

CREATE TABLE feedback_monthly_new (
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
) WITHOUT ROWID;
INSERT INTO feedback_monthly_new SELECT dim, value, kind, day, n, score_n, score_sum, top, bottom, negative, sentiment_n, sentiment_sum FROM feedback_monthly;
DROP TABLE feedback_monthly;
ALTER TABLE feedback_monthly_new RENAME TO feedback_monthly;

CREATE TABLE ticket_daily_new (
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
) WITHOUT ROWID;
INSERT INTO ticket_daily_new SELECT dim, value, day, created, solved, fcr, reopened, frt_met, frt_missed, res_met, res_missed, backlog_delta FROM ticket_daily;
DROP TABLE ticket_daily;
ALTER TABLE ticket_daily_new RENAME TO ticket_daily;

CREATE TABLE ticket_monthly_new (
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
) WITHOUT ROWID;
INSERT INTO ticket_monthly_new SELECT dim, value, day, created, solved, fcr, reopened, frt_met, frt_missed, res_met, res_missed, backlog_delta FROM ticket_monthly;
DROP TABLE ticket_monthly;
ALTER TABLE ticket_monthly_new RENAME TO ticket_monthly;

CREATE TABLE ticket_hist_new (
    dim    TEXT NOT NULL,
    value  TEXT NOT NULL,
    day    BIGINT NOT NULL,
    metric TEXT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (dim, metric, value, day)
) WITHOUT ROWID;
INSERT INTO ticket_hist_new SELECT dim, value, day, metric, counts FROM ticket_hist;
DROP TABLE ticket_hist;
ALTER TABLE ticket_hist_new RENAME TO ticket_hist;

CREATE TABLE ticket_hist_monthly_new (
    dim    TEXT NOT NULL,
    value  TEXT NOT NULL,
    day    BIGINT NOT NULL,
    metric TEXT NOT NULL,
    counts TEXT NOT NULL,
    PRIMARY KEY (dim, metric, value, day)
) WITHOUT ROWID;
INSERT INTO ticket_hist_monthly_new SELECT dim, value, day, metric, counts FROM ticket_hist_monthly;
DROP TABLE ticket_hist_monthly;
ALTER TABLE ticket_hist_monthly_new RENAME TO ticket_hist_monthly;
