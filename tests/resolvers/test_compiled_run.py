"""Rendered root statements: what they keep, and how much of them."""

from __future__ import annotations

from resolvers.compiled.render import Writer
from resolvers.compiled.run import RenderCache, Rendered
from resolvers.rules import Rule

CARRIER = Rule("cv.carrier_scac = {0}::text", ("MSCU",))


def rendered(nonce: str, rule: Rule) -> Rendered:
    w = Writer([], {"cargo": rule}, nonce)
    sql = f"SELECT {w.text('edges')}, {w.nonce()}, {w.rule('cargo', '/*rule*/')}, {w.param(20)}"
    return Rendered.of(sql, w)


def test_a_rendering_keeps_no_request_of_its_own_and_takes_the_next_ones() -> None:
    first = rendered("aaaaaaaaaaaaaaaa", CARRIER)
    assert first.sql == "SELECT $1::text, $2::text, (cv.carrier_scac = $3::text), $4"
    assert first.args == ("edges", None, None, 20)  # neither the nonce nor MSCU stays
    assert first.arguments("bbbbbbbbbbbbbbbb", {"cargo": Rule(CARRIER.predicate, ("MAEU",))}) == [
        "edges",
        "bbbbbbbbbbbbbbbb",
        "MAEU",
        20,
    ]


def test_the_cache_drops_the_least_recently_used_past_its_budget() -> None:
    one = rendered("a" * 16, CARRIER)
    each = one.size + len(repr("first"))  # keys of one length: the key counts too
    cache = RenderCache(budget=each * 2)
    cache.put("first", one)
    cache.put("secnd", one)
    assert cache.get("first") is one  # now the most recently used
    cache.put("third", one)
    assert (cache.get("first"), cache.get("secnd"), cache.get("third")) == (one, None, one)
    assert cache.size == each * 2


def test_a_rendering_larger_than_the_budget_is_not_kept() -> None:
    one = rendered("a" * 16, CARRIER)
    cache = RenderCache(budget=one.size)  # with the key's text, it is over
    cache.put("", one)
    assert (cache.get(""), cache.size) == (None, 0)
