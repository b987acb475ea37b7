-- Other servers' media cached by this one (docs/adr/0043). The bytes are a file under the media directory named by
-- file_id, a random local id (content/{file_id[0..2]}/{file_id}), so remote media and its thumbnails share the local
-- file layout. A row is written only after its file is complete.
CREATE TABLE remote_media (
    server_name TEXT NOT NULL,
    media_id TEXT NOT NULL,
    file_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    upload_name TEXT,
    size_bytes INTEGER NOT NULL,
    fetched_ts INTEGER NOT NULL,
    PRIMARY KEY (server_name, media_id)
) STRICT;
