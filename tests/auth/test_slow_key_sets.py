"""A JWK Set endpoint that trickles (issue 11, finding 4): one fetch held a caller 30-60 s behind a 3 s
per-read timeout, and every other call for that URL queued behind its lock. Real servers on 127.0.0.1
(tests/slow_peers.py), no mocks.

No duration is measured: the endpoint would trickle for a minute, and a cut-off is checked with a margin
of seconds, so a busy CI machine cannot fail these tests and a missing deadline cannot pass them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from cds_service.auth import JwtVerifier, KeySets, TrustedIssuer, build_verifier
from cds_service.auth.key_sets import UrlKeySource
from cds_service.errors import AuthError
from tests.auth.conftest import AUDIENCE, FILE_ISS, URL_ISS, FakeClock, jwks, mint, public_jwk
from tests.slow_peers import TricklingServer

DEADLINE_SECONDS = 1.0
TRICKLE_SECONDS = 60.0
CUT_OFF_MARGIN_SECONDS = 8.0
CALLERS = 4


def in_threads(count: int, target: Callable[[], Any]) -> list[Any]:
    """Run `target` in `count` threads at once; each result or exception, or "still running" for a thread
    that did not end within the margin."""
    outcomes: list[Any] = ["still running"] * count

    def run(index: int) -> None:
        try:
            outcomes[index] = target()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each caller got
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=CUT_OFF_MARGIN_SECONDS)
    return outcomes


@pytest.mark.parametrize("stage", ["headers", "body"])
def test_every_caller_gives_up_at_the_deadline_and_the_fetch_lets_go(stage):
    """Four callers ask at once for a key set whose endpoint trickles for a minute: one fetch is made,
    every caller is refused within seconds, and the connection is closed (no thread left reading)."""
    with TricklingServer(stage, TRICKLE_SECONDS) as peer:
        source = UrlKeySource(peer.origin + "/jwks.json", timeout=DEADLINE_SECONDS, clock=FakeClock())
        outcomes = in_threads(CALLERS, source.keys)
        assert all(isinstance(o, AuthError) for o in outcomes), outcomes
        assert {o.message for o in outcomes} == {"issuer key set unavailable"}
        assert peer.requests == 1
        assert peer.all_gave_up.wait(CUT_OFF_MARGIN_SECONDS), "the fetch is still reading"


def test_concurrent_callers_share_one_fetch(ec_key):
    """Single flight: five callers arriving during one slow (0.5 s) fetch all get its keys from it."""
    body = json.dumps(jwks(public_jwk(ec_key, "k1"))).encode()
    with TricklingServer(answer=body, delay=0.5) as peer:
        source = UrlKeySource(peer.origin + "/jwks.json", timeout=5.0, clock=FakeClock())
        outcomes = in_threads(5, source.keys)
        assert [[k.kid for k in o] for o in outcomes] == [["k1"]] * 5
        assert peer.requests == 1


def test_stale_keys_are_served_while_a_refresh_trickles(ec_key):
    """The cached set has expired but is within its stale grace; the endpoint now trickles. Callers get
    the last good keys at the latest when the refresh is cut off, not after the trickle."""
    clock = FakeClock()
    body = json.dumps(jwks(public_jwk(ec_key, "k1"))).encode()
    with TricklingServer("headers", TRICKLE_SECONDS, answer=body) as peer:
        source = UrlKeySource(
            peer.origin + "/jwks.json", timeout=DEADLINE_SECONDS, lifespan=300, stale_grace=3600, clock=clock
        )
        assert [k.kid for k in source.keys()] == ["k1"]
        clock.advance(301)
        peer.trickling = True
        outcomes = in_threads(CALLERS, source.keys)
        assert [[k.kid for k in o] for o in outcomes] == [["k1"]] * CALLERS
        assert peer.requests == 2


def test_a_file_issuer_is_verified_while_a_url_issuer_trickles(file_jwks, ec_key, replay_cache):
    """Calls signed by the file-based issuer are verified while the URL issuer's endpoint trickles, and
    the URL issuer's callers are refused at the deadline instead of holding their threads."""
    clock = FakeClock()
    with TricklingServer("headers", TRICKLE_SECONDS) as peer:
        url = peer.origin + "/jwks.json"
        issuers = (TrustedIssuer(FILE_ISS, None, file_jwks, ()), TrustedIssuer(URL_ISS, url, None, (url,)))
        key_sets = KeySets(issuers, timeout=DEADLINE_SECONDS, clock=clock)
        verifier = JwtVerifier(issuers, replay_cache, clock=clock, key_sets=key_sets)
        url_token = mint(ec_key, "ES384", iss=URL_ISS, kid="k1")
        url_callers = threading.Thread(
            target=in_threads, args=(CALLERS, lambda: verifier.verify(url_token, AUDIENCE)), daemon=True
        )
        url_callers.start()
        file_client = verifier.verify(mint(ec_key, "ES384", iss=FILE_ISS, kid="ec-1"), AUDIENCE)
        assert file_client.iss == FILE_ISS
        url_callers.join(timeout=CUT_OFF_MARGIN_SECONDS * 2)
        assert not url_callers.is_alive()
        with pytest.raises(AuthError, match="issuer key set unavailable"):
            verifier.verify(mint(ec_key, "ES384", iss=URL_ISS, kid="k1"), AUDIENCE)


def test_the_deadline_setting_reaches_the_key_set_fetch(ec_key, replay_cache):
    """build_verifier (what the app uses) passes BONEMET_JWKS_DEADLINE_SECONDS to the fetch: a token of
    an issuer whose endpoint trickles for a minute is refused within seconds."""
    with TricklingServer("headers", TRICKLE_SECONDS) as peer:
        url = peer.origin + "/jwks.json"
        issuers = json.dumps([{"iss": URL_ISS, "jwks_url": url}])
        verifier = build_verifier(issuers, replay_cache, jwks_deadline_seconds=DEADLINE_SECONDS)
        (outcome,) = in_threads(1, lambda: verifier.verify(mint(ec_key, "ES384", iss=URL_ISS), AUDIENCE))
        assert isinstance(outcome, AuthError) and outcome.message == "issuer key set unavailable"


def test_a_kept_alive_connection_closed_by_the_endpoint_is_fetched_again_on_a_new_one(ec_key):
    """The second fetch meets the kept-alive connection the endpoint has closed (unanswered): it is sent
    once more on a new connection and the refresh succeeds."""
    clock = FakeClock()
    body = json.dumps(jwks(public_jwk(ec_key, "k1"))).encode()
    with TricklingServer(answer=body) as peer:
        peer.drop_reused = True
        source = UrlKeySource(peer.origin + "/jwks.json", timeout=5.0, cooldown=15, clock=clock)
        assert [k.kid for k in source.keys()] == ["k1"]
        clock.advance(16)
        assert source.refresh()
        assert peer.requests == 3
