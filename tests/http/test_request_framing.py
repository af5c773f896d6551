"""Reading where a request ends, and the read deadlines, without a server (cds_service.request_framing,
cds_service.pending_request). The same behaviour through the production server: tests/security/
test_slow_clients.py."""

from __future__ import annotations

import pytest

from cds_service.pending_request import CLOSE_IDLE, READY, WAIT, PendingRequest, ReadLimits
from cds_service.request_framing import Framing, FramingError, chunked_progress, framing, header_end

HEAD = b"POST /x HTTP/1.1\r\nHost: h\r\n"
LIMITS = ReadLimits(header_seconds=10, body_seconds=30, max_header_bytes=1024, max_body_bytes=100)


def test_a_blank_line_split_across_reads_still_ends_the_headers() -> None:
    pending = PendingRequest(LIMITS, now=0.0, data=HEAD + b"X: y\r")
    assert pending.verdict(0.0) == WAIT
    pending.add(b"\n\r")
    assert pending.verdict(0.0) == WAIT
    pending.add(b"\n")
    assert pending.verdict(0.0) == READY


def test_the_header_block_ends_at_the_first_blank_line() -> None:
    assert header_end(HEAD) is None
    assert header_end(HEAD + b"\r\nbody") == len(HEAD) + 2
    assert header_end(b"GET / HTTP/1.1\nHost: h\n\n") == 24  # bare LF: handed on, gunicorn refuses it


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (b"", Framing()),
        (b"content-length: 12\r\n", Framing(length=12)),
        (b"Transfer-Encoding: gzip, chunked\r\n", Framing(chunked=True)),
        (b"Content-Length: 5\r\nExpect: 100-Continue\r\n", Framing(length=5, expect_continue=True)),
    ],
)
def test_the_framing_is_read_from_the_headers(headers: bytes, expected: Framing) -> None:
    assert framing(HEAD + headers) == expected


def test_an_http_1_0_expectation_is_ignored() -> None:
    head = b"POST /x HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
    assert framing(head) == Framing(length=5)


@pytest.mark.parametrize(
    "headers",
    [
        b"Content-Length: 5\r\nContent-Length: 6\r\n",
        b"Content-Length: -5\r\n",
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked, gzip\r\n",
    ],
)
def test_ambiguous_framing_is_refused(headers: bytes) -> None:
    with pytest.raises(FramingError):
        framing(HEAD + headers)


def test_a_chunked_body_ends_after_its_last_chunk_and_trailers() -> None:
    body = b"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\nNEXT"
    assert chunked_progress(body, 0) == (len(body) - 4, True)
    assert chunked_progress(body[:3], 0) == (0, False)
    assert chunked_progress(body[:17], 0) == (16, False)  # the first chunk is walked, not walked again
    assert chunked_progress(body[: len(body) - 6], 16) == (16, False)  # trailers not complete yet


def test_a_body_of_many_tiny_chunks_is_walked_once() -> None:
    chunks = b"1\r\na\r\n" * 20_000
    position, ended = chunked_progress(chunks, 0)
    assert (position, ended) == (len(chunks), False)
    assert chunked_progress(chunks + b"0\r\n\r\n", position) == (len(chunks) + 5, True)


@pytest.mark.parametrize(
    "body",
    [b"0x5\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloX\r\n0\r\n\r\n", b"z\r\n", b"0\r\n" + b"T: x\r\n" * 4000],
    ids=["hex-prefix", "no-crlf-after-data", "not-hex", "endless-trailers"],
)
def test_a_malformed_chunk_is_refused(body: bytes) -> None:
    with pytest.raises(FramingError):
        chunked_progress(body, 0)


def test_a_chunked_request_is_ready_when_its_last_chunk_arrives() -> None:
    pending = PendingRequest(LIMITS, now=0.0, data=HEAD + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    assert pending.verdict(0.0) == WAIT
    pending.add(b"0\r\n\r\n")
    assert pending.verdict(0.0) == READY


def test_headers_get_a_deadline_from_when_the_connection_was_taken_up() -> None:
    pending = PendingRequest(LIMITS, now=100.0, data=HEAD)
    assert pending.verdict(109.9) == WAIT
    pending.add(b"X-Slow: a")
    assert pending.verdict(110.0) == 408


def test_the_body_gets_its_own_deadline_from_when_the_headers_were_complete() -> None:
    pending = PendingRequest(LIMITS, now=100.0, data=HEAD)
    pending.add(b"Content-Length: 4\r\n\r\nab")
    assert pending.verdict(105.0) == WAIT  # headers complete at 105: body due by 135
    assert pending.verdict(134.0) == WAIT
    pending.add(b"cd")
    assert pending.verdict(134.5) == READY
    late = PendingRequest(LIMITS, now=100.0, data=HEAD + b"Content-Length: 4\r\n\r\nab")
    assert late.verdict(100.0) == WAIT and late.verdict(130.0) == 408


def test_a_connection_that_never_sent_a_byte_is_closed_without_an_answer() -> None:
    assert PendingRequest(LIMITS, now=0.0).verdict(10.0) == CLOSE_IDLE


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (HEAD + b"Content-Length: 101\r\n\r\n", 413),
        (HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"a" * (64 * 1024 + 200), 413),
        (HEAD + b"X: " + b"a" * 1100, 431),
        (HEAD + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    ],
    ids=["length-over-limit", "chunked-over-limit", "headers-over-limit", "ambiguous"],
)
def test_requests_that_cannot_be_read_safely_are_refused(data: bytes, status: int) -> None:
    assert PendingRequest(LIMITS, now=0.0, data=data).verdict(0.0) == status


def test_100_continue_is_wanted_once_headers_ask_for_it_and_a_body_follows() -> None:
    pending = PendingRequest(
        LIMITS, now=0.0, data=HEAD + b"Expect: 100-continue\r\nContent-Length: 3\r\n\r\n"
    )
    assert pending.verdict(0.0) == WAIT and pending.wants_continue()
    pending.continue_sent = True
    assert not pending.wants_continue()
    no_body = PendingRequest(LIMITS, now=0.0, data=HEAD + b"Expect: 100-continue\r\n\r\n")
    assert no_body.verdict(0.0) == READY and not no_body.wants_continue()
