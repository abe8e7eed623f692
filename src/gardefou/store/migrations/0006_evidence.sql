-- Evidence: an append-only Merkle log (RFC 9162), signed checkpoints, encrypted blobs, legal holds.
-- evidence_entries.body is the exact leaf data (canonical JSON); leaf_hash = SHA-256(0x00 || body).
CREATE TABLE evidence_entries (
    seq BIGINT PRIMARY KEY,
    leaf_hash {blob} NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX evidence_entries_subject ON evidence_entries (subject);
CREATE TABLE evidence_checkpoints (
    tree_size BIGINT PRIMARY KEY,
    root {blob} NOT NULL,
    note TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature {blob} NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE evidence_blobs (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    byte_size BIGINT NOT NULL,
    account TEXT,
    bank TEXT,
    labels_json TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    retain_until TEXT NOT NULL,
    deleted_at TEXT,
    entry_seq BIGINT NOT NULL
);
CREATE INDEX evidence_blobs_account ON evidence_blobs (account);
CREATE INDEX evidence_blobs_retain ON evidence_blobs (retain_until);
CREATE TABLE evidence_holds (
    id {id},
    name TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL,
    placed_by TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    released_at TEXT,
    released_by TEXT,
    account TEXT,
    bank TEXT,
    kind TEXT,
    time_from TEXT,
    time_to TEXT,
    match_json TEXT
);
