-- Real time (issue 11): the gate transactions each accepted write changed (gate-in, gate-out)
-- in commit order, as cargo.change_log: positions taken under an advisory lock held to commit;
-- NOTIFY harborgraph_changes wakes the replicas.
CREATE SEQUENCE gate.change_log_position AS bigint;
CREATE TABLE gate.change_log (
    position     bigint PRIMARY KEY,
    transaction_ids  bigint[] NOT NULL CHECK (cardinality(transaction_ids) > 0),
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
