-- Web hardening (issue 13). pin_attempts: wrong-PIN counters per case number (known or not, so
-- the lockout is no oracle for which cases exist), shared by every worker: the lockout holds
-- whatever address or process the guesses come from. takedown_requests.verified: a regulator's
-- notice filed through an authenticated channel (staff key); anonymous notices stay unverified
-- and get the ordinary deadline.
CREATE TABLE pin_attempts (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX pin_attempts_updated ON pin_attempts (updated_at);
ALTER TABLE takedown_requests ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
