-- History of rooms joined over federation fetched from other servers (ADR 0044): older than the room's event log, kept
-- apart from it (no global position: /sync and outbound federation never see these events). Per-room positions are
-- negative, -1 the newest backfilled event, decreasing with age, so they order before every event of the log.
CREATE TABLE backfilled_events (
    room_id TEXT COLLATE "C" NOT NULL,
    position BIGINT NOT NULL CHECK (position < 0),
    event_id TEXT COLLATE "C" NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    state_key TEXT COLLATE "C",
    sender TEXT COLLATE "C" NOT NULL,
    origin_server_ts BIGINT NOT NULL,
    membership TEXT COLLATE "C",
    redacted BOOLEAN NOT NULL,
    json BYTEA NOT NULL,
    PRIMARY KEY (room_id, position),
    UNIQUE (room_id, event_id)
);

-- A room whose history before the log is complete: its creation was reached, or the servers asked had nothing older.
CREATE TABLE backfill_progress (
    room_id TEXT COLLATE "C" PRIMARY KEY,
    complete BOOLEAN NOT NULL
);
