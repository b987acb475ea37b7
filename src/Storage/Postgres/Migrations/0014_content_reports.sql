-- Reports of rooms, events and users (/rooms/{roomId}/report[/{eventId}], /users/{userId}/report), kept for the
-- server's admins. A room report has room_id only; an event report room_id and event_id; a user report target_user_id.
CREATE TABLE content_reports (
    report_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reporter_user_id TEXT COLLATE "C" NOT NULL,
    room_id TEXT COLLATE "C",
    event_id TEXT COLLATE "C",
    target_user_id TEXT COLLATE "C",
    reason TEXT,
    score BIGINT,
    received_ts BIGINT NOT NULL
);
