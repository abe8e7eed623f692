-- Feedback to exchanges names the event whose decision matched the entry, so the moderator's
-- outcome on that event's case (violating or not) is queued for the same entries.
ALTER TABLE exchange_feedback ADD COLUMN event_id TEXT;
CREATE INDEX exchange_feedback_event ON exchange_feedback (event_id);
