-- Hash banks: banks of PDQ hashes (+ optional MD5/SHA-256), hash-only submissions by the people
-- depicted, and an audit trail of every change (who, when, why). Rows are never deleted: a removed
-- bank or entry keeps its row with deleted_at / removed_at set, so the on-disk index and the
-- audit trail stay consistent with the table.
CREATE TABLE banks (
    id {id},
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    threshold INTEGER NOT NULL DEFAULT 31,
    negative INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1,
    enable_ratio REAL NOT NULL DEFAULT 1.0,
    created_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE TABLE bank_submissions (
    id {id},
    case_number TEXT NOT NULL UNIQUE,
    pin_hash TEXT NOT NULL,
    bank_id BIGINT NOT NULL REFERENCES banks (id),
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE TABLE bank_entries (
    id {id},
    bank_id BIGINT NOT NULL REFERENCES banks (id),
    pdq TEXT NOT NULL,
    quality INTEGER NOT NULL,
    md5 TEXT,
    sha256 TEXT,
    extra_pdq TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    case_id TEXT,
    note TEXT NOT NULL DEFAULT '',
    submission_id BIGINT REFERENCES bank_submissions (id),
    enabled INTEGER NOT NULL DEFAULT 1,
    added_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE INDEX bank_entries_bank ON bank_entries (bank_id);
CREATE INDEX bank_entries_pdq ON bank_entries (pdq);
CREATE INDEX bank_entries_md5 ON bank_entries (md5);
CREATE INDEX bank_entries_sha256 ON bank_entries (sha256);
CREATE INDEX bank_entries_submission ON bank_entries (submission_id);
CREATE TABLE bank_audit (
    id {id},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    bank_id BIGINT,
    entry_id BIGINT,
    submission_id BIGINT,
    reason TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX bank_audit_bank ON bank_audit (bank_id);
CREATE INDEX bank_audit_entry ON bank_audit (entry_id);
