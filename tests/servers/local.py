"""Local servers tests start in a thread: an HTTP server recording what is POSTed (for
webhooks and the OpenLineage http transport) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorder:
    """What a server received; answers `failures` requests with HTTP 500 first."""

    failures: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[Any]:
        with self.lock:
            return [request["body"] for request in self.requests]


@contextmanager
def http_server(failures: int = 0) -> Iterator[tuple[str, Recorder]]:
    """An HTTP server on 127.0.0.1 (a free port) recording JSON POSTs; yields its URL."""
    recorder = Recorder(failures=failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            with recorder.lock:
                refuse = recorder.refused < recorder.failures
                if refuse:
                    recorder.refused += 1
                else:
                    recorder.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                    )
            self.send_response(500 if refuse else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    """An aiosmtpd server on 127.0.0.1; yields its port and the messages it received."""
    import socket
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            message = message_from_bytes(envelope.original_content)
            received.append((envelope.rcpt_tos, message))
            return "250 OK"

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()
