-- Outbound EDUs that must survive a restart (ADR 0040): to-device messages for users of other servers. One row per
-- EDU and destination, deleted once a transaction carrying it was answered; the destination's sender reads them in
-- id order. Typing notifications, receipts and device list updates are not stored: they are sent from memory.
CREATE TABLE federation_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination TEXT COLLATE "C" NOT NULL,
    edu_type TEXT COLLATE "C" NOT NULL,
    content BYTEA NOT NULL,
    created_ts BIGINT NOT NULL
);

CREATE INDEX federation_outbox_destination ON federation_outbox (destination, id);
