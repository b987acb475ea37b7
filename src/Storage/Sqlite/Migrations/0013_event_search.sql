-- Full-text index of the searchable text of events (POST /search): content.body of m.room.message, content.name of
-- m.room.name, content.topic of m.room.topic. rowid is the event's global position; rows of redacted events are deleted.
CREATE VIRTUAL TABLE event_search USING fts5 (
    room_id UNINDEXED,
    key UNINDEXED,
    value,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

INSERT INTO event_search (rowid, room_id, key, value)
SELECT global_position, room_id, 'content.body', json_extract(CAST(json AS TEXT), '$.content.body') FROM events
WHERE event_type = 'm.room.message' AND state_key IS NULL AND redacted = 0
  AND json_type(CAST(json AS TEXT), '$.content.body') = 'text';
INSERT INTO event_search (rowid, room_id, key, value)
SELECT global_position, room_id, 'content.name', json_extract(CAST(json AS TEXT), '$.content.name') FROM events
WHERE event_type = 'm.room.name' AND state_key = '' AND redacted = 0
  AND json_type(CAST(json AS TEXT), '$.content.name') = 'text';
INSERT INTO event_search (rowid, room_id, key, value)
SELECT global_position, room_id, 'content.topic', json_extract(CAST(json AS TEXT), '$.content.topic') FROM events
WHERE event_type = 'm.room.topic' AND state_key = '' AND redacted = 0
  AND json_type(CAST(json AS TEXT), '$.content.topic') = 'text';

-- GET /timestamp_to_event.
CREATE INDEX events_by_room_timestamp ON events (room_id, origin_server_ts);
