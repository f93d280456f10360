-- The header that carries the signing time of an HMAC source (Grafana's
-- "timestamp header"): when set, the signature covers "<unix seconds>:<body>"
-- and a signature older or newer than five minutes is refused. Empty: the
-- signature covers the body alone.
ALTER TABLE alert_sources ADD COLUMN timestamp_header TEXT NOT NULL DEFAULT '';
