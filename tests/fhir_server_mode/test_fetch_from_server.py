"""FHIR-server mode: the EHR sends no prefetch (or an OperationOutcome for a key), and the service reads
the chart from a real FHIR R4 server with the fhirAuthorization token. The clinician must get the same
cards as when the EHR prefetches the same chart, and a server the site did not allow is never contacted.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.fhir_server_mode.chart import (
    ACCESS_TOKEN,
    chart,
    comparable,
    hook_body,
    new_patient_id,
    prefetch_for,
    rule_ids,
    transaction,
)

pytestmark = [pytest.mark.fhirserver, pytest.mark.xdist_group("fhirserver")]
URL = "/cds-services/bonemet-patient-view"


def cards_with_prefetch(app, resources, pid):
    body = hook_body(pid, server=None, prefetch=prefetch_for(app.extensions["bonemet"], resources))
    response = app.test_client().post(URL, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["cards"]


def loaded_patient(fhir_server, **chart_options):
    pid = new_patient_id()
    resources = chart(pid, **chart_options)
    fhir_server.load(transaction(resources))
    return pid, resources


def test_cards_fetched_from_the_server_equal_the_cards_from_prefetch(server_app, fhir_server, caplog):
    """A woman on zoledronic acid with CrCl about 32 mL/min and calcium 12.0 mg/dL, read from the FHIR
    server, gets the renal dosing and hypercalcemia cards exactly as if the EHR had prefetched her chart."""
    caplog.set_level(logging.DEBUG)
    app = server_app()
    pid, resources = loaded_patient(fhir_server)
    expected = cards_with_prefetch(app, resources, pid)
    response = app.test_client().post(URL, json=hook_body(pid, server=fhir_server.base_url))
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    assert {"ZA-RENAL-DOSING", "HYPERCALCEMIA"} <= set(rule_ids(cards))
    assert "DATA-UNAVAILABLE" not in rule_ids(cards)
    assert comparable(cards) == comparable(expected)
    assert ACCESS_TOKEN not in caplog.text and pid not in caplog.text


def test_a_key_holding_an_operation_outcome_is_fetched_from_the_server(server_app, fhir_server):
    """The EHR could not prefetch the observations and says so with an OperationOutcome: the service
    reads them itself and the creatinine-based card is still there."""
    app = server_app()
    pid, resources = loaded_patient(fhir_server)
    prefetch = prefetch_for(app.extensions["bonemet"], resources)
    prefetch["observations"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    response = app.test_client().post(
        URL, json=hook_body(pid, server=fhir_server.base_url, prefetch=prefetch)
    )
    assert response.status_code == 200, response.get_json()
    assert comparable(response.get_json()["cards"]) == comparable(cards_with_prefetch(app, resources, pid))
    assert "ZA-RENAL-DOSING" in rule_ids(response.get_json()["cards"])


def test_next_links_are_followed_up_to_the_page_cap(server_app, fhir_server):
    """Twelve results at three a page is four pages, within BONEMET_FHIR_MAX_PAGES=5: every page is read
    and the cards equal the prefetch cards."""
    app = server_app(fhir_max_pages=5)
    pid, resources = loaded_patient(fhir_server, old_creatinines=8)
    page = fhir_server.request("GET", f"Observation?patient={pid}")
    assert any(link["relation"] == "next" for link in page["link"])
    response = app.test_client().post(URL, json=hook_body(pid, server=fhir_server.base_url))
    assert response.status_code == 200, response.get_json()
    assert comparable(response.get_json()["cards"]) == comparable(cards_with_prefetch(app, resources, pid))


def test_more_pages_than_the_cap_make_observations_unavailable_not_partial(server_app, fhir_server, caplog):
    """Twenty-four results (eight pages) with a cap of five pages: the service does not decide on the
    first pages only; it says the observation checks were not run, and logs why."""
    pid, resources = loaded_patient(fhir_server, old_creatinines=20)
    response = (
        server_app(fhir_max_pages=5).test_client().post(URL, json=hook_body(pid, server=fhir_server.base_url))
    )
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    notice = next(card for card in cards if card["source"]["topic"]["code"] == "DATA-UNAVAILABLE")
    assert "Observation" in notice["summary"] and "ZA-RENAL-DOSING" in notice["detail"]
    assert not {"ZA-RENAL-DOSING", "HYPERCALCEMIA"} & set(rule_ids(cards))
    assert "more than 5 pages" in caplog.text
    roomy = server_app(fhir_max_pages=10)
    again = (
        roomy.test_client().post(URL, json=hook_body(pid, server=fhir_server.base_url)).get_json()["cards"]
    )
    assert comparable(again) == comparable(cards_with_prefetch(roomy, resources, pid))


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A TCP port that records every connection made to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.1)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=2)
    sock.close()


def test_a_server_not_on_the_allow_list_gets_412_and_no_connection(server_app, fhir_server, listener):
    """An EHR (or an attacker) names a FHIR server the site did not allow: 412, and not one byte sent."""
    port, accepted = listener
    pid, _ = loaded_patient(fhir_server)
    response = (
        server_app().test_client().post(URL, json=hook_body(pid, server=f"http://127.0.0.1:{port}/fhir/R4"))
    )
    assert response.status_code == 412
    assert response.get_json()["error"] == "fhir-server-not-allowed"
    assert accepted == []


def test_the_real_server_is_refused_when_the_allow_list_is_empty(server_app, fhir_server):
    """The default allow-list is empty: without configuration the service reads no FHIR server at all."""
    pid, _ = loaded_patient(fhir_server)
    response = (
        server_app(fhir_allowed_hosts="")
        .test_client()
        .post(URL, json=hook_body(pid, server=fhir_server.base_url))
    )
    assert response.status_code == 412
    assert "BONEMET_FHIR_ALLOWED_HOSTS" in response.get_json()["message"]


def test_without_prefetch_or_fhir_server_the_answer_is_412(server_app, fhir_server):
    """No prefetch and no fhirServer: the patient cannot be had, so 412 naming the reason, not empty cards."""
    response = server_app().test_client().post(URL, json=hook_body(new_patient_id(), server=None))
    assert response.status_code == 412
    assert "no fhirServer" in response.get_json()["message"]
