-- A visit's state is derived from its box's events of its port call (issue 10): with only
-- (port_call_id), the planner ANDed the whole call's bitmap with the box's for every visit a
-- batch touches, and the call's bitmap grows with every event published for it. One index on
-- both serves the derivation exactly and DCSA's transportCallID filter by its leading column.
CREATE INDEX event_port_call_equipment_idx ON cargo.event (port_call_id, equipment_reference)
    WHERE port_call_id IS NOT NULL;
DROP INDEX cargo.event_port_call_idx;
