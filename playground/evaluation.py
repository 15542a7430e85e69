"""Batch evaluation: a labelled set through each classifier, scored with accuracy, macro-F1 and a confusion matrix.

Every text (or batch of texts) goes through the runner, so it has the same deadline and crash isolation as a run
from a page. The session (``Playground.evaluate``) calls it and records one run per model in the store.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from playground.backends.registry import backend_for
from playground.catalog import Catalog
from playground.classify import NO_LABEL, BatchRequest, LabelledSet, check_labels
from playground.energy import LEDGER, Share
from playground.events import Credentials, Failure, Request, Result
from playground.i18n import _
from playground.metrics import CallMetrics
from playground.runner import DEFAULT_MODEL_TIMEOUT_S, finals_of

API_CONCURRENCY = 4  # parallel calls per API model in batch evaluation


@dataclass
class Prediction:
    label: str | None
    scores: dict[str, float] | None
    latency_s: float  # for a local model: its batch's time divided by the texts in it
    input_tokens: int | None
    output_tokens: int | None
    truncated: bool = False


@dataclass
class BatchMetrics:
    accuracy: float
    macro_f1: float
    labels: list[str]  # rows of the confusion matrix (gold)
    columns: list[str]  # its columns (predicted): the labels, plus NO_LABEL when some answers named none
    confusion: list[list[int]]


def batch_metrics(gold: list[str], predicted: list[str | None], labels: Iterable[str]) -> BatchMetrics:
    """Accuracy, macro-F1 and the confusion matrix. A missing prediction counts as wrong.

    Macro-F1 averages per-label F1 over the labels present in the gold set or the predictions (as scikit-learn does).
    """
    labels = list(labels)
    columns = labels + ([NO_LABEL] if any(p is None for p in predicted) else [])
    index = {label: i for i, label in enumerate(columns)}
    confusion = [[0] * len(columns) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        confusion[index[g]][index[NO_LABEL if p is None else p]] += 1
    f1s = []
    for i in range(len(labels)):
        true_pos = confusion[i][i]
        gold_n, predicted_n = sum(confusion[i]), sum(row[i] for row in confusion)
        if gold_n or predicted_n:
            f1s.append(2 * true_pos / (gold_n + predicted_n))
    correct = sum(confusion[i][i] for i in range(len(labels)))
    return BatchMetrics(
        accuracy=correct / len(gold) if gold else 0.0,
        macro_f1=sum(f1s) / len(f1s) if f1s else 0.0,
        labels=labels,
        columns=columns,
        confusion=confusion,
    )


@dataclass
class ModelEvaluation:
    model_id: str
    predictions: list[Prediction] = field(default_factory=list)
    metrics: BatchMetrics | None = None
    error: str = ""  # why there are no metrics: a failure, or a fixed label set that differs from ours
    failure: Failure | None = None  # the failure that stopped this model, when one did
    notes: list[str] = field(default_factory=list)
    load_s: float = 0.0
    wall_s: float = 0.0  # the whole set, model load excluded
    cost: Any = None  # a pricing.Cost for the whole pass, set by the session
    share: Share | None = None  # what a local model's pass used of this process: its energy

    @property
    def mean_latency_s(self) -> float | None:
        return sum(p.latency_s for p in self.predictions) / len(self.predictions) if self.predictions else None

    def total_tokens(self, kind: str) -> int | None:
        counts = [getattr(p, f"{kind}_tokens") for p in self.predictions]
        return sum(counts) if counts and None not in counts else None

    def call_metrics(self) -> CallMetrics:
        """The whole evaluation as one call: what history records and pricing charges for it."""
        return CallMetrics(
            ttft_s=None,
            total_s=self.wall_s + self.load_s,
            input_tokens=self.total_tokens("input"),
            output_tokens=self.total_tokens("output"),
            load_s=self.load_s,
            cold=self.load_s > 0,
        )


Progress = Callable[[str, int, int], None]  # (model id, texts done, texts in all)


def _prediction(result: Result) -> Prediction:
    m = result.metrics
    truncated = bool(result.extra.get("truncated_from"))
    return Prediction(result.label, result.scores, m.total_s or 0.0, m.input_tokens, m.output_tokens, truncated)


@dataclass(frozen=True)
class _Pass:
    """One model's pass over the set: how to reach it, and how long each call may take."""

    catalog: Catalog
    model_id: str
    credentials: Credentials
    timeout_s: float

    def finals(self, request: Request) -> list[Result | Failure]:
        return finals_of(self.catalog, self.model_id, request, self.credentials, self.timeout_s)


