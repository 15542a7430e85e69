"""Text generation with local transformers models, streamed token by token through TextIteratorStreamer."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Iterator

from playground.backends.base import Event, Failure, Notice, Request, Result, Token, chat_messages
from playground.backends.local_pool import LocalBackend
from playground.catalog import ModelSpec
from playground.i18n import _
from playground.metrics import Stopwatch


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
        model.eval()
        return tokenizer, model

    def context_limit(self, spec: ModelSpec, model) -> int:
        return spec.context or getattr(model.config, "max_position_embeddings", None) or 2048

    def run(self, parts, spec: ModelSpec, request: Request) -> Iterator[Event]:
        import torch

        tokenizer, model = parts
        inputs = chat_input_ids(tokenizer, request)
        budget = self.prompt_budget(spec, model, request)
        n_prompt = inputs["input_ids"].shape[1]
        if budget <= 0:
            yield Failure(spec.id, _("Max new tokens exceeds {name}'s context window.").format(name=spec.display_name), hint=_("Lower it."))
            return
        if n_prompt > budget:
            # keep the end of the prompt, where the question and the generation prompt are
            inputs = {k: v[:, -budget:] for k, v in inputs.items()}
            yield Notice(spec.id, _("Prompt truncated from {before} to {after} tokens to fit the context window.").format(before=n_prompt, after=budget))
        if request.params.seed is not None:
            torch.manual_seed(request.params.seed)
        kwargs = generate_kwargs(request, tokenizer)
        generated = yield from stream_generate(model, tokenizer, inputs, spec.id, kwargs, self.skip_prompt, request.arrived)
        if generated.error is not None:
            yield Failure(spec.id, _("{name} failed while generating: {error}").format(name=spec.display_name, error=generated.error), partial_text=generated.text)
            return
        n_in = inputs["input_ids"].shape[1]
        yield Result(
            spec.id,
            text=generated.text,
            metrics=generated.watch.metrics(input_tokens=int(n_in), output_tokens=self.count_new_tokens(generated.ids, n_in, tokenizer)),
        )


class CausalLMBackend(_StreamingGenerator):
    def prompt_budget(self, spec, model, request) -> int:
        return self.context_limit(spec, model) - request.params.max_new_tokens

    def count_new_tokens(self, ids, n_in, tokenizer) -> int:
        return int(ids.shape[1] - n_in)


class Seq2SeqBackend(_StreamingGenerator):
    """Encoder-decoder models such as T5: the prompt goes to the encoder, the decoder writes the answer."""

    model_class = "AutoModelForSeq2SeqLM"
    skip_prompt = False

    def prompt_budget(self, spec, model, request) -> int:
        return self.context_limit(spec, model)

    def count_new_tokens(self, ids, n_in, tokenizer) -> int:
        # the decoder output starts with the decoder start token, which is not generated text
        return int((ids[0] != tokenizer.pad_token_id).sum())
