-- Booking (issue 10): a terminal's gate capacity per hour, taken one place per appointment.
CREATE TABLE gate.appointment_slot (
    unlocode    text NOT NULL CHECK (unlocode ~ '^[A-Z]{2}[A-Z2-9]{3}$'),
    smdg_code   text NOT NULL,
    slot_start  timestamptz NOT NULL CHECK (extract(epoch FROM slot_start)::bigint % 3600 = 0),
    capacity    integer NOT NULL CHECK (capacity BETWEEN 0 AND 10000),
    booked      integer NOT NULL DEFAULT 0 CHECK (booked >= 0),
    PRIMARY KEY (unlocode, smdg_code, slot_start)
);

-- The slot a booked appointment holds a place in (NULL for the demo's own appointments).
ALTER TABLE gate.appointment ADD COLUMN slot_start timestamptz;
