"""Edge validation of port and shipping identifiers."""

from __future__ import annotations

import pickle
import random
import string

import pytest
from stdnum import iso6346

from resolvers import identifiers
from resolvers.identifiers import (
    IdentifierError,
    ImoResult,
    container_check_digit,
    container_number,
    imo,
    imo_check_digit,
    iso_equipment_code,
    iso_size_type,
    mmsi,
    scac,
    smdg_terminal_code,
    unlocode,
)


def _refusal(exc: pytest.ExceptionInfo[IdentifierError]) -> tuple[str, str, str]:
    return exc.value.field, exc.value.rule, str(exc.value)


# --- IdentifierError -------------------------------------------------------


def test_identifier_error_is_value_error_and_round_trips_through_pickle() -> None:
    error = IdentifierError("scac", "format", "'1' is not a SCAC")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert isinstance(error, ValueError)
    assert (copy.field, copy.rule, copy.message, str(copy)) == (
        "scac",
        "format",
        "'1' is not a SCAC",
        "scac: '1' is not a SCAC",
    )


# --- IMO -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("six_digits", "expected"),
    [
        # 9*7 + 3*6 + 2*5 + 1*4 + 4*3 + 8*2 = 123 -> 3 (EMMA MAERSK, IMO 9321483)
        ("932148", 3),
        # 9*7 + 8*6 + 3*5 + 9*4 + 1*3 + 3*2 = 171 -> 1 (MSC GULSUN, IMO 9839131)
        ("983913", 1),
        # 8*7 + 8*6 + 1*5 + 4*4 + 2*3 + 7*2 = 145 -> 5 (python-stdnum's doc example)
        ("881427", 5),
        ("000000", 0),
    ],
)
def test_imo_check_digit(six_digits: str, expected: int) -> None:
    assert imo_check_digit(six_digits) == expected


@pytest.mark.parametrize(
    "bad", ["93214", "9321483", "93214a", "", "\u0669\u0663\u0662\u0661\u0664\u0668"]
)
def test_imo_check_digit_rejects_non_six_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="expected 6 ASCII digits"):
        imo_check_digit(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9321483", "9321483"),
        ("IMO 9321483", "9321483"),
        ("IMO9321483", "9321483"),
        ("imo 9321483", "9321483"),
        ("  Imo9321483 ", "9321483"),
        ("9839131", "9839131"),
        ("IMO 9839131", "9839131"),
    ],
)
def test_imo_accepts_real_ships(raw: str, expected: str) -> None:
    assert imo(raw) == ImoResult(value=expected, check_digit_ok=True, warning=None)


def test_imo_check_digit_mismatch_is_a_warning_not_an_error() -> None:
    assert imo("IMO 9321484", field="vesselImo") == ImoResult(
        value="9321484",
        check_digit_ok=False,
        warning="vesselImo: 9321484 fails the IMO check digit (expected 3)",
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("932148", "imo: '932148' is not an IMO ship number"),
        ("93214830", "imo: '93214830' is not an IMO ship number"),
        ("IMO-9321483", "imo: 'IMO-9321483' is not an IMO ship number"),
        ("IMX 9321483", "imo: 'IMX 9321483' is not an IMO ship number"),
        ("", "imo: '' is not an IMO ship number"),
        # Unicode case folding must not turn a dotless i into "I".
        ("\u0131MO 9321483", "imo: '\u0131MO 9321483' is not an IMO ship number"),
        # Arabic-Indic digits are digits to \d but not to us.
        (
            "\u0669\u0663\u0662\u0661\u0664\u0668\u0663",
            "imo: '\u0669\u0663\u0662\u0661\u0664\u0668\u0663' is not an IMO ship number",
        ),
    ],
)
def test_imo_refuses_bad_format(raw: str, message: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        imo(raw)
    assert _refusal(exc) == (
        "imo",
        "format",
        message + ' (expected 7 digits, optionally prefixed by "IMO")',
    )


# --- MMSI ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["219018000", "366123456", "477000100", "538001234", "636012345", "725000001", " 219018000 "],
)
def test_mmsi_accepts_ship_stations(raw: str) -> None:
    assert mmsi(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["21901800", "2190180001", "21901800A", "219 018 000", ""])
