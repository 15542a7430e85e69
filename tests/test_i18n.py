"""English and 简体中文: every UI string has a Chinese translation (a new untranslated string fails here), every
page in Chinese shows no English UI text beyond names and units, the language follows ``?lang=`` and the sidebar,
numbers and money follow the locale, and Chromium draws each page in Chinese with real glyphs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from playground.catalog import load_catalog
from playground.formatting import format_count, format_large, format_seconds, format_usd
from playground.hardware import RATES, detect
from playground.i18n import LOCALES_DIR, _, parse_language, set_language

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
PO = LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
PAGES = [
    "home",
    "generate",
    "classify",
    "prompt_sets",
    "caption",
    "dashboard",
    "learn",
    "arena",
    "leaderboard",
    "room",
    "tokens",
]
PLACEHOLDER = re.compile(r"\{[^{}]*\}")

# English that may stay on a Chinese page, and why. Model, provider and licence names come from the catalog.
ALLOWED = [
    # proper names of projects, datasets, companies and tools, written this way in Chinese text too
    "Hugging Face",
    "PyPI",
    "genai-prices",
    "scikit-image",
    "vLLM",
    "OpenVINO GenAI",
    "OpenVINO",
    "Ollama",
    "transformers serve",
    "transformers",
    "OpenAI",
    "Anthropic",
    "Google",
    "Gemini",
    "DeepSeek",
    "Salesforce",
    "EleutherAI",
    "TextAttack",
    "BigScience",
    "Model Openness Framework",
    "European Open Source AI Index",
    "AG-News",
    "SST-2",
    "COCO",
    "Conceptual Captions",
    "SBU",
    "LAION",
    "FineWeb-Edu",
    "DCLM",
    "The Stack",
    "SmolTalk",
    "The Cauldron",
    "Docmatix",
    "the Pile",
    "Flan",
    "ERNIEKit",
    "GGUF",
    "RAIL",
    "NASA",
    "TensorFlow",
    "EfficientNet",
    "RapidOCR",
    "PaddleOCR",
    "ImageNet",
    "ONNX Runtime GenAI",
    "ONNX",
    "OCR",
    "BLIP",
    "ViT-GPT2",
    "GIT",
    "SmolVLM",
    "SmolLM2",
    "BERT base",
    "BERT",
    "T5",
    "C4",
    "ID",  # "模型 ID": an acronym, written this way in Chinese
    "AI",
    "Bradley-Terry",
    "Elo",
    "EcoLogits",
    "CodeCarbon",
    "WordPiece",  # tokenizer algorithms, named as their libraries name them
    "Unigram",
    # units and acronyms a Chinese technical reader uses as they are
    "API",
    "CSV",
    "JSON",
    "URL",
    "CPU",
    "GPU",
    "vCPU",
    "USD",
    "MB",
    "GB",
    "TB",
    "mWh",
    "Wh",
    "mg",
    "CO₂e",
    "Top-p",
    "F1",
    # the language switch names each language in its own script, so a reader of either can find it
    "Language",
    "English",
    # labels the classifiers answer with: model vocabulary, passed to the models as they are (never translated)
    "World",
    "Sports",
    "Business",
    "Sci/Tech",
    "positive",
    "negative",
]
MACHINE_TOKEN = re.compile(
    r"https?://\S+|`[^`]*`|:[a-z_]+/[a-z_]+:|:[a-z]+(?:-badge)?\[|\b[A-Z][A-Z0-9_]{2,}\b"  # links, code, icons, constants
    r"|\S*[/_.]\S*|\S*\d\S*|\b[a-z]+(?:-[a-z0-9]+)+\b"  # paths, repo ids, anything with a digit, package names
)


def catalog_messages() -> list:
    with PO.open("rb") as po:
        return [m for m in read_po(po) if m.id]


def test_every_message_has_a_chinese_translation():
    messages = catalog_messages()
    assert len(messages) > 300
    forms = {m.id: m.string if isinstance(m.string, tuple) else (m.string,) for m in messages}  # plurals: a tuple
    untranslated = [m.id for m in messages if not all(forms[m.id]) or "fuzzy" in m.flags]
    assert not untranslated, f"{len(untranslated)} messages without Chinese: {untranslated[:5]}"
    broken = [
        m.id for m in messages if set(PLACEHOLDER.findall(str(m.id))) != set(PLACEHOLDER.findall(str(forms[m.id])))
    ]
    assert not broken, f"placeholders differ in: {broken[:5]}"


def test_the_source_has_no_string_missing_from_the_catalog(tmp_path):
    """Extract the code's strings now (as `make i18n` does): each must be in the .po, translated."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract",
            "-F",
            "babel.cfg",
            "--no-location",
            "-o",
            str(pot),
            "app.py",
            "components",
            "pages",
            "playground",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as source:
        extracted = {(m.context, str(m.id)) for m in read_po(source) if m.id}
    translated = {(m.context, str(m.id)) for m in catalog_messages() if m.string and all(m.string)}
    missing = sorted(extracted - translated, key=str)
    assert not missing, f"run `make i18n` and translate: {missing[:10]}"
    unused = sorted({(m.context, str(m.id)) for m in catalog_messages()} - extracted, key=str)
    assert not unused, f"in the .po but nowhere in the code (or inside an f-string, which pybabel skips): {unused[:10]}"


