-- Outbound federation (ADR 0035). Per other server: the global event position up to which it has been sent every
-- event it is owed (its transactions answered), and since when it has been failing. Per (server, room): the window
-- of the room's events owed to it: above since_position (the join of its first member) and, once it has no member
-- joined any more, up to until_position (its last member's leave). Nothing else is queued: the events themselves
-- are read from the event log, so a server that is down costs no memory and its backlog survives restarts.
CREATE TABLE federation_destinations (
    destination TEXT PRIMARY KEY,
    acked_position INTEGER NOT NULL,
    failing_since_ts INTEGER
) STRICT;

CREATE TABLE federation_destination_rooms (
    destination TEXT NOT NULL REFERENCES federation_destinations (destination),
    room_id TEXT NOT NULL,
    since_position INTEGER NOT NULL,
    until_position INTEGER,
    PRIMARY KEY (destination, room_id)
) STRICT;
