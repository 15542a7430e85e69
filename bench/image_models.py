"""The embedded image models on the six sample photos, measured in one run (run with `make bench`).

1. The pipeline's own overhead: its wall time per photo against the sum of its three stages' times.
2. Absolute figures: each model's cold load, then its median seconds per photo (warm, one model at a time).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import replace

from bench import throwaway_playground
from playground import SAMPLE_PHOTOS, GenParams, Request, Result, load_catalog, sample_photo

MODELS = ["efficientnet-lite0", "rapidocr", "image-pipeline"]


def main() -> None:
    catalog = load_catalog()
    playground = throwaway_playground(catalog)
    request = Request("caption", params=GenParams(temperature=0.0, max_new_tokens=32))
    loads, seconds, overheads = {}, {m: [] for m in MODELS}, []
    for model_id in MODELS:
        for photo in SAMPLE_PHOTOS:
            final = playground.run_one(
                model_id, replace(request, image=sample_photo(photo), arrived=time.perf_counter())
            )
            assert isinstance(final, Result), final
            if final.metrics.cold:
                loads[model_id] = final.metrics.load_s
                continue  # the cold call is reported as a load, not as a latency
            seconds[model_id].append(final.metrics.total_s)
            if model_id == "image-pipeline":
                overheads.append(final.metrics.total_s / sum(s["seconds"] for s in final.extra["stages"]))
    print(f"pipeline wall / sum of its stages (per photo, median): {statistics.median(overheads):.3f} (goal <= 1.05)")
    for model_id in MODELS:
        name = catalog.get(model_id).name
        load = f"cold load {loads[model_id]:.2f} s" if model_id in loads else "loaded by an earlier model"
        print(
            f"  {name}: {load}; median {statistics.median(seconds[model_id]):.2f} s per photo "
            f"(min {min(seconds[model_id]):.2f}, max {max(seconds[model_id]):.2f}, {len(seconds[model_id])} photos)"
        )
    print(f"  hardware: {os.cpu_count()} CPU cores, no GPU; machine shared with other work")


if __name__ == "__main__":
    main()
