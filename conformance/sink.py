"""A loopback HTTP sink for the recording scripts: it keeps every request as it arrived
(method, path, headers in arrival order, raw body text or None when there was no body)
and answers 200 with a fixed JSON body.

    sink = Sink(reply=b'{"ok": true}', content_type="application/json")
    ... point the reference at sink.server_address ...
    requests = sink.take()
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, reply: bytes = b'{"ok": true}', content_type: str = "application/json") -> None:
        super().__init__(("127.0.0.1", 0), SinkHandler)
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.reply = reply
        self.content_type = content_type

    def take(self) -> list[dict]:
        with self.lock:
            taken, self.requests = self.requests, []
        return taken


class SinkHandler(BaseHTTPRequestHandler):
    server: Sink

    def _record(self) -> None:
        headers = [[k, v] for k, v in self.headers.items()]
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            raise RuntimeError("the sink does not expect chunked bodies")
        raw = self.rfile.read(int(length)) if length is not None else None
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": headers,
            "body": None if raw is None else raw.decode("utf-8"),
        }
        with self.server.lock:
            self.server.requests.append(entry)
        self.send_response(200)
        self.send_header("Content-Type", self.server.content_type)
        self.send_header("Content-Length", str(len(self.server.reply)))
        self.end_headers()
        self.wfile.write(self.server.reply)

    do_GET = _record
    do_POST = _record

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass
