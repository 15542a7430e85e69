"""Text classification shared by every classifier: label sets, input checks, the prompt an LLM is asked, how its
answer and logprobs become a label and probabilities, agreement across models, and batch evaluation on a labelled set.
"""

from __future__ import annotations

import csv
import io
import math
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from playground.backends.base import Credentials, Failure, Request, Result
from playground.backends.registry import backend_for
from playground.catalog import Catalog
from playground.i18n import N_, _

SAMPLES_DIR = Path(__file__).with_name("samples")
MAX_LABELS = 20  # an LLM scorer runs one sequence per label, and a bar chart of hundreds of labels says nothing
MAX_LABEL_CHARS = 60
MAX_BATCH_ROWS = 500  # a workshop server is shared: keep one evaluation to minutes
API_CONCURRENCY = 4  # parallel calls per API model in batch evaluation
NO_LABEL = "(no label)"  # the confusion-matrix column for answers that named no label


from playground.errors import InputError  # noqa: E402


@dataclass(frozen=True)
class LabelPreset:
    name: str
    labels: tuple[str, ...]
    hypothesis: str  # how zero-shot models phrase a label as a sentence; "{}" is the label
    sample: str  # the built-in labelled set that goes with it


PRESETS = {
    "sentiment": LabelPreset(N_("Sentiment"), ("positive", "negative"), "This text expresses a {} sentiment.", "sentiment.csv"),
    "topic": LabelPreset(N_("AG-News topics"), ("World", "Sports", "Business", "Sci/Tech"), "This is a news article about {}.", "topics.csv"),
}
GENERIC_HYPOTHESIS = "This text is about {}."


def same_labels(a: Iterable[str], b: Iterable[str]) -> bool:
    return sorted(x.casefold() for x in a) == sorted(x.casefold() for x in b)


def hypothesis_template(labels: Iterable[str]) -> str:
    """The preset's sentence when the labels are a preset's, a neutral one for custom labels."""
    labels = list(labels)
    return next((p.hypothesis for p in PRESETS.values() if same_labels(p.labels, labels)), GENERIC_HYPOTHESIS)


def parse_labels(text: str) -> list[str]:
    """Labels typed in one box, separated by commas or new lines."""
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


def check_labels(labels: Iterable[str]) -> tuple[str, ...]:
    labels = tuple(label.strip() for label in labels if label and label.strip())
    if len(labels) < 2:
        raise InputError("Give at least two labels: a classifier chooses between options.")
    if len(labels) > MAX_LABELS:
        raise InputError(f"{len(labels)} labels is too many: use at most {MAX_LABELS}.")
    counts = Counter(label.casefold() for label in labels)
    if dupes := [label for label in labels if counts[label.casefold()] > 1]:
        raise InputError(f"Duplicate labels: {', '.join(dict.fromkeys(dupes))}. Each label must be different.")
    if long := [label for label in labels if len(label) > MAX_LABEL_CHARS]:
        raise InputError(f"Labels must be at most {MAX_LABEL_CHARS} characters: '{long[0][:40]}...' is longer.")
    return labels


def check_text(text: str) -> str:
    if not text or not text.strip():
        raise InputError("The text is empty: type or paste something to classify.")
    return text.strip()


def check_request(request: Request) -> tuple[str, ...]:
    """Raise InputError for an empty text or a bad label set; return the cleaned labels."""
    check_text(request.prompt)
    return check_labels(request.labels)


# ---------------------------------------------------------------- LLM as classifier


def classification_messages(text: str, labels: Iterable[str]) -> list[dict]:
    """The prompt every API model gets. Even SmolLM2-135M answers it with a bare label most of the time."""
    labels = list(labels)
    options = f"{', '.join(labels[:-1])} or {labels[-1]}"
    answer = "one word" if not any(" " in label for label in labels) else "the label only"
    return [{"role": "user", "content": f"Classify this text as {options}.\n\nText: {text}\n\nAnswer with {answer}: {options}."}]


def _norm(text: str) -> str:
    return re.sub(r"[^\w/]+", " ", text.casefold()).strip()


