"""What travels in the boxes: ISO size/type codes, commodities, dangerous goods, hold reasons."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DRY, REEFER, TANK = "DRY", "REEFER", "TANK"


@dataclass(frozen=True, slots=True)
class IsoType:
    code: str
    family: str
    tare_kg: int
    weight: float  # share within its family
    teu: int


ISO_TYPES = (
    IsoType("45G1", DRY, 3_940, 46, 2),
    IsoType("42G1", DRY, 3_750, 22, 2),
    IsoType("22G1", DRY, 2_200, 27, 1),
    IsoType("L5G1", DRY, 4_700, 5, 2),
    IsoType("45R1", REEFER, 4_800, 85, 2),
    IsoType("22R1", REEFER, 3_000, 15, 1),
    IsoType("22T6", TANK, 3_650, 1, 1),
)


@dataclass(frozen=True, slots=True)
class Commodity:
    name: str
    hs_code: str
    family: str
    cargo_tonnes: tuple[float, float]  # net per 40' box (a 20' carries ~60 %); tanks per tank
    setpoint_c: Decimal | None = None
    un_number: str | None = None
    dg_class: str | None = None


IMPORTS = (
    Commodity("Wooden bedroom furniture", "940350", DRY, (6, 12)),
    Commodity("Upholstered seats", "940161", DRY, (5, 10)),
    Commodity("Footwear with rubber soles", "640299", DRY, (6, 11)),
    Commodity("Toys and games", "950300", DRY, (5, 10)),
    Commodity("Women's cotton trousers", "620462", DRY, (6, 12)),
    Commodity("Portable computers", "847130", DRY, (5, 9)),
    Commodity("Motor vehicle parts", "870899", DRY, (12, 24)),
    Commodity("LCD televisions", "852872", DRY, (7, 11)),
    Commodity("New pneumatic car tires", "401110", DRY, (8, 14)),
    Commodity("Plastic household articles", "392490", DRY, (6, 12)),
    Commodity("Sporting goods", "950691", DRY, (6, 12)),
    Commodity("Photovoltaic modules", "854143", DRY, (14, 22)),
    Commodity("Steel screws and bolts", "731815", DRY, (18, 26)),
    Commodity("Ceramic floor tiles", "690721", DRY, (20, 26)),
    Commodity("Frozen shrimp", "030617", REEFER, (20, 26), setpoint_c=Decimal("-20.0")),
    Commodity("Frozen fish fillets", "030487", REEFER, (20, 26), setpoint_c=Decimal("-22.0")),
    Commodity("Fresh garlic", "070320", REEFER, (22, 27), setpoint_c=Decimal("-1.0")),
    Commodity("Fresh mandarins", "080521", REEFER, (20, 25), setpoint_c=Decimal("4.0")),
    Commodity("Lithium-ion batteries", "850760", DRY, (10, 18), un_number="3480", dg_class="9"),
    Commodity("Paint, flammable", "320890", DRY, (14, 20), un_number="1263", dg_class="3"),
    Commodity("Aerosol cleaners", "340290", DRY, (8, 14), un_number="1950", dg_class="2.1"),
    Commodity("Ethanol, undenatured", "220710", TANK, (18, 22), un_number="1170", dg_class="3"),
    Commodity(
        "Sodium hydroxide solution", "281512", TANK, (20, 24), un_number="1824", dg_class="8"
    ),
)
EXPORTS = (
    Commodity("Alfalfa hay, pressed", "121490", DRY, (20, 26)),
    Commodity("Recovered paper", "470790", DRY, (20, 26)),
    Commodity("Shelled almonds", "080212", DRY, (18, 22)),
    Commodity("Raw cotton", "520100", DRY, (18, 23)),
    Commodity("Soybeans", "120190", DRY, (22, 26)),
    Commodity("Ferrous scrap", "720449", DRY, (20, 26)),
    Commodity("In-shell pistachios", "080251", DRY, (16, 20)),
    Commodity("Bottled wine", "220421", DRY, (18, 22)),
    Commodity("Distillers dried grains", "230330", DRY, (22, 26)),
    Commodity("Frozen boneless beef", "020230", REEFER, (22, 26), setpoint_c=Decimal("-18.0")),
    Commodity("Frozen pork cuts", "020329", REEFER, (22, 26), setpoint_c=Decimal("-18.0")),
    Commodity("Fresh oranges", "080510", REEFER, (20, 24), setpoint_c=Decimal("4.5")),
    Commodity("Fresh table grapes", "080610", REEFER, (18, 22), setpoint_c=Decimal("-0.5")),
    Commodity("Frozen french fries", "200410", REEFER, (20, 25), setpoint_c=Decimal("-18.0")),
    Commodity("Used lead-acid batteries", "854810", DRY, (18, 24), un_number="2794", dg_class="8"),
    Commodity("Resin solution", "390730", DRY, (14, 20), un_number="1866", dg_class="3"),
    Commodity("Lubricating oil", "271019", TANK, (18, 22)),
)


@dataclass(frozen=True, slots=True)
class HoldReason:
    hold_type: str
    code: str
    remark: str


CUSTOMS_DOCUMENT = (
    HoldReason("CUSTOMS", "NO_ENTRY", "No customs entry on file; awaiting filing by broker"),
    HoldReason("CUSTOMS", "ISF_MISMATCH", "ISF does not match the manifest; broker notified"),
    HoldReason("CUSTOMS", "PGA_FDA", "FDA review pending"),
    HoldReason("CUSTOMS", "PGA_USDA", "USDA/APHIS document review pending"),
)
CUSTOMS_SCAN = HoldReason("CUSTOMS", "EXAM_NII", "Selected for non-intrusive (VACIS) scan")
CUSTOMS_INTENSIVE = HoldReason(
    "CUSTOMS", "EXAM_CET", "Selected for intensive exam at the centralized examination station"
)
FREIGHT = (
    HoldReason("FREIGHT", "FREIGHT_UNPAID", "Ocean freight not paid"),
    HoldReason("FREIGHT", "ORIGINAL_BL", "Original bill of lading not surrendered"),
    HoldReason("FREIGHT", "CHARGES_DUE", "Destination charges outstanding"),
)
TERMINAL = (
    HoldReason("TERMINAL", "CTF_UNPAID", "Clean Truck Fund rate not paid"),
    HoldReason("TERMINAL", "TMF_UNPAID", "Traffic Mitigation Fee not paid"),
    HoldReason("TERMINAL", "DAMAGE_SURVEY", "Damage survey before release"),
)
