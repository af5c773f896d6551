"""The SMART test EHR, started once per test session (test FHIR server + OAuth 2.0 authorization server).

Tests in tests/smart/ use it with `pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("smart")]`
(browser tests: `pytest.mark.browser` too), so with `-n 2 --dist loadgroup` one worker starts it once.

    def test_x(smart_ehr):
        smart_ehr.load_demo("demo-01-new-bm")                    # or smart_ehr.load(transaction_bundle)
        smart_ehr.register_client("app", "http://127.0.0.1:5000/smart/callback")
        launch = smart_ehr.launch("demo-01", app_context='{"rule": "BMA-INITIATION"}')
        token = smart_ehr.token_for("demo-01", "patient/*.rs")
        smart_ehr.iss, smart_ehr.open_fhir_base
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
