-- Rooms with more than one forward extremity (ADR 0041). A room without rows here is linear: its newest event is its
-- only extremity, so the local path writes nothing here. Each extremity keeps the state after it (a JSON array of
-- [type, state_key, event_id]), which state resolution needs when the next event merges the extremities.
CREATE TABLE room_forward_extremities (
    room_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    state_after BYTEA NOT NULL,
    PRIMARY KEY (room_id, event_id)
);

-- Events another server sent that passed the checks against the state before them but not against the room's
-- current state (the spec's soft failure): kept, so that events citing them are understood, but never in the timeline.
CREATE TABLE soft_failed_events (
    event_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    room_id TEXT COLLATE "C" NOT NULL,
    json BYTEA NOT NULL,
    received_ts BIGINT NOT NULL
);
