-- Web hardening (issue 13). pin_attempts: wrong-PIN counters per case number (known or not, so
-- the lockout is no oracle for which cases exist), shared by every worker: the lockout holds
-- whatever address or process the guesses come from. takedown_requests.verified: a regulator's
-- notice filed through an authenticated channel (staff key); anonymous notices stay unverified
-- and get the ordinary deadline. Times are DOUBLE PRECISION: PostgreSQL's REAL would round an
-- epoch time to ~2 minutes (see 0008), enough to lose a one-minute lock.
CREATE TABLE pin_attempts (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX pin_attempts_updated ON pin_attempts (updated_at);
ALTER TABLE takedown_requests ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
