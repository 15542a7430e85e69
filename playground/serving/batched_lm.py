"""Many requests to one causal LM decode together, through transformers' continuous batching (CB).

One ``BatchedLM`` per loaded model owns a CB manager and its background thread. Each request keeps its own prompt,
max tokens, end-of-sequence rule, temperature, top-p and seed inside the shared batch:

- Max tokens and EOS are per request in CB itself.
- Sampling is done here, per row, by one logits processor: temperature and top-p, then Gumbel noise drawn from the
  request's own seeded generator; the manager then takes the argmax, which is a sample from that distribution. So
  greedy and sampled requests share one batch, and a seed gives the same answer alone or among 29 others. (CB's own
  sampler draws every row from one global generator, so seeds could not be mixed in one batch with it.)

Prefill is chunked: a step holds at most ``PREFILL_CHUNK_TOKENS`` tokens and the FIFO scheduler puts the running
requests' decode tokens first, so thirty prompts arriving together get their first tokens a few at a time instead
of all at once after one long prefill, and a 2,000-token prompt cannot stall everyone else's stream. A cancel is
applied between steps, so a request stops within one step, even in the middle of its prefill.

Two things make first tokens come sooner in a class:
- Prefix caching: a class's prompts share the chat template and its system prompt (SmolLM2: the first 24 tokens of
  every chat, three whole 8-token KV pages). CB keeps completed pages and reuses them for any later prompt that
  starts with the same tokens, so that prefix is computed once, not thirty times. 30 students, 38-token prompts:
  pages of 64 tokens (no reuse) gave a p95 first token of 2.9 s, pages of 16 about 2.4 s, pages of 8 about 2.0 s,
  with the same decode speed.
- Threads sized to the step: on a CPU, a step of a few tokens (one student decoding) runs faster on one thread than
  on two, and far faster when another process (a browser, the web server) holds the other core; a step of many
  tokens (a prefill chunk, a crowd decoding) runs faster on all of them.
"""

from __future__ import annotations

import atexit
import itertools
import queue
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import torch
from transformers import GenerationConfig
from transformers.generation.configuration_utils import ContinuousBatchingConfig
from transformers.generation.continuous_batching.cb_logits_processors import (
    ContinuousBatchingLogitsProcessor,
)

PREFILL_CHUNK_TOKENS = 256  # tokens per step: small enough that steps stay short, large enough for throughput
PAGE_SIZE = 8  # tokens per KV-cache page: the unit of prefix reuse, so a short system prompt is reused whole
KV_CACHE_TOKENS = 16384  # KV cache capacity; SmolLM2-135M holds 46 KB a token, so about 0.75 GB
HEARTBEAT_S = 0.5  # while no token comes (in line inside the batch, or prefilling), wake the caller this often
# Below this many tokens a step runs on one CPU thread. SmolLM2-135M on 2 cores, aggregate tok/s for N concurrent
# requests, one thread against two: N=1 10.6/10.4, 2 14.3/13.1, 4 22.3/20.5, 8 31.4/37.5, 16 55.4/74.1.
SMALL_STEP_TOKENS = 6


@dataclass
class Sampling:
    """One request's sampling: temperature and top-p, with its own random stream (seeded when asked)."""

    temperature: float
    top_p: float
    generator: torch.Generator

    @classmethod
    def of(cls, temperature: float, top_p: float, seed: int | None) -> Sampling | None:
        """None for greedy decoding (temperature 0): the manager's argmax is then the answer."""
        if not temperature or temperature <= 0:
            return None
        generator = torch.Generator()
        generator.manual_seed(seed) if seed is not None else generator.seed()
        return cls(float(temperature), float(top_p or 1.0), generator)

    def perturb(self, logits: torch.Tensor) -> torch.Tensor:
        """Scaled, top-p filtered logits plus Gumbel noise: their argmax is a draw from the filtered softmax."""
        logits = logits / self.temperature
        if self.top_p < 1.0:
            ordered, order = torch.sort(logits, descending=True)
            cumulative = torch.softmax(ordered, dim=-1).cumsum(-1)
            drop = cumulative - torch.softmax(ordered, dim=-1) > self.top_p  # keep the token that crosses top-p
            logits = logits.scatter(-1, order, ordered.masked_fill(drop, float("-inf")))
        uniform = torch.rand(logits.shape, generator=self.generator).clamp_(min=1e-20, max=1.0 - 1e-7)
        return logits - torch.log(-torch.log(uniform))


class _PerRequestSampler(ContinuousBatchingLogitsProcessor):
    """Applies each row's own ``Sampling``. Rows come in the order CB lists the requests that get a new token."""

    supported_kwargs: ClassVar[dict[str, type]] = {}
    ignored_kwargs: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.by_request: dict[str, Sampling] = {}
        self._rows: list[Sampling | None] = []

    def fill_defaults(self, int32_tensor: torch.Tensor) -> None:
        int32_tensor.zero_()

    def prepare_tensor_args(self, requests_with_new_token) -> torch.Tensor:
        self._rows = [self.by_request.get(request.state.request_id) for request in requests_with_new_token]
        return torch.zeros(len(self._rows), dtype=torch.int32)

    def __call__(self, scores: torch.Tensor, tensor_arg: torch.Tensor) -> torch.Tensor:
        for row, sampling in enumerate(self._rows[: scores.size(0)]):
            if sampling is not None:
                scores[row] = sampling.perturb(scores[row])
        return scores


