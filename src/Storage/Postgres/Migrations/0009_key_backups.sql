-- Server-side key backups (/room_keys). A user's backup versions count up from 1 and are never reused: a deleted
-- version keeps its row (deleted = TRUE) so that the next one takes a higher number and a second delete still succeeds.
-- etag counts the changes of the version's keys; it is served as a string.
CREATE TABLE key_backup_versions (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (user_id),
    version BIGINT NOT NULL CHECK (version > 0),
    algorithm TEXT NOT NULL,
    auth_data BYTEA NOT NULL,
    etag BIGINT NOT NULL DEFAULT 0,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, version)
);

-- One backed-up megolm session key per (user, version, room, session); session_data is the client's encrypted JSON.
CREATE TABLE key_backup_keys (
    user_id TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    room_id TEXT COLLATE "C" NOT NULL,
    session_id TEXT COLLATE "C" NOT NULL,
    first_message_index BIGINT NOT NULL,
    forwarded_count BIGINT NOT NULL,
    is_verified BOOLEAN NOT NULL,
    session_data BYTEA NOT NULL,
    PRIMARY KEY (user_id, version, room_id, session_id),
    FOREIGN KEY (user_id, version) REFERENCES key_backup_versions (user_id, version)
);
