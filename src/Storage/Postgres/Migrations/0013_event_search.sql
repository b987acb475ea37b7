-- Full-text index of the searchable text of events (POST /search): content.body of m.room.message, content.name of
-- m.room.name, content.topic of m.room.topic, as English tsvectors. Rows of redacted events are deleted.
CREATE TABLE event_search (
    global_position BIGINT PRIMARY KEY REFERENCES events (global_position),
    room_id TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    vector TSVECTOR NOT NULL
);
CREATE INDEX event_search_vector ON event_search USING GIN (vector);

-- Events whose JSON holds a \u0000 escape (which jsonb cannot hold) are left out.
INSERT INTO event_search (global_position, room_id, key, vector)
SELECT global_position, room_id, key, to_tsvector('english', field #>> '{}')
FROM (
    SELECT global_position, room_id, event_type,
           CASE event_type WHEN 'm.room.message' THEN 'content.body' WHEN 'm.room.name' THEN 'content.name' ELSE 'content.topic' END AS key,
           convert_from(json, 'UTF8')::jsonb -> 'content' ->
               CASE event_type WHEN 'm.room.message' THEN 'body' WHEN 'm.room.name' THEN 'name' ELSE 'topic' END AS field
    FROM events
    WHERE NOT redacted AND strpos(convert_from(json, 'UTF8'), '\u0000') = 0
      AND ((event_type = 'm.room.message' AND state_key IS NULL)
           OR (event_type IN ('m.room.name', 'm.room.topic') AND state_key = ''))
) searchable
WHERE jsonb_typeof(field) = 'string';

-- GET /timestamp_to_event.
CREATE INDEX events_by_room_timestamp ON events (room_id, origin_server_ts);
