"""Running a plan: the root statement of each source, then the segments markers ask for.

A statement builds in place what sources of its own database answer. A value a source in
another database answers is first a marker, a JSON string `"<nonce>:<segment>:<key>"`
(the nonce is random per request, so no stored text can pass for one). Each round collects
the markers, asks each source once for all of its segments' keys (concurrently, each
statement on its own pool connection), and splices the fragments in as bytes: the answer
is never parsed back into Python objects.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from resolvers.compiled.plan import Binding, Const, Entities, EntitiesBinding, Plan
from resolvers.compiled.render import Writer, root_statement, segment_statement
from resolvers.rules import Rule
from resolvers.sources import SourcePools

Fragments = dict[tuple[int, str], bytes]
# A marker: "<nonce>:<segment>:<key>"; only those of this request's nonce are spliced.
MARKER = re.compile(rb'"([0-9a-f]{16}):(\d+):([^"\\]*)"')


@dataclass(frozen=True, slots=True)
class Rendered:
    """A root statement as rendered once: its parameters, and where the request's own values
    go in them (the nonce, each row rule's arguments; kept as None here)."""

    sql: str
    args: tuple[Any, ...]
    nonce_at: int | None
    rules_at: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, sql: str, w: Writer) -> Rendered:
        at = tuple((name, tuple(positions)) for name, positions in w.rules_at.items())
        own = {p for _, positions in at for p in positions} | {w.nonce_at}
        args = tuple(None if i in own else a for i, a in enumerate(w.args))
        return cls(sql, args, w.nonce_at, at)

    @property
    def size(self) -> int:
        """Roughly what it holds, in bytes (the SQL text and the request's bound values)."""
        return len(self.sql) + sum(len(a) if isinstance(a, str) else 16 for a in self.args)

    def arguments(self, nonce: str, rules: Mapping[str, Rule]) -> list[Any]:
        args = list(self.args)
        if self.nonce_at is not None:
            args[self.nonce_at] = nonce
        for name, positions in self.rules_at:
            for position, value in zip(positions, rules[name].args, strict=True):
                args[position] = value
        return args


RENDERED_BUDGET = 32 * 1024 * 1024  # bytes of rendered statements kept per schema


class RenderCache:
    """Root statements by plan, variables, source and the row rules' shapes (predicates and
    numbers of arguments): the SQL text and every parameter follow from those, but for the
    nonce and the rules' arguments. Least recently used out past a budget of bytes, so that
    varied variables cannot grow it without bound."""

    def __init__(self, budget: int = RENDERED_BUDGET) -> None:
        self._items: OrderedDict[Hashable, tuple[Rendered, int]] = OrderedDict()
        self._budget = budget
        self.size = 0

    def get(self, key: Hashable) -> Rendered | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, rendered: Rendered) -> None:
        size = rendered.size + len(repr(key))  # the key holds the variables' text
        if key in self._items or size > self._budget:
            return
        self._items[key] = (rendered, size)
        self.size += size
        while self.size > self._budget:
            _, (_, dropped) = self._items.popitem(last=False)
            self.size -= dropped


async def run_plan(
    plan: Plan,
    pools: SourcePools,
    bindings: Sequence[Binding],
    rules: Mapping[str, Rule],
    renders: tuple[RenderCache, Hashable] | None = None,
) -> bytes:
    """The answer's `data` object as JSON bytes. `renders`: a cache of root statements and
    the key of this plan and its variables there (statements are then rendered once)."""
    nonce = secrets.token_hex(8)
    data = await _roots(plan, pools, bindings, rules, nonce, renders)
    while True:
        wanted = _wanted(nonce.encode(), data)
        if not wanted:
            return data
        fragments = await _segments(plan, pools, bindings, rules, nonce, wanted)
        data = _splice(nonce.encode(), data, fragments)


def _splice(nonce: bytes, data: bytes, fragments: Fragments) -> bytes:
    """Each marker replaced by its fragment; a key the source did not answer is null."""

    def fragment(match: re.Match[bytes]) -> bytes:
        if match.group(1) != nonce:
            return match.group(0)
        return fragments.get(_key(match), b"null")

    return MARKER.sub(fragment, data)


