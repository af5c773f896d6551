"""The buffering worker in this process, driven by hand: real sockets, gunicorn's real thread pool and
parser, a tiny WSGI app. Covers what is awkward through a whole server: the per-worker memory cap, and
that a request is handed to a thread only once complete. Through the production server:
tests/security/test_slow_clients.py."""

from __future__ import annotations

import os
import selectors
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import TConn

from cds_service.pending_request import ReadLimits
from cds_service.server import worker_class

SECONDS = 10.0  # a bound on each loop below, never an expectation


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self.lines.append(" ".join(str(a) for a in args))


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def worker(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A worker whose deadlines are `deadline` seconds (parametrize indirectly; default 30)."""
    deadline = getattr(request, "param", 30.0)
    cfg = Config()
    cfg.set("threads", 2)
    limits = ReadLimits(
        header_seconds=deadline, body_seconds=deadline, max_body_bytes=10_000, max_buffered_bytes=12_000
    )
    made = worker_class(limits)(0, os.getpid(), [], None, 30, cfg, _Log())
    made.wsgi = _app
    made.tpool = made.get_thread_pool()
    made.poller = selectors.DefaultSelector()
    made.method_queue.init()
    made.poller.register(made.method_queue.fileno(), selectors.EVENT_READ, made.method_queue.run_callbacks)
    yield made
    made.tpool.shutdown(wait=True)
    made.poller.close()
    made.method_queue.close()
    made.tmp.close()


def _connect(worker: Any) -> socket.socket:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        bound = listener.getsockname()
        client = socket.create_connection(bound, timeout=SECONDS)
        server_side, address = listener.accept()
    worker.nr_conns += 1
    worker.enqueue_req(TConn(worker.cfg, server_side, address, bound))
    return client


def _turn(worker: Any, rounds: int = 10) -> None:
    for _ in range(rounds):
        worker.wait_for_and_dispatch_events(timeout=0.05)
        worker.murder_pending()


def _answer(worker: Any, client: socket.socket) -> bytes:
    client.setblocking(False)
    received = b""
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        _turn(worker, 1)
        try:
            chunk = client.recv(65536)
        except BlockingIOError:
            continue
        if not chunk:
            break
        received += chunk
        if b"\r\n\r\n" in received and received.endswith(b"hello"):
            break
    return received


def test_a_request_reaches_the_app_only_once_its_body_is_complete(worker: Any) -> None:
    client = _connect(worker)
    client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel")
    _turn(worker)
    assert worker.nr == 0 and len(worker._reading) == 1  # no thread has seen it
    client.sendall(b"lo")
    answer = _answer(worker, client)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"hello")
    assert worker.nr == 1 and worker._reading == {}
    client.close()


def test_the_reader_that_crosses_the_memory_cap_is_refused_and_the_others_kept(worker: Any) -> None:
    first, second = _connect(worker), _connect(worker)
    first.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9000\r\n\r\n" + b"a" * 7000)
    _turn(worker)
    second.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9000\r\n\r\n" + b"b" * 7000)
    _turn(worker)
    second.settimeout(SECONDS)
    assert second.recv(4096).startswith(b"HTTP/1.1 503 ")
    assert list(worker._reading) and worker._buffered < 12_000  # the first is still being read
    first.close()
    second.close()


@pytest.mark.parametrize("worker", [0.5], indirect=True)
def test_a_client_past_its_deadline_gets_408_and_frees_its_buffer(worker: Any) -> None:
    client = _connect(worker)
    client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhe")
    end = time.monotonic() + SECONDS
    while worker._reading and time.monotonic() < end:
        _turn(worker, 1)
    client.settimeout(SECONDS)
    assert client.recv(4096).startswith(b"HTTP/1.1 408 ")
    assert worker._buffered == 0 and worker.nr_conns == 0 and worker.nr == 0
    client.close()
