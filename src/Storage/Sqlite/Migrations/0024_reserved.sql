-- Version 24 was set aside for outbound catch-up (ADR 0042), which did not need a table. Nothing to change; the
-- file keeps the versions contiguous.
SELECT 1;
