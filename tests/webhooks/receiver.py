"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 that verifies every message with
the ``standardwebhooks`` package and answers as it is told (ok, 500, hang, close, redirect)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    payload: Any


@dataclass
class Receiver:
    """Behaviours are taken in order from ``script``; when it is empty, ``then`` answers."""

    secret: str | None = None
    script: list[str] = field(default_factory=list)
    then: str = "ok"
    hang_seconds: float = 30.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    on_request: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def verified(self) -> list[Received]:
        with self.lock:
            return [item for item in self.received if item.verified]

    def next_behaviour(self) -> str:
        with self.lock:
            return self.script.pop(0) if self.script else self.then

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                verified, payload = False, None
                if receiver.secret is not None:
                    try:
                        payload = Webhook(receiver.secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError:
                        verified = False
                behaviour = receiver.next_behaviour()
                with receiver.lock:
                    receiver.received.append(Received(headers, body, verified, payload))
                if receiver.on_request is not None:
                    receiver.on_request()
                if behaviour == "hang":
                    time.sleep(receiver.hang_seconds)
                    return
                if behaviour == "close":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if behaviour == "redirect":
                    self.send_response(307)
                    self.send_header("location", receiver.url + "/elsewhere")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                status = 500 if behaviour == "fail" else 200
                answer = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
