-- DCSA T&T 2.2 event subscriptions (issue 11): a partner's callback, its shared secret, its
-- filters (the subscription body's, as validated) and how far along the change log its
-- deliveries are. The position moves only when the callback answered 2xx; a failed delivery
-- waits `next_attempt_at` (exponential backoff). A replica leases a due subscription
-- (`leased_until`) so that one delivery runs at a time, whichever replica sends it.
CREATE TABLE cargo.event_subscription (
    id                  uuid PRIMARY KEY,
    organization_code   text NOT NULL,
    subject             text,
    scopes              text[] NOT NULL,
    callback_url        text NOT NULL CHECK (length(callback_url) BETWEEN 1 AND 2048),
    secret              bytea NOT NULL CHECK (octet_length(secret) BETWEEN 32 AND 1024),
    filters             jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(filters) = 'object'),
    position            bigint NOT NULL,
    ordinal             bigint NOT NULL,
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    leased_until        timestamptz,
    last_failure        text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_subscription_owner_idx
    ON cargo.event_subscription (organization_code, created_at, id);
CREATE INDEX event_subscription_due_idx ON cargo.event_subscription (next_attempt_at);
