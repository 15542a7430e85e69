"""The same open weights on three runtimes, in one run (run with `make bench`, or `python -m bench.runtimes`).

1. SmolLM2-135M-Instruct fp32 on transformers against its int4 builds on ONNX Runtime GenAI and OpenVINO GenAI:
   the same prompt, greedy, through the playground's own backends. Each runtime runs in its own subprocess, so each
   peak RSS is that runtime's alone (torch is never imported by the int4 ones); OpenVINO's is its serving process
   plus the stepping process it starts.
2. Serving many students on the int4 model: og.Engine batching (the backend's engine thread, 30 requests at once)
   against one og.Generator after the other. This is the measurement behind the choice in ort_genai.py.

    python -m bench.runtimes              # both parts
    python -m bench.runtimes --no-serving # part 1 only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from playground.events import GenParams, Request, Result

PROMPT = "Write a short story about a robot who learns to paint."
NEW_TOKENS = 128
STUDENTS, STUDENT_TOKENS = 30, 64
RUNTIME_IDS = {
    "transformers": "smollm2-135m",
    "onnxruntime-genai": "smollm2-135m-int4",
    "openvino": "smollm2-135m-ov-int4",
}


def hardware() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, load average {load}"


def high_water_bytes(pid: int | str = "self") -> int:
    """A process's peak RSS (VmHWM). Not getrusage: its ru_maxrss survives exec, so a child started by a big
    process would report its parent's peak."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024


def peak_rss_bytes() -> int:
    """This process's peak RSS, plus the peak of each local model's own process still running (OpenVINO's)."""
    from playground.backends.local_pool import POOL

    steppers = [loaded.parts.stepper for loaded in list(POOL._models.values()) if hasattr(loaded.parts, "stepper")]
    return high_water_bytes() + sum(high_water_bytes(stepper.pid) for stepper in steppers)


def one_runtime(runtime: str) -> dict:
    """In a child process: load through the backend (a warm-up call), then time one greedy answer."""
    from playground.backends.registry import backend_for
    from playground.catalog import load_catalog

    catalog = load_catalog()
    spec = catalog.get(RUNTIME_IDS[runtime])
    backend = backend_for(catalog, spec, "generate")
    warm = Request("generate", prompt="Hi", params=GenParams(temperature=0, max_new_tokens=4))
    list(backend.execute(spec, warm, None))
    request = Request("generate", prompt=PROMPT, params=GenParams(temperature=0, max_new_tokens=NEW_TOKENS))
    final = list(backend.execute(spec, request, None))[-1]
    if not isinstance(final, Result):
        raise SystemExit(f"{spec.id} failed: {final.message} {final.hint}")
    m = final.metrics
    return {
        "ttft_s": m.first_token_after_start_s,
        "decode_s_per_token": m.decode_s / (m.output_tokens - 1),
        "tokens_per_s": m.tokens_per_s,
        "output_tokens": m.output_tokens,
        "peak_rss": peak_rss_bytes(),
        "text": final.text,
    }


