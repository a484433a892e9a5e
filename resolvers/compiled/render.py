"""A plan's SQL: one statement per database, building the answer's JSON in PostgreSQL.

Every value the request brings (keys, sizes, cursors, filters, row rules' arguments, the
response keys themselves) is a parameter; the SQL text is made only of this package's
constants and the loaders' row sources, so it is the same for every request of a shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.cargo import UNTIED_SLOT, untied_events
from resolvers.compiled.entities import ENTITIES, LINKS, Entity, LinkDef
from resolvers.compiled.plan import (
    Binding,
    ByType,
    Column,
    Const,
    Entities,
    KeyBinding,
    Link,
    Obj,
    Optional,
    Page,
    PageBinding,
    Plan,
    Remote,
    Segment,
    Value,
)
from resolvers.rules import RULE_SLOT, Rule

PARAMETER = re.compile(r"\$(\d+)")
DISCRIMINANT = re.compile(r"[A-Z_]+")


class Writer:
    """One statement's parameters, aliases and the request's values.

    `local`: the sources that share this statement's database, whose segments it builds in
    place (`plan.segments` says which is which) rather than leaving markers for them."""

    def __init__(
        self,
        bindings: Sequence[Binding],
        rules: Mapping[str, Rule],
        nonce: str,
        segments: Sequence[Segment] = (),
        local: frozenset[str] = frozenset(),
    ) -> None:
        self.args: list[Any] = []
        self.bindings = bindings
        self.rules = rules
        self.segments = segments
        self.local = local
        self.nonce_at: int | None = None  # the nonce's index in `args`, once used
        self.rules_at: dict[str, list[int]] = {}  # each rule's arguments' indices in `args`
        self._nonce = nonce
        self._texts: dict[str, str] = {}
        self._rules: dict[str, list[str]] = {}
        self._aliases = 0

    def param(self, value: Any, cast: str = "") -> str:
        self.args.append(value)
        return f"${len(self.args)}{cast}"

    def text(self, value: str) -> str:
        """A text parameter, once per statement whatever the number of uses."""
        found = self._texts.get(value)
        if found is None:
            found = self._texts[value] = self.param(value, "::text")
        return found

    def nonce(self) -> str:
        if self.nonce_at is None:
            self.args.append(self._nonce)
            self.nonce_at = len(self.args) - 1
        return f"${self.nonce_at + 1}::text"

    def alias(self) -> str:
        self._aliases += 1
        return f"hg{self._aliases}"

    def rule(self, name: str | None, sql: str) -> str:
        """Fill a row source's rule slot (and the untied-events slot) with the entity's rule."""
        if name is None:
            return sql
        rule = self.rules[name]
        numbers = self._rules.get(name)
        if numbers is None:
            self.rules_at[name] = list(range(len(self.args), len(self.args) + len(rule.args)))
            numbers = self._rules[name] = [self.param(a) for a in rule.args]
        sql = sql.replace(UNTIED_SLOT, untied_events(rule))
        return sql.replace(RULE_SLOT, f"({rule.predicate.format(*numbers)})")

    def embed(self, sql: str, args: Sequence[Any]) -> str:
        """A statement numbered from $1, renumbered after this one's parameters."""
        offset = len(self.args)
        self.args.extend(args)
        return PARAMETER.sub(lambda m: f"${int(m.group(1)) + offset}", sql)


# --- Values ------------------------------------------------------------------------------


def value(w: Writer, v: Value, entity: Entity, a: str) -> str:
    if isinstance(v, Const):
        return const(w, v)
    if isinstance(v, Column):
        return entity.fields[v.name].replace("{a}", a)
    if isinstance(v, Obj):
        return obj(w, v, entity, a)
    if isinstance(v, Optional):
        return f"CASE WHEN {entity.tests[v.test].replace('{a}', a)} THEN {obj(w, v.shape, entity, a)} END"
    if isinstance(v, ByType):
        return by_type(w, v, entity, a)
    if isinstance(v, Remote):
        key = entity.keys[LINKS[v.link].key].replace("{a}", a)
        if w.segments and w.segments[v.segment].source in w.local:
            return in_place(w, w.segments[v.segment], key)
        return f"to_json({w.nonce()} || ':{v.segment}:' || {key})"
    assert not isinstance(v, Entities)  # a root only: its markers are written in run.py
    owner = tuple(o.replace("{a}", a) for o in LINKS[v.link].owner)
    return link(w, v, owner)


