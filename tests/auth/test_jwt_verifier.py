"""JwtVerifier: what a CDS Client's token must satisfy, and what an attacker's token must not get past."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cds_service.auth import JwtVerifier, KeySets, VerifiedClient
from tests.auth.conftest import (
    ALT_JKU,
    AUDIENCE,
    DROP,
    EVIL_JKU,
    FILE_ISS,
    JWKS_URL,
    URL_ISS,
    jwks,
    mint,
    public_jwk,
    refused,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: dict[str, Any]) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


# --- tokens that pass -------------------------------------------------------------------------------------


def test_valid_es384_token_from_jwks_file(verifier, ec_key):
    client = verifier.verify(mint(ec_key, "ES384", jti="j-1", tenant="hospital-a"), AUDIENCE)
    assert client == VerifiedClient(iss=FILE_ISS, sub="ehr-client", kid="ec-1", jti="j-1",
                                    tenant="hospital-a")


def test_valid_rs384_token_from_jwks_url_is_fetched_once(verifier, rsa_key, mocked):
    mocked.get(JWKS_URL, json=jwks(public_jwk(rsa_key, "rsa-1", "RS384")))
    for _ in range(3):
        client = verifier.verify(mint(rsa_key, "RS384", iss=URL_ISS, kid="rsa-1"), AUDIENCE)
        assert client.iss == URL_ISS and client.kid == "rsa-1" and client.tenant is None
    assert len(mocked.calls) == 1


@pytest.mark.parametrize("alg", ["RS384", "RS256", "PS384"])
def test_rsa_key_without_alg_verifies_the_header_algorithm(verifier, rsa_key, mocked, alg):
    mocked.get(JWKS_URL, json=jwks(public_jwk(rsa_key, "rsa-1", alg=None)))
    assert verifier.verify(mint(rsa_key, alg, iss=URL_ISS, kid="rsa-1"), AUDIENCE).kid == "rsa-1"


@pytest.mark.parametrize("aud", [AUDIENCE, AUDIENCE + "/", ["https://other.example.org", AUDIENCE]])
def test_audience_string_list_and_trailing_slash(verifier, ec_key, aud):
    assert verifier.verify(mint(ec_key, "ES384", aud=aud), AUDIENCE).iss == FILE_ISS
    assert verifier.verify(mint(ec_key, "ES384", aud=aud), AUDIENCE + "/").iss == FILE_ISS


def test_clock_skew_within_leeway_is_accepted(verifier, ec_key, clock):
    token = mint(ec_key, "ES384", iat=int(clock.now) + 50, nbf=int(clock.now) + 50, exp=int(clock.now) - 50)
    assert verifier.verify(token, AUDIENCE).iss == FILE_ISS


def test_token_without_kid_is_accepted_when_the_key_set_has_one_key(verifier, ec_key):
    assert verifier.verify(mint(ec_key, "ES384", kid=None), AUDIENCE).kid == "ec-1"


def test_allowed_jku_takes_keys_from_that_url(verifier, ec_key, other_ec_key, mocked):
    mocked.get(JWKS_URL, json=jwks(public_jwk(ec_key, "k", "ES384")))
    mocked.get(ALT_JKU, json=jwks(public_jwk(other_ec_key, "k", "ES384")))
    token = mint(other_ec_key, "ES384", iss=URL_ISS, kid="k", header={"jku": ALT_JKU})
    assert verifier.verify(token, AUDIENCE).iss == URL_ISS
    assert [c.request.url for c in mocked.calls] == [ALT_JKU]


# --- algorithm attacks ------------------------------------------------------------------------------------


def test_alg_none_is_refused_before_any_key_lookup(verifier, mocked):
    token = jwt.encode({"iss": URL_ISS, "aud": AUDIENCE, "exp": 2e9, "iat": 1.8e9, "jti": "x"}, None,
                       algorithm="none")
    refused(verifier, token, "unsupported algorithm")
    refused(verifier, _segment({"alg": "None"}) + "." + token.split(".")[1] + ".", "unsupported algorithm")
    assert len(mocked.calls) == 0


@pytest.mark.parametrize("encoding", ["pem", "jwk"])
def test_hs256_signed_with_the_public_key_is_refused(verifier, rsa_key, mocked, encoding):
    """The key-confusion attack: an HMAC keyed with the issuer's public key, which anyone can compute."""
    mocked.get(JWKS_URL, json=jwks(public_jwk(rsa_key, "rsa-1")))
    public = rsa_key.public_key()
    secret = (public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
              if encoding == "pem" else json.dumps(public_jwk(rsa_key, "rsa-1")).encode())
    signing_input = (_segment({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}) + "." + _segment(
        {"iss": URL_ISS, "aud": AUDIENCE, "exp": 1_800_000_300, "iat": 1_800_000_000, "jti": "hs"}))
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    refused(verifier, f"{signing_input}.{_b64(signature)}", "unsupported algorithm")
    assert len(mocked.calls) == 0


