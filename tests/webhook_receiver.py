"""A real HTTP receiver on 127.0.0.1 for webhook tests and the bench: records each request
(time, headers, body) and answers with scripted status codes; and `FAST`, the delivery
settings the tests' dispatcher uses (the `dispatcher` fixture, tests/conftest.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from changes.webhook_settings import WebhookSettings

# retries within a second: an operator allow-list for this machine's loopback
FAST = WebhookSettings(
    allowed_networks=["127.0.0.1/32"],
    max_attempts=3,
    backoff_base_seconds=0.3,
    backoff_jitter=0.0,
    poll_seconds=0.05,
    timeout_seconds=2.0,
)


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # status codes to answer, in order; 200 once the script runs out
    script: list[int] = field(default_factory=list)
    # seconds to hold each request before answering (a slow subscriber)
    delay: float = 0.0
    # seconds between the bytes of each answer's body (a subscriber answering a byte at a time)
    drip: float = 0.0
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def wait_for(self, count: int, within: float = 10.0) -> list[Received]:
        """Polls a list the server thread fills, so the event loop (and the app's delivery
        worker on it) keeps running meanwhile."""
        deadline = time.monotonic() + within
        while len(self.requests) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        with self.arrived:
            return list(self.requests)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with receiver.arrived:
                status = receiver.script.pop(0) if receiver.script else 200
                receiver.requests.append(Received(time.time(), dict(self.headers.items()), body))
                receiver.arrived.notify_all()
            time.sleep(receiver.delay)
            answer = b"ok" * 10 if receiver.drip else b""
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            for byte in answer:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(receiver.drip)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default 5 overflows under load: 1 s SYN retries
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


async def subscribe(
    http: httpx.AsyncClient, headers: dict[str, str], url: str, event_types: list[str]
) -> str:
    """A webhook subscription of the caller's to `url` (201 or the test fails); its id."""
    body = {"url": url, "event_types": event_types}
    made = await http.post("/v1/subscriptions", json=body, headers=headers)
    assert made.status_code == 201, made.text
    subscription_id: str = made.json()["id"]
    return subscription_id
