-- Partner organizations: the identities partner JWTs name in their `org` claim.
CREATE SCHEMA IF NOT EXISTS community;

CREATE TABLE community.carrier (
    scac            text PRIMARY KEY CHECK (scac ~ '^[A-Z]{2,4}$'),
    name            text NOT NULL,
    owner_prefixes  text[] NOT NULL DEFAULT '{}'
        CHECK (array_position(owner_prefixes, NULL) IS NULL)
);

CREATE TABLE community.organization (
    code                text PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    name                text NOT NULL CHECK (name <> ''),
    kind                text NOT NULL CHECK (kind IN (
        'CARRIER', 'TERMINAL', 'TRUCKER', 'BCO', 'CUSTOMS', 'PORT_AUTHORITY', 'CSOC', 'OTHER_PORT')),
    -- carriers and truckers are known by their SCAC, terminals by UN/LOCODE + SMDG code
    scac                text CHECK (scac ~ '^[A-Z]{2,4}$'),
    terminal_unlocode   text CHECK (terminal_unlocode ~ '^[A-Z]{2}[A-Z2-9]{3}$'),
    terminal_smdg_code  text CHECK (terminal_smdg_code ~ '^[A-Z0-9]{1,8}$'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind IN ('CARRIER', 'TRUCKER')) = (scac IS NOT NULL)),
    CHECK ((kind = 'TERMINAL') = (terminal_smdg_code IS NOT NULL AND terminal_unlocode IS NOT NULL))
);
CREATE INDEX organization_kind_idx ON community.organization (kind);
CREATE UNIQUE INDEX organization_scac_kind_key ON community.organization (scac, kind)
    WHERE scac IS NOT NULL;

-- Who read commercial or restricted data, and who was denied, written off the request path.
CREATE TABLE community.audit_event (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    organization_code   text,
    subject             text,
    operation_name      text,
    fields              text[] NOT NULL DEFAULT '{}',
    rows_counted        integer NOT NULL DEFAULT 0 CHECK (rows_counted >= 0),
    denials             jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX audit_event_occurred_idx ON community.audit_event (occurred_at DESC, id DESC);
CREATE INDEX audit_event_org_idx ON community.audit_event (organization_code, occurred_at DESC);
