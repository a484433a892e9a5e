"""What a single write answers: its outcome and, when refused, why (as a batch's items do)."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What became of a write.")
class WriteOutcome(Enum):
    ACCEPTED = strawberry.enum_value("ACCEPTED", description="Done by this call.")
    DUPLICATE = strawberry.enum_value(
        "DUPLICATE", description="Done before, the same: nothing changed."
    )
    REJECTED = strawberry.enum_value(
        "REJECTED", description="Refused (see code, field and reason): nothing changed."
    )


@strawberry.enum(description="Why a write was refused.")
class WriteRefusal(Enum):
    INVALID = strawberry.enum_value("INVALID", description="A field is not acceptable.")
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND",
        description="It names nothing you may write to (whether it exists or not).",
    )
    CONFLICT = strawberry.enum_value("CONFLICT", description="It contradicts what is stored.")