def in_subprocess(runtime: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.runtimes", "--child", runtime],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def serving() -> dict:
    """og.Engine through the backend (30 students at once) against one og.Generator at a time, same prompts."""
    import numpy as np

    from playground import models_cache
    from playground.backends.ort_genai import OrtGenAIBackend, _og
    from playground.catalog import load_catalog

    spec = load_catalog().get(RUNTIME_IDS["onnxruntime-genai"])
    backend = OrtGenAIBackend()
    params = GenParams(temperature=0, max_new_tokens=STUDENT_TOKENS)
    prompts = [f"Student {i}: explain in a few sentences why the sky is blue." for i in range(STUDENTS)]
    list(backend.execute(spec, Request("generate", prompt="Hi", params=params), None))  # load once
    finals: list = []

    def student(prompt: str, arrived: float) -> None:
        finals.append(
            list(backend.execute(spec, Request("generate", prompt=prompt, params=params, arrived=arrived), None))[-1]
        )

    started = time.perf_counter()
    threads = [threading.Thread(target=student, args=(p, started)) for p in prompts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine_wall = time.perf_counter() - started
    engine_ttfts = sorted(f.metrics.ttft_s for f in finals)
    engine_tokens = sum(f.metrics.output_tokens for f in finals)

    og = _og()
    model = og.Model(str(models_cache.resolve_onnx(spec).location))
    tokenizer = og.Tokenizer(model)
    serial_ttfts, serial_tokens = [], 0
    started = time.perf_counter()
    for prompt in prompts:
        text = tokenizer.apply_chat_template(
            messages=json.dumps([{"role": "user", "content": prompt}]), add_generation_prompt=True
        )
        ids = tokenizer.encode(text)
        search = og.GeneratorParams(model)
        search.set_search_options(max_length=len(ids) + STUDENT_TOKENS, do_sample=False)
        generator = og.Generator(model, search)
        generator.append_tokens(np.asarray(ids, dtype=np.int32))
        generated = 0
        while not generator.is_done() and generated < STUDENT_TOKENS:
            generator.generate_next_token()
            generated += 1
            if generated == 1:
                serial_ttfts.append(time.perf_counter() - started)  # every student arrived at the start
        serial_tokens += generated
    serial_wall = time.perf_counter() - started
    return {
        "batch": STUDENTS,
        "engine_wall": engine_wall,
        "serial_wall": serial_wall,
        "engine_tokens": engine_tokens,
        "serial_tokens": serial_tokens,
        "engine_ttft_p50": statistics.median(engine_ttfts),
        "engine_ttft_p95": engine_ttfts[int(0.95 * len(engine_ttfts)) - 1],
        "serial_ttft_p50": statistics.median(serial_ttfts),
        "serial_ttft_p95": sorted(serial_ttfts)[int(0.95 * STUDENTS) - 1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runtimes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=sorted(RUNTIME_IDS), help=argparse.SUPPRESS)
    parser.add_argument("--no-serving", action="store_true", help="skip the 30-student serving comparison")
    parser.add_argument("--serving-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(one_runtime(args.child)))
        return 0
    if args.serving_child:
        print(json.dumps(serving()))
        return 0

    from playground import models_cache
    from playground.catalog import load_catalog

    models_cache.ensure_onnx(load_catalog().get(RUNTIME_IDS["onnxruntime-genai"]))  # what `make setup` builds
    print(f"Hardware: {hardware()}")
    fp32, int4, ov = (in_subprocess(runtime) for runtime in RUNTIME_IDS)
    for name, r in (("fp32 transformers", fp32), ("int4 ONNX Runtime GenAI", int4), ("int4 OpenVINO GenAI", ov)):
        print(
            f"{name:<24} {r['tokens_per_s']:6.1f} tok/s  TTFT {r['ttft_s'] * 1000:5.0f} ms  "
            f"peak RSS {r['peak_rss'] / 1e6:5.0f} MB  ({r['output_tokens']} tokens)"
        )
        print(f"  {r['text'][:100]!r}")
    print(
        f"int4 ONNX decode time per token / fp32 transformers: "
        f"{int4['decode_s_per_token'] / fp32['decode_s_per_token']:.2f} (goal <= 0.2)"
    )
    print(f"int4 ONNX TTFT / fp32 transformers TTFT: {int4['ttft_s'] / fp32['ttft_s']:.2f} (goal <= 1.0)")
    print(f"int4 ONNX peak RSS / fp32 transformers peak RSS: {int4['peak_rss'] / fp32['peak_rss']:.2f} (goal <= 0.5)")
    print(
        f"int4 OpenVINO decode time per token / fp32 transformers: "
        f"{ov['decode_s_per_token'] / fp32['decode_s_per_token']:.2f} (goal <= 0.2)"
    )
    if args.no_serving:
        return 0
    done = subprocess.run(
        [sys.executable, "-m", "bench.runtimes", "--serving-child"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
    )
    s = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"Serving {s['batch']} students x {STUDENT_TOKENS} tokens on int4: og.Engine (batch of 4) "
        f"{s['engine_wall']:.1f} s wall, {s['engine_tokens'] / s['engine_wall']:.1f} tok/s, first token p50 "
        f"{s['engine_ttft_p50']:.1f} s p95 {s['engine_ttft_p95']:.1f} s; one og.Generator at a time "
        f"{s['serial_wall']:.1f} s, {s['serial_tokens'] / s['serial_wall']:.1f} tok/s, first token p50 "
        f"{s['serial_ttft_p50']:.1f} s p95 {s['serial_ttft_p95']:.1f} s"
    )
    print(
        f"og.Engine wall / one Generator at a time, {s['batch']} students: "
        f"{s['engine_wall'] / s['serial_wall']:.2f} (goal <= 1.0)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
