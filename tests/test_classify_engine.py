"""The classification engine against real models: the embedded MiniLM and SmolLM2, tiny fine-tuned and NLI
classifiers built and saved by the tests, and a real `transformers serve` process as the API classifier."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from openai.types.chat.chat_completion_token_logprob import ChatCompletionTokenLogprob, TopLogprob

from playground.classify import (
    MAX_LABELS,
    NO_LABEL,
    PRESETS,
    BatchRequest,
    InputError,
    agreement,
    check_labels,
    label_probabilities,
    load_sample,
    parse_label,
    parse_labels,
    read_labelled_csv,
)
from playground.evaluation import batch_metrics, evaluate
from playground.events import Credentials, Endpoint, Failure, Notice, Request, Result
from playground.runner import final_of, run_side_by_side
from tests.tiny_classifiers import TRAINING

SENTIMENT, TOPICS = PRESETS["sentiment"].labels, PRESETS["topic"].labels
CLEAR = [  # written for this test; none is in the sample sets
    ("This phone is fantastic: fast, beautiful and the battery lasts for days.", SENTIMENT, "positive"),
    ("The worst meal I have ever had. The soup was cold and the waiter was rude.", SENTIMENT, "negative"),
    ("We had a lovely holiday, the hotel staff were kind and the beach was perfect.", SENTIMENT, "positive"),
    ("Awful customer service, they ignored my complaints and never refunded me.", SENTIMENT, "negative"),
    ("The goalkeeper saved a penalty and his team won the cup final.", TOPICS, "Sports"),
    ("The company's shares jumped after it reported record profits.", TOPICS, "Business"),
    ("Engineers built a faster computer chip using a new kind of transistor.", TOPICS, "Sci/Tech"),
    ("The prime minister resigned after protests spread across the country.", TOPICS, "World"),
]
EMBEDDED = ["minilm-zero-shot", "smollm2-135m"]


def finals(events) -> dict[str, Result | Failure]:
    return {e.model_id: e for e in events if isinstance(e, (Result, Failure))}


def notices(events) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in events:
        if isinstance(e, Notice):
            out.setdefault(e.model_id, []).append(e.message)
    return out


def assert_distribution(result: Result, labels) -> None:
    assert list(result.scores) == list(labels)
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert result.label == max(result.scores, key=result.scores.get)


# ---------------------------------------------------------------- embedded models


@pytest.mark.parametrize(("text", "labels", "gold"), CLEAR, ids=[gold for *_, gold in CLEAR])
def test_minilm_and_smollm2_label_clear_examples(catalog, text, labels, gold):
    got = finals(run_side_by_side(catalog, EMBEDDED, Request("classify", prompt=text, labels=labels)))
    for model_id in EMBEDDED:
        result = got[model_id]
        assert isinstance(result, Result), result
        assert result.label == gold, (model_id, result.scores)
        assert_distribution(result, labels)
        assert result.metrics.total_s > 0 and result.metrics.input_tokens > 5 and result.metrics.output_tokens == 0


@pytest.mark.parametrize("preset", ["sentiment", "topic"])
def test_batch_evaluation_of_the_embedded_models_on_the_sample_sets(catalog, preset):
    data = load_sample(preset)
    seen = []
    evaluations = evaluate(catalog, EMBEDDED, data, PRESETS[preset].labels, progress=lambda *args: seen.append(args))
    for model_id in EMBEDDED:
        ev = evaluations[model_id]
        assert not ev.error and len(ev.predictions) == len(data.texts) == 20
        assert ev.metrics.accuracy >= 0.85, (model_id, ev.metrics.confusion)
        assert sum(map(sum, ev.metrics.confusion)) == 20 and ev.total_tokens("input") > 20 * 5
    # local models report progress per batch, not per text: MiniLM takes 20 texts at once, SmolLM2 8 at a time
    assert [done for model, done, _ in seen if model == "minilm-zero-shot"] == [20]
    assert [done for model, done, _ in seen if model == "smollm2-135m"] == [8, 16, 20]


@pytest.mark.parametrize("model_id", EMBEDDED)
def test_a_batch_gives_the_same_answers_as_one_text_at_a_time(catalog, model_id):
    """Padding a batch must not change any text's scores (left padding for the LM, masks for the encoder)."""
    texts = tuple(text for text, labels, _ in CLEAR if labels == TOPICS)
    backend_events = list(
        _backend(catalog, model_id).execute(
            catalog.get(model_id), BatchRequest("classify", labels=TOPICS, texts=texts), Credentials()
        )
    )
    batch = [e for e in backend_events if isinstance(e, Result)]
    assert len(batch) == len(texts)
    for text, together in zip(texts, batch):
        alone = final_of(catalog, model_id, Request("classify", prompt=text, labels=TOPICS))
        assert alone.label == together.label
        for label in TOPICS:
            assert alone.scores[label] == pytest.approx(together.scores[label], abs=1e-4)


