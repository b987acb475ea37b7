-- Other servers' media cached by this one (docs/adr/0043). The bytes are a file under the media directory named by
-- file_id, a random local id (content/{file_id[0..2]}/{file_id}), so remote media and its thumbnails share the local
-- file layout. A row is written only after its file is complete.
CREATE TABLE remote_media (
    server_name TEXT COLLATE "C" NOT NULL,
    media_id TEXT COLLATE "C" NOT NULL,
    file_id TEXT COLLATE "C" NOT NULL,
    content_type TEXT NOT NULL,
    upload_name TEXT,
    size_bytes BIGINT NOT NULL,
    fetched_ts BIGINT NOT NULL,
    PRIMARY KEY (server_name, media_id)
);
