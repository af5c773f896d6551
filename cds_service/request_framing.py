"""When has an HTTP/1.1 request fully arrived? Read from its bytes, before any thread is given to it.

The buffering worker (`cds_service.buffering_worker`) collects each request in its event loop and hands it
to a thread only once it is complete, so a client that sends slowly costs a socket and a buffer, never a
thread. For that it needs the end of the header block and the end of the body (Content-Length or chunked)
and nothing else: gunicorn's own parser still parses the request, in the thread, from memory.

Framing this module cannot read unambiguously (two different lengths, a length that is not a number,
Transfer-Encoding whose last coding is not chunked, a malformed chunk) is refused with 400 here rather
than handed on: a request whose end is unknown would have the thread wait on the client, which is the
very thing this buffering prevents, and ambiguous framing is also how requests are smuggled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_MAX_CHUNK_LINE = 4096
_MAX_TRAILERS = 16 * 1024


class FramingError(ValueError):
    """The request's framing cannot be read; the answer is 400 and the connection is closed."""


@dataclass(frozen=True)
class Framing:
    """How the body of one request is delimited, read from its header block."""

    chunked: bool = False
    length: int = 0
    expect_continue: bool = False

    @property
    def has_body(self) -> bool:
        return self.chunked or self.length > 0


def header_end(buffer: bytes | bytearray, start: int = 0) -> int | None:
    """Offset just past the blank line that ends the header block, or None while it has not arrived.
    `start`: where to look from (bytes before it were searched already; pass the old length minus 3).

    A bare-LF blank line also ends it (gunicorn then refuses the request), so such a client is answered at
    once instead of waiting out the header deadline."""
    found = [end + len(mark) for mark in (b"\r\n\r\n", b"\n\n") if (end := buffer.find(mark, start)) >= 0]
    return min(found) if found else None


def framing(head: bytes) -> Framing:
    """The body framing declared by a complete header block (request line included)."""
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    http11 = lines[0].rstrip().endswith(b"HTTP/1.1")
    lengths: list[bytes] = []
    codings: list[bytes] = []
    expect = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            codings.extend(c.strip().lower() for c in value.split(b","))
        elif name == b"expect":
            expect = value.lower() == b"100-continue"
    if codings:
        if lengths or codings[-1] != b"chunked":
            raise FramingError("Transfer-Encoding must end with chunked and come without Content-Length")
        return Framing(chunked=True, expect_continue=expect and http11)
    if not lengths:
        return Framing()
    if len(set(lengths)) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 15:
        raise FramingError("Content-Length must be one decimal number")
    return Framing(length=int(lengths[0]), expect_continue=expect and http11)


def chunked_progress(buffer: bytes | bytearray, position: int) -> tuple[int, bool]:
    """Walk the complete chunks of a chunked body from `position` (the start of a chunk-size line).

    Returns where the walk stopped and whether the body (last chunk and trailers) ended there. The caller
    resumes from that offset when more bytes arrive, so a body of many tiny chunks is walked once, not
    once per read. Raises FramingError on a malformed chunk or an overlong chunk line or trailer section.
    """
    while True:
        line_end = _line_end(buffer, position)
        if line_end is None:
            return position, False
        size_text = bytes(buffer[position:line_end]).split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise FramingError("chunk size is not a hexadecimal number")
        size, data_start = int(size_text, 16), line_end + 2
        if size == 0:
            end = _trailers_end(buffer, data_start)
            return (end, True) if end is not None else (position, False)
        if len(buffer) < data_start + size + 2:
            return position, False
        if buffer[data_start + size : data_start + size + 2] != b"\r\n":
            raise FramingError("chunk data is not followed by CRLF")
        position = data_start + size + 2


def _trailers_end(buffer: bytes | bytearray, start: int) -> int | None:
    position = start
    while True:
        line_end = _line_end(buffer, position)
        if line_end is None:
            if len(buffer) - start > _MAX_TRAILERS:
                raise FramingError("trailer section too long")
            return None
        if line_end == position:
            return position + 2
        position = line_end + 2


def _line_end(buffer: bytes | bytearray, position: int) -> int | None:
    line_end = buffer.find(b"\r\n", position)
    if line_end < 0:
        if len(buffer) - position > _MAX_CHUNK_LINE:
            raise FramingError("chunk line too long")
        return None
    if line_end - position > _MAX_CHUNK_LINE:
        raise FramingError("chunk line too long")
    return line_end
