"""API vision models (OpenAI, Gemini, any OpenAI-compatible server): the instruction plus the image as a data URL.

The image is downscaled first, because a phone photo costs far more image tokens than a caption needs; the size
actually sent is reported in ``Result.extra["sent_size"]`` so the page can show it next to the token count.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from playground.backends.local_caption import instruction_of
from playground.backends.openai_compat import OpenAIChatBackend
from playground.catalog import ModelSpec
from playground.events import Credentials, Event, Request, Result, chat_messages
from playground.images import API_MAX_SIDE, fit_within, require_image, to_data_url


class OpenAIVisionBackend(OpenAIChatBackend):
    def messages(self, request: Request) -> list[dict]:
        content = [
            {"type": "text", "text": instruction_of(request)},
            {"type": "image_url", "image_url": {"url": to_data_url(request.image)}},
        ]
        return chat_messages(request, user_content=content)

    def execute(self, spec: ModelSpec, request: Request, credentials: Credentials, **create_kwargs) -> Iterator[Event]:
        require_image(request)
        sent = fit_within(request.image, API_MAX_SIDE)
        for event in super().execute(spec, replace(request, image=sent), credentials, **create_kwargs):
            if isinstance(event, Result):
                event.extra |= {"sent_size": sent.size, "image_size": request.image.size}
            yield event
