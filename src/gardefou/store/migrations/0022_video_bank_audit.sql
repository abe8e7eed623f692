-- Who removed a video bank entry, when and why (the image banks' bank_audit, for video banks):
-- a removal over HTTP or by a submission's review writes its row in the removal's transaction.
-- bank_id and entry_id are video_banks / video_bank_entries ids, a separate id space from the
-- image banks', hence a table of its own.
CREATE TABLE video_bank_audit (
    id {id},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    bank_id BIGINT,
    entry_id BIGINT,
    reason TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX video_bank_audit_bank ON video_bank_audit (bank_id);
CREATE INDEX video_bank_audit_entry ON video_bank_audit (entry_id);
