-- What a write did (issue 10): NULL for reads; for a write its mutation, counts and refusals.
ALTER TABLE community.audit_event ADD COLUMN writes jsonb
    CHECK (writes IS NULL OR jsonb_typeof(writes) = 'object');
