-- Relations between events (m.relates_to), recorded when the child event is stored. A row exists only for a child
-- whose parent is an event of the same room; an edit (m.replace) only when it passes the spec's checks (same sender
-- and type as the original, neither a state event, the original not itself an edit). A redacted child loses its row.
CREATE TABLE event_relations (
    event_id TEXT COLLATE "C" PRIMARY KEY REFERENCES events (event_id),
    room_id TEXT COLLATE "C" NOT NULL,
    parent_event_id TEXT COLLATE "C" NOT NULL,
    rel_type TEXT COLLATE "C" NOT NULL,
    event_type TEXT COLLATE "C" NOT NULL,
    sender TEXT COLLATE "C" NOT NULL,
    room_position BIGINT NOT NULL
);
-- /relations, and the bundled aggregations of a page of parents.
CREATE INDEX event_relations_by_parent ON event_relations (parent_event_id, rel_type, room_position);
-- /threads: the thread roots of a room by their latest reply.
CREATE INDEX event_relations_threads ON event_relations (room_id, rel_type, parent_event_id, room_position);

-- Threaded read receipts: one receipt per (room, type, user, thread); '' is the unthreaded receipt.
ALTER TABLE receipts ADD COLUMN thread_id TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE receipts SET thread_id = convert_from(data, 'UTF8')::jsonb ->> 'thread_id'
WHERE convert_from(data, 'UTF8')::jsonb ? 'thread_id';
ALTER TABLE receipts DROP CONSTRAINT receipts_pkey;
ALTER TABLE receipts ADD PRIMARY KEY (room_id, receipt_type, user_id, thread_id);
