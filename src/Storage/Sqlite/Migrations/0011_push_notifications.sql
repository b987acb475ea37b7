-- Push notifications: one row per (user, event) whose push rules said notify, written in the transaction that appends
-- the event, so counts survive any restart. thread_id is the thread root's event id, or 'main'.
CREATE TABLE push_notifications (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    room_position INTEGER NOT NULL,
    global_position INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    highlight INTEGER NOT NULL CHECK (highlight IN (0, 1)),
    actions BLOB NOT NULL,
    ts INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id, room_position)
) STRICT;
CREATE INDEX push_notifications_by_user_position ON push_notifications (user_id, global_position);

-- How far each user has read each room, from their m.read and m.read.private receipts: thread_id '' for an
-- unthreaded receipt (everything up to it), 'main' or a thread root for a threaded one. Counting unread
-- notifications compares positions with these rows; a receipt changes one row here and no notification row.
CREATE TABLE push_read_marks (
    user_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    room_position INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id, thread_id)
) STRICT;

-- Room grains follow push rule edits (m.push_rules account data) of all users by position.
CREATE INDEX global_account_data_by_type_position ON global_account_data (data_type, stream_position);
