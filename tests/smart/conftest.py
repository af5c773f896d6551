"""The SMART test EHR, started once per test session (test FHIR server + OAuth 2.0 authorization server,
tests/fhir_server/README.md "SMART test EHR").

Tests in tests/smart/ are marked
`pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("smart")]` (browser tests add
`pytest.mark.browser`), so under `-n 2 --dist loadgroup` one worker runs them all and
starts the servers once.

    def test_x(smart_ehr):
        bundle = smart_ehr.load_demo("demo-01-new-bm")     # date-shifted like `make run`; or .load(bundle)
        smart_ehr.register_client("app", "http://127.0.0.1:5000/smart/callback")       # public (PKCE)
        smart_ehr.register_client("app2", redirect_uri, secret="s")  # confidential, client_secret_basic
        launch = smart_ehr.launch("demo-01-new-bm", app_context='{"rule": "BMA-INITIATION"}')
        # the app's launch URL gets ?iss={smart_ehr.iss}&launch={launch}
        token = smart_ehr.token_for("demo-01-new-bm", "patient/*.rs")  # for fhirAuthorization
        smart_ehr.revoke(token); smart_ehr.expire(token)
        smart_ehr.iss              # token-protected FHIR base (discovery at iss/.well-known/...)
        smart_ehr.open_fhir_base   # the FHIR server itself, no token
        smart_ehr.issuer           # the OAuth issuer (its origin); admin API at issuer/_ehr/

In Chromium, a redirect URI must be a real listener (Playwright's routes do not see the end of a
redirect chain) and must not be on a port Chromium deems unsafe (9, 1...): see test_browser_authorize.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.smart.ehr import SmartEhr


@pytest.fixture(scope="session")
def smart_ehr() -> Iterator[SmartEhr]:
    ehr = SmartEhr().start()
    yield ehr
    ehr.stop()
