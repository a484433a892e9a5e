-- Partners publish events (issue 10): what a DCSA event carries beyond its indexed columns,
-- kept so the event reads back as it was sent, and the retractions of T&T 3.0.
ALTER TABLE cargo.event ADD COLUMN extra jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(extra) = 'object');

-- A retraction is itself an event (metadata only), idempotent by its own eventID; the event
-- it retracts keeps its row, marked by cargo.event.retracted_at.
CREATE TABLE cargo.event_retraction (
    event_id                uuid PRIMARY KEY,
    retracted_event_id      uuid NOT NULL REFERENCES cargo.event (event_id),
    event_created_datetime  timestamptz NOT NULL,
    publisher_code          text NOT NULL,
    recorded_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_retraction_retracted_idx ON cargo.event_retraction (retracted_event_id);
