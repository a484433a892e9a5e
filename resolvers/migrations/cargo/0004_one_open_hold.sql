-- Placing a hold is idempotent (issue 10): one open hold per visit, type and reason.
CREATE UNIQUE INDEX hold_open_once_idx ON cargo.hold (container_visit_id, hold_type, reason_code)
    WHERE released_at IS NULL;
