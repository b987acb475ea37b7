-- Server-side key backups (/room_keys). A user's backup versions count up from 1 and are never reused: a deleted
-- version keeps its row (deleted = 1) so that the next one takes a higher number and a second delete still succeeds.
-- etag counts the changes of the version's keys; it is served as a string.
CREATE TABLE key_backup_versions (
    user_id TEXT NOT NULL REFERENCES accounts (user_id),
    version INTEGER NOT NULL CHECK (version > 0),
    algorithm TEXT NOT NULL,
    auth_data BLOB NOT NULL,
    etag INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    PRIMARY KEY (user_id, version)
) STRICT;

-- One backed-up megolm session key per (user, version, room, session); session_data is the client's encrypted JSON.
CREATE TABLE key_backup_keys (
    user_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    room_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    first_message_index INTEGER NOT NULL,
    forwarded_count INTEGER NOT NULL,
    is_verified INTEGER NOT NULL CHECK (is_verified IN (0, 1)),
    session_data BLOB NOT NULL,
    PRIMARY KEY (user_id, version, room_id, session_id),
    FOREIGN KEY (user_id, version) REFERENCES key_backup_versions (user_id, version)
) STRICT;
