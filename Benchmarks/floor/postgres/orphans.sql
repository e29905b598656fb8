-- The floor for the orphan sweep on PostgreSQL: end every open session past its idle deadline.
UPDATE sessions
SET ended_at = :now, ended_reason = 'idle', idle_since = last_activity_at, idle_deadline_at = NULL
WHERE idle_deadline_at IS NOT NULL AND idle_deadline_at <= :now;
