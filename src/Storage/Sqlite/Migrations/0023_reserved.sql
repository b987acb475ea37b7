-- Version 23 is set aside for another part of federation (issue 15) built at the same time; the file keeps the versions
-- contiguous until that part's migration takes its place.
SELECT 1;
