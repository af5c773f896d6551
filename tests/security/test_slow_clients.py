"""Slow clients do not take the production server down, and are cut off by the read deadlines (issue 11).

The production server (`python -m cds_service.cli serve`, 2 workers x 4 threads, JWT on) faces 200 clients
that trickle a request's headers one byte a second, then 200 that send whole headers and trickle the body.
Left alone each would go on for a minute. Meanwhile a normal client makes hook calls. The server reads
every request in its event loop before a thread gets it (`cds_service.buffering_worker`), so:

- every normal call is answered 200 with cards, while the slow clients are connected;
- every slow client is cut off (408 or a closed connection) well before it would have finished: the
  deadlines are shortened here (4 s headers, 5 s body) so the test stays short.

Nothing here asserts a latency or a duration: the speed under slow clients is measured by
`python -m bench.slow_clients` (README, Performance). The cut-off times are printed for the record.
"""

from __future__ import annotations

import json
import socket

import pytest

from bench.soak import ProductionServer
from bench.trickle import HOOK_PATH, NormalCalls, Tricklers, body_opening, header_opening
from tests.security.patient_data import identified_hook_request

SLOW_CLIENTS = 200
TRICKLE_SECONDS = 60.0  # how long a slow client would go on if nobody cut it off
HEADER_SECONDS, BODY_SECONDS = 4.0, 5.0
MAX_CALLS_PER_PHASE = 200


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("slow-clients")
    with ProductionServer(
        directory,
        database_url=f"sqlite:///{directory / 'slow.sqlite3'}",
        workers=2,
        threads=4,
        extra_env={
            "BONEMET_HEADER_TIMEOUT_SECONDS": str(HEADER_SECONDS),
            "BONEMET_BODY_TIMEOUT_SECONDS": str(BODY_SECONDS),
        },
    ) as started:
        yield started


def _normal(server: ProductionServer) -> NormalCalls:
    body = json.dumps(identified_hook_request("patient-view")).encode()
    return NormalCalls(server.base_url, body, server.signer.authorization, timeout=15.0)


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_normal_calls_are_served_while_200_slow_clients_trickle(server: ProductionServer, phase: str) -> None:
    opening = header_opening(server.port) if phase == "headers" else body_opening(server.port)
    deadline = HEADER_SECONDS if phase == "headers" else BODY_SECONDS
    normal = _normal(server)
    slow = Tricklers(server.port, SLOW_CLIENTS, opening, interval=1.0, give_up_after=TRICKLE_SECONDS)
    slow.start()
    try:
        # The first calls are answered while every slow client is still connected (none is near its
        # deadline yet); more follow until the deadline is near.
        during = normal.run(3, max_seconds=deadline)
        still_open = slow.open_count()
        during += normal.run(MAX_CALLS_PER_PHASE, max_seconds=deadline * 0.5)
        ended = slow.wait(timeout=TRICKLE_SECONDS)
        after = normal.run(5, max_seconds=30)
    finally:
        slow.stop()
    cut = slow.cut_times()
    print(
        f"\n{phase}: {len(during)} normal calls while trickling, {still_open} slow clients open then;",
        f"cut off after {cut[0]:.1f}-{cut[-1]:.1f} s" if cut else "none cut off",
    )
    failed = [(c.status, c.error) for c in during + after if c.status != 200 or c.cards == 0]
    assert during and failed == [], f"normal calls failed: {failed[:5]}"
    assert still_open == SLOW_CLIENTS, "the slow clients must have been connected during the normal calls"
    assert ended and len(cut) == SLOW_CLIENTS, f"{slow.open_count()} slow clients were never cut off"
    assert cut[-1] < TRICKLE_SECONDS - 10, "cut off by the deadline, not by the client giving up"
    answered = {client.status for client in slow.clients}
    assert answered <= {408, None}, answered  # 408, or the connection closed
    assert 408 in answered
    assert len(after) == 5


def test_a_client_that_never_sends_a_byte_is_closed_without_an_answer(server: ProductionServer) -> None:
    idle = Tricklers(server.port, 5, b"", interval=TRICKLE_SECONDS, give_up_after=TRICKLE_SECONDS / 2)
    idle.start()
    try:
        assert idle.wait(timeout=TRICKLE_SECONDS)
    finally:
        idle.stop()
    assert len(idle.cut_times()) == 5 and all(client.answer == b"" for client in idle.clients)


def _exchange(server: ProductionServer, raw: bytes, wait_for: bytes = b"", then: bytes = b"") -> bytes:
    """Send raw bytes, optionally wait until `wait_for` has come back and send `then`; read until closed."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(raw)
        received = b""
        while wait_for and wait_for not in received:
            chunk = sock.recv(65536)
            assert chunk, f"closed before {wait_for!r}: {received[:200]!r}"
            received += chunk
        sock.sendall(then)
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _post_head(server: ProductionServer, body: bytes, *extra: str) -> bytes:
    url = server.base_url + HOOK_PATH
    lines = [
        f"POST {HOOK_PATH} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Content-Type: application/json",
        f"Authorization: {server.signer.authorization(url)}",
        "Connection: close",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_client_expecting_100_continue_gets_it_once_then_its_cards(server: ProductionServer) -> None:
    body = json.dumps(identified_hook_request("patient-view")).encode()
    head = _post_head(server, body, f"Content-Length: {len(body)}", "Expect: 100-continue")
    answer = _exchange(server, head, wait_for=b"HTTP/1.1 100 Continue\r\n\r\n", then=body)
    assert answer.count(b"100 Continue") == 1
    final = answer.split(b"HTTP/1.1 100 Continue\r\n\r\n", 1)[1]
    assert final.startswith(b"HTTP/1.1 200 ") and b'"cards"' in final


def test_a_chunked_body_is_read_whole_and_answered(server: ProductionServer) -> None:
    body = json.dumps(identified_hook_request("patient-view")).encode()
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 1000]), body[i : i + 1000]) for i in range(0, len(body), 1000)
    )
    answer = _exchange(server, _post_head(server, body, "Transfer-Encoding: chunked") + chunks + b"0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ") and b'"cards"' in answer


def test_pipelined_requests_are_all_answered_in_order(server: ProductionServer) -> None:
    one = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    last = (
        f"GET /cds-services HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n\r\n".encode()
    )
    answer = _exchange(server, one + one + last)
    assert answer.count(b"HTTP/1.1 200 ") == 3
    assert answer.rindex(b"bonemet-patient-view") > answer.rindex(b"HTTP/1.1 200 ")


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        (("Content-Length: 99999999999",), b"413"),  # over BONEMET_MAX_BODY_BYTES: refused before any byte
        (("Content-Length: 10", "Transfer-Encoding: chunked"), b"400"),  # ambiguous framing
        (("Content-Length: 10", "Content-Length: 11"), b"400"),
        (("X-Big: " + "a" * 70_000,), b"431"),
    ],
    ids=["too-large", "length-and-chunked", "two-lengths", "huge-headers"],
)
def test_requests_that_cannot_be_read_safely_are_refused_without_a_thread(
    server: ProductionServer, extra: tuple[str, ...], status: bytes
) -> None:
    answer = _exchange(server, _post_head(server, b"", *extra))
    assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:100]


def test_the_server_still_answers_after_the_refusals(server: ProductionServer) -> None:
    calls = _normal(server).run(3, max_seconds=30)
    assert [(c.status, c.cards > 0) for c in calls] == [(200, True)] * 3
