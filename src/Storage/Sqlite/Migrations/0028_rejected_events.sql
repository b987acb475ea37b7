-- Events another server sent that failed the authorization rules (the spec's rejection, ADR 0047): never in the
-- timeline, never a previous event of this server's events, but known, so that the same event sent again is refused
-- at once and an event citing one is checked against the state before it (a rejected event changes no state).
CREATE TABLE rejected_events (
    event_id TEXT NOT NULL PRIMARY KEY,
    room_id TEXT NOT NULL,
    json BLOB NOT NULL,
    reason TEXT NOT NULL,
    received_ts INTEGER NOT NULL
) STRICT;
