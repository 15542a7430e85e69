"""Property tests (hypothesis) for the engine's input checks: whatever arrives, the answer is the documented one or
the documented error, never a traceback. Examples are bounded so the file runs in seconds."""

from __future__ import annotations

import io
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from PIL import Image

from components.answer import safe_markdown
from playground.catalog import load_catalog
from playground.classify import MAX_LABEL_CHARS, MAX_LABELS, check_labels
from playground.errors import CatalogError, ImageError, InputError
from playground.events import GenParams
from playground.images import open_image
from playground.params import MAX_NEW_TOKENS, MAX_SEED, MAX_TEMPERATURE, check_params, trim_broken_tail
from playground.redact import REDACTED, scrub
from playground.retention import MIN_CHARS, Retention

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**80), 2**80), st.booleans())


@FAST
@given(temperature=numbers, top_p=numbers, tokens=numbers, seed=st.one_of(st.none(), numbers))
def test_params_are_accepted_exactly_when_in_range(temperature, top_p, tokens, seed):
    params = GenParams(temperature=temperature, top_p=top_p, max_new_tokens=tokens, seed=seed)

    def whole(value, low, high):
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    def real(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

    valid = (
        real(temperature) and 0 <= temperature <= MAX_TEMPERATURE
        and real(top_p) and 0 < top_p <= 1
        and whole(tokens, 1, MAX_NEW_TOKENS)
        and (seed is None or whole(seed, 0, MAX_SEED))
    )  # fmt: skip
    if valid:
        check_params(params)
        json.dumps(params.__dict__, allow_nan=False)  # what history stores is valid JSON
    else:
        with pytest.raises(InputError):
            check_params(params)


@FAST
@given(st.text(max_size=40).map(lambda t: t + "\ufffd" * 2))
def test_a_broken_tail_is_trimmed_and_nothing_else(text):
    trimmed = trim_broken_tail(text)
    assert not trimmed.endswith("\ufffd") and text.startswith(trimmed)
    assert set(text[len(trimmed) :]) == {"\ufffd"}


@FAST
@given(st.lists(st.text(max_size=MAX_LABEL_CHARS + 10), max_size=MAX_LABELS + 3))
def test_labels_are_clean_or_refused(labels):
    try:
        checked = check_labels(labels)
    except InputError as exc:  # the property: a clear refusal, or a clean result
        assert exc.code == "input" and exc.message  # noqa: PT017
        return
    assert 2 <= len(checked) <= MAX_LABELS
    assert all(label == label.strip() and 0 < len(label) <= MAX_LABEL_CHARS for label in checked)
    assert len({label.casefold() for label in checked}) == len(checked)


FIELD_VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(-5, 5),
    st.booleans(),
    st.lists(st.text(max_size=10), max_size=3),
    st.sampled_from(["generate", "classify", "local", "openai-compat", "causal-lm", "open", "closed"]),
    st.lists(st.sampled_from(["generate", "classify", "caption", "dance"]), max_size=3),
)
MODEL_FIELDS = ["id", "name", "tasks", "openness", "license", "provider", "backend", "context", "labels", "replace"]


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # JSON strings and ints are TOML too (a lone surrogate is a TOML error: also fine)


@FAST
@given(
    st.dictionaries(st.sampled_from([*MODEL_FIELDS, "colour"]), FIELD_VALUES, max_size=10),
    st.dictionaries(st.sampled_from(["name", "kind", "base_url", "key_optional"]), FIELD_VALUES, max_size=4),
)
def test_any_catalog_entry_loads_or_raises_catalog_error(tmp_path_factory, model, provider):
    lines = ["[providers.p]"] + [f"{k} = {toml_value(v)}" for k, v in provider.items()]
    lines += ["[[models]]"] + [f"{k} = {toml_value(v)}" for k, v in model.items()]
    path = tmp_path_factory.mktemp("entry") / "extra.toml"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:  # the property: an error naming the file, or a usable entry
        assert str(path) in exc.message  # noqa: PT017
        return
    spec = catalog.get(model["id"])
    assert spec.tasks and all(task in ("generate", "classify", "caption") for task in spec.tasks)
    assert catalog.providers[spec.provider].kind in ("local", "openai-compat")


def _encoded(width: int, height: int, mode: str) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, "TIFF" if mode in ("I", "F") else "PNG")
    return buffer.getvalue()


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["RGB", "RGBA", "L", "LA", "P", "I;16", "I", "F", "1"]),
    st.integers(1, 64),
    st.integers(1, 64),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
    st.integers(0, 10_000),
)
def test_any_image_bytes_open_as_rgb_or_raise_image_error(mode, width, height, flips, cut):
    """A valid PNG (TIFF for 32-bit modes), then damaged: bytes flipped here and there, and maybe cut short."""
    data = bytearray(_encoded(width, height, mode))
    for where, value in flips:
        data[where % len(data)] = value
    data = bytes(data[: max(1, len(data) - cut % len(data))]) if cut % 3 == 0 else bytes(data)
    try:
        opened = open_image(data)
    except ImageError as exc:  # the property: a clear refusal, or a usable RGB image
        assert exc.code == "input" and exc.message  # noqa: PT017
        return
    assert opened.image.mode == "RGB" and opened.image.size[0] * opened.image.size[1] > 0


KEYS = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=4, max_size=60)


@FAST
@given(st.text(max_size=200), KEYS, st.text(max_size=50))
def test_a_named_key_never_survives_scrubbing(before, key, after):
    scrubbed = scrub(before + key + after, [key])
    assert key not in scrubbed


@FAST
@given(KEYS, KEYS, st.sampled_from(["https", "http", "postgresql+psycopg"]))
def test_url_credentials_and_key_parameters_never_survive(user, password, scheme):
    text = f"error at {scheme}://{user}:{password}@host.example/v1?model=m&api_key={password}x, try again"
    scrubbed = scrub(text)
    assert f"{user}:{password}" not in scrubbed and f"{password}x" not in scrubbed and REDACTED in scrubbed


@FAST
@given(st.text(max_size=300), st.text(st.characters(exclude_characters="]\n"), max_size=20))
def test_safe_markdown_renders_no_image_and_no_html_element(text, alt):
    source = f"{text}\n![{alt}](http://tracker.example/p.png)\n<img src=http://tracker.example/q.png>{text}"
    html = MarkdownIt("commonmark", {"html": True}).render(safe_markdown(source))  # even with raw HTML allowed
    assert "<img" not in html


@FAST
@given(st.text(max_size=3000), st.integers(MIN_CHARS, 2000))
def test_clipped_history_text_fits_its_bound(text, limit):
    clipped = Retention(max_chars=limit).clip(text)
    assert len(clipped) <= limit and (clipped == text or "more characters not stored" in clipped)
