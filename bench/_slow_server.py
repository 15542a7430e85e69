"""A tiny OpenAI-compatible streaming server with a set delay per token: a steady latency source for benchmarks.

The model name carries the delay, e.g. "delay-0.05" streams each token 50 ms apart.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKENS = 20


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        delay = float(body["model"].removeprefix("delay-"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for i in range(TOKENS):
            time.sleep(delay)
            self._send({"choices": [{"index": 0, "delta": {"content": f"t{i} "}, "finish_reason": None}]}, body)
        usage = {"prompt_tokens": 10, "completion_tokens": TOKENS, "total_tokens": 10 + TOKENS}
        self._send({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage}, body)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _send(self, chunk: dict, body: dict) -> None:
        chunk |= {"id": "bench", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()


def start() -> str:
    """Serve on a free loopback port in a daemon thread; return the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"
