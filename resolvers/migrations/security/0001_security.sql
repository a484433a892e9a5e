-- Community early-warning advisories (TLP-marked), CSOC incidents, blocked intrusion counts.
CREATE SCHEMA IF NOT EXISTS security;

CREATE TABLE security.advisory (
    id                  uuid PRIMARY KEY,
    reference           text NOT NULL UNIQUE,
    title               text NOT NULL CHECK (title <> ''),
    summary             text NOT NULL,
    severity            text NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    tlp                 text NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'RED')),
    affected_systems    text[] NOT NULL DEFAULT '{}',
    published_by_code   text NOT NULL,
    published_at        timestamptz NOT NULL,
    expires_at          timestamptz,
    CHECK (expires_at IS NULL OR expires_at > published_at)
);
CREATE INDEX advisory_published_idx ON security.advisory (published_at DESC, id);
CREATE INDEX advisory_tlp_idx ON security.advisory (tlp, published_at DESC);

CREATE TABLE security.advisory_facility (
    advisory_id     uuid NOT NULL REFERENCES security.advisory ON DELETE CASCADE,
    unlocode        text NOT NULL CHECK (unlocode ~ '^[A-Z]{2}[A-Z2-9]{3}$'),
    smdg_code       text NOT NULL,
    PRIMARY KEY (advisory_id, unlocode, smdg_code)
);
CREATE INDEX advisory_facility_terminal_idx ON security.advisory_facility (unlocode, smdg_code);

CREATE TABLE security.indicator (
    advisory_id     uuid NOT NULL REFERENCES security.advisory ON DELETE CASCADE,
    indicator_type  text NOT NULL CHECK (indicator_type IN (
        'IPV4', 'IPV6', 'DOMAIN', 'URL', 'SHA256', 'MD5', 'EMAIL')),
    value           text NOT NULL,
    PRIMARY KEY (advisory_id, indicator_type, value)
);

CREATE TABLE security.incident (
    id                  uuid PRIMARY KEY,
    reference           text NOT NULL UNIQUE,
    category            text NOT NULL CHECK (category IN (
        'PHISHING', 'MALWARE', 'RANSOMWARE', 'INTRUSION', 'DDOS', 'INSIDER',
        'GNSS_SPOOFING', 'AIS_SPOOFING', 'PHYSICAL')),
    severity            text NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    status              text NOT NULL CHECK (status IN ('OPEN', 'CONTAINED', 'RESOLVED', 'CLOSED')),
    summary             text NOT NULL,
    unlocode            text CHECK (unlocode ~ '^[A-Z]{2}[A-Z2-9]{3}$'),
    smdg_code           text,
    reported_by_code    text NOT NULL,
    detected_at         timestamptz NOT NULL,
    resolved_at         timestamptz,
    CHECK (resolved_at IS NULL OR resolved_at >= detected_at),
    CHECK ((status IN ('RESOLVED', 'CLOSED')) = (resolved_at IS NOT NULL))
);
CREATE INDEX incident_detected_idx ON security.incident (detected_at DESC, id);

CREATE TABLE security.blocked_intrusion (
    day         date NOT NULL,
    vector      text NOT NULL CHECK (vector IN ('WEB', 'VPN', 'EMAIL', 'API', 'OT_NETWORK')),
    attempts    bigint NOT NULL CHECK (attempts >= 0),
    PRIMARY KEY (day, vector)
);
