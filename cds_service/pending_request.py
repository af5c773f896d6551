"""One request being collected by the buffering worker: its bytes so far, its deadlines, its verdict.

Two deadlines, both counted from a fixed moment rather than from the last byte: the header block must be
complete `header_seconds` after the connection is taken up (accepted, or readable again after a kept-alive
request), and the body `body_seconds` after the headers are complete. A timeout that restarts on every byte
(nginx's `client_body_timeout`, a socket timeout) does not stop a client that sends one byte every few
seconds; a deadline does, whatever its pace.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.request_framing import Framing, FramingError, chunked_progress, framing, header_end

WAIT = 0
READY = 1
CLOSE_IDLE = 2  # the deadline passed before the first byte: close without an answer (RFC 9112 9.5)
CHUNK_OVERHEAD_BYTES = 64 * 1024  # chunk-size lines and trailers a chunked body may add to its data


@dataclass(frozen=True)
class ReadLimits:
    """What a client may take to send a request, and how much of it is held in memory."""

    header_seconds: float = 10.0
    body_seconds: float = 30.0
    max_header_bytes: int = 64 * 1024
    max_body_bytes: int = 5 * 1024 * 1024
    # Bytes one worker holds for requests still arriving; past it, the reader whose bytes crossed it is
    # refused (503), so many large slow bodies cannot exhaust memory. `server.read_limits` raises it to
    # eight bodies at the limit when BONEMET_MAX_BODY_BYTES is large.
    max_buffered_bytes: int = 64 * 1024 * 1024


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class PendingRequest:
    """The bytes of one request as they arrive; `verdict()` says wait, ready, or refuse with a status."""

    def __init__(self, limits: ReadLimits, now: float, data: bytes = b"") -> None:
        self.limits = limits
        self.data = bytearray(data)
        self.started = now
        self.deadline = now + limits.header_seconds
        self.body_start: int | None = None
        self.framing: Framing | None = None
        self.continue_sent = False
        self._headers_searched = 0  # the header block's end is not before this offset
        self._chunks_walked = 0  # offset of the first chunk not yet walked (chunked bodies)

    def add(self, chunk: bytes) -> None:
        self.data += chunk

    def verdict(self, now: float) -> int:
        """WAIT, READY, CLOSE_IDLE, or the HTTP status to refuse with (400, 408, 413, 431)."""
        try:
            if self._complete(now):
                return READY
        except FramingError:
            return 400
        except _Refused as refused:
            return refused.status
        if now < self.deadline:
            return WAIT
        return 408 if self.data else CLOSE_IDLE

    def wants_continue(self) -> bool:
        """The client asked for `100 Continue` before sending its body, and has not had it yet."""
        found = self.framing
        return found is not None and found.expect_continue and found.has_body and not self.continue_sent

    def _complete(self, now: float) -> bool:
        if self.body_start is None and not self._headers_complete(now):
            return False
        return self._body_complete()

    def _headers_complete(self, now: float) -> bool:
        end = header_end(self.data, self._headers_searched)
        self._headers_searched = max(0, len(self.data) - 3)  # a blank line may straddle two reads
        if end is None or end > self.limits.max_header_bytes:
            if len(self.data) > self.limits.max_header_bytes:
                raise _Refused(431)
            return False
        self.framing = framing(bytes(self.data[:end]))
        if self.framing.length > self.limits.max_body_bytes:
            raise _Refused(413)
        self.body_start = self._chunks_walked = end
        self.deadline = now + self.limits.body_seconds
        return True

    def _body_complete(self) -> bool:
        assert self.framing is not None and self.body_start is not None
        received = len(self.data) - self.body_start
        if self.framing.chunked:
            if received > self.limits.max_body_bytes + CHUNK_OVERHEAD_BYTES:
                raise _Refused(413)
            self._chunks_walked, ended = chunked_progress(self.data, self._chunks_walked)
            return ended
        return received >= self.framing.length
