-- Review thumbnails are made once, when a case's image is kept, and stored with it: the console
-- serves them and never decodes the original again (a hostile GIF cost 33 s of CPU per view).
-- NULL on rows kept before this migration: made once on first view, then stored.
ALTER TABLE review_media ADD COLUMN thumb {blob};
ALTER TABLE review_media ADD COLUMN thumb_blurred {blob}
