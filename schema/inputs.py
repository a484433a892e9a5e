"""Argument validation shared by the domain modules.

Every refusal is a GraphQL error naming the argument (code BAD_USER_INPUT), raised before
anything is read: identifiers, instants, dates and ranges, terminals, and cursor keys.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, overload

import strawberry
from graphql import GraphQLError

from resolvers.identifiers import IdentifierError
from schema.context import Info

if TYPE_CHECKING:
    from schema.vessel import TerminalKeyInput

BAD_USER_INPUT = "BAD_USER_INPUT"
NEEDS_OFFSET = "needs a UTC offset (ISO 8601, e.g. 2026-03-02T08:00:00Z)"
# Dates a window may use: far beyond any data, and far from the calendar's ends (no overflow).
EARLIEST = datetime.date(1970, 1, 1)
LATEST = datetime.date(2999, 12, 31)

T = TypeVar("T")
N = TypeVar("N")
D = TypeVar("D", datetime.datetime, datetime.date)
Parser = Callable[[Any], Any]

TerminalInput = Annotated["TerminalKeyInput", strawberry.lazy("schema.vessel")]


def bad_input(argument: str, message: str) -> GraphQLError:
    """A refused argument: an expected error, shown as is, naming the argument."""
    return GraphQLError(
        f"`{argument}`: {message}", extensions={"code": BAD_USER_INPUT, "argument": argument}
    )


def refused(error: IdentifierError) -> GraphQLError:
    return bad_input(error.field, error.message)


def warn(info: Info, message: str) -> None:
    # Surfaced by the framework as response extensions (e.g. an IMO failing its check digit).
    info.context.memo.setdefault("warnings", []).append(message)


@overload
def identifier(parse: Callable[[str, str], T], value: str, argument: str) -> T: ...
@overload
def identifier(parse: Callable[[str, str], T], value: str | None, argument: str) -> T | None: ...
def identifier(parse: Callable[[str, str], T], value: str | None, argument: str) -> T | None:
    """An identifier validated at the edge (None stays None); a refusal names the argument."""
    if value is None:
        return None
    try:
        return parse(value, argument)
    except IdentifierError as error:
        raise refused(error) from None


def terminal_argument(
    info: Info, value: TerminalKeyInput | None, argument: str = "terminal"
) -> tuple[str, str] | None:
    """(UN/LOCODE, SMDG code) of a terminal argument, validated as the vessel schema does."""
    return None if value is None else value.key(info, argument)


def instant(value: datetime.datetime | None, argument: str) -> datetime.datetime | None:
    """An instant must carry its UTC offset: a bare local time is ambiguous at a port."""
    if value is not None and value.utcoffset() is None:
        raise bad_input(argument, NEEDS_OFFSET)
    if value is not None and not in_utc_range(value):
        raise bad_input(argument, "is out of range once converted to UTC")
    return value


def in_utc_range(value: datetime.datetime) -> bool:
    """Whether the instant exists in UTC (0001-01-01T00:00+14:00 does not)."""
    try:
        value.astimezone(datetime.UTC)
    except OverflowError:
        return False
    return True


def date_in_range(day: datetime.date | None, argument: str) -> datetime.date | None:
    if day is not None and not EARLIEST <= day <= LATEST:
        raise bad_input(argument, f"must be between {EARLIEST} and {LATEST}")
    return day


def ordered(start: D | None, end: D | None, start_argument: str, end_argument: str) -> None:
    if start is not None and end is not None and start > end:
        raise bad_input(start_argument, f"must not be after `{end_argument}`")


def required_nodes(nodes: Sequence[N | None], required: bool, type_name: str) -> list[N | None]:
    """Nodes by id; when the caller requires them all, one missing is NOT_FOUND."""
    if required and any(n is None for n in nodes):
        raise GraphQLError(f"{type_name} not found", extensions={"code": "NOT_FOUND"})
    return list(nodes)


# --- Cursor keys: each part of a decoded `after` checked by its parser -------------------------


def parse_instant(value: Any) -> datetime.datetime:
    if not isinstance(value, str):
        raise ValueError("not an instant")
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.utcoffset() is None or not in_utc_range(parsed):
        raise ValueError("no offset, or out of range")
    return parsed


def parse_int(value: Any) -> int:
    # Bounded to bigint: a forged cursor must be refused here, not overflow in the driver.
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
        raise ValueError("not a bigint")
    return value


def parse_text(value: Any) -> str:
    # Cursor text is a code (SCAC, SMDG, ISO type...): short, and never a NUL PostgreSQL refuses.
    if not isinstance(value, str) or len(value) > 64 or "\x00" in value:
        raise ValueError("not a code")
    return value


def parse_string(value: Any) -> str:
    # Printable only: a NUL or a lone surrogate would fail later, in the driver.
    if not isinstance(value, str) or not value.isprintable():
        raise ValueError("not a string")
    return value


def parse_uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(parse_string(value))


def bad_cursor(argument: str = "after") -> GraphQLError:
    return bad_input(argument, "is not a cursor from this list")


def cursor_key(after: list[Any] | None, parsers: Sequence[Parser]) -> tuple[Any, ...] | None:
    """The typed key of a decoded cursor; a forged or foreign cursor is a BAD_USER_INPUT."""
    if after is None:
        return None
    try:
        return tuple(parse(part) for parse, part in zip(parsers, after, strict=True))
    except ValueError:
        raise bad_cursor() from None
