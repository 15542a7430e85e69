"""Serving local models to many sessions at once: admission, batching, and honest times.

The contract a local backend follows (``playground.backends.local_pool.LocalBackend`` does it for transformers
models; another runtime, e.g. ONNX Runtime GenAI, plugs in the same way):

1. ``line = admission.line_for(key, model_id, slots, limits.max_queue())`` once per model and service, where
   ``slots`` is how many requests the model works on at once (1, or the batch size).
2. ``ticket = line.enter(owner, request.arrived)``: raises a ``ProviderError`` with code "busy" (and
   ``retry_after_s``) when the line is full or the owner (a session id) already holds a place; no work is done.
3. ``yield from line.wait_turn(ticket)``: ``Waiting`` events while in line; closing the generator leaves the line.
4. Work on the request; ``CallMetrics.queue_s = ticket.admitted - request.arrived`` (less any load time), and
   TTFT and total are counted from ``request.arrived``.
5. ``line.leave(ticket, completed)`` in a ``finally``: frees the slot; completed runs feed the ETA.

``batched_lm.BatchedLM`` runs many generations of one causal LM in one continuous batch, and
``micro_batch.MicroBatcher`` gathers single classifications from many sessions into one forward pass.
"""
