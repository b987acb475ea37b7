-- Each user's presence (PUT /presence/{userId}/status and /sync), so that a status message survives a restart.
-- stream_position is the presence stream's position of the last change, for incremental /sync.
CREATE TABLE presence (
    user_id TEXT NOT NULL PRIMARY KEY,
    presence TEXT NOT NULL,
    status_msg TEXT,
    last_active_ts INTEGER NOT NULL,
    stream_position INTEGER NOT NULL
) STRICT;
CREATE INDEX presence_by_position ON presence (stream_position);
INSERT INTO stream_positions (stream, position) VALUES ('presence', 0);
