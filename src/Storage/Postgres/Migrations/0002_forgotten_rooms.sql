-- Rooms a user forgot (POST /rooms/{roomId}/forget). Appending a new membership event of the user in the
-- room deletes the row: forgetting lasts until the user's membership changes again.
CREATE TABLE forgotten_rooms (
    user_id TEXT COLLATE "C" NOT NULL,
    room_id TEXT COLLATE "C" NOT NULL REFERENCES rooms (room_id),
    PRIMARY KEY (user_id, room_id)
);
