-- Token buckets that must survive a restart (failed logins per account). No row means a full bucket.
CREATE TABLE rate_limit_buckets (
    subject TEXT NOT NULL,
    action TEXT NOT NULL,
    tokens REAL NOT NULL,
    updated_ts INTEGER NOT NULL,
    PRIMARY KEY (subject, action)
) STRICT;
