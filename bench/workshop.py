"""Thirty students on one server (run with `make bench`): batched generation on every local runtime, the queue's
honesty, classification, memory, the web server's health while a long prompt is read, and what a real browser
shows. Every ratio is measured in this one run; cold starts are excluded.

Generation: the embedded SmolLM2 through the engine (runner + backend), exactly 64 new tokens each (end of sequence
ignored), greedy, distinct prompts, on each runtime: fp32 transformers (continuous batching), int4 ONNX Runtime
GenAI (its CPU engine batches statically, at most 4) and int4 OpenVINO GenAI (continuous batching, the default).
Classification: the embedded MiniLM zero-shot classifier, one text each.
"""

from __future__ import annotations

import os
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
INT4 = "smollm2-135m-int4"  # faster alone than fp32, but og.Engine cannot batch well on a CPU
OPENVINO = "smollm2-135m-ov-int4"  # the generate page's default: int4 and continuous batching
LONG_PROMPT_CHARS = 20_000  # about 4,000-4,500 SmolLM2 tokens (the server reads at most 2,048 of them)
HEALTH_POLL_S = 0.02
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


def health_while_reading(runtimes: dict[str, str]) -> dict[str, tuple[float, float]]:
    """For each model: (p99 ms of `/_stcore/health` while one browser session's long prompt is read, p99 ms idle),
    on a real `streamlit run` server on 127.0.0.1; a thread polls the health check every 20 ms."""
    import threading
    import urllib.request

    from playwright.sync_api import expect, sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, open_page, streamlit_app, wait_idle

    def poll(url: str, stop: threading.Event, into: list[float]) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=60).read()
            into.append((time.perf_counter() - started) * 1000)
            stop.wait(HEALTH_POLL_S)

    def p99(values: list[float]) -> float:
        return sorted(values)[max(0, round(0.99 * len(values)) - 1)]

    figures = {}
    with tempfile.TemporaryDirectory() as home, streamlit_app(Path(home)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, model in runtimes.items():
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(180_000)
            open_page(page, f"{url}/generate?models={model}")
            page.get_by_label("Max new tokens").first.fill("8")
            page.get_by_label("Max new tokens").first.press("Enter")
            page.get_by_label("Prompt", exact=True).fill("Hi.")
            page.get_by_role("button", name="Run", exact=True).click()  # the model's load, not counted
            expect(page.get_by_text("tokens out")).to_have_count(1, timeout=180_000)
            wait_idle(page)
            idle: list[float] = []
            stop = threading.Event()
            poller = threading.Thread(target=poll, args=(url, stop, idle))
            poller.start()
            time.sleep(2)
            stop.set()
            poller.join()
            words = f"{name}: the river carries sand and stones down to the sea, year after year. "
            page.get_by_label("Prompt", exact=True).fill(
                (words * (LONG_PROMPT_CHARS // len(words) + 1))[:LONG_PROMPT_CHARS]
            )
            wait_idle(page)
            busy: list[float] = []
            stop = threading.Event()
            poller = threading.Thread(target=poll, args=(url, stop, busy))
            poller.start()
            page.get_by_role("button", name="Run", exact=True).click()
            page.wait_for_timeout(1000)  # the previous answer's card stays until the new run draws its own
            wait_idle(page)
            expect(page.get_by_text("tokens out")).to_have_count(1, timeout=180_000)
            stop.set()
            poller.join()
            figures[name] = (p99(busy), p99(idle))
            page.close()
        browser.close()
    return figures


def main() -> None:
    ensure_smollm2()
    catalog = load_catalog()
    found = hardware.detect()
    bench_started = time.perf_counter()
    gen = students(catalog)
    int4 = students(catalog, INT4)
    ov = students(catalog, OPENVINO)
    cls = classifications(catalog)
    model_mb = sum(f.stat().st_size for f in converted_smollm2().glob("*.safetensors")) / 2**20
    from bench.runtimes import in_subprocess  # each runtime alone in its own process: its peak RSS is its own

    alone = {runtime: in_subprocess(runtime) for runtime in ("transformers", "onnxruntime-genai", "openvino")}
    runtimes = {"transformers fp32": GENERATOR, "ONNX Runtime GenAI int4": INT4, "OpenVINO int4": OPENVINO}
    try:
        health = health_while_reading(runtimes)
        engine_tok_s, browser_tok_s, browser_ratio, final_ms = browser_vs_engine(catalog)
    except Exception as exc:  # no Chromium or Playwright here: say so instead of inventing a number
        health = {name: (float("nan"), float("nan")) for name in runtimes}
        engine_tok_s = browser_tok_s = browser_ratio = final_ms = float("nan")
        print(f"(browser measures skipped: {type(exc).__name__}: {exc})")
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
        f"wall for {STUDENTS} students x {TOKENS} tokens, OpenVINO int4 / transformers fp32 continuous batching: "
        f"{ov['wall'] / gen['wall']:.2f} (goal <= 0.4)"
    )
    print(
        f"p95 first token with {STUDENTS} students, OpenVINO int4 / transformers fp32 continuous batching: "
        f"{ov['p95_ttft'] / gen['p95_ttft']:.2f} (goal <= 0.5)"
    )
    decode = {runtime: r["decode_s_per_token"] for runtime, r in alone.items()}
    print(
        f"one student's decode time per token, OpenVINO int4 / ONNX Runtime GenAI int4: "
        f"{decode['openvino'] / decode['onnxruntime-genai']:.2f} (goal <= 1.1)"
    )
    rss = {runtime: r["peak_rss"] / 1e6 for runtime, r in alone.items()}
    print(f"peak RSS, OpenVINO int4 / transformers fp32: {rss['openvino'] / rss['transformers']:.2f} (goal <= 0.5)")
    worst = max(health, key=lambda name: health[name][0] / health[name][1])
    print(
        f"web server health check p99 while a 4,000-token prompt is read / the same idle: "
        f"{health[worst][0] / health[worst][1]:.1f} (goal <= 50) (worst runtime: {worst})"
    )
    for name, r in (("ONNX Runtime GenAI int4", int4), ("OpenVINO int4", ov)):
        print(
            f"  {name}: one alone {r['one_wall']:.2f} s (TTFT {r['one_ttft']:.2f} s); {STUDENTS} together "
            f"{r['wall']:.1f} s (wall ratio {r['wall_ratio']:.2f}), TTFT p50 {r['p50_ttft']:.2f} s p95 "
            f"{r['p95_ttft']:.2f} s (ratio {r['ttft_ratio']:.2f}), aggregate {r['aggregate']:.1f} tok/s, TTFT error p95 "
            f"{r['ttft_error']:.3f}, failures {r['failures']}"
        )
    for runtime, r in alone.items():
        print(
            f"  alone, 128 tokens, {runtime}: {r['tokens_per_s']:.1f} tok/s, decode {r['decode_s_per_token'] * 1000:.1f} "
            f"ms/token, TTFT {r['ttft_s'] * 1000:.0f} ms, peak RSS {rss[runtime]:.0f} MB"
        )
    for name, (busy, idle) in health.items():
        print(f"  health check p99 with a long prompt on {name}: {busy:.0f} ms (idle {idle:.1f} ms)")
    print(f"  classification: one alone {cls['alone'] * 1000:.0f} ms; {STUDENTS} together {cls['wall'] * 1000:.0f} ms")
    print(f"  memory: RSS +{gen['rss_growth_mb']:.0f} MB over the {STUDENTS}-student run; model {model_mb:.0f} MB")
    print(
        f"  browser: engine alone {engine_tok_s:.1f} tok/s decode, browser shows {browser_tok_s:.1f} tok/s while "
        f"streaming; the final answer replaced the last streamed text {final_ms:.0f} ms later"
    )
    print(
        f"  hardware: {found.name} ({found.device}); default rate ${found.default_usd_per_hour}/h ({found.rate_source}, {found.rate_date})"
    )
    print(f"  bench time {time.perf_counter() - bench_started:.0f} s; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
