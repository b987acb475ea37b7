-- Version 21 belongs to the joins of other servers' rooms (ADR 0037), built beside this one; this placeholder keeps
-- the versions contiguous until then and is replaced by that migration when both are merged.
SELECT 1;
