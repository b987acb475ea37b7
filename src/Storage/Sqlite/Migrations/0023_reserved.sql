-- Version 23 is kept for a piece of federation built alongside remote media (0025); a branch that needs it replaces
-- this file. Nothing to change; the file keeps the versions contiguous.
SELECT 1;
