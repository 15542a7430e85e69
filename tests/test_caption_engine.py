"""The caption engine end to end, with tiny random models built here and loaded like hub checkpoints.

Their captions are random; the tests assert mechanics (streaming, counts, timings, isolation), never words.
"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from skimage import data

from playground.backends.local_caption import ImageCaptionerBackend, VisionLanguageBackend
from playground.backends.local_pool import POOL
from playground.backends.openai_vision import OpenAIVisionBackend
from playground.backends.registry import backend_for
from playground.events import DEFAULT_CAPTION_INSTRUCTION as DEFAULT_INSTRUCTION
from playground.events import Failure, GenParams, Request, Result, Token
from playground.images import API_MAX_SIDE
from playground.runner import final_of, run_side_by_side

CAT = Image.fromarray(data.chelsea())
GREEDY = GenParams(temperature=0, max_new_tokens=8)


def caption(image=CAT, prompt="", params=GREEDY) -> Request:
    return Request("caption", prompt=prompt, image=image, params=params)


def split(events):
    tokens, finals = {}, {}
    for event in events:
        if isinstance(event, Token):
            tokens.setdefault(event.model_id, []).append(event.text)
        elif isinstance(event, (Result, Failure)):
            finals[event.model_id] = event
    return tokens, finals


def prompt_length(folder, instruction: str, image: Image.Image, image_first: bool = True) -> int:
    """How many tokens the model's own processor makes of the instruction and the image."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(folder)
    content = [{"type": "image"}, {"type": "text", "text": instruction}]
    messages = [{"role": "user", "content": content if image_first else content[::-1]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True)
    return processor(text=text, images=[image], return_tensors="pt")["input_ids"].shape[1]


def test_hub_and_folder_captioners_share_one_loader(caption_catalog):
    for model_id in ("tiny-captioner", "tiny-blip", "tiny-git", "blip-base", "vit-gpt2", "git-base-coco"):
        assert isinstance(backend_for(caption_catalog, caption_catalog.get(model_id), "caption"), ImageCaptionerBackend)
    for model_id in ("tiny-vlm", "smolvlm-256m"):
        assert isinstance(backend_for(caption_catalog, caption_catalog.get(model_id), "caption"), VisionLanguageBackend)
    for model_id in ("gpt-4o-mini", "gemini-flash", "self-hosted"):
        assert isinstance(backend_for(caption_catalog, caption_catalog.get(model_id), "caption"), OpenAIVisionBackend)


@pytest.mark.parametrize(
    "model_id", ["tiny-captioner", "tiny-blip", "tiny-git"]
)  # ViT-GPT2's, BLIP's and GIT's architectures
def test_tiny_captioners_stream_a_caption_with_timings(caption_catalog, model_id):
    spec = caption_catalog.get(model_id)
    was_loaded = POOL.is_loaded((spec.id, spec.source.removeprefix("path:")))
    tokens, finals = split(run_side_by_side(caption_catalog, [spec.id], caption()))
    first = finals[spec.id]
    assert isinstance(first, Result), first
    assert isinstance(first.text, str) and first.text
    assert "".join(tokens[spec.id]).strip() == first.text
    m = first.metrics
    assert 0 < m.ttft_s <= m.total_s
    assert 1 <= m.output_tokens <= GREEDY.max_new_tokens
    assert m.cold == (not was_loaded) and (m.load_s > 0) == m.cold
    assert first.extra["image_size"] == CAT.size

    again = final_of(caption_catalog, spec.id, caption())
    assert isinstance(again, Result) and not again.metrics.cold and again.metrics.load_s == 0
    assert again.text == first.text, "greedy decoding of the same image repeats exactly"


def test_captioner_sees_the_image(caption_catalog):
    """Different images give different encoder inputs; with sampling off the outputs usually differ too,
    but the hard guarantee is that each image yields its own complete, timed result."""
    results = [
        final_of(caption_catalog, "tiny-captioner", caption(Image.fromarray(photo)))
        for photo in (data.astronaut(), data.coffee())
    ]
    assert all(isinstance(r, Result) and r.metrics.output_tokens >= 1 for r in results), results


def test_vision_language_model_uses_its_chat_template_and_the_instruction(caption_catalog, tiny_vlm):
    short = final_of(caption_catalog, "tiny-vlm", caption())
    longer_instruction = "List every object you can see in this photo, from left to right."
    longer = final_of(caption_catalog, "tiny-vlm", caption(prompt=longer_instruction))
    assert isinstance(short, Result) and isinstance(longer, Result), (short, longer)
    # the input is the chat template around the instruction plus the image tokens, counted by the model's processor
    assert short.metrics.input_tokens == prompt_length(tiny_vlm, DEFAULT_INSTRUCTION, CAT)
    assert longer.metrics.input_tokens == prompt_length(tiny_vlm, longer_instruction, CAT)
    assert longer.metrics.input_tokens > short.metrics.input_tokens
    assert 1 <= short.metrics.output_tokens <= GREEDY.max_new_tokens


def test_no_image_is_a_clear_failure_with_one_code_everywhere(caption_catalog):
    for model_id in ("tiny-captioner", "tiny-vlm", "gpt-4o-mini"):
        final = final_of(caption_catalog, model_id, Request("caption", params=GREEDY))
        assert isinstance(final, Failure) and "No image" in final.message and final.code == "input", model_id


def test_a_missing_hub_captioner_fails_alone_with_the_prefetch_hint(caption_catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))  # an empty data folder: nothing was prefetched
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _, finals = split(run_side_by_side(caption_catalog, ["tiny-captioner", "blip-base"], caption()))
    assert isinstance(finals["tiny-captioner"], Result)
    missing = finals["blip-base"]
    assert isinstance(missing, Failure)
    assert "not on this machine" in missing.message
    assert missing.hint == "needs download; run `make prefetch` while online"


