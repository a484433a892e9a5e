-- Vessels, ports, terminals and port calls modelled on DCSA Just-In-Time Port Call 2.0:
-- port call -> terminal call -> port call service -> timestamp (negotiated via replyTo).
CREATE SCHEMA IF NOT EXISTS vessel;

CREATE TABLE vessel.port (
    unlocode    text PRIMARY KEY CHECK (unlocode ~ '^[A-Z]{2}[A-Z2-9]{3}$'),
    name        text NOT NULL,
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude   double precision CHECK (longitude BETWEEN -180 AND 180)
);

CREATE TABLE vessel.terminal (
    unlocode        text NOT NULL REFERENCES vessel.port (unlocode),
    smdg_code       text NOT NULL CHECK (smdg_code ~ '^[A-Z0-9]{1,8}$'),
    name            text NOT NULL,
    operator_name   text NOT NULL,
    berths          text NOT NULL,
    latitude        double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude       double precision CHECK (longitude BETWEEN -180 AND 180),
    PRIMARY KEY (unlocode, smdg_code)
);

CREATE TABLE vessel.vessel (
    imo                 text PRIMARY KEY CHECK (imo ~ '^[0-9]{7}$'),
    mmsi                text UNIQUE CHECK (mmsi ~ '^[2-7][0-9]{8}$'),
    name                text NOT NULL CHECK (name <> ''),
    flag                text NOT NULL CHECK (flag ~ '^[A-Z]{2}$'),
    call_sign           text CHECK (call_sign ~ '^[A-Z0-9]{3,8}$'),
    operator_scac       text NOT NULL CHECK (operator_scac ~ '^[A-Z]{2,4}$'),
    length_overall_m    numeric(6, 2) CHECK (length_overall_m > 0),
    width_m             numeric(5, 2) CHECK (width_m > 0),
    teu_capacity        integer CHECK (teu_capacity > 0),
    gross_tonnage       integer CHECK (gross_tonnage > 0)
);
CREATE INDEX vessel_operator_idx ON vessel.vessel (operator_scac);
CREATE INDEX vessel_name_idx ON vessel.vessel (lower(name) text_pattern_ops, imo);

CREATE TABLE vessel.port_call (
    id                      uuid PRIMARY KEY,
    port_visit_reference    text NOT NULL UNIQUE,
    unlocode                text NOT NULL REFERENCES vessel.port (unlocode),
    vessel_imo              text NOT NULL REFERENCES vessel.vessel (imo),
    carrier_scac            text NOT NULL CHECK (carrier_scac ~ '^[A-Z]{2,4}$'),
    carrier_import_voyage   text,
    carrier_export_voyage   text,
    service_code            text,
    status                  text NOT NULL CHECK (status IN (
        'PLANNED', 'ARRIVED', 'AT_BERTH', 'DEPARTED', 'CANCELLED')),
    estimated_arrival       timestamptz NOT NULL,
    actual_arrival          timestamptz,
    estimated_departure     timestamptz NOT NULL,
    actual_departure        timestamptz,
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (estimated_departure > estimated_arrival),
    CHECK (actual_departure IS NULL OR actual_arrival IS NOT NULL AND actual_departure > actual_arrival)
);
CREATE INDEX port_call_arrival_idx ON vessel.port_call (estimated_arrival, id);
CREATE INDEX port_call_vessel_idx ON vessel.port_call (vessel_imo, estimated_arrival);
CREATE INDEX port_call_carrier_idx ON vessel.port_call (carrier_scac, estimated_arrival);
CREATE INDEX port_call_status_idx ON vessel.port_call (status, estimated_arrival);

CREATE TABLE vessel.terminal_call (
    id                          uuid PRIMARY KEY,
    port_call_id                uuid NOT NULL REFERENCES vessel.port_call (id) ON DELETE CASCADE,
    sequence                    smallint NOT NULL CHECK (sequence > 0),
    terminal_call_reference     text NOT NULL UNIQUE,
    unlocode                    text NOT NULL,
    smdg_code                   text NOT NULL,
    berth                       text,
    FOREIGN KEY (unlocode, smdg_code) REFERENCES vessel.terminal (unlocode, smdg_code),
    UNIQUE (port_call_id, sequence)
);
CREATE INDEX terminal_call_terminal_idx ON vessel.terminal_call (unlocode, smdg_code, port_call_id);

CREATE TABLE vessel.port_call_service (
    id                  uuid PRIMARY KEY,
    terminal_call_id    uuid NOT NULL REFERENCES vessel.terminal_call (id) ON DELETE CASCADE,
    service_type        text NOT NULL CHECK (service_type IN (
        'BERTH', 'CARGO_OPERATIONS', 'PILOTAGE', 'TOWAGE', 'MOORING', 'BUNKERING',
        'PILOT_BOARDING_PLACE', 'ANCHORAGE', 'SHORE_POWER', 'SLUDGE', 'SEA_PASSAGE',
        'ALL_FAST', 'GANGWAY_DOWN_AND_SAFE', 'VTS_REPORT', 'SAFETY', 'FAST_CLOSE',
        'WITHDRAWAL', 'CANCEL')),
    UNIQUE (terminal_call_id, service_type)
);

CREATE TABLE vessel.timestamp (
    id                      uuid PRIMARY KEY,
    port_call_service_id    uuid NOT NULL REFERENCES vessel.port_call_service (id) ON DELETE CASCADE,
    classifier              text NOT NULL CHECK (classifier IN ('EST', 'REQ', 'PLN', 'ACT')),
    event_type              text NOT NULL CHECK (event_type IN ('ARRI', 'DEPA', 'STRT', 'CMPL')),
    event_datetime          timestamptz NOT NULL,
    reply_to_timestamp_id   uuid REFERENCES vessel.timestamp (id),
    publisher_code          text NOT NULL,
    publisher_role          text NOT NULL CHECK (publisher_role IN (
        'CA', 'AG', 'VSL', 'ATH', 'PLT', 'TR', 'TWG', 'BUK', 'LSH')),
    remark                  text,
    delay_reason_code       text,
    created_at              timestamptz NOT NULL,
    CHECK (reply_to_timestamp_id IS DISTINCT FROM id)
);
CREATE INDEX timestamp_service_idx ON vessel.timestamp (port_call_service_id, created_at, id);
CREATE INDEX timestamp_reply_idx ON vessel.timestamp (reply_to_timestamp_id);

CREATE TABLE vessel.ais_position (
    vessel_imo      text NOT NULL REFERENCES vessel.vessel (imo),
    recorded_at     timestamptz NOT NULL,
    latitude        double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude       double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    speed_knots     numeric(4, 1) CHECK (speed_knots >= 0),
    course_deg      numeric(4, 1) CHECK (course_deg >= 0 AND course_deg < 360),
    heading_deg     smallint CHECK (heading_deg BETWEEN 0 AND 359),
    navigational_status text NOT NULL CHECK (navigational_status IN (
        'UNDER_WAY_USING_ENGINE', 'AT_ANCHOR', 'MOORED', 'RESTRICTED_MANOEUVRABILITY',
        'NOT_UNDER_COMMAND', 'UNDER_WAY_SAILING')),
    PRIMARY KEY (vessel_imo, recorded_at)
);
