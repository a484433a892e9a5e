-- Real time (issue 11): the port calls each accepted write changed (JIT timestamps, berth times),
-- in commit order, as cargo.change_log: positions taken under an advisory lock held to commit;
-- NOTIFY harborgraph_changes wakes the replicas.
CREATE SEQUENCE vessel.change_log_position AS bigint;
CREATE TABLE vessel.change_log (
    position     bigint PRIMARY KEY,
    port_call_ids  uuid[] NOT NULL CHECK (cardinality(port_call_ids) > 0),
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
