"""Generation parameters are checked once, before any model runs, so every backend sees sane values.

Without this a NaN temperature turned a local run silently greedy and an API run into a raw ``ValueError``, a seed
of 2**70 overflowed, and NaN was written into history's params JSON.
"""

from __future__ import annotations

import math
from typing import Any

from playground.errors import InputError
from playground.i18n import _

MAX_TEMPERATURE = 2.0  # the OpenAI-compatible range; local sampling is meaningless beyond it too
MAX_NEW_TOKENS = 32_768
MAX_SEED = 2**32 - 1  # numpy and most servers take an unsigned 32-bit seed
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def check_params(params: Any) -> None:
    """Raise InputError naming the first parameter out of range (``params`` is a GenParams)."""
    temperature, top_p = params.temperature, params.top_p
    if not _is_number(temperature) or not 0.0 <= temperature <= MAX_TEMPERATURE:
        raise InputError(
            _("Temperature must be a number from 0 to {top}, not {value}.").format(
                top=MAX_TEMPERATURE, value=temperature
            ),
            _("0 picks the likeliest token every time; about 0.7 is a usual setting."),
        )
    if not _is_number(top_p) or not 0.0 < top_p <= 1.0:
        raise InputError(
            _("top_p must be above 0 and at most 1, not {value}.").format(value=top_p),
            _("1 keeps every token; 0.9 keeps the likeliest tokens that make up 90% of the probability."),
        )
    tokens = params.max_new_tokens
    if not _is_int(tokens) or not 1 <= tokens <= MAX_NEW_TOKENS:
        raise InputError(
            _("max_new_tokens must be a whole number from 1 to {top}, not {value}.").format(
                top=MAX_NEW_TOKENS, value=tokens
            ),
            _("It bounds the answer's length: 128 is a short paragraph."),
        )
    seed = params.seed
    if seed is not None and (not _is_int(seed) or not 0 <= seed <= MAX_SEED):
        raise InputError(
            _("The seed must be a whole number from 0 to {top}, not {value}.").format(top=MAX_SEED, value=seed),
            _("Any number in that range repeats the same sampling; leave it empty for a fresh one each run."),
        )


def trim_broken_tail(text: str) -> str:
    """Drop the U+FFFD characters a generation cut by ``max_new_tokens`` leaves when the cut splits a multi-byte
    character (a byte-level token of a Chinese character or an emoji); a U+FFFD earlier in the text is kept."""
    return text.rstrip(REPLACEMENT)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
