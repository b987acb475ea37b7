-- Identifiers use the "C" collation: byte order, as in SQLite, independent of the server's locale.

CREATE TABLE accounts (
    user_id TEXT COLLATE "C" PRIMARY KEY,
    password_hash TEXT,
    created_ts BIGINT NOT NULL,
    is_admin BOOLEAN NOT NULL,
    deactivated BOOLEAN NOT NULL,
    display_name TEXT,
    avatar_url TEXT
);

CREATE TABLE devices (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (user_id),
    device_id TEXT COLLATE "C" NOT NULL,
    display_name TEXT,
    last_seen_ts BIGINT,
    last_seen_ip TEXT,
    PRIMARY KEY (user_id, device_id)
);

-- SHA-256 of the token; the token itself is never stored.
CREATE TABLE access_tokens (
    token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id TEXT COLLATE "C" NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    created_ts BIGINT NOT NULL,
    FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id)
);
CREATE INDEX access_tokens_by_device ON access_tokens (user_id, device_id);

CREATE TABLE rooms (
    room_id TEXT COLLATE "C" PRIMARY KEY,
    room_version TEXT NOT NULL,
    creator TEXT COLLATE "C" NOT NULL,
    created_ts BIGINT NOT NULL,
    is_published BOOLEAN NOT NULL,
    -- Per-room position of the newest event; appends are fenced on it.
    last_position BIGINT NOT NULL CHECK (last_position >= 0)
);
CREATE INDEX rooms_published ON rooms (room_id) WHERE is_published;

-- One counter per stream (events, account_data, receipts); see StreamPositions for why not a sequence.
CREATE TABLE stream_positions (
    stream TEXT COLLATE "C" PRIMARY KEY,
    position BIGINT NOT NULL
);
INSERT INTO stream_positions (stream, position) VALUES ('events', 0), ('account_data', 0), ('receipts', 0);

CREATE TABLE events (
    global_position BIGINT PRIMARY KEY,
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms (room_id),
    room_position BIGINT NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL UNIQUE,
    event_type TEXT COLLATE "C" NOT NULL,
    state_key TEXT COLLATE "C",
    sender TEXT COLLATE "C" NOT NULL,
    origin_server_ts BIGINT NOT NULL,
    membership TEXT COLLATE "C",
    redacted BOOLEAN NOT NULL,
    -- The event exactly as written (or its redacted form), UTF-8 JSON.
    json BYTEA NOT NULL,
    UNIQUE (room_id, room_position)
);
-- Catch-up of a set of rooms after a global position.
CREATE INDEX events_by_room_global ON events (room_id, global_position);

CREATE TABLE current_state (
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms (room_id),
    event_type TEXT COLLATE "C" NOT NULL,
    state_key TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL REFERENCES events (event_id),
    -- Copied from the event for m.room.member, so membership queries need no JSON.
    membership TEXT COLLATE "C",
    PRIMARY KEY (room_id, event_type, state_key)
);
CREATE INDEX current_state_memberships_of_user ON current_state (state_key, room_id) WHERE event_type = 'm.room.member';

CREATE TABLE event_transactions (
    room_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    txn_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL REFERENCES events (event_id),
    created_ts BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id, device_id, txn_id)
);
CREATE INDEX event_transactions_by_age ON event_transactions (created_ts);

CREATE TABLE room_aliases (
    alias TEXT COLLATE "C" PRIMARY KEY,
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms (room_id),
    creator TEXT COLLATE "C" NOT NULL
);
CREATE INDEX room_aliases_by_room ON room_aliases (room_id);

CREATE TABLE global_account_data (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (user_id),
    data_type TEXT COLLATE "C" NOT NULL,
    content BYTEA NOT NULL,
    stream_position BIGINT NOT NULL,
    PRIMARY KEY (user_id, data_type)
);
CREATE INDEX global_account_data_by_position ON global_account_data (user_id, stream_position);

CREATE TABLE room_account_data (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (user_id),
    room_id TEXT COLLATE "C" NOT NULL,
    data_type TEXT COLLATE "C" NOT NULL,
    content BYTEA NOT NULL,
    stream_position BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id, data_type)
);
CREATE INDEX room_account_data_by_position ON room_account_data (user_id, stream_position);

CREATE TABLE receipts (
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms (room_id),
    receipt_type TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    ts BIGINT NOT NULL,
    data BYTEA NOT NULL,
    stream_position BIGINT NOT NULL,
    PRIMARY KEY (room_id, receipt_type, user_id)
);
CREATE INDEX receipts_by_room_position ON receipts (room_id, stream_position);

CREATE TABLE filters (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (user_id),
    filter_id BIGINT NOT NULL,
    json BYTEA NOT NULL,
    PRIMARY KEY (user_id, filter_id)
);
