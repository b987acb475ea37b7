-- To-device messages (PUT /sendToDevice and /sync's to_device): one inbox row per recipient device, kept until the
-- device acknowledges it with a later since token. Every message of one send takes the same position of the
-- to_device stream, so a device has at most one message per position and reads them in position order.
CREATE TABLE device_inbox (
    user_id TEXT COLLATE "C" NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    stream_position BIGINT NOT NULL,
    sender TEXT COLLATE "C" NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    content BYTEA NOT NULL,
    PRIMARY KEY (user_id, device_id, stream_position)
);

-- The transaction id of each send, so that a retried send stores nothing twice.
CREATE TABLE to_device_transactions (
    user_id TEXT COLLATE "C" NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    txn_id TEXT COLLATE "C" NOT NULL,
    stream_position BIGINT NOT NULL,
    created_ts BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id, txn_id)
);
CREATE INDEX to_device_transactions_by_age ON to_device_transactions (created_ts);
INSERT INTO stream_positions (stream, position) VALUES ('to_device', 0);
