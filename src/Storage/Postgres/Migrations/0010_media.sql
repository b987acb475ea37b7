-- The content repository's metadata; the bytes live outside the database (docs/adr/0019). A row is created either
-- pending (POST /media/v1/create: uploaded_ts NULL, unused_expires_ts set) or uploaded (POST /upload, or the PUT that
-- completes a pending one). A pending row past unused_expires_ts is dead: it can no longer be uploaded to.
CREATE TABLE media (
    media_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    user_id TEXT COLLATE "C" NOT NULL,
    created_ts BIGINT NOT NULL,
    unused_expires_ts BIGINT,
    uploaded_ts BIGINT,
    content_type TEXT,
    upload_name TEXT,
    size_bytes BIGINT
);

-- Counting a user's pending uploads (the spec's limit on concurrent pending media).
CREATE INDEX media_pending_by_user ON media (user_id, unused_expires_ts) WHERE uploaded_ts IS NULL;
