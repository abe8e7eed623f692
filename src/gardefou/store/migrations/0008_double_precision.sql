-- Epoch times (and scores) are REAL columns. SQLite's REAL is an 8-byte float, but PostgreSQL's
-- REAL is 4 bytes: about 7 significant digits, so an epoch time was rounded to ~2 minutes (a
-- 24-hour takedown window read back as 23.97 hours). On PostgreSQL every REAL column becomes
-- DOUBLE PRECISION; on SQLite this migration changes nothing ({pg} comments the lines out).
{pg}ALTER TABLE signal_results ALTER COLUMN score TYPE DOUBLE PRECISION;
{pg}ALTER TABLE banks ALTER COLUMN enable_ratio TYPE DOUBLE PRECISION;
{pg}ALTER TABLE strikes ALTER COLUMN weight TYPE DOUBLE PRECISION;
{pg}ALTER TABLE sanctions ALTER COLUMN points TYPE DOUBLE PRECISION;
{pg}ALTER TABLE thread_posts ALTER COLUMN request_score TYPE DOUBLE PRECISION;
{pg}ALTER TABLE pipeline_events ALTER COLUMN received_at TYPE DOUBLE PRECISION, ALTER COLUMN decided_at TYPE DOUBLE PRECISION, ALTER COLUMN latency_ms TYPE DOUBLE PRECISION;
{pg}ALTER TABLE backfill_items ALTER COLUMN finished_at TYPE DOUBLE PRECISION;
{pg}ALTER TABLE takedown_requests ALTER COLUMN received_at TYPE DOUBLE PRECISION, ALTER COLUMN deadline_at TYPE DOUBLE PRECISION, ALTER COLUMN closed_at TYPE DOUBLE PRECISION;
{pg}ALTER TABLE takedown_events ALTER COLUMN at TYPE DOUBLE PRECISION;
{pg}ALTER TABLE takedown_removals ALTER COLUMN removed_at TYPE DOUBLE PRECISION;
{pg}ALTER TABLE review_media ALTER COLUMN stored_at TYPE DOUBLE PRECISION, ALTER COLUMN expires_at TYPE DOUBLE PRECISION;
