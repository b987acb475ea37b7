-- Number reserved for the to-device migration of another branch; this file goes when that branch is merged.
SELECT 1;
