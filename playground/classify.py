"""Text classification rules shared by every classifier: label sets, input checks, the prompt an LLM is asked, how
its answer and logprobs become a label and probabilities, agreement across models, and labelled sets.

This module sits below the backends (they import it); batch evaluation, which drives backends, is in evaluation.py.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from playground.errors import InputError
from playground.events import Request
from playground.i18n import N_, _

SAMPLES_DIR = Path(__file__).with_name("samples")
MAX_LABELS = 20  # an LLM scorer runs one sequence per label, and a bar chart of hundreds of labels says nothing
MAX_LABEL_CHARS = 60
MAX_BATCH_ROWS = 500  # a workshop server is shared: keep one evaluation to minutes
NO_LABEL = "(no label)"  # the confusion-matrix column for answers that named no label


@dataclass(frozen=True)
class LabelPreset:
    name: str
    labels: tuple[str, ...]
    hypothesis: str  # how zero-shot models phrase a label as a sentence; "{}" is the label
    sample: str  # the built-in labelled set that goes with it


PRESETS = {
    "sentiment": LabelPreset(
        N_("Sentiment"), ("positive", "negative"), "This text expresses a {} sentiment.", "sentiment.csv"
    ),
    "topic": LabelPreset(
        N_("AG-News topics"),
        ("World", "Sports", "Business", "Sci/Tech"),
        "This is a news article about {}.",
        "topics.csv",
    ),
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
        raise InputError(_("Give at least two labels: a classifier chooses between options."))
    if len(labels) > MAX_LABELS:
        raise InputError(_("{n} labels is too many: use at most {most}.").format(n=len(labels), most=MAX_LABELS))
    counts = Counter(label.casefold() for label in labels)
    if dupes := [label for label in labels if counts[label.casefold()] > 1]:
        raise InputError(
            _("Duplicate labels: {labels}. Each label must be different.").format(
                labels=", ".join(dict.fromkeys(dupes))
            )
        )
    if long := [label for label in labels if len(label) > MAX_LABEL_CHARS]:
        raise InputError(
            _("Labels must be at most {most} characters: '{label}...' is longer.").format(
                most=MAX_LABEL_CHARS, label=long[0][:40]
            )
        )
    return labels


def check_text(text: str) -> str:
    if not text or not text.strip():
        raise InputError(_("The text is empty: type or paste something to classify."))
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
    return [
        {
            "role": "user",
            "content": f"Classify this text as {options}.\n\nText: {text}\n\nAnswer with {answer}: {options}.",
        }
    ]


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
            _(
                "The file is not UTF-8 text (byte {byte} at position {position}). Save it as 'CSV UTF-8' and upload it "
                "again."
            ).format(byte=f"0x{data[exc.start]:02x}", position=exc.start)
        ) from None
    reader = csv.DictReader(io.StringIO(content))
    columns = {(name or "").strip().casefold(): name for name in reader.fieldnames or []}
    if missing := [c for c in ("text", "label") if c not in columns]:
        found = ", ".join(n for n in columns if n) or _("nothing")
        raise InputError(
            _("The CSV needs a header row with the columns text,label. Missing: {missing}; found: {found}.").format(
                missing=", ".join(missing), found=found
            )
        )
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
        raise InputError(
            _("The CSV is malformed at line {line}: {error}.").format(line=reader.line_num, error=exc)
        ) from None
    if empty:
        out.warnings.append(_("Skipped {n} row(s) with an empty text or label.").format(n=empty))
    if unknown:
        listed = ", ".join(f"'{label}' ({n})" for label, n in unknown.most_common(5))
        out.warnings.append(
            _("Skipped {n} row(s) whose label is not in the label set: {labels}.").format(
                n=sum(unknown.values()), labels=listed
            )
        )
    if not out.texts:
        raise InputError(
            _("No usable rows: each row needs a text and one of the labels {labels}.").format(labels=", ".join(labels))
        )
    if len(out.texts) > max_rows:
        out.warnings.append(_("Kept the first {kept} of {n} rows.").format(kept=max_rows, n=len(out.texts)))
        out.texts, out.gold = out.texts[:max_rows], out.gold[:max_rows]
    return out


def load_sample(preset: str) -> LabelledSet:
    """A built-in labelled set written for this project, matching a label preset."""
    chosen = PRESETS[preset]
    return read_labelled_csv((SAMPLES_DIR / chosen.sample).read_bytes(), chosen.labels)


# ---------------------------------------------------------------- what a local classifier takes in one pass


@dataclass(frozen=True)
class BatchRequest(Request):
    """Several texts for one forward pass of a local classifier; ``prompt`` is unused."""

    texts: tuple[str, ...] = ()
