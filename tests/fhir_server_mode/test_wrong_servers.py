"""A FHIR server (or what stands in front of it) that misreads the query, or drops kept-alive connections
(issue 11, findings 6 and 7), with the real Medplum test server.

Through the SMART launcher's FHIR proxy, which collapses every `//` in a URL, unencoded search values
(`code=http://loinc.org|2160-0`) reached the server as `http:/loinc.org`, every lab search matched nothing,
and the service took that as "no labs". Now values are percent-encoded, and a searchset whose `self` link
does not show the parameters as sent makes that query unavailable: a DATA-UNAVAILABLE card, never an empty
result taken as fact.
"""

from __future__ import annotations

import logging

import pytest

from cds_service.fhir_client import FhirClient
from cds_service.local_fhir_server import LocalFhirServer
from tests.fhir_server_mode.chart import (
    chart,
    comparable,
    hook_body,
    new_patient_id,
    prefetch_for,
    rule_ids,
    transaction,
)
from tests.fhir_server_mode.conftest import origin
from tests.slow_peers import CollapsingProxy

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("fhirserver")]
URL = "/cds-services/bonemet-patient-view"


def loaded_patient(server):
    pid = new_patient_id()
    resources = chart(pid)
    server.load(transaction(resources))
    return pid, resources


def prefetch_cards(app, resources, pid):
    body = hook_body(pid, server=None, prefetch=prefetch_for(app.extensions["bonemet"], resources))
    response = app.test_client().post(URL, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["cards"]


def test_search_values_pass_a_proxy_that_collapses_double_slashes(server_app, fhir_server):
    """Her creatinine and calcium are found through the collapsing proxy: the renal and calcium cards are
    the prefetch cards (before issue 11 both were silently missing)."""
    pid, resources = loaded_patient(fhir_server)
    with CollapsingProxy(fhir_server.base_url) as proxy:
        app = server_app(fhir_allowed_hosts=proxy.origin)
        response = app.test_client().post(URL, json=hook_body(pid, server=proxy.base_url))
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    assert {"ZA-RENAL-DOSING", "HYPERCALCEMIA"} <= set(rule_ids(cards))
    assert comparable(cards) == comparable(prefetch_cards(app, resources, pid))


def test_a_search_run_on_altered_values_is_unavailable_not_empty(server_app, fhir_server, caplog):
    """A proxy that decodes the URL before collapsing `//` alters even encoded values: the server searches
    `http:/loinc.org` and finds nothing. Its `self` link shows the altered value, so the lab checks are
    reported as not done (DATA-UNAVAILABLE naming Observation) instead of "no labs"."""
    caplog.set_level(logging.INFO)
    pid, _ = loaded_patient(fhir_server)
    with CollapsingProxy(fhir_server.base_url, decode=True) as proxy:
        app = server_app(fhir_allowed_hosts=proxy.origin)
        response = app.test_client().post(URL, json=hook_body(pid, server=proxy.base_url))
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    notice = next(c for c in cards if c["source"]["topic"]["code"] == "DATA-UNAVAILABLE")
    assert "Observation" in notice["summary"] and "ZA-RENAL-DOSING" in notice["detail"]
    assert not {"ZA-RENAL-DOSING", "HYPERCALCEMIA"} & set(rule_ids(cards))
    assert "search parameter code applied with another value" in caplog.text
    assert pid not in caplog.text


def test_a_parameter_the_server_does_not_apply_is_not_an_empty_result(fhir_server):
    """Medplum's in-memory search ignores `code:in` (it matches nothing) and its `self` link leaves the
    parameter out, as HAPI does for parameters it did not use: the query fails, it is not "no results".
    The same search by plain `code` is answered, so the check is not refusing everything."""
    pid, _ = loaded_patient(fhir_server)
    client = FhirClient(allowed_origins=frozenset({origin(fhir_server.base_url)}), deadline_seconds=10.0)
    results = client.search_all(
        fhir_server.base_url,
        {
            "by_value_set": f"Observation?patient={pid}&code:in=http://example.org/ValueSet/renal",
            "by_code": f"Observation?patient={pid}&code=http://loinc.org|2160-0",
        },
        None,
    )
    assert not results["by_value_set"].ok
    assert "search parameter code:in not applied" in results["by_value_set"].reason
    assert results["by_code"].ok and [r["id"] for r in results["by_code"].resources] == [f"{pid}-cr"]


def test_the_test_server_echoes_the_applied_parameters_in_its_self_link(fhir_server):
    """What the client relies on: the `self` link carries every parameter Medplum applied, and only those."""
    pid, _ = loaded_patient(fhir_server)
    page = fhir_server.request(
        "GET", f"Observation?patient={pid}&code=http%3A%2F%2Floinc.org%7C2160-0&bogus=1&code:in=http://x"
    )
    (self_url,) = [link["url"] for link in page["link"] if link["relation"] == "self"]
    assert f"patient={pid}" in self_url and "code=http%3A%2F%2Floinc.org%7C2160-0" in self_url
    assert "bogus" not in self_url and "code:in" not in self_url


def test_a_kept_alive_connection_closed_by_the_server_is_read_again_on_a_new_one(
    server_app, monkeypatch, caplog
):
    """A Medplum server that closes every kept-alive connection, unanswered, when it is reused: what a
    client meets when the server's keep-alive timer fires as it sends (5 s on the test server; calls 3-5 s
    apart failed 2-5 times in 12-24 in issue 11), made to happen every time. Three calls in a row: from
    the second on, queries meet closed connections; each is sent once more on a fresh connection and
    every call gets the full cards."""
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("FHIR_DROP_REUSED_CONNECTIONS", "1")
    server = LocalFhirServer()
    base_url = server.start()
    try:
        pid, resources = loaded_patient(server)
        app = server_app(fhir_allowed_hosts=origin(base_url))
        answers = [app.test_client().post(URL, json=hook_body(pid, server=base_url)) for _ in range(3)]
    finally:
        server.stop()
    expected = comparable(prefetch_cards(app, resources, pid))
    for response in answers:
        assert response.status_code == 200, response.get_json()
        assert comparable(response.get_json()["cards"]) == expected
    assert "closed a kept-alive connection" in caplog.text
