"""The OpenVINO GenAI stepping loop, run as its own process (``python openvino_stepper.py FOLDER SETTINGS``).

``ContinuousBatchingPipeline.step()`` keeps Python's interpreter lock for the whole step (measured: a thread that
sleeps 1 ms was held 2.8 s by one 256-token prefill step of a 3,000-token prompt, on a loaded 2-core machine), and
``generate()``, which releases it, refuses to run beside ``add_request``. So the pipeline lives in this process and
the web server's process only sends requests and reads tokens: one long prompt cannot stop the server.

The protocol is one JSON object per line. In (stdin): ``{"add": id, "ids": [...], "config": {...}}`` and
``{"cancel": id}``. Out (the original stdout; everything else the libraries print goes to stderr):
``{"ready": max_seqs}`` once loaded, then ``{"id": id, "tokens": [...]}`` per step and ``{"id": id, "end": status}``.
This file imports nothing from the playground package, so the process holds only OpenVINO and the model.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading

CONFIG_FIELDS = ("max_new_tokens", "min_new_tokens", "ignore_eos", "do_sample", "temperature", "top_p", "rng_seed")


def _protocol_out():
    """The real stdout for protocol lines; fd 1 then points at stderr so library prints cannot corrupt them."""
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    return out


def _read_commands(inbox: queue.Queue) -> None:
    for line in sys.stdin:
        inbox.put(json.loads(line))
    inbox.put(None)  # the server process went away: stop


def main(folder: str, settings: dict, properties: dict) -> None:
    out = _protocol_out()
    # `import openvino` imports its converter, which sends an "import" event to Google Analytics unless the
    # openvino_telemetry package cannot be imported (then it uses its own stub): make it so.
    sys.modules["openvino_telemetry"] = None
    import numpy as np
    import openvino as ov
    import openvino_genai as ov_genai

    scheduler = ov_genai.SchedulerConfig()
    for name, value in settings.items():
        setattr(scheduler, name, value)
    pipeline = ov_genai.ContinuousBatchingPipeline(folder, scheduler, "CPU", properties)
    warm_up = ov_genai.GenerationConfig()
    warm_up.max_new_tokens = 1
    pipeline.generate([ov.Tensor(np.array([[1, 2]], dtype=np.int64))], [warm_up])  # compiles now: counted as load
    inbox: queue.Queue = queue.Queue()
    threading.Thread(target=_read_commands, args=(inbox,), daemon=True).start()
    out.write(json.dumps({"ready": scheduler.max_num_seqs}) + "\n")
    handles: dict[int, object] = {}
    while _take_commands(inbox, handles, lambda command: _add(pipeline, command, ov, ov_genai, np)):
        busy = pipeline.has_non_finished_requests()
        if busy:
            pipeline.step()
        _report(handles, out, busy, ov_genai.GenerationStatus.RUNNING)


def _take_commands(inbox: queue.Queue, handles: dict, add) -> bool:
    """Apply every command waiting (block only when nothing runs); False once the server process went away."""
    try:
        command = inbox.get(block=not handles)
        while True:
            if command is None:
                return False
            if "add" in command:
                handles[command["add"]] = add(command)
            elif (handle := handles.get(command["cancel"])) is not None:
                handle.cancel()
            command = inbox.get_nowait()
    except queue.Empty:
        return True


def _add(pipeline, command: dict, ov, ov_genai, np):
    config = ov_genai.GenerationConfig()
    for name, value in command["config"].items():
        setattr(config, name, value)
    ids = ov.Tensor(np.array([command["ids"]], dtype=np.int64))
    return pipeline.add_request(command["add"], ids, config)


def _report(handles: dict, out, busy: bool, running) -> None:
    """Each request's new tokens, then its end once it stopped running."""
    for request_id, handle in list(handles.items()):
        tokens = []
        while handle.can_read():
            for output in handle.read().values():
                tokens += list(output.generated_ids)
        if tokens:
            out.write(json.dumps({"id": request_id, "tokens": tokens}) + "\n")
        status = handle.get_status()
        if status != running or not busy:  # not busy: a cancel the pipeline dropped
            out.write(json.dumps({"id": request_id, "end": status.name}) + "\n")
            del handles[request_id]


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]))
