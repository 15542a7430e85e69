"""Readings of the runs DataFrame that pages and exports share."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as a formula (OWASP CSV injection)


def safe_cell(value):
    """A text cell a spreadsheet opens as text: one that starts like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(frame) -> str:
    """``frame`` as CSV with every text cell escaped; numbers (negative ones too) stay numbers."""
    text_columns = frame.select_dtypes(include=["object", "string"]).columns
    escaped = frame.assign(**{str(c): frame[c].map(safe_cell) for c in text_columns})
    escaped.columns = [safe_cell(str(c)) for c in frame.columns]
    return escaped.to_csv(index=False)


def to_csv(frame) -> str:
    return safe_csv(frame.drop(columns=["ts"]))


def to_json(frame) -> str:
    return frame.drop(columns=["ts"]).to_json(orient="records", date_format="iso", indent=1, force_ascii=False)


def measured_speeds(frame):
    """Median TTFT and tokens/s per open model, from its successful warm runs: what a self-hosted box would do."""
    usable = frame[
        (frame["openness"] == "open") & frame["error"].isna() & ~frame["cold"] & frame["tokens_per_s"].notna()
    ]
    return (
        usable.groupby(["model_id", "model_name"], as_index=False)
        .agg(ttft_s=("ttft_s", "median"), tokens_per_s=("tokens_per_s", "median"), runs=("id", "count"))
        .sort_values("model_name", ignore_index=True)
    )


def json_rows(frame) -> list[dict]:
    """The rows as plain dicts, NaN as None, ready for ``json.dumps``."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")
