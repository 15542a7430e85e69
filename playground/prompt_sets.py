"""Prompt sets: rows of prompt (+ optional system prompt, variables and reference answer) with checks on the answers.

A set comes built in (YAML files under ``samples/prompt_sets/``, written for this app in English and in Chinese) or
as an upload, CSV or YAML. Everything is validated before anything runs: a bad set raises one ``InputError`` that
names the row and says how to fix it, so an invalid set never reaches a model.

YAML::

    name: Facts
    rows:
      - prompt: What is the capital of {{country}}?
        vars: {country: France}
        reference: Paris
        checks: [{contains: Paris}, {length: {max: 200}}]

CSV: a header row with ``prompt`` (required) and any of ``id``, ``system``, ``reference``, one column per check kind
(``contains``, ``regex``, ``json``, ``latency``, ``similar``, ``min_chars``/``max_chars``, ``judge_model`` with
``judge_rubric``...) and ``var:<name>`` columns for variables.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from playground.checks import KINDS, Check, parse_check
from playground.errors import InputError
from playground.i18n import _

SETS_DIR = Path(__file__).with_name("samples") / "prompt_sets"
MAX_ROWS = 200  # prompts x models on a shared server: a set must finish in minutes
MAX_PROMPT_CHARS = 8_000
MAX_UPLOAD_BYTES = 2_000_000
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][\w-]*)\s*\}\}")  # {{name}}: plain braces stay free for JSON in prompts
CSV_COLUMNS = ("id", "prompt", "system", "reference")
CSV_CHECK_COLUMNS = (*(k for k in KINDS if k not in ("length", "judge")), "min_chars", "max_chars")
CSV_JUDGE_COLUMNS = ("judge_model", "judge_rubric")


@dataclass(frozen=True)
class PromptRow:
    id: str
    prompt: str  # as written, with {{variables}}
    system: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    reference: str = ""
    checks: tuple[Check, ...] = ()

    @property
    def text(self) -> str:
        """The prompt the models get: variables filled in."""
        return _VARIABLE.sub(lambda m: self.variables[m.group(1)], self.prompt)

    def as_data(self) -> dict:
        return {
            "id": self.id,
            "prompt": self.prompt,
            "system": self.system,
            "vars": dict(self.variables),
            "reference": self.reference,
            "checks": [c.as_data() for c in self.checks],
        }


@dataclass(frozen=True)
class PromptSet:
    name: str
    rows: tuple[PromptRow, ...]
    description: str = ""

    def as_data(self) -> dict:
        """Plain data (what the store keeps, and what ``from_data`` reads back)."""
        return {"name": self.name, "description": self.description, "rows": [r.as_data() for r in self.rows]}


def from_data(data: Any, judges: Callable[[str], bool] = lambda _m: True) -> PromptSet:
    """A validated set from parsed YAML/JSON, or an InputError naming the first problem."""
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise InputError(
            _("A prompt set is a mapping with a “rows” list."),
            _("See the built-in sets under playground/samples/prompt_sets/ for the shape."),
        )
    rows = data["rows"]
    _check_size(len(rows))
    parsed, seen = [], set()
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise InputError(_("Row {n}: a row is a mapping with at least a “prompt”.").format(n=i))
        parsed.append(_row(row, i, judges))
        if parsed[-1].id in seen:
            raise InputError(_("Row {n}: the id “{id}” is used twice.").format(n=i, id=parsed[-1].id))
        seen.add(parsed[-1].id)
    name = str(data.get("name") or "").strip() or _("Uploaded set")
    return PromptSet(name, tuple(parsed), str(data.get("description") or "").strip())


def _check_size(n: int) -> None:
    if n == 0:
        raise InputError(_("The set has no rows: add at least one prompt."))
    if n > MAX_ROWS:
        raise InputError(
            _("The set has {n} rows; the most is {most}.").format(n=n, most=MAX_ROWS),
            _("Split it into smaller sets: every row runs on every model you pick."),
        )


def _row(row: dict, n: int, judges: Callable[[str], bool]) -> PromptRow:
    where = _("Row {n}").format(n=n)
    prompt = str(row.get("prompt") or "")
    if not prompt.strip():
        raise InputError(_("{where}: the prompt is empty.").format(where=where))
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(
            _("{where}: the prompt is longer than {most} characters.").format(where=where, most=MAX_PROMPT_CHARS)
        )
    variables = row.get("vars") or {}
    if not isinstance(variables, dict):
        raise InputError(_("{where}: “vars” is a mapping of name: value.").format(where=where))
    variables = {str(k): "" if v is None else str(v) for k, v in variables.items()}
    if missing := sorted({m.group(1) for m in _VARIABLE.finditer(prompt)} - set(variables)):
        raise InputError(
            _("{where}: the prompt uses {{{{{name}}}}} but the row gives it no value.").format(
                where=where, name=missing[0]
            )
        )
    checks = row.get("checks") or []
    if isinstance(checks, dict):
        checks = [{k: v} for k, v in checks.items()]
    if not isinstance(checks, list) or not all(isinstance(c, dict) and len(c) == 1 for c in checks):
        raise InputError(
            _("{where}: “checks” is a list of one-entry mappings, e.g. - contains: Paris").format(where=where)
        )
    return PromptRow(
        id=str(row.get("id") or n).strip(),
        prompt=prompt,
        system=str(row.get("system") or ""),
        variables=variables,
        reference=str(row.get("reference") or ""),
        checks=tuple(parse_check(kind, value, where, judges) for c in checks for kind, value in c.items()),
    )


# ---------------------------------------------------------------- uploads


def read_upload(filename: str, content: bytes, judges: Callable[[str], bool] = lambda _m: True) -> PromptSet:
    """A CSV or YAML upload as a validated set; every problem is an InputError and nothing runs."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise InputError(
            _("The file is larger than {mb} MB.").format(mb=MAX_UPLOAD_BYTES // 1_000_000),
            _("A prompt set holds at most {most} rows.").format(most=MAX_ROWS),
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            _("The file is not UTF-8 text (byte {at} cannot be read).").format(at=exc.start),
            _("Save it as UTF-8 (in Excel: “CSV UTF-8”)."),
        ) from None
    suffix = Path(filename).suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(_("The YAML file cannot be read: {error}").format(error=exc)) from None
        return from_data(data, judges)
    if suffix == ".csv":
        return _from_csv(text, Path(filename).stem, judges)
    raise InputError(_("Upload a .csv, .yaml or .yml file, not {suffix}.").format(suffix=suffix or filename))


