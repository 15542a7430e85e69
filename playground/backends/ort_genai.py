"""Text generation with ONNX Runtime GenAI: the same open weights, quantized to int4, about 7x faster on a CPU.

It serves through the one serving contract (``playground.serving``): the model's ``ModelLine`` holds the line
(bound, places, ETAs, one place per session, busy answers) and ``limits.cap_prompt`` the prompt cap; this module
supplies only how many requests the engine holds at once (its batch) and how to step them. One engine thread per
model owns everything ONNX Runtime GenAI does (an ``og.Engine`` answers only the thread that made it): it starts
the requests the line admitted, runs one step of all of them at a time and routes each token back to its request.

How requests are batched, per device, measured with ``python -m bench.runtimes`` (30 requests x 64 tokens, greedy,
SmolLM2 int4, on the shared 2-core CPU at a load average of about 14):
- CPU: ``og.Engine`` batches at most 4 requests (``configured_max_batch_size``). It served the 30 in 27.6 s against
  59.8 s for one ``og.Generator`` after the other (0.46), and first tokens came far sooner (p50 9.6 s against 38.2 s,
  p95 20.0 s against 56.1 s), so the engine is used.
- Seeds: a CPU engine refuses a per-request seed ("requires an Engine configured for dynamic batching"). The only
  other way, an ``og.Generator`` per seeded request, holds the interpreter lock through ``append_tokens``: a
  2,000-token prompt froze every other thread of the process (the web server included) for 11.2 s whole, and still
  for 0.94 s at a time when fed in 64-token chunks. So every request goes to the engine (which stalled no other
  thread more than 5 ms), and a seeded sample on a CPU says that its seed will not repeat on this runtime.
- CUDA / WebGPU: the engine's dynamic batching (a paged-attention export) takes larger batches and per-request
  seeds; the same loop then sends them with the seed (the first refused seed is what switches seeds off).
"""

from __future__ import annotations

import functools
import json
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import playground.models_cache as models_cache
from playground.backends.local_pool import fitted_prompt, serve_pooled
from playground.catalog import ModelSpec
from playground.events import (
    Event,
    Failure,
    Notice,
    Request,
    Result,
    Token,
    chat_messages,
)
from playground.i18n import _
from playground.metrics import Stopwatch

CPU_BATCH = 4  # what og.Engine takes at once on a CPU when it does not say


def _og():
    import onnxruntime_genai as og

    og.disable_telemetry_events()  # no usage events leave the machine: this tool teaches where data goes
    return og


@dataclass
class _Job:
    """One admitted request on its way through the engine thread; ``events`` carries what happens back."""

    ids: list[int]
    max_new_tokens: int
    temperature: float
    top_p: float
    seed: int | None
    ignore_eos: bool = False  # run to max_new_tokens (benchmarks: every answer the same length)
    events: queue.Queue = field(default_factory=queue.Queue)
    cancelled: bool = False
    cancel_sent: bool = False
    stream: Any = None  # og.TokenizerStream: decodes token by token, whole characters only
    handle: Any = None  # og.Request
    turn: int = 0
    generated: int = 0

    @property
    def sampled(self) -> bool:
        return self.temperature > 0


