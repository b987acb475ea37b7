-- Version 21 belongs to another part of federation built at the same time; this placeholder keeps the versions
-- contiguous until that migration replaces it. Nothing to change.
SELECT 1;
