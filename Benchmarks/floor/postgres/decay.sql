-- The floor for decay on PostgreSQL: every archived memory to base × 0.5^(age / 30 days), pinned ones kept.
UPDATE memories
SET importance = greatest(0.0, base_importance * power(0.5, greatest(0, :now - decay_ref_at) / 2592000000.0))
WHERE archived_at IS NOT NULL AND tags NOT LIKE '%"pinned"%';
