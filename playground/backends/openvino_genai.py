"""Text generation with OpenVINO GenAI: int4 weights, paged attention and continuous batching on a CPU.

It serves through the one serving contract (``playground.serving``): the model's ``ModelLine`` (bound, places,
ETAs, owners, busy) and ``limits.cap_prompt``; this module supplies how many requests run at once (the scheduler's
``max_num_seqs``) and how to step them. ``ov_genai.ContinuousBatchingPipeline`` lives in its own process
(``serving/openvino_stepper.py``), stepped by one loop, because ``step()`` holds Python's interpreter lock for the
whole step; this process only sends requests (token ids, per-request sampling and seed) and reads their tokens,
so a long prompt never stops the web server. Closing a stream cancels its request in the pipeline.

Seeds: each request carries its own ``rng_seed``, and a seeded sample repeats exactly when it runs alone; among
other requests (OpenVINO GenAI 2026.4.1, CPU) the same seed gave a different sample in most runs, in bf16 and in
f32 alike (greedy answers do not change), so such a card says so.

Scheduler settings, chosen by measurement: 30 students x 64 tokens (``bench.workshop.students``), on the shared
2-core machine at a load average of 7 to 12 from other jobs, so single runs varied by 2x; p95 first token / wall:
- 256 tokens a step, prefix caching on: 2.8 s / 10.8 s and 2.8 s / 17.9 s;
- 256, caching off: 0.8 s / 4.3 s and 3.9 s / 19.1 s;  512, off: 1.3 s / 8.1 s;
- 1024, off: 1.4 s / 6.7 s (every first token in one big step: p50 = p95);  1024, on: 1.3 s / 8.0 s, 3.2 s / 17.1 s.
On a quieter machine (load average 1.7) 512 with caching off took 3.1 s for the 30, first token p50 0.60 s and p95
0.62 s, 613 tok/s in all, in bf16 and f32 alike; 512 tokens a step spreads first tokens over a few steps without
making any one step long. A class's shared prefix (SmolLM2's 24-token system prompt) is too short for prefix caching
to matter, but a conversation's follow-up re-sends the whole thread, and there it does (``bench.conversation``, 5
turns growing from 81 to 463 prompt tokens): the 5th turn's first token came 5.42x later than the 1st's with caching
off (0.064 s, then 0.349 s) and 1.06x with it on (0.063 s, then 0.067 s), at a load average of 2.2-2.4; at 4-5,
7.06x (0.19 s, then 1.32 s) against 0.67x (0.27 s, then 0.18 s). The 30 students lost nothing by it (load average 6,
off then on, twice: wall 12.8 / 10.1 s and 9.1 / 8.7 s, first token p95 1.70 / 1.85 s and 2.74 / 2.32 s), so it is
on. Cached pages stay until the KV cache is full, then are overwritten (OpenVINO GenAI's docs), so memory stays
within ``cache_size``.
A long prompt is still read first come, first served: OpenVINO's scheduler gives the prompt budget of a step to
the oldest request, so a request arriving behind a 2,048-token prefill waits for it (15.8 s under load, honestly
counted in its TTFT), while the web server stays responsive (health check at most 0.58 s meanwhile).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import queue
import random
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import playground.models_cache as models_cache
from playground.backends.local_generate import _Detokenizer
from playground.backends.local_pool import fitted_prompt, serve_pooled
from playground.catalog import ModelSpec
from playground.events import Event, Failure, Notice, Request, Result, Token, chat_messages
from playground.i18n import _
from playground.metrics import Stopwatch
from playground.serving import limits

STEPPER = Path(__file__).parents[1] / "serving" / "openvino_stepper.py"
SCHEDULER = {
    "max_num_batched_tokens": 512,  # tokens per step: prefill is split into chunks this size between decode steps
    "cache_size": 1,  # GB of KV cache: SmolLM2-135M holds 46 KB a token, so about 22,000 tokens
    "enable_prefix_caching": True,  # a follow-up reads only its new tokens: measured in the docstring
    "dynamic_split_fuse": True,  # decode tokens first, then prefill chunks with the rest of the step
}
# OpenVINO computes in bf16 on a CPU with AVX-512 BF16 unless told otherwise; on this 2-core EPYC f32 stepped one
# student's decode in 9.2 ms a token against 11.5-15.1 in bf16 (raw pipeline, 128 tokens, load average 2).
PROPERTIES = {"INFERENCE_PRECISION_HINT": "f32"}
CONTEXT = 8192  # SmolLM2's max_position_embeddings
HEARTBEAT_S = 0.5  # while no token comes (prefilling), wake the caller this often so it can stop the request


@dataclass
class _Job:
    """One admitted request in the stepping process; ``events`` carries its tokens and its end back."""

    request_id: int
    events: queue.Queue = field(default_factory=queue.Queue)


class Stepper:
    """The stepping process of one model and the thread that routes its answers to each request's queue."""

    def __init__(self, folder: str, settings: dict, properties: dict) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(STEPPER), folder, json.dumps(settings), json.dumps(properties)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        ready = json.loads(self._process.stdout.readline() or "{}")
        if "ready" not in ready:
            self._process.kill()
            raise RuntimeError(f"the OpenVINO process did not start (exit code {self._process.wait()})")
        self.slots = int(ready["ready"])
        self._jobs: dict[int, _Job] = {}
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        threading.Thread(target=self._route, name="openvino-reader", daemon=True).start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def _send(self, message: dict) -> None:
        with self._write_lock:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()

    def submit(self, ids: list[int], config: dict) -> _Job:
        job = _Job(next(self._ids))
        self._jobs[job.request_id] = job
        try:
            self._send({"add": job.request_id, "ids": ids, "config": config})
        except OSError as exc:  # the process is gone
            job.events.put(("error", exc))
        return job

    def cancel(self, job: _Job) -> None:
        if self._jobs.pop(job.request_id, None) is not None:
            with contextlib.suppress(OSError):  # the process is gone: nothing left to stop
                self._send({"cancel": job.request_id})

    def in_flight(self) -> int:
        """Requests the pipeline holds now (for tests and the bench)."""
        return len(self._jobs)

    def _route(self) -> None:
        for line in self._process.stdout:
            message = json.loads(line)
            job = self._jobs.get(message["id"])
            if job is None:
                continue  # a cancelled request's last word
            if "tokens" in message:
                job.events.put(("tokens", message["tokens"]))
            else:
                self._jobs.pop(message["id"], None)
                job.events.put(("done", message["end"]))
        for job in list(self._jobs.values()):  # the process died: every request in it fails, none hangs
            job.events.put(("error", RuntimeError("the OpenVINO process stopped")))
        self._jobs.clear()


