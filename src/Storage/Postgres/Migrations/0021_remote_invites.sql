-- Invites of local users to rooms of other servers (ADR 0038). The room is not on this server, so the invite is not in
-- the event log: it is kept here, with the stripped state the inviting server sent (in the event's
-- unsigned.invite_room_state), until the user rejects it (membership 'leave', leave_event the rejection). The position
-- is allocated from the account-data stream, so /sync delivers each change exactly once with the positions it keeps.
CREATE TABLE remote_invites (
    user_id TEXT COLLATE "C" NOT NULL,
    room_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    room_version TEXT COLLATE "C" NOT NULL,
    membership TEXT COLLATE "C" NOT NULL,
    invite_event BYTEA NOT NULL,
    leave_event BYTEA,
    stream_position BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id)
);

CREATE INDEX remote_invites_by_position ON remote_invites (user_id, stream_position);
