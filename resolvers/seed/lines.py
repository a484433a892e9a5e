"""Shipping lines as they appear at San Pedro Bay: services, alliances, terminals, fleets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    origins: tuple[str, ...]  # ports of loading of imports
    destinations: tuple[str, ...]  # ports of discharge of exports


@dataclass(frozen=True, slots=True)
class Fleet:
    """How a carrier's ships look: share of the calls, flags, names, sizes."""

    weight: float
    flags: tuple[str, ...]
    name_format: str  # "{}" takes one word from `names`
    names: tuple[str, ...]
    teu_range: tuple[int, int]


SERVICES: dict[str, tuple[Service, ...]] = {
    "MSCU": (
        Service("PEARL", ("CNNGB", "CNSHA", "KRPUS"), ("KRPUS", "CNNGB")),
        Service("JAGUAR", ("SGSIN", "VNCMT", "CNYTN", "CNSHK"), ("CNYTN", "SGSIN")),
    ),
    "MAEU": (
        Service("TP6", ("CNXMN", "CNYTN", "VNCMT"), ("CNYTN", "VNCMT")),
        Service("TP2", ("CNNGB", "CNSHA", "KRPUS"), ("KRPUS", "CNSHA")),
    ),
    "CMDU": (
        Service("PRX", ("CNSHK", "HKHKG", "CNXMN", "CNNGB"), ("HKHKG", "CNSHK")),
        Service("PEX3", ("THLCH", "VNCMT", "CNYTN"), ("VNCMT", "THLCH")),
    ),
    "COSU": (
        Service("AAC", ("CNXMN", "CNSHK", "HKHKG", "CNYTN"), ("CNYTN", "HKHKG")),
        Service("CEN", ("CNTAO", "CNSHA", "CNNGB"), ("CNTAO", "CNSHA")),
    ),
    "EGLV": (
        Service("PSW1", ("TWKHH", "CNYTN", "HKHKG"), ("TWKHH", "HKHKG")),
        Service("CPS", ("CNXMN", "TWKHH", "CNNGB"), ("TWKHH", "CNXMN")),
    ),
    "HLCU": (
        Service("PN3", ("VNCMT", "HKHKG", "CNYTN"), ("CNYTN", "VNCMT")),
        Service("PN1", ("CNSHA", "KRPUS", "JPTYO"), ("JPTYO", "KRPUS")),
    ),
    "ONEY": (
        Service("PS3", ("CNSHK", "CNYTN", "KRPUS"), ("KRPUS", "CNSHK")),
        Service("FP1", ("THLCH", "SGSIN", "VNCMT", "HKHKG"), ("SGSIN", "THLCH")),
    ),
    "YMLU": (Service("PS5", ("CNSHA", "CNNGB", "KRPUS", "TWKHH"), ("TWKHH", "KRPUS")),),
    "HDMU": (Service("PS1", ("KRPUS", "CNSHA", "CNNGB"), ("KRPUS", "CNNGB")),),
    "ZIMU": (
        Service("ZX2", ("CNYTN", "CNSHK", "VNCMT"), ("VNCMT", "CNYTN")),
        Service("ZCP", ("CNNGB", "CNSHA", "KRPUS"), ("KRPUS", "CNSHA")),
    ),
    "OOLU": (
        Service("PCC1", ("CNSHA", "CNNGB", "KRPUS"), ("KRPUS", "CNSHA")),
        Service("PCC2", ("CNYTN", "HKHKG", "TWKHH"), ("HKHKG", "TWKHH")),
    ),
    "MATS": (Service("CLX", ("CNXMN", "CNNGB", "CNSHA"), ("USHNL", "CNSHA")),),
}
DEFAULT_SERVICES = (Service("TPX", ("CNSHA", "CNNGB", "KRPUS"), ("KRPUS", "CNSHA")),)

# Vessel sharing: a partner's boxes travel on the operator's ship.
ALLIANCES = (
    ("MAEU", "HLCU"),
    ("ONEY", "HDMU", "YMLU"),
    ("CMDU", "COSU", "OOLU", "EGLV"),
)

