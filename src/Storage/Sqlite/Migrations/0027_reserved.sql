-- Version 27 is kept for a piece of federation built alongside graph reads (0028); a branch that needs it replaces
-- this file. Nothing to change; the file keeps the versions contiguous.
SELECT 1;
