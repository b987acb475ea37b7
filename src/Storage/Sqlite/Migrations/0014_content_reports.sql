-- Reports of rooms, events and users (/rooms/{roomId}/report[/{eventId}], /users/{userId}/report), kept for the
-- server's admins. A room report has room_id only; an event report room_id and event_id; a user report target_user_id.
CREATE TABLE content_reports (
    report_id INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter_user_id TEXT NOT NULL,
    room_id TEXT,
    event_id TEXT,
    target_user_id TEXT,
    reason TEXT,
    score INTEGER,
    received_ts INTEGER NOT NULL
) STRICT;
