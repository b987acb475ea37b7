-- Pushers (/pushers/set): where a user's notifications are sent. One per (user, app_id, pushkey); device_id is the
-- device of the access token that set it, so deleting that device (logout, device deletion, deactivation) removes it.
-- data is the client's JSON object (for http: url, optional format and custom keys).
CREATE TABLE pushers (
    user_id TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL,
    pushkey TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    app_display_name TEXT NOT NULL,
    device_display_name TEXT NOT NULL,
    profile_tag TEXT,
    lang TEXT NOT NULL,
    data BYTEA NOT NULL,
    device_id TEXT COLLATE "C",
    pushkey_ts BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id, pushkey)
);

CREATE INDEX pushers_by_key ON pushers (app_id, pushkey);
