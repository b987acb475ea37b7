-- Guest accounts (the Guest Access module): registered with kind=guest, they may call only part of the API
-- until upgraded to a full account, which clears the flag.
ALTER TABLE accounts ADD COLUMN is_guest INTEGER NOT NULL DEFAULT 0 CHECK (is_guest IN (0, 1));
