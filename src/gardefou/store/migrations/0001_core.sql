-- Core: media seen by gardefou (hashes and facts, never the pixels) and the signals computed.
CREATE TABLE media (
    sha256 TEXT PRIMARY KEY,
    md5 TEXT NOT NULL,
    pdq TEXT,
    pdq_quality INTEGER,
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    frames INTEGER NOT NULL DEFAULT 1,
    byte_size INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_source TEXT
);
CREATE INDEX media_pdq ON media (pdq);
CREATE TABLE signal_results (
    id {id},
    sha256 TEXT NOT NULL REFERENCES media (sha256),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    available INTEGER NOT NULL,
    score REAL,
    value_json TEXT,
    explanation TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (sha256, name, version)
);
CREATE TABLE scan_errors (
    id {id},
    source TEXT NOT NULL,
    error_type TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL
);
