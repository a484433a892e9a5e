"""Ports (San Pedro Bay and the foreign ports on the services) and the terminals."""

from __future__ import annotations

from resolvers.seed.geography import FOREIGN_PORTS, HOME_PORTS, Port
from resolvers.seed.reference import Terminal
from resolvers.seed.tables import Row, Table

PORT_COLUMNS = ("unlocode", "name", "country", "latitude", "longitude")
TERMINAL_COLUMNS = (
    "unlocode", "smdg_code", "name", "operator_name", "berths", "latitude", "longitude",
)  # fmt: skip


def all_ports(terminals: tuple[Terminal, ...]) -> list[Port]:
    """Known ports, plus any port of a reference terminal the list does not name."""
    ports = [*HOME_PORTS, *FOREIGN_PORTS]
    known = {p.unlocode for p in ports}
    for terminal in terminals:
        if terminal.unlocode not in known:
            known.add(terminal.unlocode)
            port = Port(terminal.unlocode, terminal.unlocode, terminal.latitude, terminal.longitude)
            ports.append(port)
    return ports


def tables(terminals: tuple[Terminal, ...]) -> list[Table]:
    port_rows: list[Row] = [
        (p.unlocode, p.name, p.country, p.latitude, p.longitude) for p in all_ports(terminals)
    ]
    terminal_rows: list[Row] = [
        (t.unlocode, t.smdg_code, t.name, t.operator_name, t.berths, t.latitude, t.longitude)
        for t in terminals
    ]
    return [
        Table("vessel.port", PORT_COLUMNS, port_rows),
        Table("vessel.terminal", TERMINAL_COLUMNS, terminal_rows),
    ]
