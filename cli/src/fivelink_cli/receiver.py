"""A local webhook receiver that verifies fivelink's signatures (demo and tests use it)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fivelink_notifier.signing import SignatureError, verify


@dataclass
class Received:
    path: str
    payload: dict[str, Any]
    verified: bool


@dataclass
class WebhookReceiver:
    """Accepts POSTs on 127.0.0.1; answers 401 to a bad signature, 200 otherwise."""

    secret: str
    port: int = 0
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0  # answer this many requests with 503 first (retry tests)
    delay_s: float = 0.0  # think this long before answering (a slow partner)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                with receiver._lock:
                    if receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        self.send_response(503)
                        self.end_headers()
                        return
                try:
                    verify(receiver.secret, dict(self.headers.items()), body)
                    ok = True
                except SignatureError:
                    ok = False
                with receiver._lock:
                    receiver.received.append(Received(self.path, json.loads(body or b"{}"), ok))
                self.send_response(200 if ok else 401)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.payload for r in self.received if r.verified]