class EngineWorker:
    """One thread per model that steps ``og.Engine`` for the requests its line admitted."""

    def __init__(self, og, model, tokenizer) -> None:
        self._og, self._model, self._tokenizer = og, model, tokenizer
        self.takes_seeds = True  # until the engine refuses one (CPU engines do)
        self._inbox: queue.Queue = queue.Queue()
        self._active: list[_Job] = []
        self._by_request: dict[int, _Job] = {}
        self.batch = CPU_BATCH
        ready: queue.Queue = queue.Queue()
        threading.Thread(target=self._loop, args=(ready,), name="ort-genai-engine", daemon=True).start()
        if (error := ready.get()) is not None:
            raise error

    def submit(self, job: _Job) -> None:
        self._inbox.put(job)

    def in_flight(self) -> int:
        """Requests the engine holds now (for tests and the bench)."""
        return len(self._active) + self._inbox.qsize()

    def cancel(self, job: _Job) -> None:
        job.cancelled = True
        self._inbox.put(None)  # wake the loop: it cancels the job before its next step

    # ---------------------------------------------------------------- the engine thread

    def _loop(self, ready: queue.Queue) -> None:
        try:  # an og.Engine only answers the thread that made it
            self._engine = self._og.Engine(self._model)
            self._buffer = self._engine.create_event_buffer(4096)
            self.batch = self._engine.get_capabilities().configured_max_batch_size or CPU_BATCH
        except Exception as exc:
            ready.put(exc)
            return
        ready.put(None)
        while True:
            try:
                item = self._inbox.get(block=not self._active)
                while True:
                    if item is not None:
                        self._admit(item)
                    item = self._inbox.get_nowait()
            except queue.Empty:
                pass
            try:
                self._drop_cancelled()
                self._step()
            except Exception as exc:  # a broken step fails the requests in it, never the thread
                for job in self._active:
                    job.events.put(("error", exc))
                    self._by_request.pop(id(job.handle), None)
                self._active.clear()

    def _admit(self, job: _Job) -> None:
        if job.cancelled:
            return
        job.stream = self._tokenizer.create_stream()
        try:
            self._start(job)
        except Exception as exc:  # this request cannot start (a bad option, no memory): tell it, go on
            job.events.put(("error", exc))
            return
        self._active.append(job)

    def _drop_cancelled(self) -> None:
        for job in [j for j in self._active if j.cancelled and not j.cancel_sent]:
            job.cancel_sent = True
            job.handle.cancel_turn(job.turn)  # stops at the next step; its finish event then frees the slot

    def _start(self, job: _Job) -> None:
        import numpy as np

        og = self._og
        # Without a session cap the engine sizes each request's KV cache for the whole context (8192 tokens for
        # SmolLM2): 360 MB more RSS for one short request. Capping it at what this turn can reach avoids that.
        limits = og.RequestOptions()
        limits.set_max_session_tokens(len(job.ids) + job.max_new_tokens)
        request = self._engine.create_request(options=limits)
        seeded = job.sampled and job.seed is not None and self.takes_seeds
        try:
            job.turn = request.begin_turn(np.array(job.ids, dtype=np.int32), self._options(request, job, seeded))
        except RuntimeError:
            if not seeded:
                raise
            self.takes_seeds = False  # "a per-turn seed requires an Engine configured for dynamic batching"
            job.turn = request.begin_turn(np.array(job.ids, dtype=np.int32), self._options(request, job, False))
        if job.sampled and job.seed is not None and not self.takes_seeds:
            job.events.put(("unseeded", None))
        job.handle = request
        self._by_request[id(request)] = job

    def _options(self, request, job: _Job, seeded: bool):
        options = self._og.TurnOptions(request)
        options.set_max_generated_tokens(job.max_new_tokens)
        if job.ignore_eos:
            options.set_min_generated_tokens(job.max_new_tokens)
        options.set_do_sample(job.sampled)
        if job.sampled:
            options.set_temperature(job.temperature)
            options.set_top_p(job.top_p)
            if seeded:
                options.set_seed(job.seed)
        return options

    def _step(self) -> None:
        if not self._active or not self._engine.has_pending_requests():
            return
        for event in self._engine.run(self._buffer):
            job = self._by_request.get(id(event.request))
            if job is None:
                continue  # a finished request's last word
            if event.token is not None and event.token >= 0:
                self._emit(job, event.token)
            if event.finish_reason != self._og.FinishReason.NONE:
                usage = event.usage
                generated = usage.generated_tokens if usage is not None else job.generated
                if event.finish_reason == self._og.FinishReason.FAILED:
                    job.events.put(("error", RuntimeError(f"engine error {event.error_code.name}")))
                else:
                    job.events.put(("done", generated))
                self._finish(job)

    def _emit(self, job: _Job, token: int) -> None:
        job.generated += 1
        if token in self._eos:
            return
        job.events.put(("token", job.stream.decode(token)))

    @property
    def _eos(self) -> set[int]:
        if not hasattr(self, "_eos_ids"):
            self._eos_ids = {int(t) for t in self._tokenizer.eos_token_ids}
        return self._eos_ids

    def _finish(self, job: _Job) -> None:
        if job in self._active:
            self._active.remove(job)
        if self._by_request.pop(id(job.handle), None) is not None:
            job.handle.close()
        job.handle = None