def in_place(w: Writer, segment: Segment, key: str) -> str:
    """A segment built for this row inside this statement: the SQL its own statement would
    run for the row's marker key, and null where the key is null (as the marker would be)."""
    owner = tuple(o.replace("{k}", f"({key})") for o in LINKS[segment.value.link].from_key)
    return f"CASE WHEN {key} IS NOT NULL THEN {link(w, segment.value, owner)} END"


def const(w: Writer, c: Const) -> str:
    if c.value is None:
        return "NULL"
    if isinstance(c.value, bool):
        return "TRUE" if c.value else "FALSE"
    return w.text(c.value)


def obj(w: Writer, o: Obj, entity: Entity, a: str) -> str:
    pairs = ", ".join(f"{w.text(k)}, {value(w, v, entity, a)}" for k, v in o.fields)
    return f"json_build_object({pairs})"


def by_type(w: Writer, b: ByType, entity: Entity, a: str) -> str:
    assert entity.discriminator is not None
    whens = []
    for discriminant, shape in b.branches:
        assert DISCRIMINANT.fullmatch(discriminant)
        whens.append(f"WHEN '{discriminant}' THEN {obj(w, shape, entity, a)}")
    return f"CASE {entity.discriminator.replace('{a}', a)} {' '.join(whens)} END"


def shape(w: Writer, s: Obj | ByType, entity: Entity, a: str) -> str:
    return obj(w, s, entity, a) if isinstance(s, Obj) else by_type(w, s, entity, a)


# --- Links and pages ---------------------------------------------------------------------


def rows(
    w: Writer, d: LinkDef, owner: Sequence[str], page: PageBinding | None, limit: int = 0
) -> str:
    """The link's row source for one parent, with its rule, cursor and limit filled in."""
    sql = d.rows
    for i, expression in enumerate(owner):
        sql = sql.replace(f"{{owner{i}}}", expression)
    if page is not None:
        after = d.after if page.after is not None else ""
        for i, part in enumerate(page.after or ()):
            after = after.replace(f"{{after{i}}}", w.param(part))
        sql = sql.replace("{after}", after).replace("{limit}", w.param(limit, "::int"))
    return w.rule(ENTITIES[d.target].rule, sql)


def link(w: Writer, v: Link | Page, owner: Sequence[str]) -> str:
    d = LINKS[v.link]
    if isinstance(v, Page):
        binding = w.bindings[v.slot]
        assert isinstance(binding, PageBinding)
        return page(w, v, d, owner, binding)
    target = ENTITIES[d.target]
    a = w.alias()
    source = rows(w, d, owner, None)
    if v.many:
        order = d.sort.replace("{a}", a)
        aggregate = f"json_agg({shape(w, v.shape, target, a)} ORDER BY {order})"
        return f"coalesce((SELECT {aggregate} FROM ({source}) {a}), '[]'::json)"
    return f"(SELECT {shape(w, v.shape, target, a)} FROM ({source}) {a})"


@dataclass(frozen=True, slots=True)
class PageRows:
    """A page's rows as its aggregates read them: the order, and which rows are kept."""

    alias: str
    source: str  # the FROM item
    order: str
    kept: str  # a FILTER clause, or nothing when every row fetched is on the page
    size: str


def page_rows(w: Writer, p: Page, d: LinkDef, owner: Sequence[str], b: PageBinding) -> PageRows:
    """Rows fetched with LIMIT size + 1 and numbered when `hasNextPage` needs the extra row
    (or a root list brings its own statement); else LIMIT size, no numbering."""
    a = w.alias()
    if b.rows is None and not asks_next_page(p):
        source = f"({rows(w, d, owner, b, b.size)}) {a}"
        return PageRows(a, source, d.sort.replace("{a}", a), "", "")
    size = w.param(b.size, "::int")  # a parameter only where the text uses it (else untyped)
    if b.rows is None:
        fetched = rows(w, d, owner, b, b.size + 1)
    else:
        fetched = w.rule(ENTITIES[d.target].rule, w.embed(b.rows.sql, b.rows.args))
    order = d.sort.replace("{a}", "hg_x")
    numbered = f"SELECT hg_x.*, row_number() OVER (ORDER BY {order}) AS hg_rn FROM ({fetched}) hg_x"
    return PageRows(
        a, f"({numbered}) {a}", f"{a}.hg_rn", f"FILTER (WHERE {a}.hg_rn <= {size})", size
    )


