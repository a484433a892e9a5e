"""Community early-warning advisories (TLP), CSOC incidents and blocked intrusion counts."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

from resolvers.seed import ids
from resolvers.seed.community import CSOC
from resolvers.seed.plan import ADVISORIES, INCIDENTS, Plan, hours
from resolvers.seed.reference import Carrier, Terminal
from resolvers.seed.tables import Row, Table

ADVISORY_COLUMNS = (
    "id", "reference", "title", "summary", "severity", "tlp", "affected_systems",
    "published_by_code", "published_at", "expires_at",
)  # fmt: skip
FACILITY_COLUMNS = ("advisory_id", "unlocode", "smdg_code")
INDICATOR_COLUMNS = ("advisory_id", "indicator_type", "value")
INCIDENT_COLUMNS = (
    "id", "reference", "category", "severity", "status", "summary", "unlocode", "smdg_code",
    "reported_by_code", "detected_at", "resolved_at",
)  # fmt: skip
INTRUSION_COLUMNS = ("day", "vector", "attempts")

TLPS = ("CLEAR", "GREEN", "AMBER", "RED")
TLP_WEIGHTS = (25, 35, 30, 10)
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
SEVERITY_WEIGHTS = (20, 40, 30, 10)
CATEGORIES = (
    "PHISHING", "MALWARE", "RANSOMWARE", "INTRUSION", "DDOS", "INSIDER", "GNSS_SPOOFING",
    "AIS_SPOOFING", "PHYSICAL",
)  # fmt: skip
CATEGORY_WEIGHTS = (30, 15, 5, 15, 10, 3, 8, 8, 6)
STATUSES = ("OPEN", "CONTAINED", "RESOLVED", "CLOSED")
PUBLISHERS = (
    (CSOC, 60),
    ("POLA", 8),
    ("POLB", 7),
    ("CBP", 5),
    ("NLRTM", 8),
    ("SGSIN", 7),
    ("CAVAN", 5),
)
DOCUMENTATION_NETS = ("192.0.2", "198.51.100", "203.0.113")  # RFC 5737, never routed
# Daily blocked attempts: about 1.3 million (40 million a month), split by vector.
DAILY_BLOCKED = 1_300_000
VECTORS = (("WEB", 0.44), ("VPN", 0.20), ("EMAIL", 0.16), ("API", 0.15), ("OT_NETWORK", 0.05))
INTRUSION_DAYS = 60


@dataclass(frozen=True, slots=True)
class _Topic:
    title: str
    summary: str
    systems: tuple[str, ...]
    indicators: tuple[str, ...]


TOPICS = (
    _Topic(
        "Phishing campaign impersonating {carrier} booking confirmations",
        "Emails with links to a fake booking portal harvest partner credentials.",
        ("Email gateway", "Container release portal"),
        ("DOMAIN", "URL", "EMAIL", "IPV4"),
    ),
    _Topic(
        "Credential stuffing against the VGM portal",
        "Automated logins from rotating addresses; enforce MFA and rate limits.",
        ("VGM portal",),
        ("IPV4", "IPV6"),
    ),
    _Topic(
        "Ransomware precursor activity targeting terminal operating systems",
        "Loader and remote-access tooling seen on hosts adjacent to TOS servers.",
        ("TOS Navis N4", "Active Directory"),
        ("SHA256", "MD5", "IPV4", "DOMAIN"),
    ),
    _Topic(
        "Exposed gate OCR camera management interfaces",
        "Management pages of OCR portal cameras reachable from the internet.",
        ("Gate OCR",),
        ("IPV4",),
    ),
    _Topic(
        "GNSS interference reported in San Pedro Bay approaches",
        "Pilots report position jumps; cross-check with radar and shore references.",
        ("AIS receivers", "Vessel GNSS"),
        (),
    ),
    _Topic(
        "Malicious invoice attachments sent to drayage companies",
        "Archive attachments drop an information stealer; block the listed hashes.",
        ("Email gateway", "Appointment system"),
        ("SHA256", "EMAIL", "DOMAIN"),
    ),
    _Topic(
        "DDoS against port community APIs",
        "Volumetric and application-layer floods on public API endpoints.",
        ("Port Optimizer API", "Appointment system"),
        ("IPV4", "IPV6"),
    ),
    _Topic(
        "Spoofed AIS targets near the anchorage",
        "Ghost vessel targets broadcast from shore; verify identities before acting.",
        ("AIS receivers",),
        (),
    ),
    _Topic(
        "Remote access gateway exploited at a partner port",
        "Unpatched VPN appliances used for initial access; patch and rotate secrets.",
        ("VPN gateway",),
        ("IPV4", "URL"),
    ),
    _Topic(
        "Fake container release portal harvesting PINs",
        "Look-alike domains collect release PINs to steal import containers.",
        ("Container release portal", "EDI gateway"),
        ("DOMAIN", "URL", "IPV4"),
    ),
    _Topic(
        "Malware on crane PLC maintenance laptops",
        "USB-borne malware found on engineering laptops used on the OT network.",
        ("Crane PLC network", "OT engineering workstations"),
        ("SHA256", "MD5"),
    ),
    _Topic(
        "Business email compromise changing bank details",
        "Compromised mailboxes of trading partners announce new bank accounts.",
        ("Email gateway",),
        ("EMAIL", "DOMAIN"),
    ),
)
INCIDENT_SUMMARIES = {
    "PHISHING": "Staff reported a credential phishing email; {n} users clicked",
    "MALWARE": "Endpoint protection quarantined malware on {n} workstations",
    "RANSOMWARE": "Encryption attempt blocked on a file server; {n} hosts isolated",
    "INTRUSION": "Unauthorized access to a partner account; {n} sessions revoked",
    "DDOS": "Traffic flood on public endpoints peaked at {n} Gbit/s",
    "INSIDER": "Bulk export of release PINs by a contractor account; {n} records",
    "GNSS_SPOOFING": "GNSS position offsets reported by {n} vessels in the approaches",
    "AIS_SPOOFING": "{n} ghost AIS targets detected near the anchorage",
    "PHYSICAL": "Unbadged person found in a restricted area; {n} doors audited",
}
_WORDS = ("booking", "release", "portal", "secure", "track", "invoice", "vgm", "pin", "login")


def _pick(
    rng: random.Random,
    index: int,
    values: tuple[str, ...],
    weights: tuple[int, ...],
    shift: int = 0,
) -> str:
    """Cycle through every value first (so each exists at any scale), then draw by weight."""
    if index < len(values):
        return values[(index + shift) % len(values)]
    return rng.choices(values, weights=weights)[0]


def _indicator(rng: random.Random, kind: str) -> str:
    domain = f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}{rng.randint(1, 99)}.example"
    if kind == "IPV4":
        return f"{rng.choice(DOCUMENTATION_NETS)}.{rng.randint(1, 254)}"
    if kind == "IPV6":
        return f"2001:db8:{rng.randrange(0x10000):x}::{rng.randrange(1, 0x10000):x}"
    if kind == "URL":
        return f"https://{domain}/{rng.choice(_WORDS)}/{rng.randrange(10_000, 99_999)}"
    if kind == "SHA256":
        return f"{rng.getrandbits(256):064x}"
    if kind == "MD5":
        return f"{rng.getrandbits(128):032x}"
    if kind == "EMAIL":
        return f"{rng.choice(_WORDS)}@{domain}"
    return domain


class _Security:
    def __init__(
        self, plan: Plan, carriers: tuple[Carrier, ...], terminals: tuple[Terminal, ...]
    ) -> None:
        self.rng = plan.rng("security")
        self.now = plan.now
        self.plan = plan
        self.carriers = carriers
        self.terminals = terminals
        self.advisories: list[Row] = []
        self.facilities: list[Row] = []
        self.indicators: list[Row] = []
        self.incidents: list[Row] = []

    def advisory(self, index: int, published: dt.datetime, number: int) -> None:
        rng = self.rng
        topic = TOPICS[index % len(TOPICS)]
        advisory_id = ids.new_uuid(rng)
        title = topic.title.format(carrier=rng.choice(self.carriers).name)
        expires: dt.datetime | None = published + hours(rng.uniform(7, 90) * 24)
        if index == 4:  # one advisory has surely expired
            expires = published + hours(rng.uniform(1, 6))
        elif rng.random() < 0.2:
            expires = None
        publisher = rng.choices([p for p, _ in PUBLISHERS], weights=[w for _, w in PUBLISHERS])[0]
        severity = _pick(rng, index, SEVERITIES, SEVERITY_WEIGHTS, shift=1)
        self.advisories.append(
            (
                advisory_id,
                f"SPB-CRC-{published.year}-{number:04d}",
                title,
                topic.summary,
                severity,
                _pick(rng, index, TLPS, TLP_WEIGHTS),
                list(topic.systems),
                publisher,
                published,
                expires,
            )
        )
        self._indicators(advisory_id, topic)
        if rng.random() < 0.4:
            for terminal in rng.sample(self.terminals, rng.randint(1, min(3, len(self.terminals)))):
                self.facilities.append((advisory_id, terminal.unlocode, terminal.smdg_code))

    def _indicators(self, advisory_id: uuid.UUID, topic: _Topic) -> None:
        seen: set[tuple[str, str]] = set()
        for kind in topic.indicators:
            for _ in range(self.rng.randint(1, 4)):
                value = _indicator(self.rng, kind)
                if (kind, value) not in seen:
                    seen.add((kind, value))
                    self.indicators.append((advisory_id, kind, value))

    def incident(self, index: int, detected: dt.datetime, number: int) -> None:
        rng = self.rng
        category = _pick(rng, index, CATEGORIES, CATEGORY_WEIGHTS)
        age_days = (self.now - detected).total_seconds() / 86_400
        if index < len(STATUSES):
            status = STATUSES[index]
        else:
            status = rng.choices(STATUSES, weights=(1, 1, 2 + age_days / 10, 1 + age_days / 5))[0]
        resolved = None
        if status in ("RESOLVED", "CLOSED"):
            resolved = min(detected + hours(rng.uniform(2, 240)), self.now)
        terminal = rng.choice(self.terminals) if rng.random() < 0.7 else None
        reporter = terminal.org_code if terminal and rng.random() < 0.4 else CSOC
        summary = INCIDENT_SUMMARIES[category].format(n=rng.randint(2, 40))
        self.incidents.append(
            (
                ids.new_uuid(rng),
                f"CSOC-INC-{detected.year}-{number:04d}",
                category,
                _pick(rng, index, SEVERITIES, SEVERITY_WEIGHTS, shift=2),
                status,
                summary,
                terminal.unlocode if terminal else None,
                terminal.smdg_code if terminal else None,
                reporter,
                detected,
                resolved,
            )
        )

    def instants(self, count: int, days: int) -> list[dt.datetime]:
        """`count` sorted instants over the `days` before the anchor."""
        return sorted(self.now - hours(self.rng.uniform(0.5, days * 24)) for _ in range(count))

    def intrusions(self) -> list[Row]:
        rng, rows = self.rng, list[Row]()
        for back in range(INTRUSION_DAYS, 0, -1):
            day = self.plan.anchor - dt.timedelta(days=back)
            total = DAILY_BLOCKED * (0.85 if day.weekday() >= 5 else 1.05) * rng.uniform(0.9, 1.1)
            if rng.random() < 0.04:
                total *= rng.uniform(2, 3)  # a campaign day
            for vector, share in VECTORS:
                rows.append((day, vector, round(total * share * rng.uniform(0.85, 1.15))))
        return rows


def _numbered(instants: list[dt.datetime]) -> list[tuple[dt.datetime, int]]:
    """Sequence numbers restarting each year, in time order."""
    numbered: list[tuple[dt.datetime, int]] = []
    counters: dict[int, int] = {}
    for at in instants:
        counters[at.year] = counters.get(at.year, 0) + 1
        numbered.append((at, counters[at.year]))
    return numbered


def generate(
    plan: Plan, carriers: tuple[Carrier, ...], terminals: tuple[Terminal, ...]
) -> list[Table]:
    sec = _Security(plan, carriers, terminals)
    for index, (at, number) in enumerate(_numbered(sec.instants(plan.count(ADVISORIES), 60))):
        sec.advisory(index, at, number)
    for index, (at, number) in enumerate(_numbered(sec.instants(plan.count(INCIDENTS), 60))):
        sec.incident(index, at, number)
    return [
        Table("security.advisory", ADVISORY_COLUMNS, sec.advisories),
        Table("security.advisory_facility", FACILITY_COLUMNS, sec.facilities),
        Table("security.indicator", INDICATOR_COLUMNS, sec.indicators),
        Table("security.incident", INCIDENT_COLUMNS, sec.incidents),
        Table("security.blocked_intrusion", INTRUSION_COLUMNS, sec.intrusions()),
    ]
