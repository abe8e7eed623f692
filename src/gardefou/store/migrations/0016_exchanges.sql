-- Hash exchanges (StopNCII, file snapshots) feeding banks, and bank entries as faithful as the
-- formats that carry them. bank_entries: ``disabled_until`` (unix seconds; HMA's
-- disable_until_ts beyond its 0/1 magic values: the entry does not match before then),
-- ``content_id`` and ``metadata`` (JSON) as HMA bank content keeps them.
-- bank_other_signals: signal types gardefou does not match yet (video_md5, vpdq, ...), kept,
-- counted and exported instead of failing the import that carries them.
-- exchanges: one row per configured exchange, mapped to a bank; ``credentials`` is only a
-- reference (env:VAR or file:PATH), never a secret. ``checkpoint`` is committed in the same
-- transaction as the page of entries it covers, so a kill at any point resumes without loss
-- or duplicates. exchange_signals: what each exchange said about each (type, value), the
-- provenance of the bank row it became; ``ref`` is the exchange's own id for the item (NCMEC
-- deletes entries by id, without their hashes). exchange_feedback: opinions queued for the exchange
-- (seen, blocked, not blocked), retried until sent.
ALTER TABLE bank_entries ADD COLUMN disabled_until DOUBLE PRECISION;
ALTER TABLE bank_entries ADD COLUMN content_id TEXT;
ALTER TABLE bank_entries ADD COLUMN metadata TEXT NOT NULL DEFAULT '';
CREATE TABLE bank_other_signals (
    id {id},
    bank_id BIGINT NOT NULL REFERENCES banks (id),
    signal_type TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    content_id TEXT,
    case_id TEXT,
    note TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_until DOUBLE PRECISION,
    added_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE INDEX bank_other_signals_bank ON bank_other_signals (bank_id, signal_type);
CREATE INDEX bank_other_signals_value ON bank_other_signals (signal_type, value);
CREATE TABLE exchanges (
    id {id},
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    bank_id BIGINT NOT NULL REFERENCES banks (id),
    url TEXT NOT NULL DEFAULT '',
    credentials TEXT NOT NULL DEFAULT '',
    config TEXT NOT NULL DEFAULT '{{}}',
    enabled INTEGER NOT NULL DEFAULT 1,
    checkpoint TEXT NOT NULL DEFAULT '',
    pages INTEGER NOT NULL DEFAULT 0,
    last_fetch_at TEXT,
    last_success_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE TABLE exchange_signals (
    id {id},
    exchange_id BIGINT NOT NULL REFERENCES exchanges (id),
    signal_type TEXT NOT NULL,
    value TEXT NOT NULL,
    status TEXT NOT NULL,
    ref TEXT,
    entry_id BIGINT,
    other_id BIGINT,
    metadata TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    UNIQUE (exchange_id, signal_type, value)
);
CREATE INDEX exchange_signals_entry ON exchange_signals (entry_id);
CREATE INDEX exchange_signals_ref ON exchange_signals (exchange_id, ref);
CREATE TABLE exchange_feedback (
    id {id},
    exchange_id BIGINT NOT NULL REFERENCES exchanges (id),
    signal_type TEXT NOT NULL,
    value TEXT NOT NULL,
    entry_id BIGINT,
    verdict TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX exchange_feedback_due ON exchange_feedback (status, next_attempt_at);
