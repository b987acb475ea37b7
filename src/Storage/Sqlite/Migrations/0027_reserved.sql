-- Version 27 was set aside for third-party invites (ADR 0046), which did not need a table. Nothing to change; the
-- file keeps the versions contiguous.
SELECT 1;
