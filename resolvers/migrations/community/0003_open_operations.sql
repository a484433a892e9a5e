-- Real time (issue 11): the WebSocket operations each replica holds open, per partner, so
-- that HARBORGRAPH_MAX_SUBSCRIPTIONS holds across replicas that share only PostgreSQL. A
-- replica refreshes `seen_at` while it runs; the rows of one that stopped answering are
-- ignored after 30 s.
CREATE TABLE community.open_operation (
    replica_id  uuid NOT NULL,
    holder      text NOT NULL,
    open        integer NOT NULL CHECK (open >= 0),
    seen_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (replica_id, holder)
);
CREATE INDEX open_operation_holder_idx ON community.open_operation (holder);