@pytest.mark.parametrize("alg", [["ES384"], {"a": 1}, 384, "HS512", "EdDSA", "ES256K", "es384"])
def test_odd_header_algorithms_are_refused(verifier, ec_key, alg):
    header, payload, signature = mint(ec_key, "ES384").split(".")
    forged = {**json.loads(base64.urlsafe_b64decode(header + "==")), "alg": alg}
    refused(verifier, f"{_segment(forged)}.{payload}.{signature}", "unsupported algorithm")


def test_ec_key_refuses_another_curve_algorithm(verifier):
    p256 = ec.generate_private_key(ec.SECP256R1())
    refused(verifier, mint(p256, "ES256", kid="ec-1"), "algorithm does not match key")


def test_jwk_declared_alg_wins_over_header(verifier, rsa_key, mocked):
    mocked.get(JWKS_URL, json=jwks(public_jwk(rsa_key, "rsa-1", "RS256")))
    refused(verifier, mint(rsa_key, "RS384", iss=URL_ISS, kid="rsa-1"), "algorithm does not match key")


def test_ec_header_against_rsa_key_is_refused(verifier, ec_key, rsa_key, mocked):
    mocked.get(JWKS_URL, json=jwks(public_jwk(rsa_key, "rsa-1")))
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS, kid="rsa-1"), "algorithm does not match key")


@pytest.mark.parametrize("extra", [{"crit": ["urn:example:policy"], "urn:example:policy": 1},
                                   {"crit": ["b64"], "b64": False}])
def test_critical_header_extensions_are_refused(verifier, ec_key, extra):
    header, payload, signature = mint(ec_key, "ES384").split(".")
    forged = {**json.loads(base64.urlsafe_b64decode(header + "==")), **extra}
    refused(verifier, f"{_segment(forged)}.{payload}.{signature}", "malformed token")


# --- signature and keys -----------------------------------------------------------------------------------


def test_tampered_payload_is_refused(verifier, ec_key):
    header, payload, signature = mint(ec_key, "ES384").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    refused(verifier, f"{header}.{_segment(claims)}.{signature}", "invalid signature")


def test_token_signed_by_another_key_is_refused(verifier, other_ec_key):
    refused(verifier, mint(other_ec_key, "ES384"), "invalid signature")


def test_kid_required_when_the_key_set_has_several_keys(verifier, ec_key, rsa_key, mocked):
    mocked.get(JWKS_URL, json=jwks(public_jwk(ec_key, "ec-1"), public_jwk(rsa_key, "rsa-1")))
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS, kid=None), "kid required")


def test_unknown_kid_refreshes_once_then_cools_down(verifier, ec_key, mocked, clock):
    mocked.get(JWKS_URL, json=jwks(public_jwk(ec_key, "ec-1", "ES384")))
    verifier.verify(mint(ec_key, "ES384", iss=URL_ISS), AUDIENCE)
    assert len(mocked.calls) == 1
    clock.advance(16)
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS, kid="junk-1"), "unknown kid")
    assert len(mocked.calls) == 2, "one refresh fetch for an unknown kid"
    clock.advance(5)
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS, kid="junk-2"), "unknown kid")
    assert len(mocked.calls) == 2, "no fetch within the 15 s cooldown"
    clock.advance(15)
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS, kid="junk-3"), "unknown kid")
    assert len(mocked.calls) == 3


def test_unknown_kid_on_a_cold_cache_costs_one_fetch(verifier, ec_key, mocked):
    mocked.get(JWKS_URL, json=jwks(public_jwk(ec_key, "ec-1", "ES384")))
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS, kid="junk"), "unknown kid")
    assert len(mocked.calls) == 1


def test_rotated_key_is_picked_up_by_the_refresh(verifier, ec_key, other_ec_key, mocked, clock):
    mocked.get(JWKS_URL, json=jwks(public_jwk(ec_key, "ec-1", "ES384")))
    verifier.verify(mint(ec_key, "ES384", iss=URL_ISS), AUDIENCE)
    rotated = jwks(public_jwk(ec_key, "ec-1"), public_jwk(other_ec_key, "ec-2"))
    mocked.replace(responses.GET, JWKS_URL, json=rotated)
    clock.advance(20)
    token = mint(other_ec_key, "ES384", iss=URL_ISS, kid="ec-2", now=clock.now)
    assert verifier.verify(token, AUDIENCE).kid == "ec-2"
    assert len(mocked.calls) == 2