def _backend(catalog, model_id):
    from playground.backends.registry import backend_for

    return backend_for(catalog, catalog.get(model_id), "classify")


@pytest.mark.parametrize(
    ("model_id", "limit"), [("minilm-zero-shot", 256), ("smollm2-135m", 512), ("tiny-sentiment", 128)]
)
def test_an_over_long_text_is_truncated_and_says_so(classify_catalog, model_id, limit):
    events = list(
        run_side_by_side(classify_catalog, [model_id], Request("classify", prompt="good " * 900, labels=SENTIMENT))
    )
    result = finals(events)[model_id]
    assert isinstance(result, Result) and result.label in SENTIMENT
    assert any("truncated from 9" in n and f"to {limit} tokens" in n for n in notices(events)[model_id]), notices(
        events
    )
    assert result.extra["truncated_from"] > limit


# ---------------------------------------------------------------- fine-tuned and NLI, through catalog path: entries


def test_fine_tuned_classifier_end_to_end(classify_catalog):
    for text, own in TRAINING:
        result = final_of(
            classify_catalog, "tiny-sentiment", Request("classify", prompt=text, labels=("Positive", "Negative"))
        )
        assert isinstance(result, Result), result
        assert result.label == own.capitalize(), "its POSITIVE/NEGATIVE come back in the user's spelling"
        assert_distribution(result, ("Negative", "Positive"))  # in the model's output order
        assert result.extra["own_labels"] == ()


def test_fine_tuned_classifier_says_when_its_labels_are_not_yours(classify_catalog):
    events = list(
        run_side_by_side(
            classify_catalog, ["tiny-sentiment"], Request("classify", prompt=TRAINING[0][0], labels=TOPICS)
        )
    )
    result = finals(events)["tiny-sentiment"]
    assert result.label == "POSITIVE" and set(result.scores) == {"NEGATIVE", "POSITIVE"}
    assert any("fine-tuned on its own labels (NEGATIVE, POSITIVE)" in n for n in notices(events)["tiny-sentiment"])
    data = read_labelled_csv(b"text,label\nthe match was won,Sports\nstocks fell,Business\n", TOPICS)
    ev = evaluate(classify_catalog, ["tiny-sentiment"], data, TOPICS)["tiny-sentiment"]
    assert ev.metrics is None and "own fixed labels" in ev.error and "not scored" in ev.error


def test_fine_tuned_batch_evaluation_scores_its_training_sentences(classify_catalog):
    csv = "text,label\n" + "".join(f'"{text}",{label.lower()}\n' for text, label in TRAINING)
    data = read_labelled_csv(csv.encode(), SENTIMENT)
    assert not data.warnings
    ev = evaluate(classify_catalog, ["tiny-sentiment"], data, SENTIMENT)["tiny-sentiment"]
    assert ev.metrics.accuracy == 1.0 and ev.metrics.confusion == [[4, 0], [0, 4]]


