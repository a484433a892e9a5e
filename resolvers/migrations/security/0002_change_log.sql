-- Real time (issue 11): the advisories each accepted write published,
-- in commit order, as cargo.change_log: positions taken under an advisory lock held to commit;
-- NOTIFY harborgraph_changes wakes the replicas.
CREATE SEQUENCE security.change_log_position AS bigint;
CREATE TABLE security.change_log (
    position     bigint PRIMARY KEY,
    advisory_ids  uuid[] NOT NULL CHECK (cardinality(advisory_ids) > 0),
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
