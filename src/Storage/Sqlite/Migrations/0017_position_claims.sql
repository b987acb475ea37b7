-- Migration 17 claims global event positions in a table of their own on PostgreSQL (ADR 0026). SQLite has one
-- writer, so nothing is claimed and nothing changes here; the number is kept so that both backends share one
-- sequence of versions.
SELECT 1;
