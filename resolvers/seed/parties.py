"""Names of the companies on the bills of lading, and the partner organizations."""

from __future__ import annotations

import random

_ASIAN_CITIES = (
    "Ningbo", "Shenzhen", "Xiamen", "Dongguan", "Foshan", "Qingdao", "Busan", "Kaohsiung",
    "Ho Chi Minh City", "Bangkok", "Shanghai", "Suzhou", "Hangzhou", "Yiwu",
)  # fmt: skip
_ASIAN_WORDS = (
    "Everbright", "Golden Harvest", "Pacific Star", "Sunrise", "Great Wall", "Jade River",
    "Lotus", "Orient", "Silverline", "Bluewave", "Harmony", "Dragonfly", "Evergreen Valley",
)  # fmt: skip
_TRADES = (
    "Furniture", "Textile", "Electronics", "Industrial", "Trading", "Manufacturing",
    "Import & Export",
)  # fmt: skip
_US_WORDS = (
    "Westwind", "Sierra", "Redwood", "Pacific Crest", "Mission", "Canyon", "Harbor Point",
    "Summit", "Bayside", "Golden Poppy", "Lakeshore", "Prairie", "Ironwood", "Blue Ridge",
)  # fmt: skip
_US_TRADES = (
    "Home Furnishings", "Apparel", "Distribution", "Supply", "Outdoor", "Brands", "Foods",
    "Agri Exports", "Recycling", "Logistics",
)  # fmt: skip
_US_SUFFIXES = ("LLC", "Inc.", "Corp.", "Co.")
_FOREIGN_BUYERS = (
    "Tokyo", "Osaka", "Seoul", "Taipei", "Shanghai", "Hong Kong", "Manila", "Jakarta", "Hanoi",
)  # fmt: skip
_BROKERS = (
    "Pacific Coast Customs Brokers Inc.",
    "Harbor Gateway Customs Services",
    "Golden Gate Brokerage LLC",
    "Summit Trade Compliance",
    "Bayview Customs House Brokers",
    "Long Beach Forwarding Co.",
)


def _roster(rng: random.Random, size: int, make: list[tuple[str, ...]], pattern: str) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < size:
        name = pattern.format(*(rng.choice(choices) for choices in make))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def shippers_abroad(rng: random.Random) -> list[str]:
    return _roster(rng, 60, [_ASIAN_CITIES, _ASIAN_WORDS, _TRADES], "{} {} {} Co., Ltd.")


def us_companies(rng: random.Random) -> list[str]:
    return _roster(rng, 60, [_US_WORDS, _US_TRADES, _US_SUFFIXES], "{} {} {}")


def buyers_abroad(rng: random.Random) -> list[str]:
    return _roster(rng, 40, [_FOREIGN_BUYERS, _ASIAN_WORDS, _TRADES], "{} {} {} Corporation")


def notify_parties() -> tuple[str, ...]:
    return _BROKERS
