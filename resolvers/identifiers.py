"""Edge validation of port and shipping identifiers.

Each function normalises one identifier to the canonical form stored in the
database (see the CHECK constraints in resolvers/migrations) or raises
IdentifierError naming the GraphQL field and a machine-readable rule.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from stdnum import imo as _stdnum_imo

__all__ = [
    "IdentifierError",
    "ImoResult",
    "container_check_digit",
    "container_number",
    "imo",
    "imo_check_digit",
    "iso_equipment_code",
    "iso_size_type",
    "mmsi",
    "scac",
    "smdg_terminal_code",
    "unlocode",
]

# Explicit [0-9] and re.ASCII: \d and Unicode case folding would admit
# look-alikes such as Arabic-Indic digits or a dotless i in "IMO".
_IMO_RE: Final = re.compile(r"(?:IMO\s*)?([0-9]{7})", re.IGNORECASE | re.ASCII)
_SIX_DIGITS_RE: Final = re.compile(r"[0-9]{6}")
_MMSI_RE: Final = re.compile(r"[0-9]{9}")
_CONTAINER_SHAPE_RE: Final = re.compile(r"[A-Z]{4}[0-9]{7}")
_CONTAINER_FIRST_TEN_RE: Final = re.compile(r"[A-Z]{4}[0-9]{6}")
_CONTAINER_SEPARATORS_RE: Final = re.compile(r"[\s-]+")
_SIZE_TYPE_RE: Final = re.compile(r"[1-9A-HK-NPR][0-9][A-Z][0-9]")
_UNLOCODE_RE: Final = re.compile(r"([A-Z]{2}) ?([A-Z2-9]{3})")
_SMDG_RE: Final = re.compile(r"[A-Z0-9]{1,8}")
_SCAC_RE: Final = re.compile(r"[A-Z]{2,4}")

_CONTAINER_CATEGORIES: Final = frozenset("UJZ")
# ISO 6346 character values: digits as themselves, letters from 10 up, skipping multiples of
# 11 (A=10, B=12 ... K=21, L=23 ... U=32, V=34 ... Z=38). Written out rather than asked of
# python-stdnum, which takes ten times as long, for every published event (a test checks
# that both agree).
_ISO6346_LETTERS: Final = zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", [v for v in range(10, 39) if v % 11], strict=True
)
_ISO6346_VALUES: Final = {**{str(d): d for d in range(10)}, **dict(_ISO6346_LETTERS)}
_SIZE_TYPE_GROUPS: Final = frozenset("BGHPRSTUV")
# ISO 6346 type group codes, which DCSA's ISOEquipmentCode also takes in place of the
# detailed type (its own example is 22GP).
_TYPE_GROUP_CODES: Final = frozenset(
    {"GP", "VH", "BU", "BK", "SN", "RE", "RT", "RS", "HR", "HI", "UT", "UP", "PL", "PF", "PC"}
    | {"PS", "TN", "TD", "TG", "AS"}
)
_SHIP_STATION_FIRST_DIGITS: Final = frozenset("234567")
# Why a non-ship MMSI is refused, so callers can fix the right field.
_MMSI_NON_SHIP: Final[dict[str, str]] = {
    "0": "a coast station or group call",
    "1": "a search-and-rescue aircraft",
    "8": "a handheld VHF transceiver",
    "9": "an AIS-SART, MOB, EPIRB, aid to navigation or craft associated with a parent ship",
}
# Error messages echo client input; keep them bounded.
_MAX_ECHO: Final = 40


class IdentifierError(ValueError):
    """An identifier refused at the API edge; str() gives "field: message"."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = rule
        self.message = message

    def __reduce__(self) -> tuple[type[IdentifierError], tuple[str, str, str]]:
        # The default reduce replays args, which no longer match __init__.
        return (type(self), (self.field, self.rule, self.message))


@dataclass(frozen=True)
class ImoResult:
    value: str
    check_digit_ok: bool
    warning: str | None


def _upper(raw: str) -> str:
    # str.upper() maps some non-ASCII characters to ASCII ("\ufb00" -> "FF"),
    # so non-ASCII input is left as is and fails the pattern.
    stripped = raw.strip()
    return stripped.upper() if stripped.isascii() else stripped


def _shown(raw: str) -> str:
    if len(raw) > _MAX_ECHO:
        return repr(raw[:_MAX_ECHO]) + "..."
    return repr(raw)


def imo_check_digit(six_digits: str) -> int:
    """Check digit of an IMO ship number: weights 7..2, sum mod 10."""
    if not _SIX_DIGITS_RE.fullmatch(six_digits):
        raise ValueError(f"expected 6 ASCII digits, got {_shown(six_digits)}")
    return int(_stdnum_imo.calc_check_digit(six_digits))


def imo(value: str, field: str = "imo") -> ImoResult:
    """Accept "9321483", "IMO 9321483" or "imo9321483"; return the 7 digits.

    A check-digit mismatch only warns: registries hold real ships whose
    numbers fail it, and refusing them would hide genuine vessels.
    """
    match = _IMO_RE.fullmatch(value.strip())
    if match is None:
        raise IdentifierError(
            field,
            "format",
            f"{_shown(value)} is not an IMO ship number (expected 7 digits, "
            'optionally prefixed by "IMO")',
        )
    number = match.group(1)
    expected = imo_check_digit(number[:6])
    if expected == int(number[6]):
        return ImoResult(value=number, check_digit_ok=True, warning=None)
    return ImoResult(
        value=number,
        check_digit_ok=False,
        warning=f"{field}: {number} fails the IMO check digit (expected {expected})",
    )


