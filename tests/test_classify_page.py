"""The classify page, in AppTest and in a real browser: one text side by side, and batch evaluation.

The app's catalog gets the tiny fine-tuned classifier (PLAYGROUND_CATALOG), loaded like a hub checkpoint.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.apptest import app_page
from tests.browser import open_page, wait_idle

LOCAL = ["minilm-zero-shot", "smollm2-135m", "tiny-sentiment"]


@pytest.fixture
def classify_page(monkeypatch, classify_catalog_file, tmp_path):
    with app_page(monkeypatch, "classify", classify_catalog_file, PLAYGROUND_DB=str(tmp_path / "history.sqlite")) as at:
        yield at


def figures(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def metric_lines(at) -> list[str]:
    return [c.value for c in at.caption if "tokens in" in c.value]


def test_one_text_side_by_side_with_probabilities_and_agreement(classify_page):
    at = classify_page
    at.multiselect(key="classify_models").set_value(LOCAL).run()
    at.text_area(key="classify_text").input("What an awful, horrible day: the food was bad and the staff rude.").run()
    at.button(key="classify_run").click().run()
    assert not at.exception and not at.error
    assert [m.value for m in at.markdown if m.value.startswith("####")] == ["#### negative"] * 3
    bars = figures(at)
    assert len(bars) == 3 and all(set(f["data"][0]["y"]) == {"positive", "negative"} for f in bars)
    assert all(sum(f["data"][0]["x"]) == pytest.approx(1.0, abs=1e-4) for f in bars)
    assert len(metric_lines(at)) == 3
    assert at.info[-1].value == "All 3 models agree: negative."


def test_rerun_keeps_the_last_result(classify_page):
    at = classify_page
    at.multiselect(key="classify_models").set_value(["minilm-zero-shot"]).run()
    at.button(key="classify_run").click().run()
    at.radio(key="classify_batch_source").set_value("Upload a CSV").run()  # any widget change reruns the page
    assert len(figures(at)) == 1 and [m.value for m in at.markdown if m.value.startswith("####")] == ["#### negative"]
    assert not at.info, "no agreement line for a single model"


def test_a_fine_tuned_model_with_other_labels_says_so(classify_page):
    at = classify_page
    at.multiselect(key="classify_models").set_value(["minilm-zero-shot", "tiny-sentiment"]).run()
    at.radio(key="classify_preset").set_value("topic").run()
    assert any("fine-tuned on its own labels (NEGATIVE, POSITIVE)" in c.value for c in at.caption)
    at.text_area(key="classify_text").input("The striker scored twice and his team won the final.").run()
    at.button(key="classify_run").click().run()
    assert any("not yours" in w.value for w in at.warning), "the card repeats it next to the answer"
    assert "Left out, as they answer in their own labels: tiny-sentiment (tiny)." in at.info[-1].value


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("spam", "at least two labels"),
        ("yes, no, Yes", "Duplicate labels: yes, Yes"),
        (", ".join(f"topic {i}" for i in range(300)), "300 labels is too many"),
    ],
)
def test_bad_custom_labels_are_refused_before_any_run(classify_page, typed, message):
    at = classify_page
    at.radio(key="classify_preset").set_value("custom").run()
    at.text_input(key="classify_custom_labels").input(typed).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key="classify_run").disabled


def test_custom_labels_classify(classify_page):
    at = classify_page
    at.multiselect(key="classify_models").set_value(["minilm-zero-shot"]).run()
    at.radio(key="classify_preset").set_value("custom").run()
    at.text_input(key="classify_custom_labels").input("cooking, football").run()
    at.text_area(key="classify_text").input(
        "Knead the dough, let it rise, then bake the bread for forty minutes."
    ).run()
    at.button(key="classify_run").click().run()
    assert [m.value for m in at.markdown if m.value.startswith("####")] == ["#### cooking"]


def test_empty_text_is_refused_without_a_call(classify_page):
    at = classify_page
    at.text_area(key="classify_text").input("   ").run()
    at.button(key="classify_run").click().run()
    assert "The text is empty" in at.warning[0].value
    assert not metric_lines(at)


def test_an_over_long_text_shows_its_truncation(classify_page):
    at = classify_page
    at.multiselect(key="classify_models").set_value(["minilm-zero-shot"]).run()
    at.text_area(key="classify_text").input("a great product " * 400).run()
    at.button(key="classify_run").click().run()
    assert any("truncated from 1202 to 256 tokens" in w.value for w in at.warning), [w.value for w in at.warning]


def test_batch_evaluation_on_the_built_in_sample(classify_page):
    at = classify_page
    at.multiselect(key="classify_models").set_value(["minilm-zero-shot", "tiny-sentiment", "gpt-4o-mini"]).run()
    at.button(key="classify_evaluate").click().run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("Model")
    minilm = table.loc["all-MiniLM-L6-v2 (zero-shot)"]
    assert minilm["Accuracy"] >= 0.85 and minilm["Tokens in"] > 100 and minilm["Cost (USD)"] > 0  # machine time
    assert 0 <= table.loc["tiny-sentiment (tiny)"]["Accuracy"] <= 1
    assert "OPENAI_API_KEY" in table.loc["GPT-4o mini"]["Notes"], "a keyless API model is reported, not scored"
    confusions = [f for f in figures(at) if f["data"][0]["type"] == "heatmap"]
    assert len(confusions) == 2 and all(sum(map(sum, f["data"][0]["z"])) == 20 for f in confusions)
    scatter = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Accuracy against latency"))
    assert sorted(trace["name"] for trace in scatter["data"]) == [
        "all-MiniLM-L6-v2 (zero-shot) · open",
        "tiny-sentiment (tiny) · open",
    ]
    download = at.get("download_button")[0]
    assert download.proto.label == "Download predictions (CSV)"


def upload(at, name: str, content: bytes):
    at.radio(key="classify_batch_source").set_value("Upload a CSV").run()
    return at.file_uploader(key="classify_upload").upload(name, content, "text/csv").run()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"sentence,category\nhi,positive\n", "needs a header row with the columns text,label"),
        ("text,label\ncaf\u00e9 au lait,positive\n".encode("cp1252"), "not UTF-8 text"),
        (b"text,label\n,\n,positive\n", "No usable rows"),
    ],
    ids=["missing columns", "bad encoding", "only empty rows"],
)
def test_a_bad_csv_gets_a_clear_message(classify_page, content, message):
    at = upload(classify_page, "reviews.csv", content)
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value and "reviews.csv" in at.error[0].value
    assert at.button(key="classify_evaluate").disabled


def test_a_csv_with_unknown_labels_and_empty_rows_is_evaluated_on_the_rest(classify_page):
    content = b"text,label\nI loved it,positive\nAwful,negative\nIt was okay,neutral\n,positive\n"
    at = upload(classify_page, "mixed.csv", content)
    warnings = [w.value for w in at.warning]
    assert "Skipped 1 row(s) with an empty text or label." in warnings
    assert "Skipped 1 row(s) whose label is not in the label set: 'neutral' (1)." in warnings
    at.multiselect(key="classify_models").set_value(["minilm-zero-shot"]).run()
    at.button(key="classify_evaluate").click().run()
    assert at.dataframe[0].value.iloc[0]["Accuracy"] == 1.0
    assert "2 texts in" in at.dataframe[0].value.iloc[0]["Notes"]


def test_browser_one_text_then_a_batch(page, app_url, artifacts):
    """MiniLM, SmolLM2 and `transformers serve` as the API classifier, in a real browser."""
    open_page(page, f"{app_url}/classify?models=minilm-zero-shot,smollm2-135m,self-hosted")
    page.get_by_label("Text", exact=True).fill(
        "This phone is fantastic: fast, beautiful and the battery lasts for days."
    )
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.get_by_text("tokens in")).to_have_count(3, timeout=180_000)
    wait_idle(page)
    expect(page.get_by_text("All 3 models agree: positive.")).to_be_visible()
    expect(page.get_by_text("Confidence unknown")).to_have_count(1)  # transformers serve sends no logprobs
    page.set_viewport_size({"width": 1400, "height": 1400})
    page.screenshot(path=str(artifacts / "classify.png"))

    page.get_by_role("tab", name="Batch evaluation").click()
    page.get_by_role("button", name="Evaluate", exact=True).click()
    page.get_by_role("button", name="Download predictions (CSV)").wait_for(timeout=300_000)
    wait_idle(page)
    for title in (
        "Accuracy against latency per text",
        "Accuracy against cost for 20 texts",
        "SmolLM2-135M-Instruct · ",
    ):
        expect(page.get_by_text(title).first).to_be_visible()
    page.set_viewport_size({"width": 1400, "height": 2000})
    page.screenshot(path=str(artifacts / "classify-batch.png"))