def asks_next_page(p: Page) -> bool:
    return any(
        kind == "hasNextPage"
        for _, part, payload in p.parts
        if part == "pageInfo"
        for _, kind, _ in payload
    )


def page(w: Writer, p: Page, d: LinkDef, owner: Sequence[str], binding: PageBinding) -> str:
    """A Relay connection: JSON aggregates over the page's rows."""
    target = ENTITIES[d.target]
    r = page_rows(w, p, d, owner, binding)
    cursor = d.cursor.replace("{a}", r.alias)
    parts: list[str] = []
    for key, part, payload in p.parts:
        if part == "typename":
            sql = w.text(payload)
        elif part == "edges":
            fields = ", ".join(
                f"{w.text(k)}, {edge_value(w, kind, x, target, r.alias, cursor)}"
                for k, kind, x in payload
            )
            sql = aggregate(f"json_build_object({fields})", r)
        elif part == "nodes":
            sql = aggregate(shape(w, payload, target, r.alias), r)
        else:
            sql = page_info(w, payload, binding, r, cursor)
        parts.append(f"{w.text(key)}, {sql}")
    return f"(SELECT json_build_object({', '.join(parts)}) FROM {r.source})"


def aggregate(item: str, r: PageRows) -> str:
    return f"coalesce(json_agg({item} ORDER BY {r.order}) {r.kept}, '[]'::json)"


def edge_value(w: Writer, kind: str, payload: Any, target: Entity, a: str, cursor: str) -> str:
    if kind == "cursor":
        return cursor
    if kind == "typename":
        return w.text(payload)
    return shape(w, payload, target, a)


def page_info(
    w: Writer,
    fields: Sequence[tuple[str, str, Any]],
    binding: PageBinding,
    r: PageRows,
    cursor: str,
) -> str:
    cursors = f"array_agg({cursor} ORDER BY {r.order}) {r.kept}"
    values = {
        "hasNextPage": f"count(*) > {r.size}",
        "hasPreviousPage": "TRUE" if binding.after_given else "FALSE",
        "startCursor": f"({cursors})[1]",
        "endCursor": f"({cursors})[count(*) {r.kept}]",
    }
    pairs = ", ".join(
        f"{w.text(k)}, {w.text(arg) if kind == 'typename' else values[kind]}"
        for k, kind, arg in fields
    )
    return f"json_build_object({pairs})"


# --- Statements --------------------------------------------------------------------------


def root_statement(w: Writer, plan: Plan, source: str) -> str:
    """One row: a column per root field of `source`, in document order."""
    columns = []
    for root in plan.roots:
        if root.source == source:
            assert isinstance(root.value, Link | Page)
            columns.append(link(w, root.value, root_owner(w, root.value, root.slot)))
    return "SELECT " + ", ".join(f"{c}::text" for c in columns)


def root_owner(w: Writer, v: Link | Page, slot: int) -> tuple[str, ...]:
    if slot < 0:
        return ()
    binding = w.bindings[slot]
    assert isinstance(binding, KeyBinding)
    key = w.param(binding.value)
    return tuple(o.replace("{key}", key) for o in LINKS[v.link].owner)


def segment_statement(w: Writer, plan: Plan, keys: Mapping[int, Sequence[str]]) -> str:
    """Rows (segment, key, JSON) for the keys markers named, all segments of one source."""
    parts = []
    for number, wanted in keys.items():
        segment = plan.segments[number]
        d = LINKS[segment.value.link]
        owner = tuple(o.replace("{k}", "hg_k.key") for o in d.from_key)
        json = link(w, segment.value, owner)
        parts.append(
            f"SELECT {number} AS segment, hg_k.key, {json}::text AS json "
            f"FROM unnest({w.param(list(wanted), '::text[]')}) AS hg_k(key)"
        )
    return "\nUNION ALL\n".join(parts)
