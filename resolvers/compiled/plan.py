"""What an answer looks like, as the SQL side needs to know it: a tree of JSON values.

The schema's planner builds it from a validated operation; `render` turns it into SQL. Keys
are the answer's response keys (aliases included): they reach SQL only as parameters.
Per-request values (page sizes, cursors, filters) are not in the plan: a plan node names a
binding slot, filled for each request (`Binding`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from resolvers.paging import Statement


@dataclass(frozen=True, slots=True)
class Const:
    """A constant: a type name, `hasPreviousPage`, a null."""

    value: str | bool | None


@dataclass(frozen=True, slots=True)
class Column:
    """A value of the current row: a name of its entity's `fields`."""

    name: str


@dataclass(frozen=True, slots=True)
class Obj:
    fields: tuple[tuple[str, Value], ...]


@dataclass(frozen=True, slots=True)
class Optional:
    """An object built from the row's columns, null when the entity's `present` test fails
    (e.g. a container's dangerous goods, an event's location)."""

    test: str
    shape: Obj


@dataclass(frozen=True, slots=True)
class ByType:
    """An interface's object: one shape per concrete type, by the entity's discriminator."""

    branches: tuple[tuple[str, Obj], ...]


Shape: TypeAlias = Obj | ByType


@dataclass(frozen=True, slots=True)
class Link:
    """Rows of another entity of the same source, reached from the current row.

    `many`: a JSON list of them (in the link's order); else one object or null.
    """

    link: str
    shape: Shape
    many: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """A Relay connection of a link (nested) or of a root list, its page bound per request.

    `parts` are the connection's selections, each (response key, part, payload):
    ("typename", the type's name); ("nodes", the node's Shape); ("edges", the edge's fields)
    and ("pageInfo", its fields), those as (response key, kind, payload) with kind one of
    cursor, node (payload: Shape), typename (payload: name), or a PageInfo field's name.
    """

    link: str
    slot: int
    parts: tuple[tuple[str, str, Any], ...]


@dataclass(frozen=True, slots=True)
class Remote:
    """A value another source answers: a marker now, its JSON spliced in later."""

    segment: int
    link: str  # the link it answers (LINKS), whose `key` names the current row's marker key


@dataclass(frozen=True, slots=True)
class Entities:
    """Federation's `_entities`: a list in the representations' order, each item a marker
    of its type's segment (bound per request: `EntitiesBinding`)."""

    slot: int
    segments: tuple[tuple[str, int], ...]  # (type name, segment)


Value: TypeAlias = Const | Column | Obj | Optional | ByType | Link | Page | Remote | Entities


@dataclass(frozen=True, slots=True)
class Segment:
    """A part of the answer one source builds for keys the previous parts name."""

    source: str
    value: Link | Page


@dataclass(frozen=True, slots=True)
class Root:
    """One root field: its response key, source and value (a page, an object or a null)."""

    key: str
    source: str
    value: Value
    slot: int = -1  # binding slot of a single-object root's key


@dataclass(frozen=True, slots=True)
class Plan:
    roots: tuple[Root, ...]
    segments: tuple[Segment, ...] = ()
    slots: int = 0


# --- Per-request bindings --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageBinding:
    """A page's size and `after` key; root lists also carry their composed row statement."""

    size: int
    after: tuple[Any, ...] | None
    after_given: bool
    rows: Statement | None = None


@dataclass(frozen=True, slots=True)
class KeyBinding:
    """The key of a single-object root (an IMO, a port call id, a container number)."""

    value: Any


@dataclass(frozen=True, slots=True)
class EntitiesBinding:
    """Each representation's type and key (hex-encoded: partners' text), or None: null."""

    items: tuple[tuple[str, str] | None, ...]


Binding: TypeAlias = PageBinding | KeyBinding | EntitiesBinding | None


@dataclass(slots=True)
class Bindings:
    values: list[Binding] = field(default_factory=list)
