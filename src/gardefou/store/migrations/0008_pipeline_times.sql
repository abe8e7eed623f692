-- Pipeline ledger times are epoch seconds. SQLite's REAL is an 8-byte float, but PostgreSQL's
-- REAL is 4 bytes: about 7 significant digits, so an epoch time was rounded to ~1-2 minutes.
-- On PostgreSQL the columns become DOUBLE PRECISION; on SQLite this migration changes nothing
-- ({pg} comments the statement out there).
{pg}ALTER TABLE pipeline_events ALTER COLUMN received_at TYPE DOUBLE PRECISION, ALTER COLUMN decided_at TYPE DOUBLE PRECISION, ALTER COLUMN latency_ms TYPE DOUBLE PRECISION;