def block_telemetry() -> None:
    """Import OpenVINO without its usage reports: this tool teaches where data goes.

    ``import openvino`` imports its model converter, which at import sends a "general_import" event to Google
    Analytics (``openvino.tools.ovc.__init__``) unless the ``openvino_telemetry`` package cannot be imported, in
    which case it falls back to its own stub. A ``None`` in ``sys.modules`` makes that import fail.
    """
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino_telemetry", None)


@dataclass
class OvModel:
    tokenizer: Any  # ov_genai.Tokenizer: the model's own, with its chat template
    stepper: Stepper
    lock: threading.Lock = field(default_factory=threading.Lock)


def load(folder: str) -> OvModel:
    block_telemetry()
    import openvino_genai as ov_genai

    settings = SCHEDULER | {"max_num_seqs": limits.max_batch()}
    return OvModel(ov_genai.Tokenizer(folder), Stepper(folder, settings, PROPERTIES))


def prompt_ids(model: OvModel, request: Request) -> list[int]:
    """Token ids for the prompt through the model's own chat template (plain text when it has none)."""
    with model.lock:
        if model.tokenizer.chat_template:
            text = model.tokenizer.apply_chat_template(chat_messages(request), add_generation_prompt=True)
            encoded = model.tokenizer.encode(text, add_special_tokens=False)
        else:
            encoded = model.tokenizer.encode(
                f"{request.system}\n\n{request.prompt}" if request.system else request.prompt
            )
        return [int(t) for t in encoded.input_ids.data[0]]


