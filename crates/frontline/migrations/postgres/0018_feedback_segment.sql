-- The customer segment of a feedback item (enterprise, consumer, ...), so
-- that NPS, CSAT and CES can be read by segment like tickets' figures.
ALTER TABLE feedback ADD COLUMN segment TEXT;
