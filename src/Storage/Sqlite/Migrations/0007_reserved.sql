-- Placeholder that keeps the migration numbers contiguous on this branch: version 7 is the device keys migration of
-- another branch. Drop this file when the branches are merged.
SELECT 1;