def mmsi(value: str, field: str = "mmsi") -> str:
    """Accept a ship station MMSI: 9 digits whose first digit is 2-7 (the MID)."""
    number = value.strip()
    if not _MMSI_RE.fullmatch(number):
        raise IdentifierError(
            field, "format", f"{_shown(value)} is not an MMSI (expected exactly 9 digits)"
        )
    if number == "000000000":
        raise IdentifierError(field, "format", f"{number} is not an MMSI (all zeros)")
    first = number[0]
    if first not in _SHIP_STATION_FIRST_DIGITS:
        raise IdentifierError(
            field,
            "format",
            f"{number} is not a ship station MMSI (a first digit of {first} denotes "
            f"{_MMSI_NON_SHIP[first]}; ship stations start with 2-7)",
        )
    return number


def container_check_digit(first_ten: str) -> int:
    """ISO 6346 check digit for owner code, category and serial (10 chars).

    A remainder of 10 maps to 0, as the standard prescribes.
    """
    if not _CONTAINER_FIRST_TEN_RE.fullmatch(first_ten):
        raise ValueError(f"expected 4 uppercase letters and 6 digits, got {_shown(first_ten)}")
    total = sum(_ISO6346_VALUES[c] << i for i, c in enumerate(first_ten))
    return total % 11 % 10


def container_number(value: str, field: str = "containerNumber") -> str:
    """Accept an ISO 6346 container number; "csqu 305438-3" -> "CSQU3054383"."""
    number = _upper(_CONTAINER_SEPARATORS_RE.sub("", value))
    if not _CONTAINER_SHAPE_RE.fullmatch(number):
        raise IdentifierError(
            field,
            "format",
            f"{_shown(value)} is not an ISO 6346 container number (expected a 3-letter "
            "owner code, a category letter, a 6-digit serial number and a check digit)",
        )
    category = number[3]
    if category not in _CONTAINER_CATEGORIES:
        raise IdentifierError(
            field,
            "category",
            f"{number} has equipment category {category!r} (expected U, J or Z)",
        )
    expected = container_check_digit(number[:10])
    if expected != int(number[10]):
        raise IdentifierError(
            field,
            "check_digit",
            f"{number} fails the ISO 6346 check digit (expected {expected})",
        )
    return number


def iso_size_type(value: str, field: str = "isoEquipmentCode") -> str:
    """Accept an ISO 6346 size/type code such as 22G1, 45R1 or L5G1."""
    code = _upper(value)
    if not _SIZE_TYPE_RE.fullmatch(code):
        raise IdentifierError(
            field,
            "format",
            f"{_shown(value)} is not an ISO 6346 size/type code (expected length code, "
            "height digit, type group letter and type digit, e.g. 22G1)",
        )
    group = code[2]
    if group not in _SIZE_TYPE_GROUPS:
        raise IdentifierError(
            field,
            "category",
            f"{code} has unknown type group {group!r} "
            f"(expected one of {', '.join(sorted(_SIZE_TYPE_GROUPS))})",
        )
    return code


def iso_equipment_code(value: str, field: str = "ISOEquipmentCode") -> str:
    """DCSA's ISOEquipmentCode: a size/type code (22G1) or a size and type group (22GP)."""
    code = _upper(value)
    if len(code) == 4 and code[2:] in _TYPE_GROUP_CODES and _SIZE_TYPE_RE.match(code[:2] + "G1"):
        return code
    return iso_size_type(value, field)


def unlocode(value: str, field: str = "unlocode") -> str:
    """Accept a UN/LOCODE, "USLAX" or "US LAX"; return it without the space.

    Format only: python-stdnum has no public ISO 3166 list to check the country.
    """
    match = _UNLOCODE_RE.fullmatch(_upper(value))
    if match is None:
        raise IdentifierError(
            field,
            "format",
            f"{_shown(value)} is not a UN/LOCODE (expected a 2-letter country code "
            "and 3 letters or digits 2-9, e.g. USLAX)",
        )
    return match.group(1) + match.group(2)


def smdg_terminal_code(
    value: str,
    unlocode_value: str,
    field: str = "smdgCode",
    known: Collection[tuple[str, str]] | None = None,
    *,
    unlocode_field: str = "unlocode",
) -> tuple[str, str]:
    """Accept an SMDG terminal code with its port; return (unlocode, code).

    SMDG codes are meaningful only within a port, hence the pair.
    """
    port = unlocode(unlocode_value, unlocode_field)
    code = _upper(value)
    if not _SMDG_RE.fullmatch(code):
        raise IdentifierError(
            field,
            "format",
            f"{_shown(value)} is not an SMDG terminal code (expected 1 to 8 letters or digits)",
        )
    if known is not None and (port, code) not in known:
        raise IdentifierError(
            field, "unknown_code", f"{code} is not a known SMDG terminal code at {port}"
        )
    return port, code


def scac(value: str, field: str = "scac") -> str:
    """Accept a Standard Carrier Alpha Code: 2 to 4 letters, e.g. MAEU."""
    code = _upper(value)
    if not _SCAC_RE.fullmatch(code):
        raise IdentifierError(
            field, "format", f"{_shown(value)} is not a SCAC (expected 2 to 4 letters)"
        )
    return code
