-- The remote media cache is bounded (docs/adr/0049): every cached file of another server's media, original or
-- thumbnail, has a size and a last access time, and the least recently used are evicted first. Existing originals
-- start with last_access_ts 0, so they are the first to go.
ALTER TABLE remote_media ADD COLUMN last_access_ts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX remote_media_last_access ON remote_media (last_access_ts);
CREATE UNIQUE INDEX remote_media_file ON remote_media (file_id);

-- Thumbnails of other servers' media as their origin server made them, one per requested size, method and animation.
-- The bytes are a file under the media directory named by file_id, like a cached original.
CREATE TABLE remote_media_thumbnails (
    server_name TEXT NOT NULL,
    media_id TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    method TEXT NOT NULL,
    animated INTEGER NOT NULL CHECK (animated IN (0, 1)),
    file_id TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    fetched_ts INTEGER NOT NULL,
    last_access_ts INTEGER NOT NULL,
    PRIMARY KEY (server_name, media_id, width, height, method, animated)
) STRICT;
CREATE INDEX remote_media_thumbnails_last_access ON remote_media_thumbnails (last_access_ts);
