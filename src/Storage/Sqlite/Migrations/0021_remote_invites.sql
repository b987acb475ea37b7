-- Invites of local users to rooms of other servers (ADR 0038). The room is not on this server, so the invite is not in
-- the event log: it is kept here, with the stripped state the inviting server sent (in the event's
-- unsigned.invite_room_state), until the user rejects it (membership 'leave', leave_event the rejection). The position
-- is allocated from the account-data stream, so /sync delivers each change exactly once with the positions it keeps.
CREATE TABLE remote_invites (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    room_version TEXT NOT NULL,
    membership TEXT NOT NULL,
    invite_event BLOB NOT NULL,
    leave_event BLOB,
    stream_position INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
) STRICT;

CREATE INDEX remote_invites_by_position ON remote_invites (user_id, stream_position);
