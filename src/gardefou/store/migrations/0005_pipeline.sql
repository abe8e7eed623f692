-- Pipeline: the processed-event ledger (one row per decided event: the idempotency key that makes
-- at-least-once delivery decide each event exactly once in effect), poison events set aside with
-- their reason, and per-item progress of archive backfills (resumable, idempotent).
CREATE TABLE pipeline_events (
    event_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    origin TEXT NOT NULL,
    worker TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    received_at REAL NOT NULL,
    decided_at REAL NOT NULL,
    latency_ms REAL NOT NULL
);
CREATE INDEX pipeline_events_action ON pipeline_events (action);
CREATE INDEX pipeline_events_decided ON pipeline_events (decided_at);
CREATE TABLE dead_letters (
    id {id},
    dedup_key TEXT NOT NULL UNIQUE,
    event_id TEXT,
    origin TEXT NOT NULL,
    reason_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload_excerpt TEXT NOT NULL,
    payload_bytes INTEGER NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    worker TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX dead_letters_reason ON dead_letters (reason_code);
CREATE TABLE backfill_items (
    run_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    sha256 TEXT,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    finished_at REAL NOT NULL,
    PRIMARY KEY (run_id, item_key)
);