# Terminals (SMDG codes) each line calls at in San Pedro Bay.
CARRIER_TERMINALS: dict[str, tuple[str, ...]] = {
    "MSCU": ("TTI", "SSAPCT", "WBCT"),
    "MAEU": ("APMT",),
    "HLCU": ("APMT", "YUSEN"),
    "CMDU": ("EAGLE", "SSATA"),
    "COSU": ("SSAPCT", "WBCT"),
    "OOLU": ("LBCT",),
    "EGLV": ("ETS",),
    "ONEY": ("YUSEN", "TRAP", "ITS"),
    "YMLU": ("WBCT", "ETS"),
    "HDMU": ("TTI",),
    "ZIMU": ("ITS", "SSATA"),
    "MATS": ("MATU",),
}


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split("|"))


_STARS = _names(
    "ARIES|TAURUS|GEMINI|LEO|VIRGO|LIBRA|SCORPIO|SAGITTARIUS|CAPRICORN|AQUARIUS|PISCES|ORION|"
    "LYRA|VEGA|SIRIUS|POLARIS"
)
_VIRTUES = _names(
    "WELLNESS|WARRANTY|WISDOM|WORTH|WITNESS|WONDROUS|WELLSPRING|WHOLESOME|WINDOW|WORLD|"
    "WELLBEING|WIT"
)
_CITIES = _names(
    "HAMBURG|BERLIN|MUNICH|BREMEN|DRESDEN|LEIPZIG|COLOGNE|STUTTGART|FRANKFURT|ESSEN|KIEL|"
    "LUBECK|ROSTOCK|MAINZ|BONN|ULM"
)
_MSC = _names(
    "ANNA|AMELIA|CLARA|DIANA|ELOANE|GIULIA|ISABELLA|LORETO|MIA|SOFIA|TESSA|VIVIANA|ALINA|"
    "BEATRICE|CHIARA|FEDERICA|GINEVRA|IRINA|LUCIANA|MARIELLA|NOA|PAOLA|ROSARIA|SAMANTA"
)
_MAERSK = _names(
    "GERDA|HELGA|ESSEN|EDITH|EMMA|ELLY|GUNHILDE|GJERTRUD|HENRIK|HERTA|MARCHEN|MARGRETHE|"
    "METTE|MATHILDE|SVEND|SALLY|SOFIE"
)
_CMA = _names(
    "MARCO POLO|JULES VERNE|ALEXANDER VON HUMBOLDT|BOUGAINVILLE|CHAMPS ELYSEES|ZHENG HE|"
    "VASCO DE GAMA|GEORG FORSTER|AMERIGO VESPUCCI|CORTE REAL|LOUVRE|RIVOLI|CONCORDE|"
    "MONTMARTRE|TROCADERO|PALAIS ROYAL"
)
_EVER = _names(
    "ACE|APEX|ALOT|ARM|ATOP|BLOOM|CENTRE|FAITH|FOREVER|GENIUS|GLOBE|GOLDEN|LAUREL|LEGACY|"
    "LIBERAL|LOVELY|MAX|MERIT"
)
_ONE = _names(
    "APUS|AQUILA|CYGNUS|CRANE|HAMBURG|HARMONY|INNOVATION|INFINITY|MINATO|MANCHESTER|OLYMPUS|"
    "STORK|SWAN|TRIUMPH|TRUTH|WREN"
)
_HMM = _names(
    "ALGECIRAS|OSLO|COPENHAGEN|DUBLIN|GDANSK|HAMBURG|ROTTERDAM|SOUTHAMPTON|STOCKHOLM|LE HAVRE|"
    "PROMISE|BLESSING|DREAM|HOPE"
)
_ZIM = _names(
    "KINGSTON|SAMMY|ROTTERDAM|SHANGHAI|VIRGINIA|MOUNT EVEREST|MOUNT DENALI|MOUNT FUJI|"
    "MOUNT OLYMPUS|EMERALD|SAPPHIRE|DIAMOND"
)
_OOCL = _names(
    "HONG KONG|GERMANY|JAPAN|UNITED KINGDOM|SCANDINAVIA|INDONESIA|BERLIN|BRUSSELS|CHONGQING|"
    "LUXEMBOURG|NORFOLK|OAKLAND|SEOUL"
)
_MATSON = _names(
    "MANUKAI|MAUNAWILI|MANULANI|MAUNALEI|KAIMANA HILA|LURLINE|MATSONIA|DANIEL K INOUYE|"
    "MAHIMAHI|MANOA|KAUAI|MAUI"
)

