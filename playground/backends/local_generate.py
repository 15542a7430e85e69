"""Text generation with local transformers models.

Causal LMs serve many sessions at once in one continuous batch (playground.serving.batched_lm); encoder-decoder
models, which CB does not run, generate one request at a time through TextIteratorStreamer, behind the same
honest line. Prompts are capped the same way on every local runtime (``serving.limits.cap_prompt``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import playground.hardware as hardware
from playground.backends.local_pool import Loaded, LocalBackend
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
from playground.params import trim_broken_tail
from playground.serving import limits


def chat_input_ids(tokenizer, request: Request):
    """Token ids for the prompt: the model's chat template when it has one, plain text otherwise."""
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(chat_messages(request), tokenize=False, add_generation_prompt=True)
    else:
        text = f"{request.system}\n\n{request.prompt}" if request.system else request.prompt
    return tokenizer(text, return_tensors="pt", add_special_tokens=not getattr(tokenizer, "chat_template", None))


def generate_kwargs(request: Request, tokenizer) -> dict:
    """Sampling settings for generate(); temperature 0 means greedy, so results repeat exactly."""
    p = request.params
    kwargs = {"max_new_tokens": p.max_new_tokens, "pad_token_id": tokenizer.pad_token_id or tokenizer.eos_token_id}
    if p.temperature and p.temperature > 0:
        kwargs |= {"do_sample": True, "temperature": p.temperature, "top_p": p.top_p}
    else:
        kwargs |= {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
    if p.ignore_eos:
        kwargs["min_new_tokens"] = p.max_new_tokens
    return kwargs


@dataclass
class Generated:
    ids: Any  # the output ids, None when generate() failed
    text: str
    watch: Stopwatch
    error: Exception | None = None


def stream_generate(
    model, tokenizer, inputs: dict, model_id: str, kwargs: dict, skip_prompt: bool = True, arrived: float | None = None
):
    """Run generate() on a helper thread, yield Token events as text arrives, and return a ``Generated``.

    When the consumer stops listening (the runner's timeout, a closed page) generation is stopped before this
    returns, so the caller's model lock is only released once the model is idle again.
    """
    import torch
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=skip_prompt, skip_special_tokens=True)
    stop = threading.Event()
    output: dict = {}
    watch = Stopwatch(arrived)

    def work() -> None:
        try:
            with torch.inference_mode():
                output["ids"] = model.generate(
                    **inputs, streamer=streamer, stopping_criteria=[lambda *_args, **_kw: stop.is_set()], **kwargs
                )
        except Exception as exc:
            output["error"] = exc
            streamer.end()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    pieces = []
    try:
        for piece in streamer:
            if piece:
                watch.token()
                pieces.append(piece)
                yield Token(model_id, piece)
    finally:
        stop.set()
        thread.join()
    watch.stop()
    return Generated(output.get("ids"), "".join(pieces), watch, output.get("error"))


class _StreamingGenerator(LocalBackend):
    """Loads a tokenizer + model and streams generate(); subclasses pick the model class and the prompt budget."""

    model_class = "AutoModelForCausalLM"
    skip_prompt = True

    def load(self, location: str):
        import transformers

        tokenizer = transformers.AutoTokenizer.from_pretrained(location)
        model = getattr(transformers, self.model_class).from_pretrained(location, dtype="float32")
        model.to(hardware.detect().device).eval()
        return tokenizer, model

    def context_limit(self, spec: ModelSpec, model) -> int:
        return spec.context or getattr(model.config, "max_position_embeddings", None) or 2048

    def prompt(self, tokenizer, model, spec: ModelSpec, request: Request) -> tuple[dict | None, list[Event]]:
        """The prompt's token ids cut to fit (None when nothing fits), and the Notice or Failure to show."""
        inputs = chat_input_ids(tokenizer, request)
        context_budget = self.prompt_budget(spec, model, request)
        if context_budget <= 0:
            return None, [Failure(spec.id, f"Max new tokens exceeds {spec.name}'s context window.", hint="Lower it.")]
        kept, notice = limits.cap_prompt(inputs["input_ids"].shape[1], context_budget, spec.id)
        return {k: v[:, -kept:].to(model.device) for k, v in inputs.items()}, [notice] if notice else []

    def run(self, parts, spec: ModelSpec, request: Request) -> Iterator[Event]:
        import torch

        tokenizer, model = parts
        inputs, events = self.prompt(tokenizer, model, spec, request)
        yield from events
        if inputs is None:
            return
        if request.params.seed is not None:
            torch.manual_seed(request.params.seed)
        kwargs = generate_kwargs(request, tokenizer)
        generated = yield from stream_generate(
            model, tokenizer, inputs, spec.id, kwargs, self.skip_prompt, request.arrived
        )
        if generated.error is not None:
            yield Failure(
                spec.id,
                _("{name} failed while generating: {error}").format(name=spec.display_name, error=generated.error),
                partial_text=generated.text,
            )
            return
        n_in = inputs["input_ids"].shape[1]
        yield Result(
            spec.id,
            text=trim_broken_tail(generated.text),
            metrics=generated.watch.metrics(
                input_tokens=int(n_in), output_tokens=self.count_new_tokens(generated.ids, n_in, tokenizer)
            ),
        )