def _key(match: re.Match[bytes]) -> tuple[int, str]:
    return int(match.group(2)), match.group(3).decode()


def _wanted(nonce: bytes, data: bytes) -> dict[int, list[str]]:
    """The distinct keys the markers name, per segment."""
    if b'"' + nonce + b":" not in data:  # a plain search first: most answers end here
        return {}
    found: dict[int, dict[str, None]] = defaultdict(dict)
    for match in MARKER.finditer(data):
        if match.group(1) == nonce:
            segment, key = _key(match)
            found[segment][key] = None
    return {segment: list(keys) for segment, keys in found.items()}


async def _roots(
    plan: Plan,
    pools: SourcePools,
    bindings: Sequence[Binding],
    rules: Mapping[str, Rule],
    nonce: str,
    renders: tuple[RenderCache, Hashable] | None,
) -> bytes:
    sources = list(dict.fromkeys(r.source for r in plan.roots if r.source))
    # Root fields no source answers: a constant, or `_entities` (markers only).
    shapes = tuple(sorted((name, r.predicate, len(r.args)) for name, r in rules.items()))

    async def one(source: str) -> list[str | None]:
        key = None if renders is None else (renders[1], source, shapes)
        found = None if renders is None else renders[0].get(key)
        if found is None:
            w = _writer(plan, pools, source, bindings, rules, nonce)
            found = Rendered.of(root_statement(w, plan, source), w)
            if renders is not None:
                renders[0].put(key, found)
        row = await pools[source].fetchrow(found.sql, *found.arguments(nonce, rules))
        assert row is not None
        return list(row.values())

    answers = dict(zip(sources, await asyncio.gather(*map(one, sources)), strict=True))
    columns = {source: iter(values) for source, values in answers.items()}
    parts = []
    for root in plan.roots:
        if isinstance(root.value, Const):
            value = orjson.dumps(root.value.value)
        elif isinstance(root.value, Entities):
            value = _entity_markers(root.value, bindings, nonce)
        else:
            text = next(columns[root.source])
            value = b"null" if text is None else text.encode()
        parts.append(orjson.dumps(root.key) + b":" + value)
    return b"{" + b",".join(parts) + b"}"


def _entity_markers(entities: Entities, bindings: Sequence[Binding], nonce: str) -> bytes:
    binding = bindings[entities.slot]
    assert isinstance(binding, EntitiesBinding)
    segments = dict(entities.segments)
    items = [
        b"null" if item is None else f'"{nonce}:{segments[item[0]]}:{item[1]}"'.encode()
        for item in binding.items
    ]
    return b"[" + b",".join(items) + b"]"


async def _segments(
    plan: Plan,
    pools: SourcePools,
    bindings: Sequence[Binding],
    rules: Mapping[str, Rule],
    nonce: str,
    wanted: Mapping[int, list[str]],
) -> Fragments:
    by_source: dict[str, dict[int, list[str]]] = defaultdict(dict)
    for segment, keys in wanted.items():
        by_source[plan.segments[segment].source][segment] = keys

    async def one(source: str, keys: Mapping[int, list[str]]) -> Fragments:
        w = _writer(plan, pools, source, bindings, rules, nonce)
        sql = segment_statement(w, plan, keys)
        rows = await pools[source].fetch(sql, *w.args)
        return {(r["segment"], r["key"]): _bytes(r["json"]) for r in rows}

    fragments: Fragments = {}
    for found in await asyncio.gather(*(one(s, k) for s, k in by_source.items())):
        fragments.update(found)
    return fragments


def _writer(
    plan: Plan,
    pools: SourcePools,
    source: str,
    bindings: Sequence[Binding],
    rules: Mapping[str, Rule],
    nonce: str,
) -> Writer:
    """A statement's writer for `source`: segments of sources in its database built in place."""
    local = frozenset(s.source for s in plan.segments if pools.alongside(s.source, source))
    return Writer(bindings, rules, nonce, plan.segments, local)


def _bytes(text: str | None) -> bytes:
    return b"null" if text is None else text.encode()