def parse_label(answer: str, labels: Iterable[str]) -> str | None:
    """The one label the answer names, or None when it names none or several."""
    labels, said = list(labels), _norm(answer)
    if exact := [label for label in labels if _norm(label) == said]:
        return exact[0]
    named = [label for label in labels if re.search(rf"(?<![\w/]){re.escape(_norm(label))}(?![\w/])", said)]
    return named[0] if len(named) == 1 else None


def label_probabilities(logprobs: list, labels: Iterable[str]) -> dict[str, float] | None:
    """Label probabilities from the first answer token and its top alternatives, or None when unknown.

    Each alternative's probability goes to the one label it begins; the result is renormalised over the labels.
    None when the endpoint sent no logprobs, or when the first token does not point at exactly one label.
    """
    labels = list(labels)
    first = next((item for item in logprobs if _norm(item.token)), None)
    if first is None:
        return None

    def owner(token: str) -> str | None:
        start = _norm(token)
        matches = [label for label in labels if start and _norm(label).startswith(start)]
        return matches[0] if len(matches) == 1 else None

    if owner(first.token) is None:
        return None
    mass = dict.fromkeys(labels, 0.0)
    alternatives = {first.token: first.logprob} | {alt.token: alt.logprob for alt in first.top_logprobs or []}
    for token, logprob in alternatives.items():
        if (label := owner(token)) is not None:
            mass[label] += math.exp(logprob)
    total = sum(mass.values())
    return {label: value / total for label, value in mass.items()}


# ---------------------------------------------------------------- across models


def agreement(labels_by_name: dict[str, str | None]) -> str:
    """One line: all agree, or who said what. Models that gave no label are named apart."""
    said = {name: label for name, label in labels_by_name.items() if label is not None}
    silent = [name for name, label in labels_by_name.items() if label is None]
    tail = " " + _("No label from {models}.").format(models=", ".join(silent)) if silent else ""
    if len(said) < 2:
        return _("Only {n} model gave a label: nothing to compare.").format(n=len(said)) + tail
    groups: dict[str, list[str]] = {}
    for name, label in said.items():
        groups.setdefault(label, []).append(name)
    if len(groups) == 1:
        return _("All {n} models agree: {label}.").format(n=len(said), label=next(iter(groups))) + tail
    parts = [f"{label} ({', '.join(names)})" for label, names in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
    return _("The models disagree: {answers}.").format(answers=" · ".join(parts)) + tail


# ---------------------------------------------------------------- labelled sets


@dataclass
class LabelledSet:
    texts: list[str]
    gold: list[str]
    warnings: list[str] = field(default_factory=list)


def read_labelled_csv(data: bytes, labels: Iterable[str], max_rows: int = MAX_BATCH_ROWS) -> LabelledSet:
    """Read a `text,label` CSV. Raises InputError for what cannot be used; skips and reports bad rows."""
    labels = check_labels(labels)
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}). "
            "Save it as 'CSV UTF-8' and upload it again."
        ) from None
    reader = csv.DictReader(io.StringIO(content))
    columns = {(name or "").strip().casefold(): name for name in reader.fieldnames or []}
    if missing := [c for c in ("text", "label") if c not in columns]:
        found = ", ".join(n for n in columns if n) or "nothing"
        raise InputError(f"The CSV needs a header row with the columns text,label. Missing: {', '.join(missing)}; found: {found}.")
    canonical = {label.casefold(): label for label in labels}
    out = LabelledSet([], [])
    empty, unknown = 0, Counter()
    try:
        for row in reader:
            text, label = (row.get(columns["text"]) or "").strip(), (row.get(columns["label"]) or "").strip()
            if not text or not label:
                empty += 1
            elif label.casefold() not in canonical:
                unknown[label] += 1
            else:
                out.texts.append(text)
                out.gold.append(canonical[label.casefold()])
    except csv.Error as exc:
        raise InputError(f"The CSV is malformed at line {reader.line_num}: {exc}.") from None
    if empty:
        out.warnings.append(f"Skipped {empty} row(s) with an empty text or label.")
    if unknown:
        listed = ", ".join(f"'{label}' ({n})" for label, n in unknown.most_common(5))
        out.warnings.append(f"Skipped {sum(unknown.values())} row(s) whose label is not in the label set: {listed}.")
    if not out.texts:
        raise InputError("No usable rows: each row needs a text and one of the labels " + ", ".join(labels) + ".")
    if len(out.texts) > max_rows:
        out.warnings.append(f"Kept the first {max_rows} of {len(out.texts)} rows.")
        out.texts, out.gold = out.texts[:max_rows], out.gold[:max_rows]
    return out


