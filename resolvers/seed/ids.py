"""Identifiers drawn from a random stream: uuids, IMO and MMSI numbers, container numbers."""

from __future__ import annotations

import random
import uuid

from resolvers.identifiers import container_check_digit, imo_check_digit


def new_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def imo_number(rng: random.Random, taken: set[str]) -> str:
    """A 7-digit IMO number of a modern ship (93xxxxx-98xxxxx) with a valid check digit."""
    while True:
        six = str(rng.randrange(930_000, 990_000))
        number = f"{six}{imo_check_digit(six)}"
        if number not in taken:
            taken.add(number)
            return number


def mmsi_number(rng: random.Random, mid: str, taken: set[str]) -> str:
    """A ship station MMSI: the flag's maritime identification digits and 6 more."""
    while True:
        number = f"{mid}{rng.randrange(100_000, 1_000_000)}"
        if number not in taken:
            taken.add(number)
            return number


def container_number(rng: random.Random, owner_prefix: str, taken: set[str]) -> str:
    """An ISO 6346 number: owner code and category (the prefix), 6-digit serial, check digit."""
    while True:
        first_ten = f"{owner_prefix}{rng.randrange(0, 1_000_000):06d}"
        number = f"{first_ten}{container_check_digit(first_ten)}"
        if number not in taken:
            taken.add(number)
            return number
