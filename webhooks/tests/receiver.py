"""A real HTTP receiver on 127.0.0.1 for the tests: records each request, answers as told.

Each delivery it gets is verified with the ``standardwebhooks`` package from PyPI, as any
receiver would verify it.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    def verify(self, secret: str) -> dict:
        """The payload, once the signature checked out with ``secret`` (raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    """Answers with ``statuses`` in turn (then ``default_status``); ``headers`` go on every answer."""

    default_status: int = 200
    statuses: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    # HTTP/1.1 keeps connections open; closing_silently drops each one after its answer
    # without saying so (as a receiver whose idle timeout just passed).
    keep_alive: bool = False
    closing_silently: bool = False
    received: list[Received] = field(default_factory=list)
    client_ports: list[int] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    @property
    def payloads(self) -> list[dict]:
        return [request.payload for request in self.received]

    @property
    def types(self) -> list[str]:
        return [payload["type"] for payload in self.payloads]

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            @property
            def protocol_version(self):
                return "HTTP/1.1" if receiver.keep_alive else "HTTP/1.0"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                receiver.client_ports.append(self.client_address[1])
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                self.send_response(status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)
                if receiver.closing_silently:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
