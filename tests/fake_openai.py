"""A fake OpenAI-compatible server that fails on purpose, one model name per fault.

Fake by necessity: no real server (``transformers serve``, vLLM, a provider) produces a 403, an HTML page with
status 200, a hang before the first byte or a connection dropped mid-stream on demand. Everything else in the
tests that use it is real: the openai SDK, the shared HTTP pool, the runner, a local model beside it, SQLite.
Bound to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

WORDS = ("Hello", " there", " friend")
HANG_S = 6.0  # longer than the tests' API timeout


def chunk(text: str | None = None, finish: str | None = None, usage: bool = False) -> dict:
    body = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 7, "completion_tokens": len(WORDS), "total_tokens": 7 + len(WORDS)}
    return body


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls: dict[str, int] = {}
        self.cookies_seen: list[str | None] = []
        self.requests_seen: list[str] = []  # request line and headers of every call, to look for leaked keys
        self.gets: list[str] = []  # GET paths: a browser fetching an image from here

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.gets.append(self.path)
        self._raw(200, "image/png", b"\x89PNG\r\n\x1a\n")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model, stream = body["model"], body.get("stream", False)
        self.server.calls[model] = self.server.calls.get(model, 0) + 1
        self.server.cookies_seen.append(self.headers.get("Cookie"))
        self.server.requests_seen.append(f"{self.requestline}\n{self.headers}")
        status = {"auth-401": 401, "forbidden-403": 403, "missing-404": 404, "server-500": 500, "unavailable-503": 503}
        if model in status:  # worded like OpenAI's 401: part of the key comes back
            echo = f"fault {model}: incorrect API key provided: {masked(self.headers.get('Authorization', ''))}"
            return self._json(status[model], {"error": {"message": echo, "type": "x", "code": None}})
        if model == "rate-limited" or (model == "rate-limited-once" and self.server.calls[model] == 1):
            retry = "30" if model == "rate-limited" else "1"
            return self._json(429, {"error": {"message": "slow down", "type": "x"}}, {"Retry-After": retry})
        if model == "html-200":
            page = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
            return self._raw(200, "text/html", page)
        if model == "hang-first-byte":
            time.sleep(HANG_S)
            return self._json(200, {})
        if model == "set-cookie":
            return self._stream(cookie="session=user-a-secret; Path=/")
        if model == "image-answer":
            host, port = self.server.server_address
            return self._stream(words=("Look: ", f"![a pixel](http://{host}:{port}/pixel.png)", " done."))
        if not stream:
            message = {"role": "assistant", "content": "".join(WORDS)}
            return self._json(
                200,
                {
                    "id": "c",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": chunk(usage=True)["usage"],
                },
            )
        return self._stream(fault=model)

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        self._raw(status, "application/json", json.dumps(payload).encode(), headers)

    def _raw(self, status: int, content_type: str, data: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _event(self, payload: dict | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self._send_chunk(f"data: {text}\n\n".encode())

    def _stream(self, fault: str = "", cookie: str = "", words: tuple[str, ...] = WORDS) -> None:
        """Chunked SSE, so a connection closed before the last chunk is a real protocol break."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        for word in words:
            self._event(chunk(word))
            if fault == "malformed-chunk":
                return self._event('{"id": "c", "choices": [')  # cut JSON, and no end of the body
        if fault == "hang-mid-stream":
            time.sleep(HANG_S)
            return None
        if fault == "drop-mid-stream":
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if fault != "no-finish":
            self._event(chunk(finish="stop", usage=fault != "no-usage"))
            self._event("[DONE]")
        self._send_chunk(b"")  # the clean end of a chunked body


def masked(authorization: str) -> str:
    """A key as providers echo it in a 401: its first 6 and last 4 characters around stars."""
    key = authorization.removeprefix("Bearer ")
    return f"{key[:6]}****{key[-4:]}" if len(key) > 10 else "****"


@contextmanager
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def provider_toml(base_url: str, models: list[str], provider: str = "faulty") -> str:
    """A catalog file declaring the fake server as a provider, with one model per fault."""
    lines = [
        f'[providers.{provider}]\nname = "Faulty"\nkind = "openai-compat"\nbase_url = "{base_url}"\n'
        f'key_env = "FAULTY_API_KEY"\nkey_optional = true\n'
    ]
    for model in models:
        lines.append(
            f'[[models]]\nid = "{model}"\nname = "{model}"\ntasks = ["generate"]\nopenness = "closed"\n'
            f'license = "proprietary"\nprovider = "{provider}"\nbackend = "openai-compat"\n'
            f'source = "{model}"\n'
        )
    return "\n".join(lines)
