"""Row rules: one SQL predicate per source, chosen by the principal, values as parameters.

A rule's predicate is a constant from its source module (never built from input) written
against that source's table alias, with `{0}`, `{1}`... where its parameters go; `bind`
numbers them after the query's own parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

RULE_SLOT = "/*rule*/"


@dataclass(frozen=True, slots=True)
class Rule:
    predicate: str
    args: tuple[Any, ...] = ()

    def bind(self, sql: str, *query_args: Any) -> tuple[str, tuple[Any, ...]]:
        """The query with this rule in its slot, and all parameters in order."""
        numbers = [f"${len(query_args) + i + 1}" for i in range(len(self.args))]
        return sql.replace(RULE_SLOT, f"({self.predicate.format(*numbers)})"), (
            *query_args,
            *self.args,
        )


SEES_ALL = Rule("TRUE")
SEES_NOTHING = Rule("FALSE")


@dataclass(frozen=True, slots=True)
class AppointmentVisits:
    """The visits of a trucker's live appointments (the gate source reads them, the cargo
    rule takes them): a PostgreSQL array literal of their 'box|UN/LOCODE|SMDG code|direction'
    keys, passed on as it comes, so a busy trucker's thousands of visits are never decoded
    nor encoded in Python."""

    count: int
    keys: str

    @classmethod
    def of(cls, visits: Sequence[tuple[str, str, str, str]]) -> AppointmentVisits:
        """From (box, UN/LOCODE, SMDG code, direction) tuples (tests, callers with visits)."""
        return cls(len(visits), array_literal(["|".join(visit) for visit in visits]))


def array_literal(values: Sequence[str]) -> str:
    """A PostgreSQL text[] literal, every element quoted."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"
