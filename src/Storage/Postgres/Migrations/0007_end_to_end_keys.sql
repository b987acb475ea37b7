-- End-to-end encryption keys (POST /keys/*) and the device-list change stream (/sync device_lists, /keys/changes).

-- The signed device keys of each device, as uploaded (signatures added later by others live in key_signatures).
CREATE TABLE device_keys (
    user_id TEXT COLLATE "C" NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    key_json TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- Unclaimed one-time keys; a claim deletes the lowest key id of the algorithm.
CREATE TABLE one_time_keys (
    user_id TEXT COLLATE "C" NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    algorithm TEXT COLLATE "C" NOT NULL,
    key_id TEXT COLLATE "C" NOT NULL,
    key_json TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id, algorithm, key_id)
);

-- At most one fallback key per algorithm and device; used once a claim found no one-time key left.
CREATE TABLE fallback_keys (
    user_id TEXT COLLATE "C" NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    algorithm TEXT COLLATE "C" NOT NULL,
    key_id TEXT COLLATE "C" NOT NULL,
    key_json TEXT NOT NULL,
    used BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, device_id, algorithm)
);

-- master, self_signing and user_signing keys; public_key is the unpadded base64 Ed25519 key.
CREATE TABLE cross_signing_keys (
    user_id TEXT COLLATE "C" NOT NULL,
    key_type TEXT COLLATE "C" NOT NULL,
    public_key TEXT COLLATE "C" NOT NULL,
    key_json TEXT NOT NULL,
    PRIMARY KEY (user_id, key_type)
);

-- Signatures from POST /keys/signatures/upload: target_key_id is a device id or a cross-signing public key.
CREATE TABLE key_signatures (
    target_user_id TEXT COLLATE "C" NOT NULL,
    target_key_id TEXT COLLATE "C" NOT NULL,
    signer_user_id TEXT COLLATE "C" NOT NULL,
    signer_key_id TEXT COLLATE "C" NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (target_user_id, target_key_id, signer_user_id, signer_key_id)
);

-- The device-list stream: the position of each user's last change of devices or cross-signing keys.
CREATE TABLE device_list_changes (
    user_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    stream_position BIGINT NOT NULL
);
CREATE INDEX device_list_changes_by_position ON device_list_changes (stream_position);
-- A signature of another user's keys is news about that user for the signer's own devices, shared room or not.
CREATE TABLE device_list_signer_changes (
    user_id TEXT COLLATE "C" NOT NULL,
    target_user_id TEXT COLLATE "C" NOT NULL,
    stream_position BIGINT NOT NULL,
    PRIMARY KEY (user_id, target_user_id)
);
CREATE INDEX device_list_signer_changes_by_position ON device_list_signer_changes (user_id, stream_position);
INSERT INTO stream_positions (stream, position) VALUES ('device_lists', 0);
