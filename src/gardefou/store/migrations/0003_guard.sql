-- Guard audit: every refusal (and, when configured, every decision) of the generator guardrail.
-- The request is identified by a hash of its text and input-image hashes; the prompt text itself
-- is kept only when retention is enabled (prompt_text NULL otherwise), and purged after
-- retain_until by guard.audit.AuditLog.purge().
CREATE TABLE guard_audit (
    id {id},
    kind TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    action TEXT NOT NULL,
    categories TEXT NOT NULL,
    reasons_json TEXT NOT NULL,
    policy TEXT NOT NULL,
    unavailable TEXT NOT NULL,
    image_sha256 TEXT NOT NULL,
    prompt_text TEXT,
    retain_until TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX guard_audit_hash ON guard_audit (request_hash);
CREATE INDEX guard_audit_created ON guard_audit (created_at);