def test_no_message_is_marked_inside_an_f_string():
    """pybabel does not look inside f-strings: a _() there is translated today and silently dropped by the next
    `make i18n` (which keeps only what it extracts)."""
    import ast

    found = []
    for path in [
        REPO / "app.py",
        *[p for d in ("components", "pages", "playground") for p in (REPO / d).rglob("*.py")],
    ]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                calls = [c for c in ast.walk(node) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "_"]
                found += [f"{path.relative_to(REPO)}:{c.lineno}" for c in calls]
    assert not found, found


def test_language_codes_formats_and_fallback():
    assert [parse_language(v) for v in ("zh", "zh_CN", "zh-Hans", "ZH-cn", "en", "fr", None)] == [
        "zh_CN",
        "zh_CN",
        "zh_CN",
        "zh_CN",
        "en",
        "en",
        "en",
    ]
    try:
        set_language("zh_CN")
        assert _("Run") == "运行" and _("a sentence nobody translated") == "a sentence nobody translated"
        assert (
            format_seconds(1.5) == "1.5 秒"
            and format_large(135e6) == "1.35亿"
            and format_usd(0.000075) == "$0.000075"  # one dollar sign, as the charts write it
        )
        set_language("en")
        assert _("Run") == "Run" and format_seconds(1.5) == "1.5 s" and format_large(135e6) == "135M"
        assert format_usd(1234.5) == "$1,234.50" and format_count(12345) == "12,345"
    finally:
        set_language("en")


def visible_texts(node, out: list[str]) -> list[str]:
    """Every text a reader sees in an AppTest element tree: bodies, labels, help, placeholders, options, tables.
    Input values are left out: they are the user's (or a prepared prompt's), not the interface's."""
    proto = getattr(node, "proto", None)
    for name in ("body", "label", "help", "placeholder"):
        value = getattr(proto, name, None) if proto is not None else None
        if isinstance(value, str) and value:
            out.append(value)
    for name in ("options", "tab_labels"):
        out += [o for o in (getattr(proto, name, None) or []) if isinstance(o, str)] if proto is not None else []
    if type(node).__name__ == "Dataframe":
        frame = node.value
        out += [str(c) for c in frame.columns]
        out += [v for column in frame.columns for v in frame[column] if isinstance(v, str)]
    for child in getattr(node, "children", {}).values():
        visible_texts(child, out)
    return out


def english_left(text: str, names: list[str]) -> list[str]:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.DOTALL)  # st.html: code and styles are not read
    text = re.sub(r"<[^>]*>", " ", text)  # nor is the markup, only the text between the tags
    for allowed in names:  # longest first, so "GPT-4o mini" goes before "GPT-4o"; whole words only
        text = re.sub(rf"(?<![A-Za-z0-9/-]){re.escape(allowed)}(?![A-Za-z0-9/-])", " ", text)
    text = MACHINE_TOKEN.sub(" ", text)  # links, code, ids, file names and anything with a digit
    return re.findall(r"[A-Za-z]{2,}", text)


