"""Reading a prompt-set run from the store: the matrix, pass rates per model, filters, exports and the diff.

Pure functions over the store's rows (``Store.prompt_set_run`` and ``Store.prompt_set_cells``), so the page, the
exports and the tests read a run the same way. A person's pass/fail overrides the checks' verdict everywhere.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

CSV_INJECTION_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula


def verdict_of(cell: dict) -> str:
    """pass, fail, not judged or error: a person's verdict first, then the checks'."""
    return cell.get("manual_verdict") or cell["verdict"]


def cells_by_key(cells: list[dict]) -> dict[tuple[int, str], dict]:
    return {(c["row_index"], c["model_id"]): c for c in cells}


def failing_rows(cells: list[dict]) -> set[int]:
    """Rows where some model's answer failed or erred."""
    return {c["row_index"] for c in cells if verdict_of(c) in ("fail", "error")}


def disagreeing_rows(cells: list[dict]) -> set[int]:
    """Rows where the models that were judged do not all agree on pass or fail."""
    seen: dict[int, set[bool]] = {}
    for c in cells:
        if (v := verdict_of(c)) in ("pass", "fail", "error"):
            seen.setdefault(c["row_index"], set()).add(v == "pass")
    return {row for row, verdicts in seen.items() if len(verdicts) > 1}


@dataclass
class ModelScore:
    model_id: str
    cells: int
    passed: int
    failed: int  # failed checks or errors
    not_judged: int
    mean_latency_s: float | None
    cost_usd: float | None  # None when some cell was unpriced

    @property
    def pass_rate(self) -> float | None:
        """Passed over every answered cell (a "not judged" cell counts as not passed)."""
        return self.passed / self.cells if self.cells else None


def scores(run: dict, cells: list[dict]) -> list[ModelScore]:
    """One per model, in the run's column order."""
    out = []
    for model_id in run["models"]:
        own = [c for c in cells if c["model_id"] == model_id]
        verdicts = [verdict_of(c) for c in own]
        latencies = [c["latency_s"] for c in own if c["latency_s"] is not None]
        costs = [c["cost_usd"] for c in own]
        out.append(
            ModelScore(
                model_id,
                len(own),
                verdicts.count("pass"),
                verdicts.count("fail") + verdicts.count("error"),
                verdicts.count("not judged"),
                sum(latencies) / len(latencies) if latencies else None,
                sum(costs) if own and None not in costs else None,
            )
        )
    return out


def export_rows(run: dict, cells: list[dict]) -> list[dict]:
    """One flat row per cell, in row then model order: what CSV and JSON exports hold."""
    rows = run["prompt_set"]["rows"]
    out = []
    for c in sorted(cells, key=lambda c: (c["row_index"], run["models"].index(c["model_id"]))):
        row = rows[c["row_index"]]
        out.append(
            {
                "row": row["id"],
                "prompt": row["prompt"],
                "reference": row["reference"],
                "model": c["model_id"],
                "answer": c["answer"],
                "error": c["error"],
                "verdict": verdict_of(c),
                "checks_verdict": c["verdict"],
                "manual_verdict": c["manual_verdict"],
                "comment": c["comment"],
                "checks": "; ".join(
                    f"{k['label']}: {'pass' if k['passed'] else 'fail' if k['passed'] is False else 'not judged'}"
                    + (f" ({k['detail']})" if k["detail"] else "")
                    for k in c["checks"]
                ),
                "latency_s": c["latency_s"],
                "tokens_in": c["tokens_in"],
                "tokens_out": c["tokens_out"],
                "cost_usd": c["cost_usd"],
            }
        )
    return out


def csv_safe(value):
    """A text cell that a spreadsheet would read as a formula gets a leading quote; other values pass through."""
    if isinstance(value, str) and value.startswith(CSV_INJECTION_STARTS):
        return "'" + value
    return value


def to_csv(run: dict, cells: list[dict]) -> str:
    rows = export_rows(run, cells)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["row"])
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_safe(v) for k, v in row.items()})
    return buffer.getvalue()


def to_json(run: dict, cells: list[dict]) -> str:
    head = {k: run[k] for k in ("id", "set_name", "models", "params", "status", "rerun_of", "created_at")}
    return json.dumps({"run": head, "cells": export_rows(run, cells)}, ensure_ascii=False, indent=1)


@dataclass
class Change:
    row_id: str
    model_id: str
    before: str | None  # None: the earlier run has no such cell
    after: str | None

    @property
    def kind(self) -> str:
        if self.before == self.after:
            return "same"
        if self.after == "pass":
            return "fixed"
        if self.before == "pass":
            return "broken"
        return "changed"


def diff(earlier: tuple[dict, list[dict]], later: tuple[dict, list[dict]]) -> list[Change]:
    """Each (row, model) of the later run against the earlier run's cell for the same row id and model."""
    (run_a, cells_a), (run_b, cells_b) = earlier, later
    ids_a = [r["id"] for r in run_a["prompt_set"]["rows"]]
    ids_b = [r["id"] for r in run_b["prompt_set"]["rows"]]
    before = {(ids_a[c["row_index"]], c["model_id"]): verdict_of(c) for c in cells_a}
    changes = []
    for c in sorted(cells_b, key=lambda c: (c["row_index"], c["model_id"])):
        key = (ids_b[c["row_index"]], c["model_id"])
        changes.append(Change(key[0], key[1], before.get(key), verdict_of(c)))
    return changes