def test_catalog_labels_that_do_not_fit_the_model_fail_clearly(classify_catalog):
    final = final_of(classify_catalog, "tiny-miscounted", Request("classify", prompt="fine", labels=SENTIMENT))
    assert isinstance(final, Failure) and "the catalog lists 3 labels but the model has 2 outputs" in final.message


def test_nli_zero_shot_through_the_pipeline(classify_catalog):
    """The tiny NLI model is random: this checks the mechanics, one entailment score per label, softmaxed."""
    labels = ("cooking", "travel", "music")
    single = final_of(classify_catalog, "tiny-nli", Request("classify", prompt="We baked bread.", labels=labels))
    assert isinstance(single, Result) and single.metrics.input_tokens > 3 * 5
    assert_distribution(single, labels)
    events = _backend(classify_catalog, "tiny-nli").execute(
        classify_catalog.get("tiny-nli"),
        BatchRequest("classify", labels=labels, texts=("A song.", "We baked bread.")),
        Credentials(),
    )
    batch = [e for e in events if isinstance(e, Result)]
    assert batch[1].scores == pytest.approx(single.scores, abs=1e-5)


# ---------------------------------------------------------------- API classifier against a real server


@pytest.mark.slow  # starts a server process of its own
def test_api_classifier_parses_a_label_from_transformers_serve(catalog, serve_credentials):
    text = "This phone is fantastic: fast, beautiful and the battery lasts for days."
    events = list(
        run_side_by_side(
            catalog, ["self-hosted"], Request("classify", prompt=text, labels=SENTIMENT), serve_credentials
        )
    )
    result = finals(events)["self-hosted"]
    assert isinstance(result, Result), result
    assert result.label == "positive" == parse_label(result.text, SENTIMENT)
    assert result.scores is None, "transformers serve sends no logprobs: the confidence stays unknown"
    assert result.metrics.input_tokens > 20 and result.metrics.output_tokens >= 1


def test_api_classifier_unparseable_answer_gives_a_clear_result(catalog, serve_credentials):
    # SmolLM2 answers this one by repeating the whole list of labels (seen, greedy decoding)
    text = "Shares fell sharply after the bank reported lower quarterly profits."
    events = list(
        run_side_by_side(catalog, ["self-hosted"], Request("classify", prompt=text, labels=TOPICS), serve_credentials)
    )
    result = finals(events)["self-hosted"]
    assert isinstance(result, Result) and result.label is None and result.scores is None
    assert result.text, "the raw answer is kept to show"
    assert any(
        "names none of the labels, or more than one" in n and result.text.strip()[:20] in n
        for n in notices(events)["self-hosted"]
    )


def test_api_batch_evaluation_counts_unparseable_answers_as_no_label(catalog, serve_credentials):
    data = read_labelled_csv(
        b"text,label\nShares fell sharply after the bank reported lower quarterly profits.,Business\n"
        b"Scientists unveiled a new chip that makes quantum computers faster.,Sci/Tech\n",
        TOPICS,
    )
    ev = evaluate(catalog, ["self-hosted"], data, TOPICS, serve_credentials)["self-hosted"]
    assert not ev.error and len(ev.predictions) == 2
    assert ev.predictions[0].label is None and NO_LABEL in ev.metrics.columns
    assert ev.total_tokens("output") >= 2 and ev.mean_latency_s > 0


