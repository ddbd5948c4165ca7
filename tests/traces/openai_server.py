"""A real OpenAI-compatible chat-completions server for tests, on 127.0.0.1 (stdlib ``http.server``).

It answers ``POST /v1/chat/completions`` in the OpenAI format (``choices[0].message.content``,
``finish_reason``, ``usage``), honours ``stop`` as the API does (the matched stop string is left
out of the content) and records every request. What it says is decided by a ``reply`` callable
of the request body, so each test scripts its own teacher; ``failures`` makes the first N
requests answer 503 with ``Retry-After: 0``; ``delay_s`` slows every answer (concurrency and
timeout tests).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ChatServer:
    """Start with ``with ChatServer(reply) as server:``; ``server.base_url`` ends in ``/v1``."""

    def __init__(self, reply: Callable[[dict[str, Any]], str], *, failures: int = 0, delay_s: float = 0.0):
        self.reply = reply
        self.failures = failures
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with server._lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    fail = server.failures > 0
                    server.failures -= fail
                try:
                    time.sleep(server.delay_s)
                    if self.path != "/v1/chat/completions":
                        return self._send(404, {"error": {"message": f"no route {self.path}"}})
                    if fail:
                        return self._send(503, {"error": {"message": "busy"}}, {"Retry-After": "0"})
                    text = server.reply(body)
                    for stop in body.get("stop") or []:  # the API leaves the matched stop string out
                        if stop in text:
                            text = text[: text.index(stop)]
                    message = {"role": "assistant", "content": text}
                    usage = {"prompt_tokens": 10, "completion_tokens": len(text.split())}
                    answer = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                        "usage": usage,
                    }
                    return self._send(200, answer)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client left
                    self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
