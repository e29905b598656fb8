-- The floor for consolidation (age trigger): the fewest statements with the same effect, one
-- summary per agent made of the concatenated contents (no extractive logic), sources archived
-- with provenance, sessions marked. Sessions per second = the chosen sessions / the time.
BEGIN IMMEDIATE;
CREATE TEMP TABLE chosen AS
  SELECT id, agent_id FROM sessions
  WHERE ended_at IS NOT NULL AND consolidated_at IS NULL AND ended_at <= :now - 2592000000;
INSERT INTO memories (id, agent_id, content, memory_type, importance, base_importance, decay_ref_at, tags,
                      metadata, created_at, updated_at)
  SELECT 'sum-' || agent_id, agent_id, substr(group_concat(content, ' · '), 1, 4000), 'semantic', 0.6, 0.6,
         :now, '["historical-summary"]', '{}', :now, :now
  FROM memories WHERE archived_at IS NULL AND session_id IN (SELECT id FROM chosen) GROUP BY agent_id;
INSERT INTO consolidation_sources (source_memory_id, consolidation_id, summary_id, source_session_id, fate)
  SELECT id, 'sum-' || agent_id, 'sum-' || agent_id, session_id, 'kept' FROM memories
  WHERE archived_at IS NULL AND session_id IN (SELECT id FROM chosen);
UPDATE memories SET archived_at = :now, archived_reason = 'consolidated', base_importance = importance,
                    decay_ref_at = :now
  WHERE archived_at IS NULL AND session_id IN (SELECT id FROM chosen);
UPDATE sessions SET consolidated_at = :now, consolidated_into = 'sum-' || agent_id
  WHERE id IN (SELECT id FROM chosen);
SELECT count(*) FROM chosen;
COMMIT;
