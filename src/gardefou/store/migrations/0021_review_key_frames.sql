-- A clip's key frames kept for review carry their time in the clip (seconds), so the console
-- shows them as a strip with timestamps; NULL for an image.
ALTER TABLE review_media ADD COLUMN frame_at DOUBLE PRECISION
