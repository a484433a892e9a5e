"""The real reference lists: San Pedro Bay terminals (SMDG) and carriers (SCAC, owner prefixes)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"
TERMINALS_CSV = REFERENCE_DIR / "san-pedro-bay-terminals.csv"
CARRIERS_CSV = REFERENCE_DIR / "carriers.csv"


@dataclass(frozen=True, slots=True)
class Terminal:
    unlocode: str
    smdg_code: str
    name: str
    operator_name: str
    berths: str
    latitude: float
    longitude: float

    @property
    def org_code(self) -> str:
        """The terminal's organization code, e.g. USLAX-APMT."""
        return f"{self.unlocode}-{self.smdg_code}"


@dataclass(frozen=True, slots=True)
class Carrier:
    scac: str
    name: str
    owner_prefixes: tuple[str, ...]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _terminal(row: dict[str, str]) -> Terminal:
    latitude, longitude = (float(part) for part in row["coordinates"].split(","))
    return Terminal(
        unlocode=row["unlocode"],
        smdg_code=row["smdg_code"],
        name=row["facility_name"],
        operator_name=row["company_name"],
        berths=row["berths"],
        latitude=latitude,
        longitude=longitude,
    )


@cache
def terminals() -> tuple[Terminal, ...]:
    return tuple(_terminal(row) for row in _rows(TERMINALS_CSV))


@cache
def carriers() -> tuple[Carrier, ...]:
    return tuple(
        Carrier(row["scac"], row["name"], tuple(row["container_owner_prefixes"].split()))
        for row in _rows(CARRIERS_CSV)
    )
