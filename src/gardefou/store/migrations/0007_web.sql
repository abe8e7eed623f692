-- Web service: API keys (hashed, never stored in clear), takedown requests under the TAKE IT DOWN
-- Act and regulators' removal notices (hashes and locations, never the person's photo), their
-- status history and the copies removed, reviewer exposure counters (wellness), and the few
-- review images kept blurred for moderators until the case closes.
CREATE TABLE api_keys (
    id {id},
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE takedown_requests (
    id {id},
    case_number TEXT NOT NULL UNIQUE,
    pin_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    lang TEXT NOT NULL,
    signature_name TEXT NOT NULL,
    signature_on_behalf INTEGER NOT NULL,
    signature_authority TEXT NOT NULL,
    depiction_description TEXT NOT NULL,
    good_faith_statement TEXT NOT NULL,
    contact_json TEXT NOT NULL,
    issuer TEXT NOT NULL,
    issuer_reference TEXT NOT NULL,
    received_at REAL NOT NULL,
    deadline_at REAL NOT NULL,
    closed_at REAL,
    resolution TEXT NOT NULL,
    copies_removed INTEGER NOT NULL DEFAULT 0,
    bank_entries INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX takedown_requests_open ON takedown_requests (status, deadline_at);
CREATE TABLE takedown_items (
    id {id},
    request_id INTEGER NOT NULL REFERENCES takedown_requests (id),
    item_type TEXT NOT NULL,
    value TEXT NOT NULL,
    quality INTEGER
);
CREATE INDEX takedown_items_request ON takedown_items (request_id);
CREATE TABLE takedown_events (
    id {id},
    request_id INTEGER NOT NULL REFERENCES takedown_requests (id),
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX takedown_events_request ON takedown_events (request_id);
CREATE TABLE takedown_removals (
    id {id},
    request_id INTEGER NOT NULL REFERENCES takedown_requests (id),
    sha256 TEXT NOT NULL,
    distance INTEGER NOT NULL,
    removed_at REAL NOT NULL,
    UNIQUE (request_id, sha256)
);
CREATE TABLE reviewer_exposure (
    reviewer TEXT NOT NULL,
    day TEXT NOT NULL,
    items_viewed INTEGER NOT NULL DEFAULT 0,
    media_revealed INTEGER NOT NULL DEFAULT 0,
    decisions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (reviewer, day)
);
CREATE TABLE review_media (
    id {id},
    event_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    data {blob} NOT NULL,
    stored_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    UNIQUE (event_id, sha256)
);
CREATE INDEX review_media_event ON review_media (event_id)
