"""Slow clients and a normal client, on loopback, for the slow-client benchmark and its test.

`Tricklers` opens many connections, sends each an opening (a request line and some headers, or a whole
header block announcing a body) and then one byte per connection every `interval` seconds, for at most
`give_up_after` seconds, from a single thread. It records, per connection, when the server cut it off
(closed it, reset it, or answered, e.g. 408) counted from the moment the connection was opened.
`NormalCalls` makes hook calls one after another on a kept-alive session and records each one's status,
whether it carried cards, and its latency.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

HOOK_PATH = "/cds-services/bonemet-patient-view"


def header_opening(port: int) -> bytes:
    """A request whose header block never ends: one more header byte per tick."""
    return f"POST {HOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode()


def body_opening(port: int, length: int = 100_000) -> bytes:
    """A complete header block announcing a body that then arrives one byte per tick."""
    return (
        f"POST {HOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n{{"
    ).encode()


@dataclass
class SlowClient:
    sock: socket.socket
    opened: float
    cut_after: float | None = None
    answer: bytes = b""
    bytes_sent: int = 0

    @property
    def status(self) -> int | None:
        """The status of the server's answer when it sent one before closing (408), else None."""
        parts = self.answer.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


class Tricklers:
    def __init__(self, port: int, count: int, opening: bytes, interval: float, give_up_after: float) -> None:
        self.port, self.count, self.opening = port, count, opening
        self.interval, self.give_up_after = interval, give_up_after
        self.clients: list[SlowClient] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Tricklers:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            sock.sendall(self.opening)
            sock.setblocking(False)
            self.clients.append(SlowClient(sock, time.monotonic(), bytes_sent=len(self.opening)))
        self._thread.start()
        return self

    def open_count(self) -> int:
        return sum(1 for client in self.clients if client.cut_after is None)

    def wait(self, timeout: float) -> bool:
        """Wait until every client was cut off or gave up; True when the trickling thread has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for client in self.clients:
            client.sock.close()

    def cut_times(self) -> list[float]:
        return sorted(c.cut_after for c in self.clients if c.cut_after is not None)

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            for client in self.clients:
                selector.register(client.sock, selectors.EVENT_READ, client)
            end = min(c.opened for c in self.clients) + self.give_up_after
            next_tick = time.monotonic() + self.interval
            while self.open_count() and not self._stop.is_set() and time.monotonic() < end:
                for key, _ in selector.select(timeout=max(0.0, next_tick - time.monotonic())):
                    self._read(selector, key.data)
                if time.monotonic() >= next_tick:
                    next_tick += self.interval
                    for client in self.clients:
                        if client.cut_after is None:
                            self._send_one(selector, client)

    def _read(self, selector: selectors.BaseSelector, client: SlowClient) -> None:
        try:
            data = client.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        client.answer += data
        if not data or client.status is not None:
            self._cut(selector, client)

    def _send_one(self, selector: selectors.BaseSelector, client: SlowClient) -> None:
        try:
            client.bytes_sent += client.sock.send(b"a")
        except OSError:
            self._cut(selector, client)

    def _cut(self, selector: selectors.BaseSelector, client: SlowClient) -> None:
        client.cut_after = time.monotonic() - client.opened
        selector.unregister(client.sock)


@dataclass
class Call:
    started: float
    seconds: float
    status: int | None
    cards: int
    error: str = ""


@dataclass
class NormalCalls:
    """Hook calls back to back; `authorize(url)` gives the Authorization header (None: no header)."""

    base_url: str
    body: bytes
    authorize: Callable[[str], str] | None = None
    timeout: float = 10.0
    calls: list[Call] = field(default_factory=list)

    def run(self, max_calls: int, max_seconds: float) -> list[Call]:
        """At most `max_calls` calls within `max_seconds`; returns the calls made by this run."""
        session = requests.Session()
        made: list[Call] = []
        end = time.monotonic() + max_seconds
        while len(made) < max_calls and time.monotonic() < end:
            made.append(self._one(session))
        session.close()
        self.calls.extend(made)
        return made

    def _one(self, session: requests.Session) -> Call:
        url = self.base_url + HOOK_PATH
        headers = {"Content-Type": "application/json"}
        if self.authorize is not None:
            headers["Authorization"] = self.authorize(url)
        started = time.monotonic()
        try:
            response = session.post(url, data=self.body, headers=headers, timeout=self.timeout)
            cards = len(response.json().get("cards", [])) if response.status_code == 200 else 0
            return Call(started, time.monotonic() - started, response.status_code, cards)
        except (requests.RequestException, ValueError) as exc:
            return Call(started, time.monotonic() - started, None, 0, type(exc).__name__)


def p95_ms(calls: list[Call]) -> float | None:
    if not calls:
        return None
    ordered = sorted(call.seconds for call in calls)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2)
