-- Terminals record gate moves (issue 10): idempotent by the terminal's own reference (NULL for
-- the demo's moves).
ALTER TABLE gate.gate_transaction ADD COLUMN transaction_reference text UNIQUE;
