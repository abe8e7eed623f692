-- Video banks in the store (they were a JSON Lines file that concurrent writers could lose
-- entries from). A bank keeps its own thresholds; an entry keeps its frame hash lists as JSON
-- ([[pdq hex, quality, timestamp, frame number], ...]) for the plain and the bar-cropped
-- variant. Rows are never deleted: a removed entry keeps its row with removed_at set, so a
-- process's cached index can tell what disappeared. video_bank_imports records each JSON Lines
-- file already imported (by content digest), so the import happens once however many processes
-- start at the same time.
CREATE TABLE video_banks (
    id {id},
    name TEXT NOT NULL UNIQUE,
    distance INTEGER NOT NULL DEFAULT 31,
    quality INTEGER NOT NULL DEFAULT 50,
    query_pct DOUBLE PRECISION NOT NULL DEFAULT 80.0,
    entry_pct DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    negative INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE video_bank_entries (
    id {id},
    bank_id BIGINT NOT NULL REFERENCES video_banks (id),
    features TEXT NOT NULL,
    cropped TEXT NOT NULL DEFAULT '[]',
    md5 TEXT,
    sha256 TEXT,
    source TEXT NOT NULL DEFAULT '',
    case_id TEXT,
    note TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE INDEX video_bank_entries_bank ON video_bank_entries (bank_id);
CREATE INDEX video_bank_entries_md5 ON video_bank_entries (md5);
CREATE INDEX video_bank_entries_case ON video_bank_entries (case_id);
CREATE INDEX video_bank_entries_removed ON video_bank_entries (removed_at);
CREATE TABLE video_bank_imports (
    digest TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    entries INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);