class _RefusesLogprobs(BaseHTTPRequestHandler):
    """Stands in for a provider that answers 400 to `logprobs` (some Gemini models do): none is reachable offline."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("logprobs"):
            error = {"error": {"message": "logprobs is not supported for this model", "type": "invalid_request_error"}}
            return self._send(400, "application/json", json.dumps(error).encode())
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
        answer = chunk | {
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Negative."}, "finish_reason": None}]
        }
        usage = {"prompt_tokens": 30, "completion_tokens": 2, "total_tokens": 32}
        last = chunk | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}
        events = "".join(f"data: {json.dumps(c)}\n\n" for c in (answer, last)) + "data: [DONE]\n\n"
        self._send(200, "text/event-stream", events.encode())

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_api_classifier_asks_again_without_logprobs_when_refused(catalog):
    server = HTTPServer(("127.0.0.1", 0), _RefusesLogprobs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = Endpoint(f"http://127.0.0.1:{server.server_port}/v1", "any-model")
        result = final_of(
            catalog,
            "self-hosted",
            Request("classify", prompt="Awful.", labels=SENTIMENT),
            Credentials(self_hosted=endpoint),
        )
    finally:
        server.shutdown()
    assert isinstance(result, Result) and result.label == "negative" and result.scores is None
    assert result.metrics.input_tokens == 30


def _logprob(token: str, logprob: float, alternatives: dict[str, float]) -> ChatCompletionTokenLogprob:
    top = [TopLogprob(token=t, logprob=lp, bytes=None) for t, lp in alternatives.items()]
    return ChatCompletionTokenLogprob(token=token, logprob=logprob, bytes=None, top_logprobs=top)


def test_logprobs_become_label_probabilities():
    import math

    first = _logprob("Pos", math.log(0.6), {"Pos": math.log(0.6), "Neg": math.log(0.3), "The": math.log(0.1)})
    probs = label_probabilities([first, _logprob("itive", -0.01, {})], SENTIMENT)
    assert probs == pytest.approx({"positive": 2 / 3, "negative": 1 / 3})
    # a leading space or quote token is skipped; the first word decides
    assert label_probabilities([_logprob('"', -0.1, {}), first], SENTIMENT) == pytest.approx(probs)
    assert label_probabilities([], SENTIMENT) is None, "no logprobs from the endpoint: unknown, not invented"
    assert label_probabilities([_logprob("The", -0.2, {"Pos": -2.0})], SENTIMENT) is None, (
        "the answer did not start with a label"
    )
    assert label_probabilities([_logprob("S", -0.2, {})], TOPICS) is None, "'S' could be Sports or Sci/Tech"


# ---------------------------------------------------------------- labels, parsing, agreement


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("positive", "positive"),
        ("Negative.", "negative"),
        ("The text is negative.", "negative"),
        ('"Sci/Tech"', "Sci/Tech"),
        ("World, Sports, Business or Sci/Tech.", None),
        ("I cannot tell.", None),
        ("positive or negative", None),
    ],
)
def test_parse_label(answer, label):
    labels = TOPICS if "/" in answer or "World" in answer else SENTIMENT
    assert parse_label(answer, labels) == label


def test_agreement_line():
    assert agreement({"A": "positive", "B": "positive"}) == "All 2 models agree: positive."
    assert (
        agreement({"A": "positive", "B": "negative", "C": "positive"})
        == "The models disagree: positive (A, C) · negative (B)."
    )
    assert agreement({"A": "positive", "B": None}) == "Only 1 model gave a label: nothing to compare. No label from B."


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["positive"], "at least two labels"),
        (["", " "], "at least two labels"),
        (["Yes", "no", "yes "], "Duplicate labels: Yes, yes"),
        ([f"label {i}" for i in range(300)], f"300 labels is too many: use at most {MAX_LABELS}"),
        (["a", "b" * 80], "at most 60 characters"),
    ],
)
def test_bad_label_sets_are_refused_with_a_clear_message(labels, message):
    with pytest.raises(InputError, match=message):
        check_labels(labels)


def test_typed_labels_split_on_commas_and_lines():
    assert parse_labels(" spam, ham\n\neggs ,") == ["spam", "ham", "eggs"]


@pytest.mark.parametrize(
    ("prompt", "labels", "message"),
    [
        ("   ", SENTIMENT, "The text is empty"),
        ("fine", ("only",), "at least two labels"),
        ("fine", ("a", "A"), "Duplicate labels"),
    ],
)
def test_bad_input_fails_every_model_alone_before_any_work(catalog, prompt, labels, message):
    """Local, self-hosted and keyless API models all answer with the same clear message; nothing is loaded or sent."""
    ids = ["minilm-zero-shot", "smollm2-135m", "self-hosted", "gpt-4o-mini"]
    got = finals(run_side_by_side(catalog, ids, Request("classify", prompt=prompt, labels=labels)))
    for model_id in ids:
        assert isinstance(got[model_id], Failure) and message in got[model_id].message, got[model_id]


# ---------------------------------------------------------------- labelled CSV files and metrics


def test_metrics_on_a_known_confusion():
    gold = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", None, "c"]
    m = batch_metrics(gold, predicted, ["a", "b", "c"])
    assert m.columns == ["a", "b", "c", NO_LABEL]
    assert m.confusion == [[2, 1, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0]]
    assert m.accuracy == pytest.approx(4 / 6)
    # F1: a = 2*2/(3+2) = 0.8, b = 2*1/(2+2) = 0.5, c = 2*1/(1+1) = 1.0
    assert m.macro_f1 == pytest.approx((0.8 + 0.5 + 1.0) / 3)


def test_metrics_leave_out_labels_nobody_used():
    m = batch_metrics(["a", "b"], ["a", "a"], ["a", "b", "c"])
    assert m.macro_f1 == pytest.approx((2 / 3 + 0.0) / 2), "c is neither in the gold set nor predicted"


def test_csv_is_read_with_labels_matched_regardless_of_case():
    data = read_labelled_csv('\ufeffText , Label\nGreat!,POSITIVE\n"Bad, really bad",negative\n'.encode(), SENTIMENT)
    assert data.texts == ["Great!", "Bad, really bad"] and data.gold == ["positive", "negative"] and not data.warnings


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"sentence,category\nhi,positive\n",
            "needs a header row with the columns text,label. Missing: text, label; found: sentence, category",
        ),
        (b"text\nhi\n", "Missing: label"),
        ("text,label\ncaf\u00e9,positive\n".encode("cp1252"), "not UTF-8 text (byte 0xe9 at position 14)"),
        (b"", "Missing: text, label; found: nothing"),
        (b"text,label\n,\n,positive\n", "No usable rows"),
        (b"text,label\nhi,neutral\n", "No usable rows"),
        (b'text,label\n"' + b"x" * 200_000 + b'",positive\n', "malformed at line"),
    ],
    ids=[
        "wrong columns",
        "no label column",
        "bad encoding",
        "empty file",
        "only empty rows",
        "only unknown labels",
        "huge field",
    ],
)
def test_bad_csv_files_get_a_clear_message(content, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        read_labelled_csv(content, SENTIMENT)


def test_csv_rows_that_cannot_be_used_are_skipped_and_reported():
    content = b"text,label\nGood,positive\n,negative\nFine,\nMeh,neutral\nOkay,neutral\nHmm,unsure\n\nBad,negative\n"
    data = read_labelled_csv(content, SENTIMENT)
    assert data.texts == ["Good", "Bad"]
    assert data.warnings == [
        "Skipped 2 row(s) with an empty text or label.",
        "Skipped 3 row(s) whose label is not in the label set: 'neutral' (2), 'unsure' (1).",
    ]


def test_a_csv_over_the_row_limit_is_cut_and_says_so():
    content = b"text,label\n" + b"".join(b"t%d,positive\n" % i for i in range(30))
    data = read_labelled_csv(content, SENTIMENT, max_rows=25)
    assert len(data.texts) == 25 and data.warnings == ["Kept the first 25 of 30 rows."]


@pytest.mark.parametrize("labels", [(), ("x", "x"), tuple(str(i) for i in range(100))])
def test_bad_labels_are_an_input_failure_not_an_internal_one(labels):
    from playground import Request, load_catalog
    from playground.runner import final_of

    failure = final_of(load_catalog(), "minilm-zero-shot", Request("classify", prompt="Great film.", labels=labels))
    assert failure.code == "input" and "Unexpected" not in failure.message
