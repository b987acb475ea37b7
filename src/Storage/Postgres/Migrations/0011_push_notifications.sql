-- Push notifications: one row per (user, event) whose push rules said notify, written in the transaction that appends
-- the event, so counts survive any restart. thread_id is the thread root's event id, or 'main'.
CREATE TABLE push_notifications (
    user_id TEXT COLLATE "C" NOT NULL,
    room_id TEXT COLLATE "C" NOT NULL,
    room_position BIGINT NOT NULL,
    global_position BIGINT NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    thread_id TEXT COLLATE "C" NOT NULL,
    highlight BOOLEAN NOT NULL,
    actions BYTEA NOT NULL,
    ts BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id, room_position)
);
CREATE INDEX push_notifications_by_user_position ON push_notifications (user_id, global_position);

-- How far each user has read each room, from their m.read and m.read.private receipts: thread_id '' for an
-- unthreaded receipt (everything up to it), 'main' or a thread root for a threaded one. Counting unread
-- notifications compares positions with these rows; a receipt changes one row here and no notification row.
CREATE TABLE push_read_marks (
    user_id TEXT COLLATE "C" NOT NULL,
    room_id TEXT COLLATE "C" NOT NULL,
    thread_id TEXT COLLATE "C" NOT NULL,
    room_position BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id, thread_id)
);

-- Room grains follow push rule edits (m.push_rules account data) of all users by position.
CREATE INDEX global_account_data_by_type_position ON global_account_data (data_type, stream_position);
