"""HTTP exchanges that end at their deadline, whatever the peer does.

requests' timeouts bound each socket read, not the exchange: a peer that trickles its status line, its
headers or its body a byte at a time holds the calling thread for as long as it trickles (LIBRARIES.md
measured 5 s past a 1 s timeout; issue 11 saw 30-60 s on a JWK Set endpoint and a FHIR server). Checking
the clock between body chunks does not help while the headers are still arriving. So every exchange runs
under a deadline kept by one watchdog thread, which shuts down the socket of an exchange still running at
its deadline: the blocked read returns at once, in the status line, the headers or the body. (Connecting
is bounded by the connect timeout, which is a single wait, not a trickle.)

Sockets are found through urllib3's pool (`_get_conn` / `_put_conn`) and connections (`connect`), so the
watchdog only ever touches a socket while the exchange that took it still holds it: once back in the
pool, serving someone else, it is out of reach of the old deadline.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

log = logging.getLogger(__name__)
_EXCHANGE_ATTR = "_bonemet_exchange"
_current = threading.local()


class Exchange:
    """One request-response under a deadline: the sockets it holds, and whether it was cut off.

    Sockets are recorded per connection when the connection is taken from the pool (a kept-alive one)
    or connects. The socket is kept here, not looked up on the connection at the deadline, because
    http.client drops the connection's reference to it for a response read until the server closes
    (no Content-Length): the body is then read from a socket only the response still knows.
    """

    def __init__(self, deadline: float, *, fresh_connection: bool = False) -> None:
        self.deadline = deadline
        self.fresh_connection = fresh_connection
        self.aborted = False
        self.reused_connection = False
        self.finished = False
        self._lock = threading.Lock()
        self._sockets: dict[Any, Any] = {}

    def attach(self, conn: Any) -> None:
        with self._lock:
            if self.fresh_connection and getattr(conn, "sock", None) is not None:
                conn.close()  # a retry after a stale keep-alive connection must not take another one
            self.reused_connection = getattr(conn, "sock", None) is not None
            setattr(conn, _EXCHANGE_ATTR, self)
            self._record(conn)

    def connected(self, conn: Any) -> None:
        with self._lock:
            self._record(conn)

    def _record(self, conn: Any) -> None:
        sock = getattr(conn, "sock", None)
        if sock is None:
            return
        self._sockets[conn] = sock
        if self.aborted:
            _shut_down(sock)

    def detach(self, conn: Any) -> None:
        with self._lock:
            self._sockets.pop(conn, None)
            if getattr(conn, _EXCHANGE_ATTR, None) is self:
                setattr(conn, _EXCHANGE_ATTR, None)

    def abort(self) -> None:
        """Cut the exchange off: called by the watchdog at the deadline, from its own thread."""
        with self._lock:
            if self.finished:
                return
            self.aborted = True
            for sock in self._sockets.values():
                _shut_down(sock)


def _shut_down(sock: Any) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer or by urllib3


class _Watchdog:
    """One thread for every deadline of the process: a heap of exchanges ordered by deadline."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Exchange]] = []
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, exchange: Exchange) -> None:
        with self._cond:
            heapq.heappush(self._heap, (exchange.deadline, next(self._sequence), exchange))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="http-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, _, exchange = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            exchange.abort()


_WATCHDOG = _Watchdog()


@contextmanager
def exchange_until(deadline: float, *, fresh_connection: bool = False) -> Iterator[Exchange]:
    """Run the requests made in this block (on a `deadline_session`, in this thread) under `deadline`."""
    exchange = Exchange(deadline, fresh_connection=fresh_connection)
    previous = getattr(_current, "exchange", None)
    _current.exchange = exchange
    _WATCHDOG.watch(exchange)
    try:
        yield exchange
    finally:
        with exchange._lock:
            exchange.finished = True
        _current.exchange = previous


def _attach(conn: Any) -> None:
    exchange = getattr(_current, "exchange", None)
    if exchange is not None and conn is not None:
        exchange.attach(conn)


def _detach(conn: Any) -> None:
    exchange = getattr(conn, _EXCHANGE_ATTR, None) if conn is not None else None
    if exchange is not None:
        exchange.detach(conn)


def _connected(conn: Any) -> None:
    exchange = getattr(conn, _EXCHANGE_ATTR, None)
    if exchange is not None:
        exchange.connected(conn)


class _TrackedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _connected(self)


class _TrackedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _connected(self)


class _TrackingPool:
    """Mixed into urllib3's pools: a connection is watched while an exchange holds it, never in the pool."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        _attach(conn)
        return conn

    def _put_conn(self, conn: Any) -> None:
        _detach(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class _TrackedHTTPConnectionPool(_TrackingPool, HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSConnectionPool(_TrackingPool, HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


class _TrackingAdapter(HTTPAdapter):
    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _TrackedHTTPConnectionPool,
            "https": _TrackedHTTPSConnectionPool,
        }


def deadline_session(pool_maxsize: int = 10) -> requests.Session:
    """A Session whose requests can be cut off by `exchange_until`, ignoring proxy environment variables
    (so HTTP(S)_PROXY cannot route a request around the allow-lists)."""
    session = requests.Session()
    session.trust_env = False
    adapter = _TrackingAdapter(pool_connections=10, pool_maxsize=pool_maxsize)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def is_stale_connection_failure(exc: BaseException, exchange: Exchange) -> bool:
    """A request that failed on a kept-alive connection before any answer came back: the server closed
    the idle connection as the request went out (its keep-alive timer and our reuse crossed). Nothing
    was processed, so an idempotent read may be sent again on a fresh connection."""
    return (
        isinstance(exc, requests.ConnectionError)
        and not isinstance(exc, requests.Timeout)
        and exchange.reused_connection
        and not exchange.aborted
    )
