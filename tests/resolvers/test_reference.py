"""The reference lists shipped in the package are the port's shared lists, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
PACKAGED = Path(__file__).resolve().parents[2] / "resolvers" / "reference"


@pytest.mark.parametrize("name", ["carriers.csv", "san-pedro-bay-terminals.csv"])
def test_packaged_reference_matches_shared(name: str) -> None:
    if not SHARED.exists():
        pytest.skip("no shared/ folder beside this checkout")
    assert (PACKAGED / name).read_bytes() == (SHARED / name).read_bytes()
