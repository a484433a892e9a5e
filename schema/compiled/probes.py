"""Field rules' outcomes at every path of a compiled answer: errors and audit counts.

A plan decides each rule once; the answer then says where it applies: a denied field is one
error per object that has it (its key is there, as null), an audited read one count per such
object, exactly as the resolver path notes them field by field.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from graphql import GraphQLError

from schema.compiled.planner import ITEMS, Path, Probe
from schema.permissions import FieldAccess, unauthorized


def paths(data: Any, path: Path, at: tuple[str | int, ...] = ()) -> Iterator[list[str | int]]:
    """The concrete paths `path` reaches in `data` (the last key present in its object)."""
    step, rest = path[0], path[1:]
    if step == ITEMS:
        if isinstance(data, list):
            for index, item in enumerate(data):
                yield from paths(item, rest, (*at, index))
        return
    if not isinstance(data, dict) or step not in data:
        return
    if not rest:
        yield [*at, step]
        return
    yield from paths(data[step], rest, (*at, step))


def apply(probes: Sequence[Probe], data: Any, access: FieldAccess) -> list[GraphQLError]:
    """Note each probe in the request's access record; the errors of denied fields."""
    errors: list[GraphQLError] = []
    for probe in probes:
        for path in paths(data, probe.path):
            access.note(probe.requirement, probe.allowed)
            if not probe.allowed:
                error = unauthorized(probe.requirement)
                errors.append(
                    GraphQLError(
                        error.message, list(probe.nodes), path=path, extensions=error.extensions
                    )
                )
    return errors