# --- issuer and jku ---------------------------------------------------------------------------------------


def test_untrusted_issuer_is_refused_without_fetching(verifier, ec_key, mocked):
    refused(verifier, mint(ec_key, "ES384", iss="https://evil.example.net",
                           header={"jku": EVIL_JKU}), "untrusted issuer")
    assert len(mocked.calls) == 0


def test_jku_outside_the_issuers_allowed_urls_is_never_fetched(verifier, ec_key, mocked):
    evil = mocked.get(EVIL_JKU, json=jwks(public_jwk(ec_key, "ec-1", "ES384")))
    token = mint(ec_key, "ES384", iss=URL_ISS, header={"jku": EVIL_JKU})
    refused(verifier, token, "jku not allowed for issuer")
    assert evil.call_count == 0 and len(mocked.calls) == 0


def test_jku_on_a_file_issuer_is_refused(verifier, ec_key, mocked):
    refused(verifier, mint(ec_key, "ES384", header={"jku": JWKS_URL}), "jku not allowed for issuer")
    assert len(mocked.calls) == 0


def test_another_issuers_jku_is_not_allowed(verifier, ec_key, mocked):
    """jku_allowed is per issuer: the file issuer cannot borrow the URL issuer's key set."""
    mocked.get(ALT_JKU, json=jwks(public_jwk(ec_key, "ec-1", "ES384")))
    token = mint(ec_key, "ES384", iss=FILE_ISS, header={"jku": ALT_JKU})
    refused(verifier, token, "jku not allowed for issuer")
    assert len(mocked.calls) == 0


# --- claims -----------------------------------------------------------------------------------------------


def test_expired_token_is_refused(verifier, ec_key, clock):
    refused(verifier, mint(ec_key, "ES384", exp=int(clock.now) - 61), "token expired")


def test_not_yet_valid_token_is_refused(verifier, ec_key, clock):
    refused(verifier, mint(ec_key, "ES384", nbf=int(clock.now) + 300), "token not yet valid")


def test_token_issued_in_the_future_is_refused(verifier, ec_key, clock):
    refused(verifier, mint(ec_key, "ES384", iat=int(clock.now) + 300, exp=int(clock.now) + 600),
            "token issued in the future")


def test_token_living_longer_than_five_minutes_is_refused(verifier, ec_key, clock):
    """SMART Backend Services' cap: a token minted to last ten years is not a short-lived assertion."""
    now = int(clock.now)
    refused(verifier, mint(ec_key, "ES384", exp=now + 10 * 365 * 86400), "token lifetime too long")
    refused(verifier, mint(ec_key, "ES384", iat=now - 301, exp=now + 60), "token lifetime too long")
    assert verifier.verify(mint(ec_key, "ES384", iat=now - 240, exp=now + 60), AUDIENCE).iss == FILE_ISS


def test_a_token_lives_at_most_the_cap_plus_the_leeway_from_now(verifier, ec_key, clock):
    """`iat` may be up to the leeway ahead (clock skew), so `exp` may be cap + leeway from now, no later."""
    now = int(clock.now)
    assert verifier.verify(mint(ec_key, "ES384", iat=now + 60, exp=now + 360), AUDIENCE).iss == FILE_ISS
    refused(verifier, mint(ec_key, "ES384", iat=now + 60, exp=now + 361), "token lifetime too long")
    refused(verifier, mint(ec_key, "ES384", iat=now + 61, exp=now + 361), "token issued in the future")


def test_lifetime_cap_is_a_setting(issuers, replay_cache, clock, ec_key):
    hour = JwtVerifier(issuers, replay_cache, leeway_seconds=60, max_lifetime_seconds=3600, clock=clock,
                       key_sets=KeySets(issuers, clock=clock))
    now = int(clock.now)
    assert hour.verify(mint(ec_key, "ES384", exp=now + 3000), AUDIENCE).iss == FILE_ISS
    refused(hour, mint(ec_key, "ES384", exp=now + 3700), "token lifetime too long")


