"""Keyset pages: rows fetched with one extra, so the caller knows whether more follow.

Also the list statements of every source: filters chosen from allowlisted constant
conditions (`compose`), so a filter the caller leaves out is absent from the statement and
PostgreSQL plans each shape with the index that suits it (never `($n IS NULL OR ...)`, whose
generic plan has to serve every combination at once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from asyncpg import Record

from resolvers.rules import Rule
from resolvers.sources import Pool

R = TypeVar("R")
# A page's position: the sort key of the last row seen, typed (validated by the caller).
Cursor = tuple[Any, ...]
FILTERS_SLOT = "/*filters*/"
LIMIT_SLOT = "/*limit*/"


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    items: list[tuple[R, tuple[Any, ...]]]  # each row with its sort key (the cursor's content)
    has_next: bool


def make_page(rows: Sequence[R], size: int, key: Callable[[R], tuple[Any, ...]]) -> Page[R]:
    """`rows` were fetched with LIMIT size + 1."""
    kept = list(rows[:size])
    return Page(items=[(r, key(r)) for r in kept], has_next=len(rows) > size)


# --- Filters from allowlisted conditions ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    args: tuple[Any, ...]


def compose(
    template: str,
    allowed: Mapping[str, str],
    chosen: Sequence[tuple[str, tuple[Any, ...]]],
    limit: int,
) -> Statement:
    """Fill a template's filter slot with allowlisted conditions; values stay parameters.

    `allowed` maps a filter name to a constant condition with `{}` where its values go;
    `chosen` lists (name, values) of the filters given. The LIMIT is the last parameter,
    so a row rule bound afterwards numbers its own parameters after it.
    """
    parts: list[str] = []
    args: list[Any] = []
    for name, values in chosen:
        numbers = [f"${len(args) + i + 1}" for i in range(len(values))]
        parts.append(f"({allowed[name].format(*numbers)})")
        args.extend(values)
    args.append(limit)
    sql = template.replace(FILTERS_SLOT, " AND ".join(parts) or "TRUE")
    return Statement(sql.replace(LIMIT_SLOT, f"${len(args)}"), tuple(args))


def columns(alias: str, names: Sequence[str]) -> str:
    """A select list of `names` read from `alias`, e.g. the rows of a per-parent LATERAL page."""
    return ", ".join(f"{alias}.{name}" for name in names)


def present(given: Sequence[tuple[str, Any]]) -> list[tuple[str, tuple[Any, ...]]]:
    """The filters given, for `compose`: None is absent, a tuple is several parameters."""
    return [(name, v if isinstance(v, tuple) else (v,)) for name, v in given if v is not None]


async def fetch_page(pool: Pool, statement: Statement, rule: Rule) -> list[Record]:
    sql, args = rule.bind(statement.sql, *statement.args)
    return await pool.fetch(sql, *args)
