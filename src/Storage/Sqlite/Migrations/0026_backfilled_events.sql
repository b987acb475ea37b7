-- History of rooms joined over federation fetched from other servers (ADR 0044): older than the room's event log, kept
-- apart from it (no global position: /sync and outbound federation never see these events). Per-room positions are
-- negative, -1 the newest backfilled event, decreasing with age, so they order before every event of the log.
CREATE TABLE backfilled_events (
    room_id TEXT NOT NULL,
    position INTEGER NOT NULL CHECK (position < 0),
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state_key TEXT,
    sender TEXT NOT NULL,
    origin_server_ts INTEGER NOT NULL,
    membership TEXT,
    redacted INTEGER NOT NULL CHECK (redacted IN (0, 1)),
    json BLOB NOT NULL,
    PRIMARY KEY (room_id, position),
    UNIQUE (room_id, event_id)
) STRICT;

-- A room whose history before the log is complete: its creation was reached, or the servers asked had nothing older.
CREATE TABLE backfill_progress (
    room_id TEXT PRIMARY KEY,
    complete INTEGER NOT NULL CHECK (complete IN (0, 1))
) STRICT;