def test_mmsi_refuses_wrong_length_or_characters(raw: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        mmsi(raw, field="vesselMmsi")
    assert _refusal(exc) == (
        "vesselMmsi",
        "format",
        f"vesselMmsi: {raw!r} is not an MMSI (expected exactly 9 digits)",
    )


def test_mmsi_refuses_all_zeros() -> None:
    with pytest.raises(IdentifierError) as exc:
        mmsi("000000000")
    assert _refusal(exc) == ("mmsi", "format", "mmsi: 000000000 is not an MMSI (all zeros)")


@pytest.mark.parametrize(
    ("raw", "denotes"),
    [
        ("002191000", "0 denotes a coast station or group call"),
        ("111219500", "1 denotes a search-and-rescue aircraft"),
        ("821901234", "8 denotes a handheld VHF transceiver"),
        (
            "970123456",
            "9 denotes an AIS-SART, MOB, EPIRB, aid to navigation or craft associated"
            " with a parent ship",
        ),
    ],
)
def test_mmsi_refuses_non_ship_stations(raw: str, denotes: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        mmsi(raw)
    assert _refusal(exc) == (
        "mmsi",
        "format",
        f"mmsi: {raw} is not a ship station MMSI (a first digit of {denotes};"
        " ship stations start with 2-7)",
    )


# --- ISO 6346 container numbers -------------------------------------------


@pytest.mark.parametrize(
    ("first_ten", "expected"),
    [
        # 13 + 30*2 + 28*4 + 32*8 + 3*16 + 0*32 + 5*64 + 4*128 + 3*256 + 8*512 = 6185
        # 6185 mod 11 = 3
        ("CSQU305438", 3),
        ("MSCU123456", 6),
        ("TGHU499888", 8),
        # Remainder 10 maps to 0 (the standard's own example, TASU 117000 0).
        ("TASU117000", 0),
    ],
)
def test_container_check_digit(first_ten: str, expected: int) -> None:
    assert container_check_digit(first_ten) == expected


def test_container_check_digit_agrees_with_python_stdnum() -> None:
    rng = random.Random(6346)
    for _ in range(5_000):
        owner = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
        first_ten = owner + rng.choice("UJZ") + f"{rng.randrange(1_000_000):06d}"
        assert container_check_digit(first_ten) == int(iso6346.calc_check_digit(first_ten))


@pytest.mark.parametrize("bad", ["CSQU30543", "CSQU3054383", "csqu305438", "CSQ1305438", ""])
def test_container_check_digit_rejects_malformed_input(bad: str) -> None:
    with pytest.raises(ValueError, match="expected 4 uppercase letters and 6 digits"):
        container_check_digit(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CSQU3054383", "CSQU3054383"),
        ("CSQU 305438 3", "CSQU3054383"),
        ("CSQU 305438-3", "CSQU3054383"),
        ("csqu305438-3", "CSQU3054383"),
        ("TASU 117000 0", "TASU1170000"),
        ("TGHU4998888", "TGHU4998888"),
    ],
)
def test_container_number_accepts_and_normalises(raw: str, expected: str) -> None:
    assert container_number(raw) == expected


def test_container_number_accepts_every_category() -> None:
    # Same owner and serial; the category letter changes the check digit.
    assert [
        container_number(f"CSQ{c}305438{container_check_digit(f'CSQ{c}305438')}") for c in "UJZ"
    ] == [
        "CSQU3054383",
        "CSQJ3054386",
        "CSQZ3054387",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("MSCU1234567", "containerNumber: MSCU1234567 fails the ISO 6346 check digit (expected 6)"),
        ("TGHU4998883", "containerNumber: TGHU4998883 fails the ISO 6346 check digit (expected 8)"),
        ("CSQU3054384", "containerNumber: CSQU3054384 fails the ISO 6346 check digit (expected 3)"),
        ("TASU1170001", "containerNumber: TASU1170001 fails the ISO 6346 check digit (expected 0)"),
    ],
)
def test_container_number_refuses_bad_check_digit(raw: str, message: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        container_number(raw)
    assert _refusal(exc) == ("containerNumber", "check_digit", message)


@pytest.mark.parametrize(
    ("raw", "letter"),
    [("CSQA3054383", "A"), ("CSQR3054383", "R"), ("csqx 305438 3", "X")],
)
def test_container_number_refuses_unknown_category(raw: str, letter: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        container_number(raw, field="equipmentReference")
    normalised = f"CSQ{letter}3054383"
    assert _refusal(exc) == (
        "equipmentReference",
        "category",
        f"equipmentReference: {normalised} has equipment category '{letter}' (expected U, J or Z)",
    )


@pytest.mark.parametrize(
    "raw",
    ["CSQU305438", "CSQU30543833", "CS1U3054383", "CSQU305438X", "CSQU/305438/3", "", "C" * 60],
)
def test_container_number_refuses_bad_format(raw: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        container_number(raw)
    shown = repr(raw[:40]) + ("..." if len(raw) > 40 else "")
    assert _refusal(exc) == (
        "containerNumber",
        "format",
        f"containerNumber: {shown} is not an ISO 6346 container number (expected a 3-letter"
        " owner code, a category letter, a 6-digit serial number and a check digit)",
    )


def test_container_number_does_not_uppercase_non_ascii_into_a_match() -> None:
    # "\ufb00".upper() == "FF"; it must not be read as two owner-code letters.
    with pytest.raises(IdentifierError) as exc:
        container_number("\ufb00QU3054383")
    assert exc.value.rule == "format"


# --- ISO 6346 size/type codes ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("22G1", "22G1"),
        ("42G1", "42G1"),
        ("45G1", "45G1"),
        ("45R1", "45R1"),
        ("22R1", "22R1"),
        ("22U1", "22U1"),
        ("45U1", "45U1"),
        ("22T1", "22T1"),
        ("L5G1", "L5G1"),
        ("22g1", "22G1"),
        (" 45r1 ", "45R1"),
        ("22P1", "22P1"),
        ("22B0", "22B0"),
        ("22H0", "22H0"),
        ("22S1", "22S1"),
        ("22V0", "22V0"),
    ],
)
def test_iso_size_type_accepts(raw: str, expected: str) -> None:
    assert iso_size_type(raw) == expected


@pytest.mark.parametrize(("raw", "letter"), [("22X1", "X"), ("45A0", "A"), ("22k1", "K")])
def test_iso_size_type_refuses_unknown_group(raw: str, letter: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        iso_size_type(raw)
    assert _refusal(exc) == (
        "isoEquipmentCode",
        "category",
        f"isoEquipmentCode: {raw.upper()} has unknown type group '{letter}'"
        " (expected one of B, G, H, P, R, S, T, U, V)",
    )


@pytest.mark.parametrize(
    ("raw", "expected"), [("22GP", "22GP"), ("45rt", "45RT"), ("L5HC", None), ("45R1", "45R1")]
)
def test_dcsa_iso_equipment_code_takes_type_groups_too(raw: str, expected: str | None) -> None:
    """DCSA's ISOEquipmentCode example is 22GP: a size and an ISO 6346 type group."""
    if expected is not None:
        assert iso_equipment_code(raw) == expected
        return
    with pytest.raises(IdentifierError) as exc:
        iso_equipment_code(raw)
    assert _refusal(exc)[:2] == ("ISOEquipmentCode", "format")


@pytest.mark.parametrize(
    "raw", ["2G1", "22G10", "02G1", "I2G1", "O2G1", "2AG1", "22GX", "22 G1", ""]
)
def test_iso_size_type_refuses_bad_format(raw: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        iso_size_type(raw, field="sizeType")
    assert _refusal(exc) == (
        "sizeType",
        "format",
        f"sizeType: {raw!r} is not an ISO 6346 size/type code (expected length code,"
        " height digit, type group letter and type digit, e.g. 22G1)",
    )


# --- UN/LOCODE -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("USLAX", "USLAX"),
        ("NLRTM", "NLRTM"),
        ("DEHAM", "DEHAM"),
        ("SGSIN", "SGSIN"),
        ("US LAX", "USLAX"),
        ("nlrtm", "NLRTM"),
        (" BE ANR ", "BEANR"),
        ("GB2AB", "GB2AB"),
        ("FR9Z9", "FR9Z9"),
    ],
)
def test_unlocode_accepts(raw: str, expected: str) -> None:
    assert unlocode(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["USLA", "USLAXX", "US1AX", "US0AX", "U5LAX", "US-LAX", "US  LAX", "USL AX", ""],
)
def test_unlocode_refuses_bad_format(raw: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        unlocode(raw, field="portOfCall")
    assert _refusal(exc) == (
        "portOfCall",
        "format",
        f"portOfCall: {raw!r} is not a UN/LOCODE (expected a 2-letter country code"
        " and 3 letters or digits 2-9, e.g. USLAX)",
    )


# --- SMDG terminal codes ---------------------------------------------------

# Illustrative pairs, not taken from the SMDG terminal code list.
_KNOWN = frozenset({("NLRTM", "ECTDELTA"), ("USLAX", "APMT")})


@pytest.mark.parametrize(
    ("code", "port", "expected"),
    [
        ("APMT", "USLAX", ("USLAX", "APMT")),
        ("apmt", "us lax", ("USLAX", "APMT")),
        ("A", "NLRTM", ("NLRTM", "A")),
        ("ECTDELTA", "NLRTM", ("NLRTM", "ECTDELTA")),
        ("T2", "DEHAM", ("DEHAM", "T2")),
    ],
)
def test_smdg_terminal_code_accepts(code: str, port: str, expected: tuple[str, str]) -> None:
    assert smdg_terminal_code(code, port) == expected


@pytest.mark.parametrize("code", ["", "ECTDELTA9", "APM-T", "APM T"])
def test_smdg_terminal_code_refuses_bad_format(code: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        smdg_terminal_code(code, "NLRTM")
    assert _refusal(exc) == (
        "smdgCode",
        "format",
        f"smdgCode: {code!r} is not an SMDG terminal code (expected 1 to 8 letters or digits)",
    )


def test_smdg_terminal_code_reports_bad_port_on_its_own_field() -> None:
    with pytest.raises(IdentifierError) as exc:
        smdg_terminal_code("APMT", "USLA", unlocode_field="terminalUnlocode")
    assert (exc.value.field, exc.value.rule) == ("terminalUnlocode", "format")


def test_smdg_terminal_code_checks_known_pairs() -> None:
    assert smdg_terminal_code("apmt", "USLAX", known=_KNOWN) == ("USLAX", "APMT")
    with pytest.raises(IdentifierError) as exc:
        # A code known at another port is still unknown here.
        smdg_terminal_code("APMT", "NLRTM", "terminalCode", _KNOWN)
    assert _refusal(exc) == (
        "terminalCode",
        "unknown_code",
        "terminalCode: APMT is not a known SMDG terminal code at NLRTM",
    )


def test_smdg_terminal_code_empty_known_refuses_everything() -> None:
    with pytest.raises(IdentifierError) as exc:
        smdg_terminal_code("APMT", "USLAX", known=())
    assert exc.value.rule == "unknown_code"


# --- SCAC ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("MAEU", "MAEU"),
        ("MSCU", "MSCU"),
        ("CMDU", "CMDU"),
        ("HLCU", "HLCU"),
        ("oney", "ONEY"),
        (" EGLV ", "EGLV"),
        ("UP", "UP"),
        ("ABC", "ABC"),
    ],
)
def test_scac_accepts(raw: str, expected: str) -> None:
    assert scac(raw) == expected


@pytest.mark.parametrize("raw", ["M", "MAEUX", "MA3U", "MA-U", "MA EU", "", "\ufb00"])
def test_scac_refuses(raw: str) -> None:
    with pytest.raises(IdentifierError) as exc:
        scac(raw, field="carrierScac")
    assert _refusal(exc) == (
        "carrierScac",
        "format",
        f"carrierScac: {raw!r} is not a SCAC (expected 2 to 4 letters)",
    )


def test_public_api_is_exported() -> None:
    assert sorted(identifiers.__all__) == [
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
