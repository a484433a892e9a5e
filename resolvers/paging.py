"""Keyset pages: rows fetched with one extra, so the caller knows whether more follow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    items: list[tuple[R, tuple[Any, ...]]]  # each row with its sort key (the cursor's content)
    has_next: bool


def make_page(rows: Sequence[R], size: int, key: Callable[[R], tuple[Any, ...]]) -> Page[R]:
    """`rows` were fetched with LIMIT size + 1."""
    kept = list(rows[:size])
    return Page(items=[(r, key(r)) for r in kept], has_next=len(rows) > size)