def test_api_vision_sends_the_instruction_and_a_data_url():
    big = Image.fromarray(data.astronaut()).resize((2048, 1536))
    backend = OpenAIVisionBackend({})
    sent = backend.messages(caption(image=big.resize((1024, 768))))
    user = sent[-1]
    assert user["role"] == "user"
    assert user["content"][0] == {"type": "text", "text": DEFAULT_INSTRUCTION}
    url = user["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).size == (1024, 768)


@pytest.mark.slow  # starts a server process of its own
def test_api_vision_against_transformers_serve(caption_catalog, vlm_serve_credentials, tiny_vlm):
    """A real OpenAI-compatible vision server: `transformers serve` running the tiny Idefics3 (SmolVLM's architecture)."""
    big = Image.fromarray(data.astronaut()).resize((2048, 1536))
    events = list(
        OpenAIVisionBackend(caption_catalog.providers).execute(
            caption_catalog.get("self-hosted"), caption(image=big), vlm_serve_credentials
        )
    )
    result = events[-1]
    assert isinstance(result, Result), result
    assert result.extra["sent_size"] == (API_MAX_SIDE, 768) and result.extra["image_size"] == (2048, 1536)
    assert "".join(e.text for e in events if isinstance(e, Token)) == result.text
    # the server's usage counts the image tokens: the same number the model's processor makes locally of the
    # instruction followed by the image (the order the request sends them in)
    assert result.metrics.input_tokens == prompt_length(
        tiny_vlm, DEFAULT_INSTRUCTION, big.resize((1024, 768)), image_first=False
    )
    assert 1 <= result.metrics.output_tokens <= GREEDY.max_new_tokens


@pytest.mark.parametrize("model_id", ["gpt-4o-mini", "gemini-flash"])
def test_api_vision_without_a_key_is_unavailable(caption_catalog, model_id, monkeypatch):
    for provider in caption_catalog.providers.values():
        if provider.key_env:
            monkeypatch.delenv(provider.key_env, raising=False)
    final = final_of(caption_catalog, model_id, caption())
    assert isinstance(final, Failure) and "unavailable" in final.message and "sidebar" in final.hint
