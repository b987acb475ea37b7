-- Access tokens issued with a refresh token expire (expires_ts, ms); the others keep NULL and never expire.
ALTER TABLE access_tokens ADD COLUMN expires_ts BIGINT;

-- Refresh tokens (SHA-256 of the token, as access tokens). Each was issued with one access token (access_token_hash);
-- one issued by /refresh names the refresh token it replaces (previous_token_hash), which stays usable until the new
-- access or refresh token is first used and is deleted then.
CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id TEXT COLLATE "C" NOT NULL,
    device_id TEXT COLLATE "C" NOT NULL,
    access_token_hash BYTEA NOT NULL CHECK (length(access_token_hash) = 32),
    previous_token_hash BYTEA CHECK (length(previous_token_hash) = 32),
    created_ts BIGINT NOT NULL,
    FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id)
);
CREATE INDEX refresh_tokens_by_device ON refresh_tokens (user_id, device_id);
CREATE INDEX refresh_tokens_by_access_token ON refresh_tokens (access_token_hash);
CREATE INDEX refresh_tokens_by_previous ON refresh_tokens (previous_token_hash) WHERE previous_token_hash IS NOT NULL;

-- OpenID tokens a user hands to a third party, which checks them with the federation userinfo endpoint.
CREATE TABLE openid_tokens (
    token_hash BYTEA PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (user_id),
    expires_ts BIGINT NOT NULL
);
CREATE INDEX openid_tokens_by_expiry ON openid_tokens (expires_ts);

-- Account moderation by server admins (/_matrix/client/v1/admin/lock|suspend): a locked account can do nothing but log
-- out; a suspended one can read but not act in rooms or change its profile.
ALTER TABLE accounts ADD COLUMN locked BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN suspended BOOLEAN NOT NULL DEFAULT FALSE;
