"""A Chinese prompt to a model trained on English only is said so on its card, with a model to fetch (issue 22)."""

from __future__ import annotations

from playground import GenParams, Notice, Playground, Request, load_catalog
from playground.languages import language_warning, prompt_language
from playground.store import Store


def test_the_prompts_language_is_told_by_its_characters():
    assert prompt_language("用两句话解释什么是开放权重模型。") == "zh"
    assert prompt_language("Explain what an open-weight model is, e.g. 模型.") is None  # a word of Chinese is not
    assert prompt_language("") is None and prompt_language("1234") is None


def test_an_english_only_model_warns_and_names_the_chinese_model_to_fetch():
    catalog = load_catalog()
    warning = language_warning(catalog, catalog.get("smollm2-135m"), "用两句话解释什么是开放权重模型。")
    assert warning and "Qwen2.5-0.5B-Instruct" in warning and "make prefetch" in warning
    assert language_warning(catalog, catalog.get("qwen2.5-0.5b"), "用两句话解释。") is None
    assert language_warning(catalog, catalog.get("gpt-4o-mini"), "用两句话解释。") is None  # languages not stated
    assert language_warning(catalog, catalog.get("smollm2-135m"), "Explain it in two sentences.") is None


def test_the_warning_reaches_the_card_before_the_answer(tmp_path):
    playground = Playground(load_catalog(), Store(str(tmp_path / "runs.sqlite")))
    request = Request("generate", prompt="用两句话解释什么是开放权重模型。", params=GenParams(max_new_tokens=2))
    events = list(playground.run(["smollm2-135m"], request))
    notices = [e for e in events if isinstance(e, Notice) and not e.progress]
    assert events[0] is notices[0] and "Qwen2.5-0.5B-Instruct" in notices[0].message
