"""Benchmarks: each script prints `<measure>: <ratio> (goal <= X)` lines measured in one run (`make bench`)."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from playground import Catalog, Playground
from playground.store import Store


def throwaway_playground(catalog: Catalog) -> Playground:
    """The engine as users get it (priced and recorded), with its store in a temporary file, not the user's."""
    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    return Playground(catalog, Store(folder / "bench.sqlite"))


def all_at_once(students: int, student: Callable[[int], None]) -> float:
    """Start ``student(i)`` for every i on its own thread at the same moment; the wall seconds until all are done."""
    threads = [threading.Thread(target=student, args=(i,)) for i in range(students)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started
