"""Thirty students on one server (run with `make bench`): batched generation, the queue's honesty, classification,
memory, and what a real browser shows. Every ratio is measured in this one run; cold starts are excluded.

Generation: the embedded SmolLM2 through the engine (runner + backend), exactly 64 new tokens each (end of sequence
ignored), greedy, distinct prompts; then the same for the int4 build the generate page starts with, whose
figures are printed without goals (ONNX Runtime GenAI batches statically on a CPU). Classification: the embedded MiniLM zero-shot classifier, one text each.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench import all_at_once
from playground import hardware
from playground.catalog import load_catalog
from playground.events import Failure, GenParams, Request, Result, Token
from playground.models_cache import converted_smollm2, ensure_smollm2
from playground.runner import run_side_by_side

STUDENTS = 30
TOKENS = 64
GENERATOR, CLASSIFIER = "smollm2-135m", "minilm-zero-shot"
INT4 = "smollm2-135m-int4"  # the generate page's default: faster alone, but og.Engine cannot batch well on a CPU
BROWSER_RUNS = 3  # one student in the browser, and the engine alone, this many times each, interleaved
BROWSER_PROMPT = "Write a short paragraph about why open-weight language models matter."
TOPICS = [
    "the ocean",
    "volcanoes",
    "bees",
    "the moon",
    "rainforests",
    "glaciers",
    "owls",
    "deserts",
    "coral reefs",
    "comets",
    "octopuses",
    "rivers",
    "thunderstorms",
    "penguins",
    "mountains",
    "mushrooms",
    "whales",
    "caves",
    "tides",
    "forests",
    "sharks",
    "tornadoes",
    "ants",
    "islands",
    "auroras",
    "lakes",
    "bats",
    "wolves",
    "lightning",
    "seeds",
]
REVIEWS = [
    f"Review {i}: the {topic} documentary was {'wonderful' if i % 2 else 'a waste of time'}."
    for i, topic in enumerate(TOPICS)
]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def generate(catalog, prompt: str, params: GenParams, owner: str, model: str = GENERATOR) -> dict:
    """One student through the engine: what they observed (first token, end) and what the card reports."""
    request = Request("generate", prompt=prompt, params=params, owner=owner)
    first = final = None
    for event in run_side_by_side(catalog, [model], request):
        if isinstance(event, Token) and first is None:
            first = time.perf_counter()
        elif isinstance(event, (Result, Failure)):
            final = event
    done = time.perf_counter()
    ok = isinstance(final, Result) and final.metrics.output_tokens == params.max_new_tokens
    return {
        "ok": ok,
        "final": final,
        "first": first is not None,
        "observed_ttft": (first or done) - request.arrived,
        "observed_total": done - request.arrived,
    }


def students(catalog, model: str = GENERATOR) -> dict:
    params = GenParams(temperature=0, max_new_tokens=TOKENS, ignore_eos=True)
    generate(catalog, "Warm up.", GenParams(temperature=0, max_new_tokens=4), "warm", model)  # cold start excluded
    alone = [generate(catalog, f"Tell me one fact about {TOPICS[i]}.", params, "alone", model) for i in range(2)]
    rss_before = rss_mb()
    results: list = [None] * STUDENTS

    def student(i: int) -> None:
        results[i] = generate(catalog, f"Tell me one fact about {TOPICS[i]}.", params, f"student-{i}", model)

    wall = all_at_once(STUDENTS, student)
    rss_growth = rss_mb() - rss_before
    # one student alone again after the crowd: the machine's load drifts, so the baseline brackets the run
    alone += [generate(catalog, f"Tell me one fact about {TOPICS[i]}.", params, "alone", model) for i in range(2, 4)]
    one_wall = statistics.median(a["observed_total"] for a in alone)
    one_ttft = statistics.median(a["observed_ttft"] for a in alone)
    good = [r for r in results if r["ok"]]
    streamed = [r for r in results if r["first"]]  # a timed-out student may still have seen a first token
    ttfts = [r["observed_ttft"] for r in streamed]
    errors = [abs(r["final"].metrics.ttft_s - r["observed_ttft"]) / r["observed_ttft"] for r in good]
    failed = [r["final"] for r in results if not r["ok"]]
    return {
        "failures": STUDENTS - len(good),
        "failure_kinds": sorted({getattr(f, "code", type(f).__name__) for f in failed}),
        "wall_ratio": wall / (STUDENTS * one_wall),
        "ttft_ratio": p95(ttfts) / (STUDENTS * one_ttft) if ttfts else float("nan"),
        "ttft_error": p95(errors) if errors else float("nan"),
        "p50_ttft": statistics.median(ttfts) if ttfts else float("nan"),
        "p95_ttft": p95(ttfts) if ttfts else float("nan"),
        "p95_total": p95([r["observed_total"] for r in good]) if good else float("nan"),
        "aggregate": sum(r["final"].metrics.output_tokens for r in good) / wall,
        "one_wall": one_wall,
        "one_ttft": one_ttft,
        "one_tok_s": TOKENS / one_wall,
        "wall": wall,
        "rss_growth_mb": rss_growth,
    }


def classifications(catalog) -> dict:
    labels = ("positive", "negative")

    def classify(text: str, owner: str) -> Result:
        request = Request("classify", prompt=text, labels=labels, owner=owner)
        return [e for e in run_side_by_side(catalog, [CLASSIFIER], request) if isinstance(e, (Result, Failure))][-1]

    classify("Warm up.", "warm")
    alone = []
    for i in range(5):
        started = time.perf_counter()
        classify(REVIEWS[i], "alone")
        alone.append(time.perf_counter() - started)
    finals: list = [None] * STUDENTS
    wall = all_at_once(STUDENTS, lambda i: finals.__setitem__(i, classify(REVIEWS[i], f"s{i}")))
    return {
        "failures": sum(not isinstance(f, Result) for f in finals),
        "ratio": wall / (STUDENTS * statistics.median(alone)),
        "wall": wall,
        "alone": statistics.median(alone),
    }


# Runs in the page: every time the DOM changes, note when (page clock, ms) and the text of each markdown block.
RECORD_ANSWERS = """() => {
  const texts = () => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stMarkdownContainer"]')]
    .map(e => e.innerText);
  window.__seen = [[performance.now(), texts()]];
  new MutationObserver(() => {
    const now = texts(), last = window.__seen[window.__seen.length - 1][1];
    if (now.length !== last.length || now.some((t, i) => t !== last[i])) window.__seen.push([performance.now(), now]);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""

STREAMED_AND_DONE = """() => window.__seen.some(([, texts]) => texts.some(t => t.endsWith('▌')))
  && !window.__seen[window.__seen.length - 1][1].some(t => t.endsWith('▌'))"""


def browser_vs_engine(catalog) -> tuple[float, float, float, float]:
    """(engine-alone decode tok/s, decode tok/s a headless Chromium shows while streaming, their ratio, ms from the
    last streamed text to the final answer): medians, same prompt and settings."""
    from playwright.sync_api import sync_playwright
    from transformers import AutoTokenizer

    from tests.browser import (
        CHROMIUM,
        CHROMIUM_ARGS,
        open_page,
        streamlit_app,
        wait_idle,
    )

    params = GenParams(temperature=0, max_new_tokens=TOKENS)
    tokenizer = AutoTokenizer.from_pretrained(converted_smollm2())
    engine_rates, shown = [], []
    with tempfile.TemporaryDirectory() as home, streamlit_app(Path(home)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        open_page(page, f"{url}/generate?models={GENERATOR}")  # the engine's model, not the page's default
        page.get_by_label("Prompt", exact=True).fill(BROWSER_PROMPT)
        page.get_by_label("Max new tokens").first.fill(str(TOKENS))
        page.get_by_label("Max new tokens").first.press("Enter")
        page.get_by_role("slider").first.focus()  # temperature: Home = 0, greedy like the engine run
        page.keyboard.press("Home")
        wait_idle(page)
        for turn in range(BROWSER_RUNS + 1):  # turn 0 is the server's cold start (it loads the model): not counted
            engine_rates.append(generate(catalog, BROWSER_PROMPT, params, "engine-alone")["final"].metrics.tokens_per_s)
            page.evaluate(RECORD_ANSWERS)  # the page itself notes each change: no polling load on the machine
            page.get_by_role("button", name="Run", exact=True).click()
            page.wait_for_function(STREAMED_AND_DONE, timeout=300_000)
            wait_idle(page)
            if turn:
                shown.append(shown_stream(page.evaluate("window.__seen"), tokenizer))
        browser.close()
    engine_tok_s = statistics.median(engine_rates[1:])
    browser_tok_s, final_ms = (statistics.median(column) for column in zip(*shown))
    return engine_tok_s, browser_tok_s, engine_tok_s / browser_tok_s, final_ms


def shown_stream(seen: list, tokenizer) -> tuple[float, float]:
    """(decode tok/s the page showed while streaming, ms from the last streamed text to the final answer).

    While it streams, the answer ends with the cursor: the rate is the tokens it grew by over the time it took, by
    the page's clock. The final answer (the first text after that which extends it) is timed apart: it is one
    redraw, not decoding.
    """
    count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    streaming = [(at, text.removesuffix("▌").rstrip()) for at, texts in seen for text in texts if text.endswith("▌")]
    (first_at, first), (last_at, last) = streaming[0], streaming[-1]
    final_at = next(at for at, texts in seen if at > last_at for text in texts if text.startswith(last))
    return (count(last) - count(first)) / max(1e-9, (last_at - first_at) / 1000), final_at - last_at


def main() -> None:
    ensure_smollm2()
    catalog = load_catalog()
    found = hardware.detect()
    bench_started = time.perf_counter()
    gen = students(catalog)
    int4 = students(catalog, INT4)
    cls = classifications(catalog)
    model_mb = sum(f.stat().st_size for f in converted_smollm2().glob("*.safetensors")) / 2**20
    try:
        engine_tok_s, browser_tok_s, browser_ratio, final_ms = browser_vs_engine(catalog)
    except Exception as exc:  # no Chromium or Playwright here: say so instead of inventing a number
        engine_tok_s = browser_tok_s = browser_ratio = final_ms = float("nan")
        print(f"(browser measure skipped: {type(exc).__name__}: {exc})")
    kinds = f" ({', '.join(map(str, gen['failure_kinds']))})" if gen["failure_kinds"] else ""
    print(f"failures with {STUDENTS} students: {gen['failures'] + cls['failures']} (goal <= 0){kinds}")
    print(f"wall for {STUDENTS} students / {STUDENTS} x one student alone: {gen['wall_ratio']:.2f} (goal <= 0.33)")
    print(
        f"p95 time to first token with {STUDENTS} students / ({STUDENTS} x one student's TTFT alone): {gen['ttft_ratio']:.2f} (goal <= 0.5)"
    )
    print(f"p95 |reported TTFT - observed TTFT| / observed: {gen['ttft_error']:.3f} (goal <= 0.05)")
    print(f"wall for {STUDENTS} concurrent classifications / {STUDENTS} x one alone: {cls['ratio']:.2f} (goal <= 0.2)")
    print(f"RSS growth over the run / model size: {gen['rss_growth_mb'] / model_mb:.2f} (goal <= 0.5)")
    print(f"engine-alone decode tok/s / decode tok/s shown in a real browser: {browser_ratio:.2f} (goal <= 1.1)")
    print(
        f"  generation: one alone {gen['one_wall']:.2f} s (TTFT {gen['one_ttft']:.2f} s, {gen['one_tok_s']:.1f} tok/s); "
        f"{STUDENTS} together {gen['wall']:.1f} s, TTFT p50 {gen['p50_ttft']:.2f} s p95 {gen['p95_ttft']:.2f} s, "
        f"total p95 {gen['p95_total']:.1f} s, aggregate {gen['aggregate']:.1f} tok/s"
    )
    print(
        f"  the int4 build (ONNX Runtime GenAI, no goals: its CPU engine batches statically): one alone "
        f"{int4['one_wall']:.2f} s (TTFT {int4['one_ttft']:.2f} s); {STUDENTS} together {int4['wall']:.1f} s "
        f"(wall ratio {int4['wall_ratio']:.2f}), TTFT p50 {int4['p50_ttft']:.2f} s p95 {int4['p95_ttft']:.2f} s "
        f"(ratio {int4['ttft_ratio']:.2f}), aggregate {int4['aggregate']:.1f} tok/s, failures {int4['failures']}"
    )
    print(f"  classification: one alone {cls['alone'] * 1000:.0f} ms; {STUDENTS} together {cls['wall'] * 1000:.0f} ms")
    print(f"  memory: RSS +{gen['rss_growth_mb']:.0f} MB over the {STUDENTS}-student run; model {model_mb:.0f} MB")
    print(
        f"  browser: engine alone {engine_tok_s:.1f} tok/s decode, browser shows {browser_tok_s:.1f} tok/s while "
        f"streaming; the final answer replaced the last streamed text {final_ms:.0f} ms later"
    )
    print(
        f"  hardware: {found.name} ({found.device}); default rate ${found.default_usd_per_hour}/h ({found.rate_source}, {found.rate_date})"
    )
    print(f"  bench time {time.perf_counter() - bench_started:.0f} s")


if __name__ == "__main__":
    main()
