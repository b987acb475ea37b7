-- Booleans are INTEGER 0/1; STRICT tables enforce the declared types.

CREATE TABLE accounts (
    user_id TEXT PRIMARY KEY,
    password_hash TEXT,
    created_ts INTEGER NOT NULL,
    is_admin INTEGER NOT NULL CHECK (is_admin IN (0, 1)),
    deactivated INTEGER NOT NULL CHECK (deactivated IN (0, 1)),
    display_name TEXT,
    avatar_url TEXT
) STRICT;

CREATE TABLE devices (
    user_id TEXT NOT NULL REFERENCES accounts (user_id),
    device_id TEXT NOT NULL,
    display_name TEXT,
    last_seen_ts INTEGER,
    last_seen_ip TEXT,
    PRIMARY KEY (user_id, device_id)
) STRICT;

-- SHA-256 of the token; the token itself is never stored.
CREATE TABLE access_tokens (
    token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    created_ts INTEGER NOT NULL,
    FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id)
) STRICT;
CREATE INDEX access_tokens_by_device ON access_tokens (user_id, device_id);

CREATE TABLE rooms (
    room_id TEXT PRIMARY KEY,
    room_version TEXT NOT NULL,
    creator TEXT NOT NULL,
    created_ts INTEGER NOT NULL,
    is_published INTEGER NOT NULL CHECK (is_published IN (0, 1)),
    -- Per-room position of the newest event; appends are fenced on it.
    last_position INTEGER NOT NULL CHECK (last_position >= 0)
) STRICT;
CREATE INDEX rooms_published ON rooms (room_id) WHERE is_published = TRUE;

-- One counter per stream (events, account_data, receipts), allocated as in the PostgreSQL schema (see StreamPositions).
CREATE TABLE stream_positions (
    stream TEXT PRIMARY KEY,
    position INTEGER NOT NULL
) STRICT;
INSERT INTO stream_positions (stream, position) VALUES ('events', 0), ('account_data', 0), ('receipts', 0);

CREATE TABLE events (
    global_position INTEGER PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms (room_id),
    room_position INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    state_key TEXT,
    sender TEXT NOT NULL,
    origin_server_ts INTEGER NOT NULL,
    membership TEXT,
    redacted INTEGER NOT NULL CHECK (redacted IN (0, 1)),
    -- The event exactly as written (or its redacted form), UTF-8 JSON.
    json BLOB NOT NULL,
    UNIQUE (room_id, room_position)
) STRICT;
-- Catch-up of a set of rooms after a global position.
CREATE INDEX events_by_room_global ON events (room_id, global_position);

CREATE TABLE current_state (
    room_id TEXT NOT NULL REFERENCES rooms (room_id),
    event_type TEXT NOT NULL,
    state_key TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (event_id),
    -- Copied from the event for m.room.member, so membership queries need no JSON.
    membership TEXT,
    PRIMARY KEY (room_id, event_type, state_key)
) STRICT;
CREATE INDEX current_state_memberships_of_user ON current_state (state_key, room_id) WHERE event_type = 'm.room.member';

CREATE TABLE event_transactions (
    room_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    txn_id TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (event_id),
    created_ts INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id, device_id, txn_id)
) STRICT;
CREATE INDEX event_transactions_by_age ON event_transactions (created_ts);

CREATE TABLE room_aliases (
    alias TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms (room_id),
    creator TEXT NOT NULL
) STRICT;
CREATE INDEX room_aliases_by_room ON room_aliases (room_id);

CREATE TABLE global_account_data (
    user_id TEXT NOT NULL REFERENCES accounts (user_id),
    data_type TEXT NOT NULL,
    content BLOB NOT NULL,
    stream_position INTEGER NOT NULL,
    PRIMARY KEY (user_id, data_type)
) STRICT;
CREATE INDEX global_account_data_by_position ON global_account_data (user_id, stream_position);

CREATE TABLE room_account_data (
    user_id TEXT NOT NULL REFERENCES accounts (user_id),
    room_id TEXT NOT NULL,
    data_type TEXT NOT NULL,
    content BLOB NOT NULL,
    stream_position INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id, data_type)
) STRICT;
CREATE INDEX room_account_data_by_position ON room_account_data (user_id, stream_position);

CREATE TABLE receipts (
    room_id TEXT NOT NULL REFERENCES rooms (room_id),
    receipt_type TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    data BLOB NOT NULL,
    stream_position INTEGER NOT NULL,
    PRIMARY KEY (room_id, receipt_type, user_id)
) STRICT;
CREATE INDEX receipts_by_room_position ON receipts (room_id, stream_position);

CREATE TABLE filters (
    user_id TEXT NOT NULL REFERENCES accounts (user_id),
    filter_id INTEGER NOT NULL,
    json BLOB NOT NULL,
    PRIMARY KEY (user_id, filter_id)
) STRICT;
