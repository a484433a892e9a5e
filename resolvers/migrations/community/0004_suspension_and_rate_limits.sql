-- Issue 14: a partner may be suspended (refused from its next request on, whatever its
-- token says) and may have its own rate limit; the replicas trade request counts here.
ALTER TABLE community.organization
    ADD COLUMN suspended_at timestamptz,
    ADD COLUMN rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0);

-- Every replica caches organizations for a few seconds; this tells them at once.
CREATE FUNCTION community.organization_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('harborgraph_organizations', OLD.code);
    RETURN NULL;
END;
$$;
CREATE TRIGGER organization_changed
    AFTER UPDATE OR DELETE ON community.organization
    FOR EACH ROW EXECUTE FUNCTION community.organization_changed();

-- Counts, not records: unlogged (a crash loses at most a minute of them).
CREATE UNLOGGED TABLE community.rate_count (
    window_start    bigint NOT NULL,  -- minutes since the epoch
    holder          text NOT NULL,    -- "organization CODE" or "address A.B.C.D"
    replica         uuid NOT NULL,
    requests        integer NOT NULL CHECK (requests >= 0),
    PRIMARY KEY (window_start, holder, replica)
);
