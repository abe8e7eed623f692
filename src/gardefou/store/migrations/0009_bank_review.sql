-- Anonymous submissions are reviewed before their hashes can remove anything (docs/banks.md):
-- a submission is 'pending' until a moderator confirms it ('confirmed') or rejects it
-- ('rejected'); 'withdrawn' stays. ``submitter`` is a keyed digest of the client address (never
-- the address), so the per-submitter limits hold across processes and workers.
ALTER TABLE bank_submissions ADD COLUMN submitter TEXT;
ALTER TABLE bank_submissions ADD COLUMN hashes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bank_submissions ADD COLUMN reviewed_at TEXT;
ALTER TABLE bank_submissions ADD COLUMN reviewed_by TEXT;
ALTER TABLE bank_submissions ADD COLUMN review_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX bank_submissions_submitter ON bank_submissions (submitter, created_at);
CREATE INDEX bank_submissions_status ON bank_submissions (status);
-- submissions made before review existed were never reviewed: they wait for a moderator too
UPDATE bank_submissions SET status = 'pending' WHERE status = 'active';
