-- Real time (issue 11): the events each accepted batch stored, in commit order. A position is
-- taken under a transaction-scoped advisory lock at the end of the writing transaction, so
-- positions commit in the order they are taken: a reader that has seen position n will never
-- see a smaller one appear later. NOTIFY harborgraph_changes wakes every replica's one
-- listener; they read the new rows from here.
CREATE SEQUENCE cargo.change_log_position AS bigint;
CREATE TABLE cargo.change_log (
    position     bigint PRIMARY KEY,
    event_ids    uuid[] NOT NULL CHECK (cardinality(event_ids) > 0),
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
-- Where an event sits in the log: a subscription may resume from an `events` query cursor.
CREATE INDEX change_log_event_ids_idx ON cargo.change_log USING gin (event_ids);
