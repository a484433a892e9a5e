-- A terminal's containers of one port call (a port call's page under the terminal's row
-- rule): without this index the planner ANDs the port call's bitmap with the whole
-- terminal's, reading every visit the terminal ever had once per port call.
CREATE INDEX container_visit_port_call_terminal_idx
    ON cargo.container_visit (port_call_id, unlocode, smdg_code, equipment_reference);