def _from_csv(text: str, name: str, judges: Callable[[str], bool]) -> PromptSet:
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "prompt" not in columns:
        raise InputError(
            _("The CSV has no “prompt” column (its columns: {columns}).").format(
                columns=", ".join(columns) or _("none")
            ),
            _("The first row names the columns: prompt, then any of reference, system, contains, regex, json..."),
        )
    known = {*CSV_COLUMNS, *CSV_CHECK_COLUMNS, *CSV_JUDGE_COLUMNS}
    if unknown := [c for c in columns if c not in known and not c.startswith("var:")]:
        raise InputError(
            _("The CSV has a column this app does not know: “{column}”.").format(column=unknown[0]),
            _("Columns: {columns}, and var:<name> for variables.").format(columns=", ".join(sorted(known))),
        )
    records = [{(k or "").strip(): (v or "").strip() for k, v in r.items() if k is not None} for r in reader]
    records = [r for r in records if any(r.values())]
    _check_size(len(records))  # before any row is read: a 10,000-row file is refused as a whole
    return from_data({"name": name, "rows": [_csv_row(r) for r in records]}, judges)


def _csv_row(record: dict[str, str]) -> dict:
    checks: list[dict] = [{k: record[k]} for k in CSV_CHECK_COLUMNS if record.get(k) and k in KINDS]
    bounds = {b: record[f"{b}_chars"] for b in ("min", "max") if record.get(f"{b}_chars")}
    if bounds:
        checks.append({"length": bounds})
    if record.get("judge_model"):
        checks.append({"judge": {"model": record["judge_model"], "rubric": record.get("judge_rubric", "")}})
    return {
        **{k: record.get(k, "") for k in CSV_COLUMNS},
        "vars": {k[4:]: v for k, v in record.items() if k.startswith("var:")},
        "checks": checks,
    }


# ---------------------------------------------------------------- built-in sets


def built_in_sets() -> dict[str, str]:
    """Key (file stem, e.g. "facts-en") -> the set's name, in file order."""
    return {path.stem: yaml.safe_load(path.read_text("utf-8"))["name"] for path in sorted(SETS_DIR.glob("*.yaml"))}


def load_built_in(key: str) -> PromptSet:
    path = SETS_DIR / f"{key}.yaml"
    if path.parent != SETS_DIR or not path.exists():
        raise InputError(_("There is no built-in prompt set “{key}”.").format(key=key))
    return from_data(yaml.safe_load(path.read_text("utf-8")))
