-- Version 19 was set aside for other servers' keys (ADR 0033), which did not need a table. Nothing to change; the
-- file keeps the versions contiguous.
SELECT 1;
