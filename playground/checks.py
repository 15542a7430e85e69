"""Checks on one answer of a prompt set: each says passed, failed or "not judged", with a detail a reader can follow.

Kinds (as written in a set file): ``contains``, ``not_contains``, ``regex``, ``equals``, ``json`` (``true``: a JSON
value somewhere in the answer, e.g. in a code fence; ``strict``: the whole answer), ``length`` (``{min, max}``
characters), ``latency`` (most seconds), ``cost`` (most USD), ``similar`` (least cosine similarity to the reference
in all-MiniLM-L6-v2's space) and ``judge`` (``{model, rubric}``: any catalog model grades the answer and gives a
reason). A check that cannot decide (no reference, an unpriced call, a judge that failed or gave no verdict) is
"not judged", never "passed".
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from playground.errors import InputError
from playground.i18n import _

KINDS = ("contains", "not_contains", "regex", "equals", "json", "length", "latency", "cost", "similar", "judge")
MAX_PATTERN_CHARS = 500
JUDGE_MAX_TOKENS = 60


@dataclass(frozen=True)
class Check:
    kind: str
    value: Any  # a string, a number, {"min", "max"}, True/"strict", or {"model", "rubric"}

    def describe(self) -> str:
        """Short, for a column title or a tooltip."""
        v = self.value
        return {
            "contains": lambda: _("contains “{text}”").format(text=v),
            "not_contains": lambda: _("does not contain “{text}”").format(text=v),
            "regex": lambda: _("matches /{pattern}/").format(pattern=v),
            "equals": lambda: _("equals “{text}”").format(text=v),
            "json": lambda: _("is JSON") if v == "strict" else _("holds JSON"),
            "length": lambda: _("{low} to {high} characters").format(low=v.get("min", 0), high=v.get("max", "∞")),
            "latency": lambda: _("at most {s} s").format(s=v),
            "cost": lambda: _("at most ${usd}").format(usd=v),
            "similar": lambda: _("similar to the reference (≥ {score})").format(score=v),
            "judge": lambda: _("judged by {model}").format(model=v["model"]),
        }[self.kind]()

    def as_data(self) -> dict:
        return {self.kind: self.value}


@dataclass
class CheckResult:
    kind: str
    label: str  # Check.describe(), in the language of the run
    passed: bool | None  # None: not judged
    detail: str = ""

    def as_data(self) -> dict:
        return {"kind": self.kind, "label": self.label, "passed": self.passed, "detail": self.detail}


@dataclass
class Answer:
    """What the checks look at: the answer and how it was produced."""

    text: str
    latency_s: float | None  # the model's own time: wait in line and model load left out
    cost_usd: float | None


# ---------------------------------------------------------------- reading checks from a set file


def _number(kind: str, value: Any, where: str, low: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < low:
        raise InputError(
            _("{where}: the “{kind}” check needs a number of at least {low}, not “{value}”.").format(
                where=where, kind=kind, low=low, value=value
            )
        )
    return number


def parse_check(kind: str, value: Any, where: str, judges: Callable[[str], bool] = lambda _m: True) -> Check:
    """One check from a set file, or an InputError that names the row (``where``) and says what is wrong.

    ``judges(model_id)`` says whether a model id may judge (is in the catalog and generates)."""
    kind = str(kind).strip().lower().replace("-", "_").replace(" ", "_")
    if kind not in KINDS:
        raise InputError(
            _("{where}: there is no check called “{kind}”.").format(where=where, kind=kind),
            _("Checks are: {kinds}.").format(kinds=", ".join(KINDS)),
        )
    if kind in ("contains", "not_contains", "equals", "regex"):
        return Check(kind, _text_value(kind, value, where))
    if kind in ("latency", "cost"):
        return Check(kind, _number(kind, value, where))
    parse = {"json": _json_value, "length": _length_value, "similar": _similar_value}.get(kind)
    return Check(kind, parse(kind, value, where) if parse else _judge_value(value, where, judges))


def _text_value(kind: str, value: Any, where: str) -> str:
    text = "" if value is None else str(value)
    if not text.strip():
        raise InputError(_("{where}: the “{kind}” check is empty.").format(where=where, kind=kind))
    if kind != "regex":
        return text
    if len(text) > MAX_PATTERN_CHARS:
        raise InputError(
            _("{where}: the pattern is longer than {most} characters.").format(where=where, most=MAX_PATTERN_CHARS)
        )
    try:
        re.compile(text)
    except re.error as exc:
        raise InputError(
            _("{where}: the pattern /{pattern}/ is not a valid regular expression: {error}.").format(
                where=where, pattern=text, error=exc
            ),
            _("Python's regular expressions: escape special characters such as ( [ . * with a backslash."),
        ) from None
    return text


def _json_value(kind: str, value: Any, where: str) -> str | bool:
    strict = str(value).strip().lower() == "strict"
    if not strict and value not in (True, "true", "True", "yes", 1, "1"):
        raise InputError(
            _("{where}: the “json” check is “true” or “strict”, not “{value}”.").format(where=where, value=value)
        )
    return "strict" if strict else True


def _length_value(kind: str, value: Any, where: str) -> dict:
    bounds = value if isinstance(value, dict) else {"max": value}
    if set(bounds) - {"min", "max"} or not bounds:
        raise InputError(_("{where}: the “length” check takes min and max (characters).").format(where=where))
    bounds = {k: int(_number(kind, v, where)) for k, v in bounds.items()}
    if bounds.get("min", 0) > bounds.get("max", math.inf):
        raise InputError(_("{where}: the length's min is above its max.").format(where=where))
    return bounds


def _similar_value(kind: str, value: Any, where: str) -> float:
    score = _number(kind, value, where, low=-1.0)
    if score > 1:
        raise InputError(_("{where}: a similarity is at most 1, not {value}.").format(where=where, value=value))
    return score


def _judge_value(value: Any, where: str, judges: Callable[[str], bool]) -> dict:
    spec = value if isinstance(value, dict) else {"model": value}
    model = str(spec.get("model") or "").strip()
    if not model or not judges(model):
        raise InputError(
            _("{where}: the judge “{model}” is not a generating model of the catalog.").format(where=where, model=model)
        )
    rubric = str(spec.get("rubric") or "").strip() or "The answer is correct, clear and follows the instructions."
    return {"model": model, "rubric": rubric}


# ---------------------------------------------------------------- checking an answer


def find_json(text: str, strict: bool) -> tuple[bool, str]:
    """Whether the answer is (strict) or holds JSON: the whole text, a fenced code block, or the first object."""
    candidates = [text.strip()]
    if not strict:
        candidates += re.findall(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    for candidate in candidates:
        try:
            json.loads(candidate)
            return True, _("valid JSON") if candidate == text.strip() else _("valid JSON inside the answer")
        except ValueError:
            continue
    if not strict:
        decoder = json.JSONDecoder()
        for match in re.finditer(r"[\[{]", text):
            try:
                decoder.raw_decode(text[match.start() :])
                return True, _("valid JSON inside the answer")
            except ValueError:
                continue
    return False, _("no valid JSON found")


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def check_text(check: Check, answer: Answer, reference: str) -> CheckResult:
    """Every kind but the similarity and the judge, which need a model (see ``run_checks``)."""
    text, v = answer.text, check.value
    label = check.describe()

    def result(passed: bool | None, detail: str = "") -> CheckResult:
        return CheckResult(check.kind, label, passed, detail)

    if check.kind == "contains":
        return result(_fold(v) in _fold(text))
    if check.kind == "not_contains":
        return result(_fold(v) not in _fold(text))
    if check.kind == "equals":
        return result(_fold(text).rstrip(".。!！") == _fold(v).rstrip(".。!！"))
    if check.kind == "regex":
        match = re.search(v, text)
        return result(match is not None, _("matched “{text}”").format(text=match.group(0)[:80]) if match else "")
    if check.kind == "json":
        return result(*find_json(text, v == "strict"))
    if check.kind == "length":
        n = len(text.strip())
        return result(v.get("min", 0) <= n <= v.get("max", math.inf), _("{n} characters").format(n=n))
    if check.kind == "latency":
        if answer.latency_s is None:
            return result(None, _("no time was measured"))
        return result(answer.latency_s <= v, _("{s:.2f} s").format(s=answer.latency_s))
    if check.kind == "cost":
        if answer.cost_usd is None:
            return result(None, _("unpriced"))
        return result(answer.cost_usd <= v, f"${answer.cost_usd:.6f}")
    raise ValueError(check.kind)


Similarity = Callable[[str, str], float]  # cosine of two texts
Judge = Callable[[Check, str, str, str], CheckResult]  # (check, prompt, answer, reference)


def run_checks(
    checks: tuple[Check, ...],
    prompt: str,
    answer: Answer,
    reference: str,
    similarity: Similarity | None,
    judge: Judge | None,
) -> list[CheckResult]:
    results = []
    for check in checks:
        if check.kind == "similar":
            if not reference.strip():
                results.append(CheckResult(check.kind, check.describe(), None, _("this row has no reference answer")))
                continue
            try:
                score = similarity(answer.text, reference)
            except Exception as exc:  # MiniLM missing or broken: say so, never pass
                results.append(CheckResult(check.kind, check.describe(), None, str(exc)))
                continue
            results.append(CheckResult(check.kind, check.describe(), score >= check.value, f"{score:.2f}"))
        elif check.kind == "judge":
            results.append(judge(check, prompt, answer.text, reference))
        else:
            results.append(check_text(check, answer, reference))
    return results


def verdict(results: list[CheckResult]) -> str:
    """ "pass" when every check passed, "fail" when one failed, else "not judged" (also for a row with no checks)."""
    if any(r.passed is False for r in results):
        return "fail"
    if results and all(r.passed for r in results):
        return "pass"
    return "not judged"


# ---------------------------------------------------------------- the LLM judge's prompt and its reply


def judge_prompt(rubric: str, prompt: str, answer: str, reference: str) -> str:
    """The judge's instruction, in English (model-facing; SmolLM2 follows English best)."""
    lines = ["You grade answers.", f"Question: {prompt}"]
    if reference.strip():
        lines.append(f"Reference answer: {reference}")
    lines += [
        f"Answer to grade: {answer}",
        f"Rubric: {rubric}",
        "",
        "Does the answer meet the rubric? Reply PASS or FAIL, then say why in one sentence.",
    ]
    return "\n".join(lines)


_FAIL = re.compile(r"\bFAIL(?:ED|S)?\b|\bdoes(?:n['’]t| not) meet\b|\bnot meet\b", re.IGNORECASE)
_PASS = re.compile(r"\bPASS(?:ED|ES)?\b|\bmeets\b", re.IGNORECASE)


def parse_verdict(reply: str) -> bool | None:
    """PASS/FAIL, or "meets"/"does not meet" the rubric; whichever comes first. None when the reply has neither."""
    fail, passed = _FAIL.search(reply), _PASS.search(reply)
    if fail and (not passed or fail.start() <= passed.start()):
        return False
    return True if passed else None