def _local_batches(run: _Pass, size: int, data: LabelledSet, labels, progress: Progress) -> Iterable[Result | Failure]:
    """Chunks of ``size`` texts, each one forward pass; a batch's final event carries one Result per text."""
    for start in range(0, len(data.texts), size):
        chunk = tuple(data.texts[start : start + size])
        yield from run.finals(BatchRequest("classify", labels=labels, texts=chunk))
        progress(run.model_id, min(start + size, len(data.texts)), len(data.texts))


def _api_calls(run: _Pass, data: LabelledSet, labels, progress: Progress) -> Iterable[Result | Failure]:
    """One call per text, a few at a time; results come back in the order of the texts."""

    def one(text: str) -> Result | Failure:
        return run.finals(Request("classify", prompt=text, labels=labels))[-1]

    finals: list = [None] * len(data.texts)
    with ThreadPoolExecutor(API_CONCURRENCY) as pool:
        futures = {pool.submit(one, text): i for i, text in enumerate(data.texts)}
        for done, future in enumerate(as_completed(futures), 1):
            finals[futures[future]] = future.result()
            progress(run.model_id, done, len(data.texts))
            if isinstance(finals[futures[future]], Failure):  # the first failure stops this model
                for pending in futures:
                    pending.cancel()
                break
    return [f for f in finals if f is not None]


def evaluate(
    catalog: Catalog,
    model_ids: list[str],
    data: LabelledSet,
    labels: Iterable[str],
    credentials: Credentials | None = None,
    progress: Progress = lambda *_: None,
    timeout_s: float = DEFAULT_MODEL_TIMEOUT_S,
) -> dict[str, ModelEvaluation]:
    """Run each model over the labelled set, one model after another, and score it.

    Local classifiers take their texts in batches (one forward pass each); API models get one call per text.
    ``progress`` is called on this thread, so a page may update its progress bar from it.
    """
    labels = check_labels(labels)
    credentials = credentials or Credentials()
    evaluations = {}
    for model_id in dict.fromkeys(model_ids):
        evaluations[model_id] = ev = ModelEvaluation(model_id)
        spec = catalog.get(model_id)
        backend = backend_for(catalog, spec, "classify")
        if backend is None:
            ev.error = _("{name} cannot classify.").format(name=spec.name)
            continue
        run = _Pass(catalog, model_id, credentials, timeout_s)
        passes = (
            _local_batches(run, backend.batch_size, data, labels, progress)
            if backend.batch_size
            else _api_calls(run, data, labels, progress)
        )
        started, pass_key = time.perf_counter(), LEDGER.open() if spec.is_local else None
        try:
            _score_pass(ev, spec, passes)
        finally:
            ev.share = LEDGER.close(pass_key)  # one model at a time: the pass has the process to itself
        ev.wall_s = time.perf_counter() - started - ev.load_s
        if ev.error:
            ev.predictions.clear()
            continue
        if truncated := sum(p.truncated for p in ev.predictions):
            ev.notes.append(_("{n} text(s) were cut to fit the model's input limit.").format(n=truncated))
        ev.metrics = batch_metrics(data.gold, [p.label for p in ev.predictions], labels)
        ev.notes.append(_("{n} texts in {s} s.").format(n=len(data.texts), s=f"{ev.wall_s:.1f}"))
    return evaluations


def _score_pass(ev: ModelEvaluation, spec, passes: Iterable[Result | Failure]) -> None:
    """Collect one model's predictions until its pass ends, fails, or turns out to use labels of its own."""
    for final in passes:
        if isinstance(final, Failure):
            ev.error = final.message + (f" {final.hint}" if final.hint else "")
            ev.failure = final
            return
        ev.predictions.append(_prediction(final))
        ev.load_s = max(ev.load_s, final.metrics.load_s)  # every result of the first batch carries it
        if own := final.extra.get("own_labels"):
            ev.error = _("{name} has its own fixed labels ({labels}), not this label set: it is not scored.").format(
                name=spec.name, labels=", ".join(own)
            )
            return


def prediction_rows(data: LabelledSet, evaluations: dict[str, ModelEvaluation]) -> list[dict]:
    """One row per text, with each scored model's label, its probability (blank when unknown) and whether it
    was right: what the page offers as a CSV download."""
    scored = {model_id: ev for model_id, ev in evaluations.items() if ev.metrics is not None}
    rows = []
    for i, (text, gold) in enumerate(zip(data.texts, data.gold)):
        row: dict = {"text": text, "label": gold}
        for model_id, ev in scored.items():
            p = ev.predictions[i]
            row[f"{model_id} label"] = p.label or NO_LABEL
            row[f"{model_id} probability"] = round(p.scores[p.label], 4) if p.scores and p.label else None
            row[f"{model_id} correct"] = p.label == gold
        rows.append(row)
    return rows
