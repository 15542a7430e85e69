"""Each check kind on real SmolLM2 answers, and on hand-made strings for its edge cases; the judge's verdict parser."""

from __future__ import annotations

import pytest

from playground import GenParams, Playground, Request, Result
from playground.checks import Answer, Check, check_text, find_json, parse_check, parse_verdict, run_checks, verdict
from playground.errors import InputError
from playground.prompt_set_runs import minilm_similarity
from playground.store import Store

GREEDY = GenParams(temperature=0.0, max_new_tokens=48)


def check(kind, value):
    return parse_check(kind, value, "Row 1")


def passed(kind, value, text, latency=1.0, cost=0.0, reference=""):
    return check_text(check(kind, value), Answer(text, latency, cost), reference).passed


@pytest.fixture(scope="module")
def smollm_answers(catalog, tmp_path_factory):
    """SmolLM2 fp32's greedy answers to a fact and to a JSON-format instruction (real generations, recorded)."""
    playground = Playground(catalog, Store(tmp_path_factory.mktemp("checks") / "h.sqlite"))
    prompts = {
        "capital": "What is the capital of France?",
        "json": 'Reply with only a JSON object with the keys "name" and "age" for a 30-year-old named Ada.',
    }
    answers = {}
    for key, prompt in prompts.items():
        final = playground.run_one("smollm2-135m", Request("generate", prompt=prompt, params=GREEDY))
        assert isinstance(final, Result), final
        m = final.metrics
        answers[key] = Answer(final.text, m.total_s - m.queue_s - m.load_s, final.cost.usd)
    return answers


@pytest.mark.slow
def test_every_check_kind_on_real_smollm2_answers(smollm_answers, catalog):
    capital, as_json = smollm_answers["capital"], smollm_answers["json"]
    assert "Paris" in capital.text  # what the checks below are about
    on = lambda kind, value, answer, reference="": check_text(check(kind, value), answer, reference).passed  # noqa: E731
    assert on("contains", "paris", capital) is True
    assert on("contains", "Berlin", capital) is False
    assert on("not_contains", "Berlin", capital) is True
    assert on("regex", r"\bParis\b", capital) is True
    assert on("regex", r"^\d+$", capital) is False
    assert on("equals", capital.text.upper(), capital) is True
    assert on("equals", "Paris", capital) is (capital.text.strip().rstrip(".").lower() == "paris")
    assert on("length", {"min": 5, "max": 400}, capital) is True
    assert on("length", {"max": 3}, capital) is False
    assert on("latency", 600, capital) is True and on("latency", 0.001, capital) is False
    assert on("cost", 1.0, capital) is True and on("cost", 0, capital) is (capital.cost_usd == 0)
    assert on("json", True, as_json) is True  # SmolLM2 wraps it in a ```json fence and adds a sentence
    assert on("json", "strict", as_json) is (as_json.text.strip().startswith(("{", "[")))
    assert on("json", True, capital) is False
    similar = run_checks(
        (check("similar", 0.5), check("similar", 0.99)),
        "What is the capital of France?",
        capital,
        "Paris is the capital of France.",
        minilm_similarity(catalog),
        None,
    )
    assert [r.passed for r in similar] == [True, False], similar
    assert float(similar[0].detail) > 0.5


def test_text_checks_on_hand_made_edge_cases():
    assert passed("contains", "PARIS", "the capital is paris") is True
    assert passed("contains", "new  york", "I love New York.") is True  # spaces and case are folded
    assert passed("not_contains", "sorry", "Sorry, I cannot.") is False
    assert passed("equals", "Yes", " yes. ") is True and passed("equals", "Yes", "Yes, it is.") is False
    assert passed("equals", "是", "是。") is True
    assert passed("regex", r"\b(8|eight)\b", "A spider has eight legs.") is True
    assert passed("regex", r"\b(8|eight)\b", "eighteen") is False
    assert passed("length", {"min": 2, "max": 5}, "  abc  ") is True
    assert passed("length", {"min": 4}, "abc") is False
    assert passed("latency", 2, "x", latency=2.0) is True and passed("latency", 2, "x", latency=2.01) is False
    assert passed("latency", 2, "x", latency=None) is None  # nothing measured: not judged, never passed
    assert passed("cost", 0.01, "x", cost=None) is None  # unpriced: not judged
    assert find_json('{"a": 1}', strict=True)[0] and not find_json('Sure: {"a": 1}', strict=True)[0]
    assert find_json('Sure: {"a": [1, 2]} hope that helps', strict=False)[0]
    assert find_json("```json\n[1, 2]\n```", strict=False)[0]
    assert not find_json("{not json}", strict=False)[0] and not find_json("", strict=False)[0]


def test_similarity_without_a_reference_and_a_broken_model_are_not_judged():
    def broken(a, b):
        raise RuntimeError("MiniLM is not installed")

    answer = Answer("Paris", 1.0, 0.0)
    no_reference = run_checks((check("similar", 0.5),), "q", answer, "", broken, None)[0]
    failing = run_checks((check("similar", 0.5),), "q", answer, "Paris", broken, None)[0]
    assert no_reference.passed is None and failing.passed is None and "MiniLM" in failing.detail


def test_verdict_of_a_cell():
    def r(p):
        return type("R", (), {"passed": p})()

    assert verdict([r(True), r(True)]) == "pass"
    assert verdict([r(True), r(None)]) == "not judged"  # a check that could not decide never counts as passed
    assert verdict([r(None), r(False)]) == "fail"
    assert verdict([]) == "not judged"


def test_judge_replies_become_verdicts():
    assert parse_verdict("PASS. The answer names Paris.") is True
    assert parse_verdict("FAIL: it names Berlin.") is False
    assert parse_verdict("The answer does not meet the rubric.") is False
    assert parse_verdict("The answer meets the rubric.") is True
    assert parse_verdict("Paris is a lovely city.") is None


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        ("regex", "(unclosed", "not a valid regular expression"),
        ("contains", "  ", "is empty"),
        ("length", {"min": 9, "max": 2}, "min is above its max"),
        ("latency", "soon", "needs a number"),
        ("similar", 3, "at most 1"),
        ("json", "maybe", "“true” or “strict”"),
        ("sentiment", "x", "no check called"),
    ],
)
def test_bad_checks_name_the_row_and_the_problem(kind, value, words):
    with pytest.raises(InputError) as caught:
        parse_check(kind, value, "Row 7")
    assert "Row 7" in caught.value.message and words in caught.value.message


def test_a_judge_must_be_a_generating_catalog_model(catalog):
    with pytest.raises(InputError, match="not a generating model"):
        parse_check("judge", {"model": "minilm-zero-shot"}, "Row 1", lambda m: False)
    assert parse_check("judge", "smollm2-135m", "Row 1").value["rubric"]  # a default rubric
    assert Check("contains", "Paris").describe() == "contains “Paris”"
