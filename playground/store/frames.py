"""Readings of the runs DataFrame that pages and exports share."""

from __future__ import annotations


def to_csv(frame) -> str:
    return frame.drop(columns=["ts"]).to_csv(index=False)


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