class CausalLMBackend(_StreamingGenerator):
    """Decoder-only LMs: every session's request joins the model's continuous batch (see serving.batched_lm)."""

    def slots(self) -> int:
        return limits.max_batch()

    def prompt_budget(self, spec, model, request) -> int:
        return self.context_limit(spec, model) - request.params.max_new_tokens

    def serve(self, loaded: Loaded, spec: ModelSpec, request: Request) -> Iterator[Event]:
        from playground.serving.batched_lm import BatchedLM, GenerationFailed, Sampling

        tokenizer, model = loaded.parts
        engine = loaded.service("batched", lambda: BatchedLM(model, _eos_ids(tokenizer, model), limits.max_batch()))
        with loaded.lock:  # the tokenizer is shared with other sessions' threads
            inputs, events = self.prompt(tokenizer, model, spec, request)
        yield from events
        if inputs is None:
            return
        prompt_ids = inputs["input_ids"][0].tolist()
        p = request.params
        sampling = Sampling.of(p.temperature, p.top_p, p.seed)
        watch = Stopwatch(request.arrived)
        text = _Detokenizer(tokenizer, loaded.lock)
        stream = engine.stream(prompt_ids, p.max_new_tokens, sampling, ignore_eos=p.ignore_eos)
        try:
            with closing(stream):  # closing this generator (Stop, timeout, a closed tab) cancels it in the batch
                for new_ids in stream:
                    if new_ids is None:
                        if watch.first is None:
                            yield Notice(
                                spec.id,
                                _("Reading the prompt ({n} tokens)...").format(n=len(prompt_ids)),
                                progress=True,
                            )
                        continue
                    if piece := text.add(new_ids):
                        watch.token()  # when the caller gets it, so the reported TTFT is what it observed
                        yield Token(spec.id, piece)
        except GenerationFailed as exc:
            yield Failure(spec.id, f"{spec.name} failed while generating: {exc}", partial_text=text.shown)
            return
        if piece := text.rest():
            watch.token()
            yield Token(spec.id, piece)
        watch.stop()
        metrics = watch.metrics(input_tokens=len(prompt_ids), output_tokens=len(text.ids))
        yield Result(spec.id, text=text.shown, metrics=metrics)

    def count_new_tokens(self, ids, n_in, tokenizer) -> int:
        return int(ids.shape[1] - n_in)


def _eos_ids(tokenizer, model) -> list[int]:
    """Every id that ends an answer: the generation config's (SmolLM2 lists <|im_end|>) and the tokenizer's."""
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    return sorted({i for i in [*ids, tokenizer.eos_token_id] if i is not None})


class _Detokenizer:
    """Turns a growing list of token ids into text pieces, holding back a piece that ends mid-character."""

    def __init__(self, tokenizer, lock) -> None:
        self.tokenizer, self.lock = tokenizer, lock
        self.ids: list[int] = []
        self.shown = ""

    def _decoded(self) -> str:
        with self.lock:
            return self.tokenizer.decode(self.ids, skip_special_tokens=True)

    def add(self, new_ids: list[int]) -> str:
        self.ids += new_ids
        text = self._decoded()
        if text.endswith("\ufffd") or not text.startswith(self.shown):
            return ""
        piece, self.shown = text[len(self.shown) :], text
        return piece

    def rest(self) -> str:
        """The text not shown yet, less a character cut in half by the last token (max_new_tokens)."""
        text = trim_broken_tail(self._decoded())
        piece = text[len(self.shown) :] if text.startswith(self.shown) else ""
        self.shown += piece
        return piece


class Seq2SeqBackend(_StreamingGenerator):
    """Encoder-decoder models such as T5: the prompt goes to the encoder, the decoder writes the answer."""

    model_class = "AutoModelForSeq2SeqLM"
    skip_prompt = False

    def prompt_budget(self, spec, model, request) -> int:
        return self.context_limit(spec, model)

    def count_new_tokens(self, ids, n_in, tokenizer) -> int:
        # the decoder output starts with the decoder start token, which is not generated text
        return int((ids[0] != tokenizer.pad_token_id).sum())
