-- Token buckets that must survive a restart (failed logins per account). No row means a full bucket.
CREATE TABLE rate_limit_buckets (
    subject TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    tokens DOUBLE PRECISION NOT NULL,
    updated_ts BIGINT NOT NULL,
    PRIMARY KEY (subject, action)
);
