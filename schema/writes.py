"""What a single write answers: its outcome and, when refused, why (as a batch's items do)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from resolvers import identifiers
from resolvers.writes import Invalid, Written
from schema.context import Info
from schema.vessel import TerminalKeyInput


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


@strawberry.type(description="What a write did: its outcome and, when refused, why.")
class WriteStatus:
    outcome: WriteOutcome = strawberry.field(description="What became of the write.")
    code: WriteRefusal | None = strawberry.field(description="Why it was refused.")
    field: str | None = strawberry.field(description="The input field at fault.")
    reason: str | None = strawberry.field(description="What is wrong with it.")


def status(done: Written) -> dict[str, Any]:
    """A payload's WriteStatus fields, from what the write did."""
    return {
        "outcome": WriteOutcome(done.outcome.value),
        "code": None if done.code is None else WriteRefusal(done.code.value),
        "field": done.field,
        "reason": done.reason,
    }


def terminal_key(info: Info, terminal: TerminalKeyInput, path: str) -> tuple[str, str]:
    """A write's terminal: a refusal of it is the write's INVALID outcome, naming `path`."""
    try:
        return terminal.checked_key(info, path)
    except identifiers.IdentifierError as error:
        raise Invalid(error.field, error.message) from None
