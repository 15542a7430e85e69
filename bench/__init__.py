"""Benchmarks: each script prints `<measure>: <ratio> (goal <= X)` lines measured in one run (`make bench`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from playground import Catalog, Playground
from playground.store import Store


def throwaway_playground(catalog: Catalog) -> Playground:
    """The engine as users get it (priced and recorded), with its store in a temporary file, not the user's."""
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    return Playground(catalog, Store(folder / "bench.sqlite"))
