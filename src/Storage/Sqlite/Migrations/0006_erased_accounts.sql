-- Accounts deactivated with erase: true. Their events are then served pruned to users who were not joined when the
-- event was sent (the spec's account deactivation with erasure, as Synapse does).
ALTER TABLE accounts ADD COLUMN erased INTEGER NOT NULL DEFAULT 0 CHECK (erased IN (0, 1));