def generation_config(request: Request) -> dict:
    """Per-request sampling: greedy at temperature 0; a sample draws from its own seed (a random one when unset)."""
    p = request.params
    config: dict = {"max_new_tokens": p.max_new_tokens}
    if p.ignore_eos:
        config |= {"min_new_tokens": p.max_new_tokens, "ignore_eos": True}
    if p.temperature and p.temperature > 0:
        seed = p.seed if p.seed is not None else random.getrandbits(31)
        config |= {"do_sample": True, "temperature": p.temperature, "top_p": p.top_p or 1.0, "rng_seed": seed}
    return config


def process_rss_bytes(pid: int) -> int:
    """The stepping process's resident memory now (Linux); 0 where /proc is not there."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class OpenVINOBackend:
    """The generation contract of every backend, on OpenVINO GenAI: streaming, cancel, sampling, metrics."""

    def execute(self, spec: ModelSpec, request: Request, credentials=None) -> Iterator[Event]:
        generate = functools.partial(self._generate, spec, request)
        source = models_cache.resolve_openvino(spec)
        yield from serve_pooled(
            spec,
            request,
            source,
            load,
            "openvino",
            lambda model: model.stepper.slots,
            generate,
            facts=lambda model: {"memory_bytes": process_rss_bytes(model.stepper.pid)},  # its own process
        )

    def _generate(
        self, spec: ModelSpec, request: Request, model: OvModel, load_s: float, line, ticket
    ) -> Iterator[Event]:
        watch = Stopwatch(request.arrived)
        watch.load_s = load_s
        if (ids := (yield from fitted_prompt(spec, request, prompt_ids(model, request), CONTEXT))) is None:
            return
        yield from line.wait_turn(ticket)
        watch.started(ticket.admitted)
        job = model.stepper.submit(ids, generation_config(request))
        shared = model.stepper.in_flight() > 1  # others in the batch: a seeded sample may not repeat (see above)
        text = _Detokenizer(model.tokenizer, model.lock)
        kind, value, finished = "", None, False
        try:
            while not finished:
                try:
                    kind, value = job.events.get(timeout=HEARTBEAT_S)
                except queue.Empty:  # still reading the prompt: a chance for the caller to stop it
                    if watch.first is None:
                        yield Notice(spec.id, _("Reading the prompt ({n} tokens)...").format(n=len(ids)), progress=True)
                    continue
                finished = kind != "tokens"
                shared = shared or model.stepper.in_flight() > 1
                if not finished and (piece := text.add(value)):
                    watch.token()  # when the caller gets it, so the reported TTFT is what it observed
                    yield Token(spec.id, piece)
        finally:
            if not finished:  # the caller stopped listening: stop generating at once, free the slot
                model.stepper.cancel(job)
        if kind == "error":
            yield Failure(
                spec.id,
                _("{name} failed while generating: {error}").format(name=spec.display_name, error=value),
                partial_text=text.shown,
                metrics=watch.metrics(input_tokens=len(ids), output_tokens=len(text.ids)),
            )
            return
        if piece := text.rest():
            watch.token()
            yield Token(spec.id, piece)
        p = request.params
        if shared and p.seed is not None and p.temperature and p.temperature > 0:
            yield Notice(
                spec.id, _("Other requests shared the batch: on this runtime a fixed seed repeats only alone.")
            )
        metrics = watch.metrics(input_tokens=len(ids), output_tokens=len(text.ids))
        metrics.queue_s = max(0.0, metrics.queue_s - load_s)  # the load is counted once, in load_s
        yield Result(spec.id, text=text.shown, metrics=metrics)
