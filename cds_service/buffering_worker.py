"""The gunicorn worker of the production server: gthread, with each request read whole before a thread
gets it.

gunicorn's gthread worker gives a connection to a thread as soon as its first byte arrives, and the thread
then blocks until the headers and body are in. Sixteen clients sending a header byte every two seconds
held every thread of a two-worker server and stopped all other calls (issue 11). gunicorn's advice is a
buffering reverse proxy (nginx) in front; this worker does the same buffering inside gunicorn, so the
defence ships with the package and is on wherever `bonemet-cds serve` runs (the image, `make run`, a
plain `pip install`), with no second process to install, configure and supervise.

The worker's event loop (the thread that accepts connections) reads every request, without blocking,
into memory (`PendingRequest`); only a complete request goes to the thread pool, where gunicorn parses it
from memory and runs the app. A slow client therefore costs a socket and a buffer, not a thread, and is
cut off by two deadlines (`ReadLimits`): 408 when its headers are not complete `header_seconds` after it
was taken up, or its body `body_seconds` after its headers. Oversized headers get 431, bodies over the
body limit 413, unreadable framing 400, all without a thread. Plain HTTP/1.1 only: the service does not
terminate TLS or speak HTTP/2 itself (a TLS proxy does), and this worker refuses to start if asked to.
"""

from __future__ import annotations

import selectors
import time
from functools import partial
from typing import Any, ClassVar

from gunicorn.workers.gthread import ThreadWorker

from cds_service.pending_request import CLOSE_IDLE, READY, WAIT, PendingRequest, ReadLimits

RECV_BYTES = 1024 * 1024  # one recv per wake-up where possible: each one waits for the GIL again
SWEEP_SECONDS = 0.25
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


ERRORS = {
    400: ("invalid-request", "malformed transfer framing: the request body cannot be read"),
    408: ("request-timeout", "the request did not arrive within the read deadline"),
    413: ("payload-too-large", "the request body is larger than the service accepts"),
    431: ("request-header-fields-too-large", "the request headers are larger than 64 KiB"),
    503: ("service-unavailable", "too many requests still arriving; try again"),
}
"""The service's error shape (`cds_service.errors`): a code and a message that names the problem."""


def refusal(status: int) -> bytes:
    """The whole answer to a request refused while it was being read; the connection closes after it."""
    code, message = ERRORS[status]
    body = b'{"error":"%s","message":"%s"}' % (code.encode(), message.encode())
    head = (
        f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class BufferingThreadWorker(ThreadWorker):
    """`cds_service.server.serve` sets `limits` on a subclass before the workers are forked."""

    limits: ClassVar[ReadLimits] = ReadLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading: dict[Any, PendingRequest] = {}
        self._buffered = 0
        self._next_sweep = 0.0

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        super().check_config(cfg, log)
        if cfg.is_ssl or cfg.http2_cleartext != "off" or "h2" in cfg.http_protocols:
            raise RuntimeError("the buffering worker reads plain HTTP/1.1 only: terminate TLS at a proxy")

    def enqueue_req(self, conn: Any) -> None:
        """Every path by which gthread hands a connection to a thread (accepted, readable again after a
        kept-alive request, bytes of a pipelined request already read) comes here to be read first."""
        leftover = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        pending = PendingRequest(self.limits, time.monotonic(), leftover)
        conn.sock.setblocking(False)
        if pending.verdict(time.monotonic()) == WAIT:
            self._reading[conn] = pending
            self._buffered += len(leftover)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
            self._send_continue(conn, pending)
        else:
            self._settle(conn, pending)

    def _on_readable(self, conn: Any, _fileobj: Any) -> None:
        pending = self._reading.get(conn)
        if pending is None:  # settled earlier in the same batch of events
            return
        try:
            chunk = conn.sock.recv(RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away before its request was complete: nobody to answer
            if pending.data:
                self.log.info("a client closed its connection before its request was complete")
            self._forget(conn)
            self._close(conn)
            return
        pending.add(chunk)
        self._buffered += len(chunk)
        if self._buffered > self.limits.max_buffered_bytes:
            self._forget(conn)
            self._refuse(conn, 503)
            return
        verdict = pending.verdict(time.monotonic())
        if verdict == WAIT:
            self._send_continue(conn, pending)
        else:
            self._forget(conn)
            self._settle(conn, pending, verdict)

    def murder_pending(self) -> None:
        """Called by gthread's loop about once a second and after every batch of events: also cut off
        the clients whose deadline has passed. A stopping worker closes at once the connections that have
        not sent a byte; requests already arriving keep their deadline (within the graceful timeout)."""
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_sweep and self.alive:
            return
        self._next_sweep = now + SWEEP_SECONDS
        for conn, pending in list(self._reading.items()):
            verdict = pending.verdict(now)
            if verdict == WAIT and not self.alive and not pending.data:
                verdict = CLOSE_IDLE
            if verdict != WAIT:
                self._forget(conn)
                self._settle(conn, pending, verdict)

    def handle_request(self, req: Any, conn: Any) -> Any:
        if getattr(conn, "continue_sent", False):
            req._expected_100_continue = False  # the body is here: it was answered while reading
        return super().handle_request(req, conn)

    def _settle(self, conn: Any, pending: PendingRequest, verdict: int | None = None) -> None:
        verdict = pending.verdict(time.monotonic()) if verdict is None else verdict
        if verdict == READY:
            self._dispatch(conn, pending)
        elif verdict == CLOSE_IDLE:
            self._close(conn)
        else:
            self._refuse(conn, verdict)

    def _dispatch(self, conn: Any, pending: PendingRequest) -> None:
        conn.data_ready = True  # gthread's own wait for a first byte is not needed
        conn.continue_sent = pending.continue_sent
        conn.init()  # plain HTTP/1.1 (check_config): creates the parser, reads nothing
        conn.parser.unreader.unread(bytes(pending.data))
        super().enqueue_req(conn)

    def _send_continue(self, conn: Any, pending: PendingRequest) -> None:
        if pending.wants_continue():
            pending.continue_sent = True
            try:
                conn.sock.send(CONTINUE)
            except OSError:
                pass  # a client that cannot take 25 bytes will reach its deadline

    def _forget(self, conn: Any) -> None:
        pending = self._reading.pop(conn)
        self._buffered -= len(pending.data)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _refuse(self, conn: Any, status: int) -> None:
        self.log.info("refused a request while reading it: %s %s", status, REASONS[status])
        try:
            conn.sock.send(refusal(status))
        except OSError:
            pass
        self._close(conn)

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()