FLEETS: dict[str, Fleet] = {
    "MSCU": Fleet(18, ("PA", "LR", "PT", "MT"), "MSC {}", _MSC, (8_000, 19_500)),
    "MAEU": Fleet(12, ("DK", "SG", "HK"), "{} MAERSK", _MAERSK, (8_500, 15_500)),
    "CMDU": Fleet(12, ("FR", "MT", "LR", "SG"), "CMA CGM {}", _CMA, (9_000, 17_000)),
    "COSU": Fleet(10, ("HK", "CN", "PA"), "COSCO SHIPPING {}", _STARS, (10_000, 20_000)),
    "EGLV": Fleet(9, ("PA", "SG", "GB", "TW"), "EVER {}", _EVER, (8_500, 24_000)),
    "HLCU": Fleet(7, ("DE", "LR", "MT"), "{} EXPRESS", _CITIES, (8_700, 15_000)),
    "ONEY": Fleet(8, ("JP", "SG", "PA"), "ONE {}", _ONE, (8_000, 14_000)),
    "YMLU": Fleet(4, ("LR", "SG", "TW"), "YM {}", _VIRTUES, (8_000, 14_000)),
    "HDMU": Fleet(4, ("KR", "PA"), "HMM {}", _HMM, (10_000, 16_000)),
    "ZIMU": Fleet(5, ("LR", "MT", "IL"), "ZIM {}", _ZIM, (5_000, 15_000)),
    "OOLU": Fleet(6, ("HK",), "OOCL {}", _OOCL, (8_000, 14_000)),
    "MATS": Fleet(5, ("US",), "{}", _MATSON, (2_600, 3_600)),
}
DEFAULT_FLEET = Fleet(4, ("LR", "PA"), "{} TRADER", _CITIES, (4_000, 9_000))

# Maritime identification digits (first 3 of the MMSI) and call sign prefixes per flag.
MIDS: dict[str, tuple[str, ...]] = {
    "PA": ("351", "352", "353", "354", "355", "356", "357", "370", "371", "372", "373"),
    "LR": ("636",),
    "PT": ("255",),
    "MT": ("215", "229", "248", "249", "256"),
    "SG": ("563", "564", "565", "566"),
    "HK": ("477",),
    "DK": ("219", "220"),
    "DE": ("211", "218"),
    "FR": ("226", "227", "228"),
    "GB": ("232", "233", "234", "235"),
    "CN": ("412", "413", "414"),
    "TW": ("416",),
    "KR": ("440", "441"),
    "JP": ("431", "432"),
    "IL": ("428",),
    "US": ("338", "366", "367", "368", "369"),
}
CALL_SIGN_PREFIXES: dict[str, tuple[str, ...]] = {
    "PA": ("3E", "3F", "H3", "H8", "H9", "HO", "HP"),
    "LR": ("A8", "D5", "5L"),
    "PT": ("CQ",),
    "MT": ("9H",),
    "SG": ("9V", "S6"),
    "HK": ("VR",),
    "DK": ("OU", "OW", "OZ"),
    "DE": ("DA", "DC", "DG"),
    "FR": ("FM", "FN"),
    "GB": ("2A", "2B", "2C"),
    "CN": ("BP", "BQ"),
    "TW": ("BL",),
    "KR": ("D7", "DS"),
    "JP": ("7J", "JD"),
    "IL": ("4X",),
    "US": ("WD", "KD"),
}

# (TEU, length overall m, beam m, gross tonnage) of typical ships; sizes interpolate.
SIZE_CURVE = (
    (2_600, 210.0, 32.2, 29_000),
    (4_500, 260.0, 32.3, 50_000),
    (8_500, 334.0, 42.8, 90_000),
    (10_000, 349.0, 45.6, 110_000),
    (14_000, 366.0, 51.2, 150_000),
    (18_000, 400.0, 58.6, 195_000),
    (24_000, 400.0, 61.5, 235_000),
)
