-- The floor for decay: every archived memory to base × 0.5^(age / 30 days), pinned ones kept.
UPDATE memories
SET importance = max(0.0, base_importance * pow(0.5, max(0, :now - decay_ref_at) / 2592000000.0))
WHERE archived_at IS NOT NULL AND tags NOT LIKE '%"pinned"%';