@dataclass
class OrtModel:
    tokenizer: Any
    worker: EngineWorker
    context: int
    encode_lock: threading.Lock = field(default_factory=threading.Lock)


def load(folder: str) -> OrtModel:
    og = _og()
    model = og.Model(folder)
    tokenizer = og.Tokenizer(model)
    config = json.loads((Path(folder) / "genai_config.json").read_text(encoding="utf-8"))
    return OrtModel(tokenizer, EngineWorker(og, model, tokenizer), int(config["model"].get("context_length") or 2048))


def prompt_ids(loaded: OrtModel, request: Request) -> list[int]:
    """Token ids for the prompt through the model's own chat template (plain text when it has none)."""
    tokenizer = loaded.tokenizer
    with loaded.encode_lock:
        try:
            text = tokenizer.apply_chat_template(
                messages=json.dumps(chat_messages(request)), add_generation_prompt=True
            )
        except RuntimeError:  # no chat template in the build
            text = f"{request.system}\n\n{request.prompt}" if request.system else request.prompt
        return [int(t) for t in tokenizer.encode(text)]


class OrtGenAIBackend:
    """The generation contract of every backend, on ONNX Runtime GenAI: streaming, cancel, sampling, metrics."""

    def execute(self, spec: ModelSpec, request: Request, credentials=None) -> Iterator[Event]:
        generate = functools.partial(self._generate, spec, request)
        source = models_cache.resolve_onnx(spec)
        yield from serve_pooled(spec, request, source, load, "ort-genai", lambda m: m.worker.batch, generate)

    def _generate(
        self, spec: ModelSpec, request: Request, loaded: OrtModel, load_s: float, line, ticket
    ) -> Iterator[Event]:
        params = request.params
        watch = Stopwatch(request.arrived)
        watch.load_s = load_s
        if (ids := (yield from fitted_prompt(spec, request, prompt_ids(loaded, request), loaded.context))) is None:
            return
        yield from line.wait_turn(ticket)
        watch.started(ticket.admitted)
        job = _Job(ids, params.max_new_tokens, max(0.0, params.temperature or 0.0), params.top_p, params.seed)
        job.ignore_eos = params.ignore_eos
        loaded.worker.submit(job)
        pieces: list[str] = []
        finished = False
        try:
            while True:
                kind, value = job.events.get()
                if kind == "unseeded":
                    yield Notice(spec.id, _("This runtime cannot repeat a seed on a CPU: this sample will differ."))
                elif kind == "token":
                    if value:
                        watch.token()  # when the caller gets it, so the reported TTFT is what it observed
                        pieces.append(value)
                        yield Token(spec.id, value)
                else:
                    finished = True
                    break
        finally:
            if not finished:  # the caller stopped listening: stop generating at once, free the slot
                loaded.worker.cancel(job)
        metrics = watch.metrics(input_tokens=len(ids), output_tokens=value if kind == "done" else job.generated)
        metrics.queue_s = max(0.0, metrics.queue_s - load_s)  # the load is counted once, in load_s
        if kind == "error":
            yield Failure(
                spec.id,
                _("{name} failed while generating: {error}").format(name=spec.display_name, error=value),
                partial_text="".join(pieces),
                metrics=metrics,
            )
            return
        yield Result(spec.id, text="".join(pieces), metrics=metrics)
