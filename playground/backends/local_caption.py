"""Image captioning with local transformers models, streamed like text generation.

Two kinds, one shared run:
- captioners (VisionEncoderDecoder such as ViT-GPT2, BLIP, GIT) describe the image and take no instruction;
- vision-language models (SmolVLM, an Idefics3 model) answer the instruction about the image through their chat
  template.
Both load with ``AutoModelForImageTextToText``, so a hub id, a prefetched snapshot and a local folder go through the
same code.
"""

from __future__ import annotations

from typing import Iterator

from playground.backends.local_generate import generate_kwargs, stream_generate
from playground.backends.local_pool import LocalBackend
from playground.catalog import ModelSpec
from playground.events import DEFAULT_CAPTION_INSTRUCTION, Event, Failure, Notice, Request, Result
from playground.i18n import _
from playground.images import require_image


def instruction_of(request: Request) -> str:
    return request.prompt.strip() or DEFAULT_CAPTION_INSTRUCTION


class _LocalCaptionBackend(LocalBackend):
    """Subclasses turn (request, image) into model inputs; ``parts`` is (preprocessor, tokenizer, model)."""

    def inputs(self, preprocessor, request: Request) -> dict:
        raise NotImplementedError

    def sampling(self, request: Request, tokenizer) -> dict:
        return generate_kwargs(request, tokenizer)

    def run(self, parts, spec: ModelSpec, request: Request) -> Iterator[Event]:
        import torch

        preprocessor, tokenizer, model = parts
        require_image(request)
        inputs = self.inputs(preprocessor, request)
        if request.params.seed is not None:
            torch.manual_seed(request.params.seed)
        generated = yield from stream_generate(
            model, tokenizer, inputs, spec.id, self.sampling(request, tokenizer), arrived=request.arrived
        )
        if generated.error is not None:
            yield Failure(
                spec.id,
                _("{name} failed while captioning: {error}").format(name=spec.display_name, error=generated.error),
                partial_text=generated.text,
            )
            return
        # the output repeats the prompt: the text and image tokens (vision-language), or the one start token (captioners)
        n_prompt = inputs["input_ids"].shape[1] if "input_ids" in inputs else 1
        yield Result(
            spec.id,
            text=generated.text.strip(),
            metrics=generated.watch.metrics(
                input_tokens=n_prompt if "input_ids" in inputs else None,
                output_tokens=int(generated.ids.shape[1] - n_prompt),
            ),
            extra={"image_size": request.image.size},
        )


class ImageCaptionerBackend(_LocalCaptionBackend):
    """Dedicated captioners. Their repos ship an image processor and a tokenizer (not always a processor)."""

    def load(self, location: str):
        from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer

        model = AutoModelForImageTextToText.from_pretrained(location, dtype="float32").eval()
        return AutoImageProcessor.from_pretrained(location), AutoTokenizer.from_pretrained(location), model

    def inputs(self, image_processor, request: Request) -> dict:
        return {"pixel_values": image_processor(images=request.image, return_tensors="pt")["pixel_values"]}

    def sampling(self, request: Request, tokenizer) -> dict:
        # the checkpoint knows its own padding (BLIP's generate() passes it itself and refuses a second one)
        return {k: v for k, v in generate_kwargs(request, tokenizer).items() if k != "pad_token_id"}

    def run(self, parts, spec: ModelSpec, request: Request) -> Iterator[Event]:
        if instruction_of(request) != DEFAULT_CAPTION_INSTRUCTION:
            yield Notice(
                spec.id,
                _("{name} is a captioner: it describes the image and does not read the instruction.").format(
                    name=spec.display_name
                ),
            )
        yield from super().run(parts, spec, request)


class VisionLanguageBackend(_LocalCaptionBackend):
    """Chat models that see: the instruction and the image go through the processor's chat template."""

    def load(self, location: str):
        from transformers import AutoModelForImageTextToText, AutoProcessor

        processor = AutoProcessor.from_pretrained(location)
        model = AutoModelForImageTextToText.from_pretrained(location, dtype="float32").eval()
        return processor, processor.tokenizer, model

    def inputs(self, processor, request: Request) -> dict:
        messages = [{"role": "system", "content": [{"type": "text", "text": request.system}]}] if request.system else []
        messages.append(
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": instruction_of(request)}]}
        )
        prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
        return dict(processor(text=prompt, images=[request.image], return_tensors="pt"))