@pytest.mark.parametrize(("claim", "value", "reason"), [
    ("exp", 1e308, "invalid exp"), ("exp", 10**400, "invalid exp"), ("iat", 1e308, "invalid iat"),
    ("iat", -5, "invalid iat"), ("nbf", 10**400, "invalid nbf"), ("nbf", -1, "invalid nbf"),
    ("iat", 0, "token lifetime too long"),
])
def test_absurd_time_claims_are_refused(verifier, ec_key, claim, value, reason):
    """`iat: 0` passed every time check before the lifetime cap; 1e308 and a 400-digit integer are not
    times (the integer must not reach float(), which would raise OverflowError: a 500)."""
    refused(verifier, mint(ec_key, "ES384", **{claim: value}), reason)


@pytest.mark.parametrize("aud", ["https://cds.example.org/cds-services/other", [], ["x"], None, 7])
def test_wrong_audience_is_refused(verifier, ec_key, aud):
    refused(verifier, mint(ec_key, "ES384", aud=DROP if aud is None else aud), "wrong audience")


@pytest.mark.parametrize("claim", ["exp", "iat", "jti", "iss"])
def test_missing_required_claim_is_refused(verifier, ec_key, claim):
    refused(verifier, mint(ec_key, "ES384", **{claim: DROP}), f"missing {claim}")


@pytest.mark.parametrize(("claim", "value"), [("exp", "soon"), ("iat", True), ("jti", 42), ("jti", "x" * 300),
                                              ("sub", 5), ("tenant", ["a"])])
def test_malformed_claim_is_refused(verifier, ec_key, claim, value):
    refused(verifier, mint(ec_key, "ES384", **{claim: value}), f"invalid {claim}")


def test_replayed_jti_is_refused(verifier, ec_key):
    token = mint(ec_key, "ES384", jti="once")
    verifier.verify(token, AUDIENCE)
    refused(verifier, token, "replayed jti")
    refused(verifier, mint(ec_key, "ES384", jti="once"), "replayed jti")


def test_refused_token_does_not_use_up_its_jti(verifier, ec_key):
    refused(verifier, mint(ec_key, "ES384", jti="j", aud="https://wrong.example.org"), "wrong audience")
    refused(verifier, mint(ec_key, "ES384", jti="j", tenant=7), "invalid tenant")
    assert verifier.verify(mint(ec_key, "ES384", jti="j"), AUDIENCE).jti == "j"


def test_replay_entry_outlives_the_leeway(verifier, ec_key, replay_cache, clock):
    """A token stays acceptable until exp + leeway, so its jti must be remembered that long."""
    token = mint(ec_key, "ES384", exp=int(clock.now) + 10)
    verifier.verify(token, AUDIENCE)
    clock.advance(69)
    refused(verifier, token, "replayed jti")
    clock.advance(2)
    refused(verifier, token, "token expired")


@pytest.mark.parametrize(("token", "reason"), [
    ("", "missing bearer token"),
    ("abc", "malformed token"),
    ("a.b.c", "malformed token"),
    ("eyJhbGciOiJFUzM4NCJ9.!!!.xx", "malformed token"),
    ("x" * 9000, "token too large"),
])
def test_malformed_token_is_refused(verifier, token, reason):
    refused(verifier, token, reason)


# --- key source failures ----------------------------------------------------------------------------------


def test_unreachable_key_set_is_refused_and_not_hammered(verifier, ec_key, mocked, clock):
    mocked.get(JWKS_URL, status=503)
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS), "issuer key set unavailable")
    clock.advance(5)
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS), "issuer key set unavailable")
    assert len(mocked.calls) == 1


def test_redirect_is_not_followed(verifier, ec_key, mocked):
    mocked.get(JWKS_URL, status=302, headers={"Location": EVIL_JKU})
    evil = mocked.get(EVIL_JKU, json=jwks(public_jwk(ec_key, "ec-1", "ES384")))
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS), "issuer key set unavailable")
    assert evil.call_count == 0


def test_last_good_key_set_is_served_while_the_endpoint_is_down(verifier, ec_key, mocked, clock):
    mocked.get(JWKS_URL, json=jwks(public_jwk(ec_key, "ec-1", "ES384")))
    verifier.verify(mint(ec_key, "ES384", iss=URL_ISS), AUDIENCE)
    mocked.replace(responses.GET, JWKS_URL, status=500)
    clock.advance(301)
    assert verifier.verify(mint(ec_key, "ES384", iss=URL_ISS, now=clock.now), AUDIENCE).iss == URL_ISS
    assert len(mocked.calls) == 2
    clock.advance(3600)
    refused(verifier, mint(ec_key, "ES384", iss=URL_ISS, now=clock.now), "issuer key set unavailable")