def load_sample(preset: str) -> LabelledSet:
    """A built-in labelled set written for this project, matching a label preset."""
    chosen = PRESETS[preset]
    return read_labelled_csv((SAMPLES_DIR / chosen.sample).read_bytes(), chosen.labels)


# ---------------------------------------------------------------- batch evaluation


@dataclass(frozen=True)
class BatchRequest(Request):
    """Several texts for one forward pass of a local classifier; ``prompt`` is unused."""

    texts: tuple[str, ...] = ()


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
    confusion = [[0] * len(columns) for _label in labels]
    for g, p in zip(gold, predicted, strict=True):
        confusion[index[g]][index[NO_LABEL if p is None else p]] += 1
    f1s = []
    for i, label in enumerate(labels):
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
    notes: list[str] = field(default_factory=list)
    load_s: float = 0.0

    @property
    def mean_latency_s(self) -> float | None:
        return sum(p.latency_s for p in self.predictions) / len(self.predictions) if self.predictions else None

    def total_tokens(self, kind: str) -> int | None:
        counts = [getattr(p, f"{kind}_tokens") for p in self.predictions]
        return sum(counts) if counts and None not in counts else None


Progress = Callable[[str, int, int], None]  # (model id, texts done, texts in all)


def _prediction(result: Result) -> Prediction:
    m = result.metrics
    truncated = bool(result.extra.get("truncated_from"))
    return Prediction(result.label, result.scores, m.total_s or 0.0, m.input_tokens, m.output_tokens, truncated)


def _local_batches(backend, spec, data: LabelledSet, labels, credentials, progress: Progress) -> Iterable[Result | Failure]:
    """Chunks of ``backend.batch_size`` texts, each one forward pass, with the model lock held per chunk."""
    size = backend.batch_size
    for start in range(0, len(data.texts), size):
        chunk = tuple(data.texts[start : start + size])
        for event in backend.execute(spec, BatchRequest("classify", labels=labels, texts=chunk), credentials):
            if isinstance(event, (Result, Failure)):
                yield event
        progress(spec.id, min(start + size, len(data.texts)), len(data.texts))


def _api_calls(backend, spec, data: LabelledSet, labels, credentials, progress: Progress) -> Iterable[Result | Failure]:
    """One call per text, a few at a time; results come back in the order of the texts."""

    def one(text: str) -> Result | Failure:
        events = backend.execute(spec, Request("classify", prompt=text, labels=labels), credentials)
        return [e for e in events if isinstance(e, (Result, Failure))][-1]

    finals: list = [None] * len(data.texts)
    with ThreadPoolExecutor(API_CONCURRENCY) as pool:
        futures = {pool.submit(one, text): i for i, text in enumerate(data.texts)}
        for done, future in enumerate(as_completed(futures), 1):
            finals[futures[future]] = future.result()
            progress(spec.id, done, len(data.texts))
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
            ev.error = f"{spec.name} cannot classify."
            continue
        run = _local_batches if hasattr(backend, "batch_size") else _api_calls
        started = time.perf_counter()
        for final in run(backend, spec, data, labels, credentials, progress):
            if isinstance(final, Failure):
                ev.error = final.message + (f" {final.hint}" if final.hint else "")
                break
            ev.predictions.append(_prediction(final))
            ev.load_s = max(ev.load_s, final.metrics.load_s)  # every result of the first batch carries it
            if own := final.extra.get("own_labels"):
                ev.error = f"{spec.name} has its own fixed labels ({', '.join(own)}), not this label set: it is not scored."
                break
        if ev.error:
            ev.predictions.clear()
            continue
        if truncated := sum(p.truncated for p in ev.predictions):
            ev.notes.append(f"{truncated} text(s) were cut to fit the model's input limit.")
        ev.metrics = batch_metrics(data.gold, [p.label for p in ev.predictions], labels)
        ev.notes.append(f"{len(data.texts)} texts in {time.perf_counter() - started - ev.load_s:.1f} s.")
    return evaluations


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
