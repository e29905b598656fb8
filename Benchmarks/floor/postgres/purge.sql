-- The floor for the TTL purge on PostgreSQL: the same effect as memkeepd's purge, set-based.
-- :now is the run's time in Unix milliseconds; archived memories are kept 90 days.
DELETE FROM memories WHERE expires_at IS NOT NULL AND expires_at <= :now;
DELETE FROM memories WHERE archived_at IS NOT NULL AND archived_at <= :now - 7776000000;
