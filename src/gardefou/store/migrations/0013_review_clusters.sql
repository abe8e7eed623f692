-- Review at flood scale (docs/web.md "Review media" and "Clusters").
-- review_media rows are now encrypted at rest (AES-256-GCM, the evidence blobs' scheme; rows
-- kept before this migration stay plaintext, encrypted = 0, until purged) and say whose image
-- they are: the case's own ('media') or the parent post's, kept beside a reply's case ('parent').
ALTER TABLE review_media ADD COLUMN role TEXT NOT NULL DEFAULT 'media';
ALTER TABLE review_media ADD COLUMN encrypted INTEGER NOT NULL DEFAULT 0;
-- A post's images held, encrypted, for the policy's review_media.parent_hours, so that a reply
-- sexualizing them can show its moderator the original beside the edit; purged on expiry.
CREATE TABLE thread_media (
    id {id},
    post_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    data {blob} NOT NULL,
    thumb {blob},
    thumb_blurred {blob},
    stored_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    UNIQUE (post_id, sha256)
);
CREATE INDEX thread_media_expiry ON thread_media (expires_at);
-- What makes cases one cluster in the queue: a victim-bank entry, a parent post, a consent
-- template (exact keys), or a PDQ hash (near: within the bank threshold).
CREATE TABLE case_keys (
    case_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, value)
);
CREATE INDEX case_keys_value ON case_keys (kind, value)
;
-- The text of a sexualizing request (a post asking a bot to undress someone), held as long as
-- thread_media, so the bot's reply's case can show the moderator what linked the two images.
CREATE TABLE thread_requests (
    post_id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
)
