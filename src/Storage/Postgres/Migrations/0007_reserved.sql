-- Number reserved for the device keys migration of another branch; this file goes when that branch is merged.
SELECT 1;
