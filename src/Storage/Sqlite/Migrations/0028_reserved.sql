-- Version 28 is kept for a piece built alongside the remote media cache (0030); the branch that needs it replaces
-- this file. Nothing to change; the file keeps the versions contiguous.
SELECT 1;
