-- The server's Ed25519 signing keys (ADR 0031). One current key (expired_ts NULL), which signs; older keys keep
-- their public half and expired_ts for old_verify_keys, and their seed is erased when they expire. The partial
-- unique index lets the database decide which of several concurrent first starts creates the current key.
CREATE TABLE server_signing_keys (
    key_id TEXT COLLATE "C" PRIMARY KEY,
    public_key BYTEA NOT NULL CHECK (length(public_key) = 32),
    seed BYTEA CHECK (seed IS NULL OR length(seed) = 32),
    created_ts BIGINT NOT NULL,
    expired_ts BIGINT,
    CHECK (expired_ts IS NOT NULL OR seed IS NOT NULL)
);

CREATE UNIQUE INDEX server_signing_keys_one_current ON server_signing_keys ((expired_ts IS NULL)) WHERE expired_ts IS NULL;