def test_what_the_workshop_found_in_english_on_chinese_pages_is_chinese_now():
    """Issue 22: hardware names, batch notes, chart legends, the preset's colon and a second dollar sign."""
    import pandas as pd

    from components import charts
    from playground.hardware import display_name

    runs = pd.DataFrame(
        {
            "model_name": ["m"],
            "openness": ["open"],
            "queue_s": [0.1],
            "load_s": [0.0],
            "ttft_s": [0.5],
            "total_s": [1.0],
        }
    )
    try:
        set_language("zh_CN")
        assert display_name("AMD EPYC 7B13, 2 cores") == "AMD EPYC 7B13，2 核"
        assert [trace.name for trace in charts.latency_parts(runs).data] == ["排队", "模型加载", "到首个词元", "解码"]
        assert _("{n} texts in {s} s.").format(n=20, s="0.2") == "0.2 秒内处理了 20 条文本。"
        assert _("{name}: {labels}").format(name="情感", labels="positive, negative") == "情感：positive, negative"
        assert "US$" not in format_usd(5.5)
    finally:
        set_language("en")


@pytest.fixture(scope="module")
def allowed_names() -> list[str]:
    catalog = load_catalog()
    names = [*ALLOWED]
    names += [spec.name for spec in catalog.models.values()] + [spec.facts.name_zh for spec in catalog.models.values()]
    names += [p.name for p in catalog.providers.values()] + list(catalog.licenses)
    machine = detect()  # data, like model names: the CPU's own name and where its hourly rate comes from
    names += [machine.name, machine.name.rsplit(", ", 1)[0], machine.device] + [rate.source for rate in RATES.values()]
    return sorted({n for n in names if n}, key=len, reverse=True)


@pytest.mark.parametrize("page", PAGES)
def test_a_chinese_page_shows_no_english_ui_text(monkeypatch, tmp_path, page, allowed_names):
    """As a new user first sees each page: an empty history, so no earlier test's prompts show in its tables."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PLAYGROUND_DB", str(tmp_path / "history.sqlite"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "zh"
    at.run()  # app.py: the sidebar and the home page
    sidebar = visible_texts(at._tree, [])
    if page != "home":
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    texts = sidebar + visible_texts(at._tree, [])
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)
    leftovers = {t: words for t in texts if (words := english_left(t, allowed_names))}
    assert not leftovers, "\n".join(f"{words}: {text[:160]!r}" for text, words in leftovers.items())


@pytest.fixture(scope="module")
def plain_app_url(tmp_path_factory):
    """The app as `make run` serves it (no self-hosted endpoint needed to draw the pages)."""
    from tests.browser import streamlit_app

    with streamlit_app(tmp_path_factory.mktemp("i18n_app")) as url:
        yield url


PATHS = {name: name for name in PAGES} | {"home": ""}
TITLES = {
    "home": "开放/闭源模型实验场",
    "generate": "并排生成",
    "classify": "并排分类",
    "prompt_sets": "提示词集",
    "caption": "并排生成图像描述",
    "dashboard": "延迟与成本",
    "learn": "什么是“开放”",
    "arena": "盲测竞技场",
    "leaderboard": "排行榜",
    "room": "课堂",
    "tokens": "词元：每个模型如何读你的文本",
}


def show_whole_page(page) -> None:
    """Streamlit scrolls inside its own container: grow the window to the content so a screenshot holds it all."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1000, int(height) + 120)})
    page.wait_for_timeout(1000)  # charts and tables repaint at the new size


@pytest.mark.parametrize("name", PAGES)
def test_browser_draws_every_page_in_chinese(page, plain_app_url, artifacts, name):
    from tests.browser import open_page

    open_page(page, f"{plain_app_url}/{PATHS[name]}?lang=zh")
    page.get_by_role("heading", name=TITLES[name]).wait_for()
    # a CJK font is installed and used: the title's glyphs are drawn by it, not as boxes
    assert page.evaluate("() => document.fonts.check('16px \"Noto Sans CJK SC\"', '开放')")
    show_whole_page(page)
    page.screenshot(path=str(artifacts / f"zh-{name}.png"))


def test_browser_learn_page_in_both_languages_for_the_readme(page, plain_app_url):
    from tests.browser import open_page, wait_idle

    screenshots = REPO / "docs" / "screenshots"
    open_page(page, f"{plain_app_url}/learn?lang=en")
    assert page.get_by_role("heading", name="What “open” means").is_visible()
    show_whole_page(page)
    page.screenshot(path=str(screenshots / "learn.png"))
    # the sidebar switch changes the whole page, and the choice holds when moving to another page
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="简体中文").click()
    wait_idle(page)
    assert page.get_by_role("heading", name="什么是“开放”").is_visible()
    show_whole_page(page)
    page.screenshot(path=str(screenshots / "learn-zh.png"))
    page.get_by_role("link", name="首页").click()
    page.get_by_role("heading", name="开放/闭源模型实验场").wait_for()
