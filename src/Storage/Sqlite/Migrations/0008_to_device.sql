-- To-device messages (PUT /sendToDevice and /sync's to_device): one inbox row per recipient device, kept until the
-- device acknowledges it with a later since token. Every message of one send takes the same position of the
-- to_device stream, so a device has at most one message per position and reads them in position order.
CREATE TABLE device_inbox (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    stream_position INTEGER NOT NULL,
    sender TEXT NOT NULL,
    event_type TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (user_id, device_id, stream_position)
) STRICT;

-- The transaction id of each send, so that a retried send stores nothing twice.
CREATE TABLE to_device_transactions (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    txn_id TEXT NOT NULL,
    stream_position INTEGER NOT NULL,
    created_ts INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id, txn_id)
) STRICT;
CREATE INDEX to_device_transactions_by_age ON to_device_transactions (created_ts);
INSERT INTO stream_positions (stream, position) VALUES ('to_device', 0);
