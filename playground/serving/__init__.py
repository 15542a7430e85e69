"""Serving local models to many sessions at once: one contract for every local runtime.

Every local runtime (transformers continuous batching, ONNX Runtime GenAI, OpenVINO GenAI) serves the same way:

1. ``line = admission.line_for(key, model_id, slots, limits.max_queue())`` once per model and service, where
   ``slots`` is how many requests the runtime works on at once (1, or its batch). This is all a runtime supplies,
   besides how to step its requests.
2. ``admission.serve_in_line(line, model_id, request, work)`` admits the request (a full line, or more than
   ``PLAYGROUND_MAX_QUEUE`` waiting, answers "busy" with ``retry_after_s`` and no work; a session's newer run
   replaces its older one), then runs ``work(ticket)``, stops it when superseded and frees the slot at the end.
3. ``work`` caps the prompt with ``limits.cap_prompt`` (the same cap and notice everywhere), loads what it needs,
   ``yield from line.wait_turn(ticket)`` (``Waiting`` events with places and ETAs; closing leaves the line), then
   streams. ``CallMetrics.queue_s = ticket.admitted - request.arrived`` (less any load time); TTFT and total are
   counted from ``request.arrived``, when the caller receives the token; closing the stream cancels the request in
   the runtime.

``batched_lm.BatchedLM`` runs many generations of one causal LM in one continuous batch (transformers),
``backends.ort_genai`` steps ONNX Runtime GenAI's engine, ``backends.openvino_genai`` OpenVINO GenAI's continuous
batching pipeline, and ``micro_batch.MicroBatcher`` gathers single classifications into one forward pass.
"""