def _threads_for_step(most: int):
    """A hook run before each forward on CB's thread: one CPU thread for a small step, ``most`` for a big one.

    ``torch.set_num_threads`` holds for the calling thread only (OpenMP), so the sessions' threads are untouched.
    """

    def fit(module, args, kwargs) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        tokens = ids.numel() if ids is not None else SMALL_STEP_TOKENS
        torch.set_num_threads(1 if tokens < SMALL_STEP_TOKENS else most)

    return fit


class _CallNow:
    """Stands in for the asyncio loop CB expects with a result handler: runs the handler on CB's thread at once."""

    @staticmethod
    def call_soon_threadsafe(callback, *args) -> None:
        callback(*args)


_RUNNING: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for engine in list(_RUNNING):
        engine.shutdown()


class GenerationFailed(RuntimeError):
    """CB reported an error for this request (or its thread died)."""


class BatchedLM:
    """The continuous-batching service of one loaded causal LM. Thread-safe: every session calls ``stream``."""

    def __init__(self, model, eos_token_id, max_requests: int) -> None:
        self.eos_token_id = eos_token_id
        self._ids = itertools.count()
        self._sampler = _PerRequestSampler()
        config = ContinuousBatchingConfig(
            scheduler_type="fifo",  # decode first, then prefill with the rest of the step's budget: chunked prefill
            max_batch_tokens=PREFILL_CHUNK_TOKENS,
            max_requests_per_batch=max_requests,
            page_size=PAGE_SIZE,
            num_blocks=KV_CACHE_TOKENS // PAGE_SIZE,
            use_async_batching=False,
            allow_block_sharing=True,  # prefix caching: a shared system prompt is prefilled once
        )
        generation = GenerationConfig(do_sample=False, eos_token_id=eos_token_id, max_new_tokens=128)
        self._manager = model.init_continuous_batching(generation_config=generation, continuous_batching_config=config)
        processors = self._manager.logit_processor  # our sampler joins the manager's (empty, greedy) list
        processors.logits_processor.append(self._sampler)
        processors.tensors_required += 1
        processors.do_processing = True
        if model.device.type == "cpu":
            model.register_forward_pre_hook(_threads_for_step(torch.get_num_threads()), with_kwargs=True)
        # CB's thread inherits daemon-ness from the thread that starts it: a daemon, so it never blocks exit
        starter = threading.Thread(target=self._manager.start, daemon=True)
        starter.start()
        starter.join()
        _RUNNING.add(self)

    def shutdown(self) -> None:
        """Stop the batch thread, dropping what it holds (at exit: a daemon thread killed inside torch aborts)."""
        if self._manager.is_running():
            self._manager.stop(block=True, timeout=10, hard_stop=True)

    def stream(
        self, input_ids: list[int], max_new_tokens: int, sampling: Sampling | None, ignore_eos: bool = False
    ) -> Iterator[list[int] | None]:
        """Yield each batch of new token ids as CB produces them, or None after ``HEARTBEAT_S`` without any.

        Closing the generator cancels the request in the batch. Raises ``GenerationFailed`` on a CB error.
        """
        request_id = f"pg{next(self._ids)}"
        outputs: queue.Queue = queue.Queue()
        router = self._manager.output_router
        with router._lock:
            router.result_handlers[request_id] = (outputs.put, _CallNow)
        if sampling is not None:
            self._sampler.by_request[request_id] = sampling
        finished = False
        try:
            self._manager.add_request(
                list(input_ids),
                request_id=request_id,
                max_new_tokens=max_new_tokens,
                streaming=True,
                eos_token_id=-1 if ignore_eos else self.eos_token_id,
            )
            seen = 0
            while not finished:
                try:
                    output = outputs.get(timeout=HEARTBEAT_S)
                except queue.Empty:
                    if not self._manager.is_running():
                        raise GenerationFailed("the batch thread stopped") from None
                    yield None
                    continue
                if output.error:
                    raise GenerationFailed(output.error)
                finished = output.is_finished()
                fresh = output.generated_tokens[seen:]
                seen = len(output.generated_tokens)
                if fresh:
                    yield fresh
        finally:
            if not finished:
                self._manager.cancel_request(request_id)
            with router._lock:
                router.result_handlers.pop(request_id, None)
            self._sampler.by_request.pop(request_id, None)

    def in_flight(self) -> int:
        """Requests the manager holds now, running or waiting inside the batch (for tests and the bench)."""
        processor = self._manager.batch_processor
        if processor is None:
            return 0
        scheduler = processor.scheduler
        return len(scheduler.active_requests) + len(scheduler.waiting_requests) + self._manager.input_queue.qsize()
