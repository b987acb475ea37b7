-- Relations between events (m.relates_to), recorded when the child event is stored. A row exists only for a child
-- whose parent is an event of the same room; an edit (m.replace) only when it passes the spec's checks (same sender
-- and type as the original, neither a state event, the original not itself an edit). A redacted child loses its row.
CREATE TABLE event_relations (
    event_id TEXT PRIMARY KEY REFERENCES events (event_id),
    room_id TEXT NOT NULL,
    parent_event_id TEXT NOT NULL,
    rel_type TEXT NOT NULL,
    event_type TEXT NOT NULL,
    sender TEXT NOT NULL,
    room_position INTEGER NOT NULL
) STRICT;
-- /relations, and the bundled aggregations of a page of parents.
CREATE INDEX event_relations_by_parent ON event_relations (parent_event_id, rel_type, room_position);
-- /threads: the thread roots of a room by their latest reply.
CREATE INDEX event_relations_threads ON event_relations (room_id, rel_type, parent_event_id, room_position);

-- Threaded read receipts: one receipt per (room, type, user, thread); '' is the unthreaded receipt.
CREATE TABLE receipts_threaded (
    room_id TEXT NOT NULL REFERENCES rooms (room_id),
    receipt_type TEXT NOT NULL,
    user_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    data BLOB NOT NULL,
    stream_position INTEGER NOT NULL,
    PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
) STRICT;
INSERT INTO receipts_threaded (room_id, receipt_type, user_id, thread_id, event_id, ts, data, stream_position)
SELECT room_id, receipt_type, user_id, COALESCE(json_extract(CAST(data AS TEXT), '$.thread_id'), ''), event_id, ts, data, stream_position
FROM receipts;
DROP TABLE receipts;
ALTER TABLE receipts_threaded RENAME TO receipts;
CREATE INDEX receipts_by_room_position ON receipts (room_id, stream_position);
